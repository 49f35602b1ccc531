"""Who may see what: the parties to a message and to a resource, consent to share a plan, and search terms.

Pure functions over FHIR resources as dicts (no store, no Flask). The rules:

* An organisation is identified by its HER-id (``urn:oid:2.16.578.1.12.4.1.2``), the same id KITH addresses by.
* The parties to a resource are the organisations it came from or went to (message sender and receivers, the
  caller who wrote it over REST) and the organisations it names (author, performer, managing organisation ...).
  A party may read and update it.
* A plan (CarePlan) is shared with an organisation that is not yet party to it only under an *active* Consent of
  the same patient whose ``provision`` is a ``permit`` that names that organisation as actor, within its period.
  Without one, the disclosure is refused and the refusal says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from adapter.validate.identifiers import HER_SYSTEM

#: Resource types whose sharing with a new organisation needs the patient's consent.
CONSENTED_TYPES = frozenset({"CarePlan"})
#: Elements that tie a resource to its patient, in order of preference.
_PATIENT_ELEMENTS = ("subject", "patient", "beneficiary", "for")
#: Elements whose Organization references make that organisation a party.
_PARTY_ELEMENTS = (
    "author",
    "performer",
    "requester",
    "managingOrganization",
    "organization",
    "custodian",
    "sender",
    "recipient",
    "owner",
    "managingEntity",
)

Resolver = Callable[[str], dict[str, Any] | None]


def her_id(organization: dict[str, Any] | None) -> str | None:
    """The HER-id of an Organization resource (or a Reference carrying an identifier), if it has one."""
    if not organization:
        return None
    identifiers = organization.get("identifier", [])
    if isinstance(identifiers, dict):  # a Reference.identifier
        identifiers = [identifiers]
    for identifier in identifiers:
        if isinstance(identifier, dict) and identifier.get("system") == HER_SYSTEM and identifier.get("value"):
            return str(identifier["value"])
    return None


def split_reference(reference: str) -> tuple[str, str]:
    """``Type/id`` -> (Type, id)."""
    rtype, _, rid = reference.partition("/")
    return rtype, rid


def message_header(bundle: Any) -> dict[str, Any] | None:
    """The MessageHeader that opens a message Bundle (None when ``bundle`` is not one), read before validation."""
    if not isinstance(bundle, dict) or bundle.get("resourceType") != "Bundle" or bundle.get("type") != "message":
        return None
    entries = bundle.get("entry")
    first = entries[0] if isinstance(entries, list) and entries else None
    resource = first.get("resource") if isinstance(first, dict) else None
    return resource if isinstance(resource, dict) and resource.get("resourceType") == "MessageHeader" else None


def message_sender(bundle: dict[str, Any]) -> str | None:
    """The HER-id of the organisation that sends a message Bundle."""
    header = message_header(bundle)
    return message_parties(header, bundle_resolver(bundle))[0] if header else None


def bundle_resolver(bundle: dict[str, Any]) -> Resolver:
    """Resolve a reference inside a Bundle: by an entry's fullUrl, or by ``Type/id`` of its resource."""
    found: dict[str, dict[str, Any]] = {}
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:  # not yet validated: any shape may come
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if entry.get("fullUrl"):
            found[str(entry["fullUrl"])] = resource
        if resource.get("id"):
            found[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    return found.get


def reference_her(reference: Any, resolve: Resolver) -> str | None:
    """The HER-id of the Organization a Reference points at (through ``resolve`` or its own identifier)."""
    if not isinstance(reference, dict):
        return None
    target = resolve(str(reference.get("reference", ""))) if reference.get("reference") else None
    if target is not None and target.get("resourceType") == "Organization":
        return her_id(target)
    return her_id(reference) if "identifier" in reference else None


def message_parties(header: dict[str, Any], resolve: Resolver) -> tuple[str | None, list[str]]:
    """The sender's HER-id and the receivers' HER-ids of a MessageHeader."""
    sender = reference_her(header.get("sender"), resolve)
    receivers = []
    destinations = header.get("destination")
    for destination in destinations if isinstance(destinations, list) else []:  # read before validation
        found = reference_her(destination.get("receiver"), resolve) if isinstance(destination, dict) else None
        if found:
            receivers.append(found)
    return sender, receivers


def patient_reference(resource: dict[str, Any]) -> str | None:
    """The reference from a resource to its patient (itself for a Patient), as written."""
    if resource.get("resourceType") == "Patient":
        return f"Patient/{resource.get('id')}"
    for name in _PATIENT_ELEMENTS:
        value = resource.get(name)
        reference = str(value.get("reference", "")) if isinstance(value, dict) else ""
        if reference.startswith("urn:uuid:") or "Patient/" in reference:
            return reference
    return None


def patient_identifiers(patient: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(system, value) of a Patient's identifiers: what ``patient:identifier`` searches find it by."""
    identifiers = patient.get("identifier") if patient else None
    return [
        (str(i.get("system", "")), str(i["value"]))
        for i in (identifiers if isinstance(identifiers, list) else [])
        if isinstance(i, dict) and i.get("value")
    ]


def named_organisations(resource: dict[str, Any], resolve: Resolver) -> set[str]:
    """HER-ids of the organisations a resource names in its party elements (one level deep) and as CareTeam
    participants. The actors of a Consent are not parties: they are whom the patient lets see a plan."""
    found: set[str] = set()
    for name in _PARTY_ELEMENTS:
        for reference in _listed(resource.get(name)):
            her = reference_her(reference, resolve)
            if her:
                found.add(her)
    for participant in resource.get("participant", []):
        for key in ("member", "onBehalfOf"):
            her = reference_her(participant.get(key), resolve)
            if her:
                found.add(her)
    return found


def consent_custodians(consent: dict[str, Any], resolve: Resolver) -> set[str]:
    """The HER-ids of the organisations that recorded a Consent (``Consent.organization``, its custodians)."""
    organisations = consent.get("organization")
    found = (reference_her(org, resolve) for org in (organisations if isinstance(organisations, list) else []))
    return {her for her in found if her}


def consent_opens(consent: dict[str, Any], her: str, resolve: Resolver, today: str, parties: Iterable[str]) -> bool:
    """Whether a Consent opens a plan whose parties are ``parties`` to the organisation ``her`` that asks for it:
    it permits ``her`` (:func:`consent_permits`) and was recorded by a party to the plan. A Consent an organisation
    recorded on its own behalf opens nothing it was not party to already."""
    return bool(consent_custodians(consent, resolve) & set(parties)) and consent_permits(consent, her, resolve, today)


def consent_permits(consent: dict[str, Any], her: str, resolve: Resolver, today: str) -> bool:
    """Whether an active permit Consent names the organisation ``her`` as an actor on ``today`` (YYYY-MM-DD)."""
    if consent.get("status") != "active":
        return False
    provision = consent.get("provision") or {}
    if provision.get("type", "permit") != "permit":
        return False
    period = provision.get("period") or {}
    if str(period.get("start", ""))[:10] > today or (period.get("end") and str(period["end"])[:10] < today):
        return False
    return any(reference_her(actor.get("reference"), resolve) == her for actor in provision.get("actor", []))


def index_terms(
    resource: dict[str, Any], patient: str | None, patient_identifiers: Iterable[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    """The (search parameter, value) pairs a resource is found by. Token values are indexed both as
    ``system|code`` and as ``code``; the patient by reference (``patient``, ``subject``) and by identifier
    (``patient:identifier``, ``subject:identifier``), so ``?patient:identifier=<FNR>`` finds a plan."""
    for identifier in _listed(resource.get("identifier")):
        yield from _token("identifier", identifier.get("system"), identifier.get("value"))
    for name in ("status", "intent", "gender"):
        if isinstance(resource.get(name), str):
            yield name, resource[name]
    for param in ("category", "type"):
        for concept in _listed(resource.get(param)):
            for coding in concept.get("coding", []):
                yield from _token(param, coding.get("system"), coding.get("code"))
    for coding in (resource.get("code") or {}).get("coding", []) if isinstance(resource.get("code"), dict) else []:
        yield from _token("code", coding.get("system"), coding.get("code"))
    if patient:
        for name in ("patient", "subject"):
            yield name, patient
            for system, value in patient_identifiers:
                yield from _token(f"{name}:identifier", system, value)


def _token(param: str, system: Any, code: Any) -> Iterator[tuple[str, str]]:
    if code:
        yield param, str(code)
        if system:
            yield param, f"{system}|{code}"


def _listed(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []
