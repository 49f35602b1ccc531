"""Care records: pathways (EpisodeOfCare), referrals (ServiceRequest, Task), consent, encounters, documents,
compositions and communications."""

from __future__ import annotations

from typing import Any

from adapter.narrative import values as v
from adapter.narrative.doc import Doc, Item, Row
from adapter.narrative.plans import subject_row

_CONSENT_TYPE = {"permit": "tillatt", "deny": "ikke tillatt"}


def episode(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A pathway: its type (hovedforløp), patient, status, period, who is responsible."""
    doc = Doc()
    doc.title(v.concepts(resource.get("type")) or "Forløp")
    subject_row(doc, resource, resolve, "patient")
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Periode", v.period(resource.get("period")))
    doc.row("Ansvarlig virksomhet", v.reference(resource.get("managingOrganization"), resolve))
    doc.row("Koordinator", v.reference(resource.get("careManager"), resolve))
    doc.row("Team", v.references(resource.get("team"), resolve))
    return doc


def service_request(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A referral: what is asked, for whom, by whom, to whom, why."""
    doc = Doc()
    doc.title("Henvisning " + v.text(resource.get("authoredOn"))[:10])
    doc.para(v.concept(resource.get("code")))
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Prioritet", v.text(resource.get("priority")))
    doc.row("Henvist av", v.reference(resource.get("requester"), resolve))
    doc.row("Henvist til", v.references(resource.get("performer"), resolve))
    doc.row("Årsak", v.concepts(resource.get("reasonCode")) or v.references(resource.get("reasonReference"), resolve))
    doc.row("Tilleggsopplysninger", v.references(resource.get("supportingInfo"), resolve))
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    return doc


def task(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A task (the state of a referral): what, status, for whom, by whom, its outcome."""
    doc = Doc()
    doc.title(v.concept(resource.get("code")) or "Oppgave")
    doc.para(v.text(resource.get("description")))
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Begrunnelse", v.concept(resource.get("statusReason")) or v.concept(resource.get("businessStatus")))
    doc.row("Gjelder", v.reference(resource.get("focus"), resolve))
    subject_row(doc, resource, resolve, "for")
    doc.row("Utført av", v.reference(resource.get("owner"), resolve))
    doc.row("Dato", v.text(resource.get("lastModified")) or v.text(resource.get("authoredOn")))
    outputs = [Item(v.concept(o.get("type")), v.value_x(o)) for o in v.listed(resource.get("output"))]
    doc.section("Resultat", [o for o in outputs if o.label or o.text])
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    return doc


def consent(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A consent: whose, about what, given to whom, for what, for how long."""
    doc = Doc()
    doc.title("Samtykke " + v.text(resource.get("dateTime"))[:10])
    subject_row(doc, resource, resolve, "patient")
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Omfang", v.concept(resource.get("scope")))
    doc.row("Kategori", v.concepts(resource.get("category")))
    doc.row("Forvaltet av", v.references(resource.get("organization"), resolve))
    provision = v.obj(resource.get("provision"))
    doc.row("Bestemmelse", _CONSENT_TYPE.get(str(provision.get("type")), v.text(provision.get("type"))))
    doc.row("Periode", v.period(provision.get("period")))
    parties = [v.reference(a.get("reference"), resolve) for a in v.listed(provision.get("actor"))]
    doc.row("Gjelder", ", ".join(p for p in parties if p))
    doc.row("Formål", ", ".join(filter(None, (v.concept(p) for p in v.listed(provision.get("purpose"))))))
    doc.row("Handling", v.concepts(provision.get("action")))
    return doc


def encounter(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """An encounter: kind, patient, status, period, where, why."""
    doc = Doc()
    doc.title(v.concepts(resource.get("type")) or "Kontakt")
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    klass = resource.get("class")
    doc.row("Kontakttype", v.concept(klass))
    doc.row("Periode", v.period(resource.get("period")))
    doc.row("Tjenesteyter", v.reference(resource.get("serviceProvider"), resolve))
    places = [v.reference(p.get("location"), resolve) for p in v.listed(resource.get("location"))]
    doc.row("Sted", ", ".join(p for p in places if p))
    doc.row("Årsak", v.concepts(resource.get("reasonCode")))
    return doc


def document(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A document: type, description, date, patient, author and its attachments."""
    doc = Doc()
    doc.title(v.concept(resource.get("type")) or "Dokument")
    doc.para(v.text(resource.get("description")))
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Dato", v.text(resource.get("date")))
    doc.row("Forfatter", v.references(resource.get("author"), resolve))
    attachments = []
    for content in v.listed(resource.get("content")):
        attachment = v.obj(content.get("attachment"))
        title = v.text(attachment.get("title")) or v.text(attachment.get("url")) or "Vedlegg"
        attachments.append(Item(title, v.text(attachment.get("contentType"))))
    doc.section("Vedlegg", attachments)
    return doc


def composition(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A composition: title, type, patient, date, author, and its sections with what they hold."""
    doc = Doc()
    doc.title(v.text(resource.get("title")) or v.concept(resource.get("type")) or "Dokument")
    doc.row("Type", v.concept(resource.get("type")))
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Dato", v.text(resource.get("date")))
    doc.row("Forfatter", v.references(resource.get("author"), resolve))
    for section in v.listed(resource.get("section")):
        rows = [Row("Innhold", v.references(section.get("entry"), resolve))]
        doc.section(
            v.text(section.get("title")) or v.concept(section.get("code")) or "Del", [r for r in rows if r.value]
        )
    return doc


def communication(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A message or a request for one: topic, patient, who to whom, when, and what it says."""
    doc = Doc()
    is_request = resource.get("resourceType") == "CommunicationRequest"
    doc.title(
        v.concept(resource.get("topic"))
        or v.concepts(resource.get("category"))
        or ("Forespørsel" if is_request else "Melding")
    )
    subject_row(doc, resource, resolve)
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Fra", v.reference(resource.get("sender") or resource.get("requester"), resolve))
    doc.row("Til", v.references(resource.get("recipient"), resolve))
    doc.row("Sendt", v.text(resource.get("sent")) or v.text(resource.get("authoredOn")))
    for payload in v.listed(resource.get("payload")):
        doc.para(v.value_x(payload, "content"), gap=False)
    for note in v.notes(resource.get("note")):
        doc.row("Merknad", note)
    return doc
