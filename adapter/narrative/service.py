"""What the service itself writes and answers: message headers, outcomes, audit events, provenance, subscriptions;
and the generic rendering of any other resource type."""

from __future__ import annotations

from typing import Any

from adapter.narrative import values as v
from adapter.narrative.doc import Doc, Item
from adapter.narrative.plans import subject_row

#: Resource types in bokmål, for titles and the generic rendering.
NAMES = {
    "AllergyIntolerance": "Allergi",
    "Appointment": "Avtale",
    "AuditEvent": "Logghendelse",
    "CarePlan": "Plan",
    "CareTeam": "Team",
    "ClinicalImpression": "Vurdering",
    "Communication": "Melding",
    "CommunicationRequest": "Forespørsel",
    "Composition": "Dokument",
    "Condition": "Tilstand",
    "Consent": "Samtykke",
    "DocumentReference": "Dokument",
    "Encounter": "Kontakt",
    "EpisodeOfCare": "Forløp",
    "Goal": "Mål",
    "HealthcareService": "Tjeneste",
    "Location": "Sted",
    "Medication": "Legemiddel",
    "MedicationStatement": "Legemiddelbruk",
    "MessageHeader": "Meldingshode",
    "Observation": "Observasjon",
    "OperationOutcome": "Utfall",
    "Organization": "Organisasjon",
    "Patient": "Pasient",
    "Practitioner": "Helsepersonell",
    "PractitionerRole": "Helsepersonellrolle",
    "Procedure": "Prosedyre",
    "Provenance": "Opphav",
    "Questionnaire": "Skjema",
    "QuestionnaireResponse": "Kartlegging",
    "RelatedPerson": "Pårørende",
    "RiskAssessment": "Risikovurdering",
    "ServiceRequest": "Henvisning",
    "Subscription": "Abonnement",
    "Task": "Oppgave",
}
_RESPONSE = {"ok": "mottatt og godtatt", "transient-error": "midlertidig feil", "fatal-error": "avvist"}
_SEVERITY = {"fatal": "Alvorlig feil", "error": "Feil", "warning": "Advarsel", "information": "Informasjon"}
_ACTION = {"C": "opprettet", "R": "lest", "U": "endret", "D": "slettet", "E": "utført"}
_OUTCOME = {"0": "vellykket", "4": "mindre feil", "8": "alvorlig feil", "12": "stor feil"}


def message_header(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A message header: the event, from whom to whom, what it is about, and the answer it gives."""
    doc = Doc()
    event = resource.get("eventCoding")
    doc.title("Melding: " + (v.concept(event) or v.text(resource.get("eventUri")) or "ukjent hendelse"))
    doc.row("Fra", v.reference(resource.get("sender"), resolve) or _source(resource.get("source")))
    receivers = [
        v.reference(d.get("receiver"), resolve) or v.text(d.get("name")) or v.text(d.get("endpoint"))
        for d in v.listed(resource.get("destination"))
    ]
    doc.row("Til", ", ".join(r for r in receivers if r))
    doc.row("Gjelder", v.references(resource.get("focus"), resolve))
    doc.row("Årsak", v.concept(resource.get("reason")))
    response = v.obj(resource.get("response"))
    if response:
        code = str(response.get("code"))
        doc.row("Svar på melding", v.text(response.get("identifier")))
        doc.row("Svar", _RESPONSE.get(code, code))
    return doc


def _source(source: Any) -> str:
    if not isinstance(source, dict):
        return ""
    return v.text(source.get("name")) or v.text(source.get("endpoint"))


def operation_outcome(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """An outcome: each issue with its severity, code, text and where it was found."""
    doc = Doc()
    doc.title("Utfall")
    items = []
    for issue in v.listed(resource.get("issue")):
        details = v.obj(issue.get("details"))
        codings = v.listed(details.get("coding"))
        code = v.text(codings[0].get("code")) if codings else ""
        said = v.text(details.get("text")) or v.text(issue.get("diagnostics")) or v.text(issue.get("code"))
        where = (
            ", ".join(str(e) for e in issue.get("expression", []) if isinstance(e, str))
            if isinstance(issue.get("expression"), list)
            else ""
        )
        label = " ".join(filter(None, (_SEVERITY.get(str(issue.get("severity")), ""), code)))
        items.append(Item(label, said + (f" ({where})" if where else "")))
    if not items:
        doc.para("Ingen merknader.")
    doc.items(items)
    return doc


def audit_event(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """An audit event: what happened, when, by whom, with what outcome, and what it concerned."""
    doc = Doc()
    doc.title("Logghendelse: " + (v.concept(resource.get("type")) or "hendelse"))
    doc.row("Handling", _ACTION.get(str(resource.get("action")), v.text(resource.get("action"))))
    doc.row("Tidspunkt", v.text(resource.get("recorded")))
    doc.row("Utfall", _OUTCOME.get(str(resource.get("outcome")), v.text(resource.get("outcome"))))
    doc.row("Beskrivelse", v.text(resource.get("outcomeDesc")))
    agents = [v.reference(a.get("who"), resolve) or v.text(a.get("name")) for a in v.listed(resource.get("agent"))]
    doc.row("Aktør", ", ".join(a for a in agents if a))
    entities = [v.reference(e.get("what"), resolve) or v.text(e.get("name")) for e in v.listed(resource.get("entity"))]
    doc.row("Gjelder", ", ".join(e for e in entities if e))
    return doc


def provenance(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """Provenance: what was made, when, by whom."""
    doc = Doc()
    doc.title("Opphav")
    doc.row("Gjelder", v.references(resource.get("target"), resolve))
    doc.row("Registrert", v.text(resource.get("recorded")))
    doc.row("Aktivitet", v.concept(resource.get("activity")))
    agents = [v.reference(a.get("who"), resolve) for a in v.listed(resource.get("agent"))]
    doc.row("Aktør", ", ".join(a for a in agents if a))
    return doc


def subscription(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A subscription: what it follows, its status, and where notifications go."""
    doc = Doc()
    doc.title("Abonnement")
    doc.row("Kriterier", v.text(resource.get("criteria")))
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Begrunnelse", v.text(resource.get("reason")))
    channel = v.obj(resource.get("channel"))
    doc.row("Kanal", v.text(channel.get("type")))
    doc.row("Mottaker", v.text(channel.get("endpoint")))
    doc.row("Slutt", v.text(resource.get("end")))
    return doc


def generic(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """Any other resource: its type in bokmål and the key elements (identifier, status, code or type, subject,
    dates)."""
    doc = Doc()
    rtype = str(resource.get("resourceType") or "Ressurs")
    doc.title(
        " ".join(filter(None, (NAMES.get(rtype, rtype), v.text(resource.get("title")) or v.human_name(resource))))
    )
    doc.row("Identifikator", v.identifiers(resource.get("identifier")))
    doc.row("Status", v.status(resource.get("status")))
    doc.row(
        "Kode", v.concept(resource.get("code")) or v.concepts(resource.get("type")) or v.concept(resource.get("type"))
    )
    doc.row("Kategori", v.concepts(resource.get("category")))
    for key in ("subject", "patient"):
        if isinstance(resource.get(key), dict):
            subject_row(doc, resource, resolve, key)
    doc.row("Dato", v.first(resource, ("date", "authoredOn", "recorded", "issued", "effectiveDateTime", "created")))
    doc.row("Periode", v.period(resource.get("period")) or v.period(resource.get("effectivePeriod")))
    doc.para(v.text(resource.get("description")))
    if doc.empty() or all(type(b).__name__ == "Title" for b in doc.blocks):
        doc.row("Id", v.text(resource.get("id")))
    return doc
