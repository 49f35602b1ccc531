"""The view model of the patient overview: one page per patient for a party to the care. Pathway level
(hovedforløp), coordinator and care team, the individual plan with what matters to the person ("Hva er viktig for
deg?"), the crisis plan, the latest risk assessment, the referral with its deadline, the consents, and who has seen
the data (from the audit trail, for a caller allowed to read it).

Built from what the caller could read (searches per type, and the records' read for a page that includes the
names a record references); what the caller may not see is simply absent. Pure data: the template renders it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from adapter.pages import values as v
from adapter.pages.crisisplan import is_crisis_plan

HER_SYSTEM = "urn:oid:2.16.578.1.12.4.1.2"
HOVEDFORLOP = "http://samhandling.no/fhir/CodeSystem/hovedforlop"
#: The guideline's three main pathways, as a reader needs them said.
_LEVELS = {
    "1": "lette og kortvarige problemer; lavterskeltilbud i kommunen",
    "2": "alvorlige kortvarige eller lette langvarige problemer; stabiliserende behandling",
    "3": "alvorlige og langvarige problemer; kommunen og spesialisthelsetjenesten sammen",
}
_STATUS = {
    "active": "aktiv",
    "planned": "planlagt",
    "waitlist": "venteliste",
    "onhold": "satt på vent",
    "on-hold": "satt på vent",
    "finished": "avsluttet",
    "completed": "avsluttet",
    "cancelled": "avlyst",
    "revoked": "trukket tilbake",
    "draft": "utkast",
    "inactive": "ikke aktiv",
    "proposed": "foreslått",
    "rejected": "avvist",
    "entered-in-error": "registrert ved en feil",
}
_RISK = {"low": "lav", "moderate": "moderat", "high": "høy", "certain": "sikker", "negligible": "ubetydelig"}


@dataclass
class Pathway:
    """One EpisodeOfCare: the hovedforløp level, what it means, its status, period and who manages it."""

    level: str
    meaning: str
    status: str
    period: str
    manager: str


@dataclass
class Goal:
    """What matters to the person, with its targets."""

    text: str
    targets: list[str]


@dataclass
class Plan:
    """A plan of the patient: its title, kind, status and date; ``url`` for the crisis plan's page."""

    title: str
    status: str
    updated: str
    url: str


@dataclass
class Risk:
    """The latest risk assessment: when, how, by whom, each risk with its level and rationale, the mitigation."""

    date: str
    method: str
    performer: str
    predictions: list[tuple[str, str, str]]
    mitigation: str


@dataclass
class Referral:
    """A referral and its status (the latest henvisningsstatus Task), with the deadline and whether it passed."""

    what: str
    sent: str
    status: str
    assessment: str
    deadline: str
    passed: bool
    notes: list[str]


@dataclass
class ConsentLine:
    """One consent: what kind, permit or deny, its status, period, to whom and what it covers."""

    kind: str
    decision: str
    status: str
    period: str
    actors: list[str]
    covers: str


@dataclass
class Seen:
    """One organisation in the audit trail: how many requests, when last, whether an emergency read."""

    org: str
    count: int
    last: str
    emergency: bool


@dataclass
class OverviewView:
    """All the overview shows. ``trail`` is None when the caller may not read the audit trail."""

    patient_name: str
    patient_id: str
    birth_date: str
    pathways: list[Pathway]
    team_name: str
    team: list[tuple[str, str]]
    goals: list[Goal]
    plans: list[Plan]
    crisis_url: str
    risk: Risk | None
    referrals: list[Referral]
    consents: list[ConsentLine]
    trail: list[Seen] | None = None
    trail_total: int = 0
    notes: list[str] = field(default_factory=list)


def overview_view(
    patient: dict[str, Any],
    found: dict[str, list[dict[str, Any]]],
    resolve: v.Resolve,
    today: datetime.date,
    crisis_url: str,
    trail: list[dict[str, Any]] | None = None,
) -> OverviewView:
    """The overview of ``patient`` from the records the caller could read, by type (``found``); ``resolve`` finds
    the names they reference; ``trail`` is the patient's audit trail (None: the caller may not read it)."""
    teams = found.get("CareTeam", [])
    plans = found.get("CarePlan", [])
    crisis = [p for p in plans if is_crisis_plan(p) and p.get("status") == "active"]
    return OverviewView(
        patient_name=v.human_name(patient) or "Pasienten",
        patient_id=v.national_id(patient),
        birth_date=v.date(patient.get("birthDate")),
        pathways=[_pathway(e, resolve) for e in _newest(found.get("EpisodeOfCare", []), "period")],
        team_name=next((v.human_name(t) for t in teams if v.human_name(t)), ""),
        team=[member for team in teams for member in _members(team, resolve)],
        goals=_goals(found.get("Goal", [])),
        # each crisis plan links to its own page (only the patient's current one, of those who take part in the
        # care, is at crisis_url: a plan a stranger wrote is listed as what it is, never linked as the current one)
        plans=[_plan(p, _own_page(crisis_url, p) if p in crisis else "") for p in plans],
        crisis_url=crisis_url if crisis else "",
        risk=_risk(found.get("RiskAssessment", []), resolve),
        referrals=[_referral(s, found.get("Task", []), today) for s in found.get("ServiceRequest", [])],
        consents=[_consent(c, resolve) for c in found.get("Consent", [])],
        trail=None if trail is None else _trail(trail, found.get("Organization", [])),
        trail_total=len(trail or []),
    )


def _status(value: Any) -> str:
    return _STATUS.get(v.text(value), v.text(value))


def _newest(resources: list[dict[str, Any]], period: str) -> list[dict[str, Any]]:
    return sorted(resources, key=lambda r: v.text(v.child(r, period).get("start")), reverse=True)


def _pathway(episode: dict[str, Any], resolve: v.Resolve) -> Pathway:
    types = v.items(episode.get("type"))
    level = next((c for concept in types for s, c, _ in v.codes(concept) if s == HOVEDFORLOP), "")
    shown = f"Hovedforløp {level}" if level else v.concept_text(next(iter(v.items(episode.get("type"))), {}))
    manager, _ = v.label(episode.get("careManager"), resolve)
    organisation, _ = v.label(episode.get("managingOrganization"), resolve)
    return Pathway(
        level=shown or "Forløp uten oppgitt nivå",
        meaning=_LEVELS.get(level, ""),
        status=_status(episode.get("status")),
        period=v.period(episode.get("period")),
        manager=", ".join(p for p in (manager, organisation) if p),
    )


def _members(team: dict[str, Any], resolve: v.Resolve) -> list[tuple[str, str]]:
    """(role, "name, organisation, phone") of each member; coordinators first."""
    found = []
    for participant in v.items(team.get("participant")):
        roles = [(c, d) for concept in v.items(participant.get("role")) for _, c, d in v.codes(concept)]
        role = next((d or c for c, d in roles), "") or "Deltaker"
        name, resource = v.label(participant.get("member"), resolve)
        org, _ = v.label(participant.get("onBehalfOf"), resolve)
        phone = v.phone(resource)
        who = ", ".join(p for p in (name, org, f"tlf. {phone}" if phone else "") if p)
        first = 0 if any(c.startswith("koordinator") for c, _ in roles) else 1
        found.append((first, role, who or "navn ikke tilgjengelig"))
    return [(role, who) for _, role, who in sorted(found, key=lambda item: item[0])]


def _goals(goals: list[dict[str, Any]]) -> list[Goal]:
    shown = []
    for goal in goals:
        text = v.concept_text(goal.get("description"))
        if not text:
            continue
        targets = []
        for target in v.items(goal.get("target")):
            parts = (v.concept_text(target.get("measure")), v.text(target.get("detailString")))
            what = ": ".join(p for p in parts if p)
            due = v.date(target.get("dueDate"))
            if what:
                targets.append(f"{what} (innen {due})" if due else what)
        shown.append(Goal(text, targets))
    return shown


def _plan(plan: dict[str, Any], url: str) -> Plan:
    kind = next((v.concept_text(c) for c in v.items(plan.get("category")) if v.concept_text(c)), "Plan")
    return Plan(
        title=v.text(plan.get("title")) or kind,
        status=_status(plan.get("status")),
        updated=v.date(v.child(plan, "meta").get("lastUpdated")),
        url=url,
    )


def _risk(assessments: list[dict[str, Any]], resolve: v.Resolve) -> Risk | None:
    if not assessments:
        return None
    latest = max(assessments, key=lambda r: v.text(r.get("occurrenceDateTime")))
    predictions = []
    for prediction in v.items(latest.get("prediction")):
        level = next((c for _, c, _ in v.codes(prediction.get("qualitativeRisk"))), "")
        shown_level = _RISK.get(level, v.concept_text(prediction.get("qualitativeRisk")))
        outcome = v.concept_text(prediction.get("outcome"))
        predictions.append((outcome, shown_level, v.text(prediction.get("rationale"))))
    return Risk(
        date=v.date(latest.get("occurrenceDateTime")),
        method=v.concept_text(latest.get("method")),
        performer=v.label(latest.get("performer"), resolve)[0],
        predictions=predictions,
        mitigation=v.text(latest.get("mitigation")),
    )


def _referral(request: dict[str, Any], tasks: list[dict[str, Any]], today: datetime.date) -> Referral:
    """A referral with the status of its latest task; the deadline of the latest task that has one."""
    own = [t for t in tasks if v.reference(t.get("focus")) == f"ServiceRequest/{v.text(request.get('id'))}"]
    own.sort(key=lambda t: v.text(t.get("lastModified")) or v.text(t.get("authoredOn")))
    latest = own[-1] if own else {}
    deadline = next(
        (end for t in reversed(own) if (end := v.text(v.child(v.child(t, "restriction"), "period").get("end")))), ""
    )
    assessment = next(
        (v.concept_text(o.get("valueCodeableConcept")) for t in reversed(own) for o in v.items(t.get("output"))), ""
    )
    status = v.concept_text(latest.get("businessStatus")) or _status(latest.get("status"))
    return Referral(
        what=v.concept_text(request.get("code")) or "Henvisning",
        sent=v.date(request.get("authoredOn")),
        status=status or f"sendt ({_status(request.get('status'))})",
        assessment=assessment,
        deadline=v.date(deadline),
        passed=bool(deadline) and deadline[:10] < today.isoformat(),
        notes=[v.text(n.get("text")) for n in v.items(latest.get("note")) if v.text(n.get("text"))],
    )


def _consent(consent: dict[str, Any], resolve: v.Resolve) -> ConsentLine:
    provision = v.child(consent, "provision")
    kind = next((v.concept_text(c) for c in v.items(consent.get("category")) if v.concept_text(c)), "Samtykke")
    actors = [v.label(a.get("reference"), resolve)[0] or "ukjent mottaker" for a in v.items(provision.get("actor"))]
    covers = [v.text(c.get("display")) or v.text(c.get("code")) for c in v.items(provision.get("class"))]
    decision = {"permit": "Tillater deling", "deny": "Nekter deling"}.get(v.text(provision.get("type")), "")
    return ConsentLine(
        kind=kind,
        decision=decision,
        status=_status(consent.get("status")),
        period=v.period(provision.get("period")),
        actors=actors,
        covers=", ".join(c for c in covers if c),
    )


def _trail(events: list[dict[str, Any]], organisations: list[dict[str, Any]]) -> list[Seen]:
    """Who has seen the patient's data (successful requests only), per organisation (its name when known) or the
    person themself, the latest first."""
    names = {
        v.text(i.get("value")): v.human_name(o)
        for o in organisations
        for i in v.items(o.get("identifier"))
        if i.get("system") == HER_SYSTEM
    }
    seen: dict[str, Seen] = {}
    for event in events:
        if v.text(event.get("outcome")) not in ("", "0"):
            continue  # a refused or failed request saw nothing
        requestor = next((a for a in v.items(event.get("agent")) if a.get("requestor")), {})
        identifier = v.child(v.child(requestor, "who"), "identifier")
        her = v.text(identifier.get("value"))
        if not her:
            continue
        if identifier.get("system") != HER_SYSTEM or not her.isdigit():  # the person themself (never their number)
            entry = seen.setdefault("", Seen("Personen selv", 0, "", False))
        else:
            entry = seen.setdefault(her, Seen(names.get(her) or f"HER-id {her}", 0, "", False))
        entry.count += 1
        entry.last = max(entry.last, v.text(event.get("recorded")))
        purposes = [c for concept in v.items(event.get("purposeOfEvent")) for _, c, _ in v.codes(concept)]
        entry.emergency = entry.emergency or "ETREAT" in purposes
    ordered = sorted(seen.values(), key=lambda s: s.last, reverse=True)
    for entry in ordered:
        entry.last = v.date(entry.last)
    return ordered


def _own_page(crisis_url: str, plan: dict[str, Any]) -> str:
    """The page of ``plan`` itself (``<root>/CarePlan/<id>``), beside the patient's current-plan page."""
    root = crisis_url.split("/Patient/", 1)[0]
    return f"{root}/CarePlan/{v.text(plan.get('id'))}"
