"""People, organisations and places: Patient, Practitioner, PractitionerRole, RelatedPerson, Organization,
Location. What a reader needs to know who it is and how to reach them."""

from __future__ import annotations

from typing import Any

from adapter.narrative import values as v
from adapter.narrative.doc import Doc
from adapter.narrative.plans import subject_row

_GENDER = {"male": "mann", "female": "kvinne", "other": "annet", "unknown": "ukjent"}


def _contact(doc: Doc, resource: dict[str, Any]) -> None:
    doc.row("Kontakt", v.telecom(resource.get("telecom")))
    doc.row("Adresse", v.address(resource.get("address")))


def patient(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A patient: name, identifiers, birth date, gender, contact, GP."""
    doc = Doc()
    doc.title(v.human_name(resource) or "Pasient")
    doc.row("Identifikator", v.identifiers(resource.get("identifier")))
    doc.row("Fødselsdato", v.text(resource.get("birthDate")))
    doc.row("Kjønn", _GENDER.get(str(resource.get("gender")), v.text(resource.get("gender"))))
    _contact(doc, resource)
    doc.row("Fastlege", v.references(resource.get("generalPractitioner"), resolve))
    if resource.get("deceasedBoolean") is True or v.text(resource.get("deceasedDateTime")):
        doc.row("Død", v.text(resource.get("deceasedDateTime")) or "ja")
    return doc


def practitioner(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """Health personnel: name, identifiers (HPR), qualifications, contact."""
    doc = Doc()
    doc.title(v.human_name(resource) or "Helsepersonell")
    doc.row("Identifikator", v.identifiers(resource.get("identifier")))
    doc.row(
        "Kvalifikasjon",
        ", ".join(filter(None, (v.concept(q.get("code")) for q in v.listed(resource.get("qualification"))))),
    )
    _contact(doc, resource)
    return doc


def practitioner_role(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A role: who, where, as what."""
    doc = Doc()
    doc.title(v.concepts(resource.get("code")) or "Helsepersonellrolle")
    doc.row("Helsepersonell", v.reference(resource.get("practitioner"), resolve))
    doc.row("Virksomhet", v.reference(resource.get("organization"), resolve))
    doc.row("Fagområde", v.concepts(resource.get("specialty")))
    doc.row("Periode", v.period(resource.get("period")))
    doc.row("Kontakt", v.telecom(resource.get("telecom")))
    return doc


def related_person(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A relative: name, relation to the patient, contact."""
    doc = Doc()
    doc.title(v.human_name(resource) or "Pårørende")
    doc.row("Relasjon", v.concepts(resource.get("relationship")))
    subject_row(doc, resource, resolve, "patient")
    _contact(doc, resource)
    return doc


def organization(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """An organisation: name, identifiers (org.nr, HER-id), type, part of, contact."""
    doc = Doc()
    doc.title(v.human_name(resource) or "Organisasjon")
    doc.row("Identifikator", v.identifiers(resource.get("identifier")))
    doc.row("Type", v.concepts(resource.get("type")))
    doc.row("Del av", v.reference(resource.get("partOf"), resolve))
    _contact(doc, resource)
    return doc


def location(resource: dict[str, Any], resolve: v.Resolver | None) -> Doc:
    """A place: name, description, type, address, contact, who runs it."""
    doc = Doc()
    doc.title(v.human_name(resource) or "Sted")
    doc.para(v.text(resource.get("description")))
    doc.row("Type", v.concepts(resource.get("type")))
    doc.row("Status", v.status(resource.get("status")))
    doc.row("Kontakt", v.telecom(resource.get("telecom")))
    address = resource.get("address")
    doc.row("Adresse", v.address([address]) if isinstance(address, dict) else "")
    doc.row("Drives av", v.reference(resource.get("managingOrganization"), resolve))
    return doc
