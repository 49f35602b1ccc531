"""The person's own page (``/meg``): their plans in plain language ("du"-form), and a form for their own words.

Built from what :meth:`adapter.records.person.PersonRecords.own` read (the person's Patient record and their
records, with what these name), given as dicts, and ``own``: the references of the records the person wrote
themself. The crisis plan is shown through :func:`adapter.pages.crisisplan.crisis_plan_view`, so it says what the
crisis plan page says. Pure data and a template (``meg.html``); every value is autoescaped.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from adapter.pages import values as v
from adapter.pages.crisisplan import CrisisPlanView, coordinators, crisis_plan_view, is_crisis_plan
from adapter.pages.render import STYLESHEET, render

MALTYPE = "http://samhandling.no/fhir/CodeSystem/maltype"
HELPS_CATEGORY = "Dette hjelper meg"
#: The longest text one field of the form takes (as adapter.records.person.MAX_WORDS).
MAX_WORDS = 2000
_PLAN_STATUS = {
    "active": "gjelder nå",
    "draft": "utkast",
    "on-hold": "satt på vent",
    "completed": "avsluttet",
    "revoked": "trukket tilbake",
}
_GOAL_STATUS = {
    "proposed": "foreslått",
    "planned": "planlagt",
    "accepted": "tatt med i planen",
    "active": "arbeides med",
    "on-hold": "satt på vent",
    "completed": "nådd",
    "cancelled": "avsluttet",
}


@dataclass
class Words:
    """One thing that matters to the person, or that helps them: the text, its status, whether they wrote it."""

    text: str
    status: str
    yours: bool
    date: str


@dataclass
class Plan:
    """An individual plan (or treatment plan) in plain words."""

    title: str
    status: str
    description: str
    goals: list[str]
    activities: list[str]
    updated: str


@dataclass
class PersonView:
    """All the person's page shows."""

    name: str
    national_id: str
    crisis: CrisisPlanView | None
    plans: list[Plan]
    coordinators: list[tuple[str, str]]
    important: list[Words] = field(default_factory=list)
    helps: list[Words] = field(default_factory=list)


def person_view(
    patient: dict[str, Any],
    records: list[dict[str, Any]],
    resolve: v.Resolve,
    own: set[str],
    today: datetime.date,
    current: str | None = None,
) -> PersonView:
    """The view model of the person's page; ``own``: the references (``Goal/x``) of what the person wrote;
    ``current``: the id of their crisis plan (written by those who take part in their care; None: they have none)."""
    plans = [
        r for r in records if r.get("resourceType") == "CarePlan" and v.text(r.get("status")) != "entered-in-error"
    ]
    crisis = next((p for p in plans if is_crisis_plan(p) and v.text(p.get("id")) == current), None)
    goals = [r for r in records if r.get("resourceType") == "Goal"]
    return PersonView(
        name=v.human_name(patient) or "deg",
        national_id=v.national_id(patient),
        crisis=crisis_plan_view(crisis, resolve, today) if crisis else None,
        plans=[_plan(p, resolve) for p in plans if not is_crisis_plan(p) and v.text(p.get("intent")) == "plan"],
        coordinators=coordinators(
            [r for r in records if r.get("resourceType") == "CareTeam"], resolve, unknown="navn ikke oppgitt"
        ),
        important=[_words(g, own) for g in goals if _is_important(g)],
        helps=[_words(g, own) for g in goals if _is_helps(g)],
    )


def person_page(
    view: PersonView, links: dict[str, str], *, saved: bool = False, form: dict[str, str] | None = None
) -> str:
    """The person's page; ``saved``: their words were just stored; ``form``: what they wrote, shown again."""
    return render(
        "meg.html",
        v=view,
        links=links,
        saved=saved,
        form=form or {"important": "", "helps": ""},
        max_words=MAX_WORDS,
        pdf=False,
        emergency=None,
        stylesheet=STYLESHEET,
        title="Planene mine",
    )


#: Headline of the person's refusal page by HTTP status.
_REFUSALS = {
    400: "Det du skrev, ble ikke lagret",
    401: "Du er ikke logget inn",
    403: "Du har ikke tilgang til dette",
    404: "Vi fant ingen opplysninger om deg",
    422: "Det du skrev, ble ikke lagret",
}


def person_refusal_page(status: int, outcome: dict[str, Any] | None, links: dict[str, str]) -> str:
    """The page of a refused request on the person's page: a plain headline and the Norwegian text of each issue."""
    details: list[str] = []
    for issue in (outcome or {}).get("issue") or []:
        said = v.text((issue.get("details") or {}).get("text")) if isinstance(issue, dict) else ""
        if said and said not in details:
            details.append(said)
    headline = _REFUSALS.get(status, "Noe gikk galt" if status >= 500 else "Forespørselen ble avvist")
    return render(
        "avvist.html",
        status=status,
        headline=headline,
        details=details,
        links={"static": links["static"]},
        pdf=False,
        emergency=None,
        stylesheet=STYLESHEET,
        title=headline,
    )


def _is_important(goal: dict[str, Any]) -> bool:
    return any((s, c) == (MALTYPE, "hva-er-viktig") for k in v.items(goal.get("category")) for s, c, _ in v.codes(k))


def _is_helps(goal: dict[str, Any]) -> bool:
    return any(v.text(k.get("text")) == HELPS_CATEGORY for k in v.items(goal.get("category")))


def _words(goal: dict[str, Any], own: set[str]) -> Words:
    status = v.text(goal.get("lifecycleStatus"))
    return Words(
        text=v.concept_text(goal.get("description")),
        status=_GOAL_STATUS.get(status, status),
        yours=f"Goal/{v.text(goal.get('id'))}" in own,
        date=v.date(goal.get("startDate")),
    )


def _plan(plan: dict[str, Any], resolve: v.Resolve) -> Plan:
    goals = [resolve(v.reference(goal)) for goal in v.items(plan.get("goal"))]
    activities = [v.text(v.child(a, "detail").get("description")) for a in v.items(plan.get("activity"))]
    status = v.text(plan.get("status"))
    return Plan(
        title=v.text(plan.get("title")) or "Plan",
        status=_PLAN_STATUS.get(status, status),
        description=v.text(plan.get("description")),
        goals=[v.concept_text(g.get("description")) for g in goals if g and v.concept_text(g.get("description"))],
        activities=[a for a in activities if a],
        updated=v.date(v.child(plan, "meta").get("lastUpdated")),
    )
