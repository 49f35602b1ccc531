"""The view model of the crisis plan page: a krise- og mestringsplan (CarePlan) as a legevakt doctor needs it at
3 a.m. Whom to call first, then the zones from the most acute (red, yellow, green) with their warning signs, what
helps and what to avoid, the agreement on a patient-controlled bed, and who owns and holds the plan.

Built from the plan and the resources it references, found through a :data:`~adapter.pages.values.Resolve` the
API gives (so every resource shown was read with the same access check and audit as a FHIR read). Pure data: no
HTML here, the template renders it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
from dataclasses import dataclass, field
from typing import Any

from adapter.pages import values as v

SONE = "http://samhandling.no/fhir/StructureDefinition/sone"
SONE_SYSTEM = "http://samhandling.no/fhir/CodeSystem/sone"
PART_SYSTEM = "http://samhandling.no/fhir/CodeSystem/kriseplan-del"
AGREEMENT = "http://samhandling.no/fhir/StructureDefinition/brukerstyrt-plass-avtale"
CRISIS_PROFILE = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
PLANTYPE = ("http://samhandling.no/fhir/CodeSystem/plantype", "krise-og-mestringsplan")

#: The zones, the most acute first: a reader in a crisis starts at the top.
ZONES = (
    ("rod", "Rød sone", "krise, trenger akutt hjelp"),
    ("gul", "Gul sone", "varselsignaler, det går dårligere"),
    ("gronn", "Grønn sone", "stabil, slik det er når det går bra"),
)
_ZONE_RANK = {code: rank for rank, (code, _, _) in enumerate(ZONES)}
_STATUS = {
    "active": "Gjeldende",
    "draft": "Utkast",
    "on-hold": "Satt på vent",
    "revoked": "Trukket tilbake",
    "completed": "Avsluttet",
    "entered-in-error": "Registrert ved en feil",
}
_ACTIVITY_STATUS = {
    "not-started": "ikke i bruk nå",
    "scheduled": "planlagt",
    "in-progress": "i bruk",
    "on-hold": "satt på vent",
    "completed": "avsluttet",
    "cancelled": "avlyst",
    "stopped": "stoppet",
}
_RELATIONS = {"SIS": "søster", "BRO": "bror", "MTH": "mor", "FTH": "far", "SPS": "ektefelle", "FRND": "venn"}


@dataclass
class Contact:
    """One person or service to call: who, the number, when, and what to say or ask for."""

    name: str
    phone: str
    tel: str
    when: str
    what: str
    zone: str
    zone_label: str


@dataclass
class Item:
    """One entry of a zone: the plan's text and who does it."""

    text: str
    who: str


@dataclass
class Zone:
    """One zone: its warning signs, what helps, what to avoid."""

    code: str
    label: str
    meaning: str
    warning: list[Item] = field(default_factory=list)
    helps: list[Item] = field(default_factory=list)
    avoid: list[Item] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.warning or self.helps or self.avoid)


@dataclass
class Bed:
    """The agreement on a patient-controlled bed (brukerstyrt plass / kommunal akutt døgnplass)."""

    text: str
    place: str
    address: str
    phone: str
    tel: str
    valid: str
    longest_stay: str
    provider: str
    status: str
    agreement: str


@dataclass
class CrisisPlanView:
    """All the crisis plan page shows."""

    plan_id: str
    title: str
    description: str
    patient_name: str
    patient_id: str
    birth_date: str
    status: str
    warning: str
    valid: str
    contacts: list[Contact]
    zones: list[Zone]
    beds: list[Bed]
    owner: str
    coordinators: list[tuple[str, str]]
    version: str
    updated: str
    created: str
    holders: list[str]
    goals: list[str]
    notes: list[str]


def is_crisis_plan(plan: dict[str, Any]) -> bool:
    """Whether a CarePlan is a krise- og mestringsplan (by its profile or its plan type)."""
    profiles = (plan.get("meta") or {}).get("profile") if isinstance(plan.get("meta"), dict) else None
    if isinstance(profiles, list) and CRISIS_PROFILE in profiles:
        return True
    return any((s, c) == PLANTYPE for concept in v.items(plan.get("category")) for s, c, _ in v.codes(concept))


def crisis_plan_view(plan: dict[str, Any], resolve: v.Resolve, today: datetime.date) -> CrisisPlanView:
    """The view model of a crisis plan; ``resolve`` finds what it references, ``today`` tells an expired plan."""
    patient = resolve(v.reference(plan.get("subject"))) or {}
    meta = v.child(plan, "meta")
    team = _care_team(plan, resolve)
    return CrisisPlanView(
        plan_id=v.text(plan.get("id")),
        title=v.text(plan.get("title")) or "Krise- og mestringsplan",
        description=v.text(plan.get("description")),
        patient_name=v.human_name(patient) or "Pasienten",
        patient_id=v.national_id(patient),
        birth_date=v.date(patient.get("birthDate")),
        status=_STATUS.get(v.text(plan.get("status")), v.text(plan.get("status")) or "ukjent status"),
        warning=_warning(plan, today),
        valid=v.period(plan.get("period")),
        contacts=_contacts(plan, resolve),
        zones=[zone for zone in _zones(plan, resolve) if not zone.empty],
        beds=[_bed(activity, resolve) for activity in _activities(plan, "brukerstyrt-plass")],
        owner=_owner(plan, resolve),
        coordinators=coordinators(team, resolve),
        version=v.text(meta.get("versionId")),
        updated=v.date(meta.get("lastUpdated")),
        created=v.date(plan.get("created")),
        holders=_holders(plan, team, resolve),
        goals=_goals(plan, resolve),
        notes=[v.text(note.get("text")) for note in v.items(plan.get("note")) if v.text(note.get("text"))],
    )


def _warning(plan: dict[str, Any], today: datetime.date) -> str:
    """Why the reader should be careful with this plan (not active, or its period over), or the empty string."""
    status = v.text(plan.get("status"))
    if status != "active":
        return f"Planen er ikke gjeldende (status: {_STATUS.get(status, status or 'ukjent')})."
    end = v.text(v.child(plan, "period").get("end"))
    if end[:10] and end[:10] < today.isoformat():
        return f"Planens periode gikk ut {v.date(end[:10])}. Den kan være utdatert."
    return ""


def _zone_of(activity: dict[str, Any]) -> str:
    for extension in v.items(activity.get("extension")):
        if extension.get("url") == SONE:
            for system, code, _ in v.codes(extension.get("valueCodeableConcept")):
                if system == SONE_SYSTEM and code in _ZONE_RANK:
                    return code
    return ""


def _part_of(activity: dict[str, Any]) -> str:
    return next((c for s, c, _ in v.codes(v.child(activity, "detail").get("code")) if s == PART_SYSTEM), "")


def _activities(plan: dict[str, Any], part: str) -> list[dict[str, Any]]:
    return [a for a in v.items(plan.get("activity")) if _part_of(a) == part]


def _who(detail: dict[str, Any], resolve: v.Resolve, patient: str) -> str:
    """Who does an entry: the names of its performers ("Ola Nordmann selv" for the patient)."""
    names = []
    for performer in v.items(detail.get("performer")):
        name, _ = v.label(performer, resolve)
        if v.reference(performer) == patient and not v.text(performer.get("display")):
            name = f"{name} selv" if name else "personen selv"
        if name:
            names.append(name)
    return ", ".join(names)


def _zones(plan: dict[str, Any], resolve: v.Resolve) -> list[Zone]:
    zones = {code: Zone(code, label, meaning) for code, label, meaning in ZONES}
    patient = v.reference(plan.get("subject"))
    for activity in v.items(plan.get("activity")):
        zone, detail = zones.get(_zone_of(activity)), v.child(activity, "detail")
        lists = {"varselsignaler": "warning", "hva-hjelper": "helps", "hva-bor-unngas": "avoid"}
        part = lists.get(_part_of(activity))
        if zone is None or part is None or not v.text(detail.get("description")):
            continue
        getattr(zone, part).append(Item(v.text(detail.get("description")), _who(detail, resolve, patient)))
    return list(zones.values())


def _contacts(plan: dict[str, Any], resolve: v.Resolve) -> list[Contact]:
    """Whom to call, the most acute zone first (in the plan's order within a zone); one line per performer."""
    found: list[tuple[int, Contact]] = []
    for activity in _activities(plan, "kontakt"):
        zone, detail = _zone_of(activity), v.child(activity, "detail")
        zone_label = next((label for code, label, _ in ZONES if code == zone), "")
        performers = v.items(detail.get("performer")) or [{}]
        for performer in performers:
            name, resource = v.label(performer, resolve)
            name, phone = v.split_phone(name)
            phone = phone or v.phone(resource)
            relation = _relation(resource)
            if relation and relation not in name:
                name = f"{name}, {relation}"
            contact = Contact(
                name=name or "Ikke oppgitt",
                phone=phone,
                tel=v.tel_uri(phone),
                when=v.text(detail.get("scheduledString")),
                what=v.text(detail.get("description")),
                zone=zone,
                zone_label=zone_label,
            )
            found.append((_ZONE_RANK.get(zone, len(ZONES)), contact))
    return [contact for _, contact in sorted(found, key=lambda pair: pair[0])]


def _relation(resource: dict[str, Any] | None) -> str:
    if not resource or resource.get("resourceType") != "RelatedPerson":
        return ""
    for concept in v.items(resource.get("relationship")):
        for _, code, display in v.codes(concept):
            return _RELATIONS.get(code, display)
    return ""


def _bed(activity: dict[str, Any], resolve: v.Resolve) -> Bed:
    detail = v.child(activity, "detail")
    location = resolve(v.reference(detail.get("location"))) or {}
    address = v.child(location, "address")
    street = ", ".join(v.text(line) for line in address.get("line") or [] if v.text(line))
    city = " ".join(p for p in (v.text(address.get("postalCode")), v.text(address.get("city"))) if p)
    quantity = v.child(detail, "quantity")
    stay = ""
    if isinstance(quantity.get("value"), int | float):
        stay = f"{quantity['value']:g} {v.text(quantity.get('unit')) or 'døgn'} per opphold"
    phone = v.phone(location)
    providers = [v.label(p, resolve)[0] for p in v.items(detail.get("performer"))]
    return Bed(
        text=v.text(detail.get("description")),
        place=v.human_name(location) or v.text(v.child(detail, "location").get("display")),
        address=", ".join(p for p in (street, city) if p),
        phone=phone,
        tel=v.tel_uri(phone),
        valid=v.period(detail.get("scheduledPeriod")),
        longest_stay=stay,
        provider=", ".join(p for p in providers if p),
        status=_ACTIVITY_STATUS.get(v.text(detail.get("status")), v.text(detail.get("status"))),
        agreement=_agreement(detail, resolve),
    )


def _agreement(detail: dict[str, Any], resolve: v.Resolve) -> str:
    """The written agreement: its title and date (or what the reference says when it cannot be read)."""
    for extension in v.items(detail.get("extension")):
        if extension.get("url") != AGREEMENT:
            continue
        document = resolve(v.reference(extension.get("valueReference")))
        if not document:
            return "Skriftlig avtale finnes (ikke tilgjengelig her)."
        attachment = next((v.child(c, "attachment") for c in v.items(document.get("content"))), {})
        title = v.text(attachment.get("title")) or v.text(document.get("description")) or "Skriftlig avtale"
        when = v.date(v.text(document.get("date"))[:10]) if v.text(document.get("date")) else ""
        return f"{title}, datert {when}." if when else f"{title}."
    return ""


def attachment_text(document: dict[str, Any]) -> str:
    """The text of a DocumentReference's first plain-text attachment (a crisis plan that came only as text)."""
    for content in v.items(document.get("content")):
        attachment = v.child(content, "attachment")
        if not v.text(attachment.get("contentType")).startswith("text/plain"):
            continue
        try:
            return base64.b64decode(v.text(attachment.get("data")), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _care_team(plan: dict[str, Any], resolve: v.Resolve) -> list[dict[str, Any]]:
    teams = [resolve(v.reference(team)) for team in v.items(plan.get("careTeam"))]
    return [team for team in teams if team]


def _owner(plan: dict[str, Any], resolve: v.Resolve) -> str:
    name, resource = v.label(plan.get("author"), resolve)
    if not name and v.reference(plan.get("author")):
        return "navn ikke tilgjengelig her"
    phone = v.phone(resource)
    return f"{name}, tlf. {phone}" if name and phone else name


def coordinators(
    teams: list[dict[str, Any]], resolve: v.Resolve, unknown: str = "navn ikke tilgjengelig her"
) -> list[tuple[str, str]]:
    """The coordinators of the care teams, each once: (role, "name, organisation, phone" as far as known, else
    ``unknown``). The crisis plan page and the person's page both list them this way."""
    found: list[tuple[str, str]] = []
    for team in teams:
        for participant in v.items(team.get("participant")):
            roles = [(c, d) for concept in v.items(participant.get("role")) for _, c, d in v.codes(concept)]
            role = next((d or c for c, d in roles if c.startswith("koordinator")), "")
            if not role:
                continue
            name, resource = v.label(participant.get("member"), resolve)
            org, _ = v.label(participant.get("onBehalfOf"), resolve)
            phone = v.phone(resource)
            who = ", ".join(p for p in (name, org, f"tlf. {phone}" if phone else "") if p) or unknown
            if (role, who) not in found:
                found.append((role, who))
    return found


def _holders(plan: dict[str, Any], teams: list[dict[str, Any]], resolve: v.Resolve) -> list[str]:
    """Who else holds the plan: the people who made it with the patient and the organisations of the care team."""
    refs = [c for c in v.items(plan.get("contributor")) if not v.reference(c).startswith("Patient/")]
    for team in teams:
        refs += v.items(team.get("managingOrganization"))
        refs += [v.child(p, "onBehalfOf") for p in v.items(team.get("participant"))]
    names: list[str] = []
    unnamed: set[str] = set()
    for ref in refs:
        name, resource = v.label(ref, resolve)
        relation = _relation(resource)
        name = f"{name} ({relation})" if name and relation else name
        if name and name not in names:
            names.append(name)
        elif not name and v.reference(ref):
            unnamed.add(v.reference(ref))
    if unnamed:
        names.append(f"{len(unnamed)} {'til' if names else 'parter'} (navn ikke tilgjengelig her)")
    return names


def _goals(plan: dict[str, Any], resolve: v.Resolve) -> list[str]:
    goals = [resolve(v.reference(goal)) for goal in v.items(plan.get("goal"))]
    return [
        v.concept_text(goal.get("description")) for goal in goals if goal and v.concept_text(goal.get("description"))
    ]
