"""Who may see and change what: parties, consent rules, and search terms.

Pure functions over FHIR resources as dicts (no store, no Flask); :mod:`adapter.sharing` applies them to the
store. The rules, in plain words (the README's service section says the same):

* An organisation is its HER-id (``urn:oid:2.16.578.1.12.4.1.2``), the one its token carries.
* The *parties* to a version of a resource are the organisation that created the resource and the organisations
  its content names (author, performer, managing organisation, CareTeam members ...; for a Consent also the
  organisations it names as actors). They are worked out again for every version, never accumulated.
* A Consent is a tree of provisions (:class:`Provision`); :func:`verdict` says whether it permits or denies one
  organisation one resource for one action on one day. A deny wins over a permit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from adapter.identifiers import DNR_SYSTEM, FHN_SYSTEM, FNR_SYSTEM, HER_SYSTEM, HPR_SYSTEM, ORGNR_SYSTEM
from adapter.mapping.references import Resolver as Resolver  # the one definition; re-exported for the flow above
from adapter.mapping.references import bundle_resolver as bundle_resolver

#: People and organisations: one record nationwide, matched on their national identifiers (data, not code paths).
MATCH_BY_IDENTIFIER: dict[str, tuple[str, ...]] = {
    "Patient": (FNR_SYSTEM, DNR_SYSTEM, FHN_SYSTEM),
    "Organization": (HER_SYSTEM, ORGNR_SYSTEM),
    "Practitioner": (HPR_SYSTEM,),
}
#: Coding system of provision.class codes that name resource types.
RESOURCE_TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"
#: The consent actions (consentaction) a disclosure needs one of: a provision with actions permits or denies only
#: those; one without actions covers all.
DISCLOSE_ACTIONS = frozenset({"disclose", "access"})
#: Types that carry no patient data of their own: they go along with the data that names them.
DIRECTORY_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Location", "Endpoint"})
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


def her_id(organization: dict[str, Any] | None) -> str | None:
    """The HER-id of an Organization resource (or a Reference carrying an identifier), if it has one."""
    if not organization:
        return None
    identifiers = organization.get("identifier")
    if isinstance(identifiers, dict):  # a Reference.identifier
        identifiers = [identifiers]
    for identifier in identifiers if isinstance(identifiers, list) else []:  # read before validation: any shape
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
    """HER-ids of the organisations a resource names in its party elements, as CareTeam participants, as
    performers of a plan's activities, and as participants of the care team a plan names (``careTeam``): those
    who work on the plan, and the organisations these are units of (``partOf``). The actors of a Consent are not
    among them: they are whom the patient lets see data."""
    found: set[str] = set()
    references: list[Any] = [reference for name in _PARTY_ELEMENTS for reference in _listed(resource.get(name))]
    for activity in _listed(resource.get("activity")):
        detail = activity.get("detail")
        if isinstance(detail, dict):
            references += _listed(detail.get("performer"))
    teams = [resource]
    for team in _listed(resource.get("careTeam")):
        target = resolve(team["reference"]) if isinstance(team.get("reference"), str) else None
        if isinstance(target, dict) and target.get("resourceType") == "CareTeam":
            teams.append(target)
    for team in teams:
        for participant in _listed(team.get("participant")):
            references += [participant.get("member"), participant.get("onBehalfOf")]
    for reference in references:
        found.update(_organisation_line(reference, resolve))
    return found


#: How far up ``Organization.partOf`` an organisation named in a record is followed (unit, department, institution).
PART_OF_DEPTH = 3


def _organisation_line(reference: Any, resolve: Resolver) -> list[str]:
    """The HER-id of the organisation a reference names and those of the organisations it is part of: a referral
    to a hospital's department names the hospital too (the one its message went to)."""
    line: list[str] = []
    for _ in range(PART_OF_DEPTH + 1):
        her = reference_her(reference, resolve)
        if her:
            line.append(her)
        target = resolve(str(reference.get("reference", ""))) if isinstance(reference, dict) else None
        if not isinstance(target, dict) or target.get("resourceType") != "Organization":
            break
        reference = target.get("partOf")
    return line


def consent_custodians(consent: dict[str, Any], resolve: Resolver) -> set[str]:
    """The HER-ids of the organisations that recorded a Consent (``Consent.organization``, its custodians)."""
    organisations = consent.get("organization")
    found = (reference_her(org, resolve) for org in (organisations if isinstance(organisations, list) else []))
    return {her for her in found if her}


@dataclass(frozen=True)
class Provision:
    """One provision of a Consent, read: whom (HER-ids), what (resource types or profile URLs, references), which
    actions and when it covers (empty: no limit), whether it permits or denies, and its exceptions."""

    permit: bool
    actors: frozenset[str]
    classes: frozenset[str]
    data: frozenset[str]
    actions: frozenset[str]
    start: str
    end: str
    exceptions: tuple[Provision, ...] = ()


@dataclass(frozen=True)
class ConsentRules:
    """A Consent as the access rules read it: its reference, whether it is in force, who recorded it (HER-ids of
    ``Consent.organization``) and its provisions."""

    ref: str
    active: bool
    custodians: frozenset[str]
    provision: Provision | None


def consent_rules(consent: dict[str, Any], resolve: Resolver, ref: str = "") -> ConsentRules:
    """Read a Consent (any shape: a stored one was validated, one in a message may not be yet)."""
    provision = consent.get("provision")
    return ConsentRules(
        ref or f"Consent/{consent.get('id')}",
        consent.get("status") == "active",
        frozenset(consent_custodians(consent, resolve)),
        _provision(provision, resolve, True) if isinstance(provision, dict) else None,
    )


def _provision(value: dict[str, Any], resolve: Resolver, parent_permits: bool) -> Provision:
    # R4: a nested provision is an exception to its parent; without a type of its own it says the opposite
    stated = value.get("type")
    permit = stated == "permit" if stated in ("permit", "deny") else not parent_permits
    period: dict[str, Any] = value["period"] if isinstance(value.get("period"), dict) else {}
    listed = [reference_her(a.get("reference"), resolve) for a in _listed(value.get("actor"))]
    actors = frozenset(her for her in listed if her)
    if listed and not actors:  # only actors that are no organisation (relatives): it covers no organisation
        actors = frozenset({"(none)"})
    classes = {str(c.get("code")) for c in _listed(value.get("class")) if c.get("code")}
    data = {
        str(d["reference"]["reference"])
        for d in _listed(value.get("data"))
        if isinstance(d.get("reference"), dict) and d["reference"].get("reference")
    }
    actions = {
        str(coding.get("code"))
        for concept in _listed(value.get("action"))
        for coding in _listed(concept.get("coding"))
        if coding.get("code")
    }
    return Provision(
        permit,
        actors,
        frozenset(classes),
        frozenset(data),
        frozenset(actions),
        str(period.get("start", ""))[:10],
        str(period.get("end", ""))[:10],
        tuple(_provision(child, resolve, permit) for child in _listed(value.get("provision"))),
    )


@dataclass(frozen=True)
class Asked:
    """What a consent is asked about: may organisation ``org`` get ``ref`` (of type ``rtype``, claiming
    ``profiles``) for one of ``actions`` on ``today`` (YYYY-MM-DD)?"""

    org: str
    rtype: str
    ref: str
    profiles: frozenset[str]
    today: str
    actions: frozenset[str] = DISCLOSE_ACTIONS
    #: whatever provision.class says (the person is the subject of every class: a permit to share a patient's
    #: data with an organisation lets it know whom the data is about)
    any_class: bool = False


def verdict(rules: ConsentRules, asked: Asked) -> str | None:
    """ "permit", "deny", or None (the consent says nothing about it, or is not in force)."""
    if not rules.active or rules.provision is None:
        return None
    return _verdict(rules.provision, asked)


def _verdict(provision: Provision, asked: Asked) -> str | None:
    if not _covers(provision, asked):
        return None
    found = {_verdict(child, asked) for child in provision.exceptions}
    if "deny" in found:
        return "deny"
    if "permit" in found:
        return "permit"
    return "permit" if provision.permit else "deny"


def _covers(provision: Provision, asked: Asked) -> bool:
    if provision.start and provision.start > asked.today:
        return False
    if provision.end and provision.end < asked.today:
        return False
    if provision.actors and asked.org not in provision.actors:
        return False
    if provision.classes and not asked.any_class and not (provision.classes & ({asked.rtype} | asked.profiles)):
        return False
    if provision.data and asked.ref not in provision.data:
        return False
    return not provision.actions or bool(provision.actions & asked.actions)


def parties_of(resource: dict[str, Any], resolve: Resolver, creator: str | None) -> set[str]:
    """The parties to one version of a resource: its creator and the organisations its content names (for a
    Consent also its actors, whom it concerns; they may read it, only its custodians may change it)."""
    found = named_organisations(resource, resolve)
    if resource.get("resourceType") == "Consent":
        found |= consent_actors(resource, resolve)
    if resource.get("resourceType") == "Organization":
        found |= set(her_ids(resource))
    if creator:
        found.add(creator)
    return found


def consent_actors(consent: dict[str, Any], resolve: Resolver) -> set[str]:
    """HER-ids of the organisations a Consent names as actors, in any of its provisions."""
    found: set[str] = set()
    pending = [consent.get("provision")]
    while pending:
        provision = pending.pop()
        if not isinstance(provision, dict):
            continue
        for actor in _listed(provision.get("actor")):
            her = reference_her(actor.get("reference"), resolve)
            if her:
                found.add(her)
        pending.extend(_listed(provision.get("provision")))
    return found


def her_ids(organization: dict[str, Any]) -> list[str]:
    """Every HER-id an Organization lists, in order (an organisation has one; more is a takeover attempt)."""
    return [
        str(i["value"])
        for i in _listed(organization.get("identifier"))
        if i.get("system") == HER_SYSTEM and i.get("value")
    ]


def same_content(stored: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether a new body says the same as the stored one (meta and narrative aside): no new version."""
    return {k: v for k, v in stored.items() if k not in ("meta", "text")} == {
        k: v for k, v in body.items() if k not in ("meta", "text")
    }


def identity_tokens(rtype: str, resource: dict[str, Any]) -> list[str]:
    """The identifiers that make a resource the same record as a stored one, as search tokens: a person's or an
    organisation's national identifiers, a record's business identifiers (``system|value``, or the value alone)."""
    national = MATCH_BY_IDENTIFIER.get(rtype)
    tokens = []
    for identifier in _listed(resource.get("identifier")):
        system, value = identifier.get("system"), identifier.get("value")
        if not value or (national is not None and system not in national):
            continue
        tokens.append(f"{system}|{value}" if system else str(value))
    return tokens


def profiles_of(resource: dict[str, Any]) -> frozenset[str]:
    """The profiles a resource claims (meta.profile), as strings."""
    meta = resource.get("meta")
    claimed = meta.get("profile") if isinstance(meta, dict) else None
    return frozenset(str(p) for p in claimed if isinstance(p, str)) if isinstance(claimed, list) else frozenset()


def index_terms(
    resource: dict[str, Any], patient: str | None, patient_identifiers: Iterable[tuple[str, str]]
) -> Iterator[tuple[str, str]]:
    """The (search parameter, value) pairs a resource is found by. Token values are indexed as ``code``,
    ``system|code`` (``|code`` without a system) and ``system|`` (see :func:`_token`); the patient by reference
    (``patient``, ``subject``) and by identifier (``patient:identifier``, ``subject:identifier``), so
    ``?patient:identifier=<FNR>`` finds a plan."""
    for identifier in _listed(resource.get("identifier")):
        yield from _token("identifier", identifier.get("system"), identifier.get("value"))
    for name in ("status", "intent", "gender"):
        if isinstance(resource.get(name), str):
            yield name, resource[name]
    for profile in sorted(profiles_of(resource)):
        yield "_profile", profile
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
    """A token's index terms, for R4's four forms of a token search: ``code``, ``system|code``, ``system|`` (any
    code of the system) and ``|code`` (the code without a system). A patient's identifier is found by
    ``system|value`` or ``value`` only: ``patient:identifier=<system>|`` would name every patient."""
    if code:
        yield param, str(code)
        yield param, f"{system}|{code}" if system else f"|{code}"
        if system and not param.endswith(":identifier"):
            yield param, f"{system}|"


def _listed(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []
