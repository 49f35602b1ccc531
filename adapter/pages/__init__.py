"""The pages people read, rendered from FHIR resources with Jinja2 templates (no Flask here).

Beside the flow: the API reads the resources through the records (access check, audit) and gives them here as
dicts, with a :data:`~adapter.pages.values.Resolve` for what they reference; these functions answer HTML (or a PDF).
Templates and the stylesheet are package files (``templates/``, ``static/``), and every value is autoescaped.
"""

from __future__ import annotations

import datetime
from typing import Any

from adapter.pages.crisisplan import attachment_text, crisis_plan_view, is_crisis_plan
from adapter.pages.overview import overview_view
from adapter.pages.render import STATIC_TYPES, STYLESHEET, render, static_file, to_pdf
from adapter.pages.values import FNR_SYSTEMS, Resolve, date, national_id, text

__all__ = [
    "STATIC_TYPES",
    "Links",
    "crisis_plan_page",
    "document_page",
    "emergency_form_page",
    "is_crisis_plan",
    "overview_page",
    "refusal_page",
    "static_file",
    "to_pdf",
]

#: The links a page offers (name -> URL): ``pdf`` (download), ``fhir`` (the resource as FHIR JSON), ``static``
#: (the base URL of the stylesheet), ``emergency`` (the form of a new emergency read).
Links = dict[str, str]

#: Headline of a refusal page by HTTP status (of a page about the patient, :data:`_PATIENT_REFUSALS` first).
_PATIENT_REFUSALS = {403: "Du har ikke tilgang til denne pasienten", 404: "Fant ikke pasienten"}
_REFUSALS = {
    400: "Forespørselen kan ikke besvares",
    401: "Du er ikke logget inn",
    403: "Du har ikke tilgang til denne planen",
    404: "Fant ingen kriseplan",
    410: "Planen er slettet",
}


def crisis_plan_page(
    plan: dict[str, Any],
    resolve: Resolve,
    links: Links,
    *,
    today: datetime.date,
    pdf: bool = False,
    emergency: dict[str, str] | None = None,
) -> str:
    """The crisis plan page (or, with ``pdf``, the page the PDF is printed from: no links, no navigation).
    ``emergency`` (``reason``, ``identifier``) marks an emergency read: the page says it is logged, and why."""
    view = crisis_plan_view(plan, resolve, today)
    if emergency and not view.patient_id:  # the emergency read gives the plan and its contacts, not the patient
        view.patient_id = national_id({"identifier": [{"system": FNR_SYSTEMS[0], "value": emergency["identifier"]}]})
    return render(
        "kriseplan.html", v=view, links=links, pdf=pdf, emergency=emergency, stylesheet=STYLESHEET, title=view.title
    )


def document_page(
    document: dict[str, Any], links: Links, *, pdf: bool = False, emergency: dict[str, str] | None = None
) -> str:
    """A crisis plan that came only as text or PDF (a DocumentReference of type Kriseplan): its text, when it is
    plain text, with where it came from."""
    context = {
        "description": text(document.get("description")),
        "date": date(document.get("date")),
        "body": attachment_text(document),
        "identifier": (emergency or {}).get("identifier", ""),
    }
    return render(
        "dokument.html", d=context, links=links, pdf=pdf, emergency=emergency, stylesheet=STYLESHEET, title="Kriseplan"
    )


def emergency_form_page(links: Links, identifier: str = "", reason: str = "", correct: str = "") -> str:
    """The emergency read's form: the patient's fødselsnummer and the reason (a plain GET form, no JavaScript);
    filled in again with ``correct``, what to correct, when the last try was refused for what was typed."""
    return render(
        "akutt.html",
        links=links,
        identifier=identifier,
        reason=reason,
        correct=correct,
        pdf=False,
        emergency=None,
        stylesheet=STYLESHEET,
        title="Nødtilgang til kriseplan",
    )


def overview_page(
    patient: dict[str, Any],
    found: dict[str, list[dict[str, Any]]],
    resolve: Resolve,
    links: Links,
    *,
    today: datetime.date,
    trail: list[dict[str, Any]] | None = None,
) -> str:
    """The patient overview (:mod:`adapter.pages.overview`): ``found`` is what the caller could read, by type;
    ``links["crisis"]`` the crisis plan's page; ``trail`` the audit trail (None: the caller may not read it)."""
    view = overview_view(patient, found, resolve, today, links.get("crisis", ""), trail)
    return render(
        "oversikt.html",
        v=view,
        links=links,
        pdf=False,
        emergency=None,
        stylesheet=STYLESHEET,
        title=f"Oversikt: {view.patient_name}",
    )


def refusal_page(status: int, outcome: dict[str, Any] | None, links: Links, *, patient: bool = False) -> str:
    """The page of a refused or failed request: a clear Norwegian headline for the status and the Norwegian text of
    each issue of the OperationOutcome (never a stack trace); ``patient``: the page was about a patient, not a
    plan."""
    details = []
    for issue in (outcome or {}).get("issue") or []:
        said = text((issue.get("details") or {}).get("text")) if isinstance(issue, dict) else ""
        if said and said not in details:
            details.append(said)
    fallback = "Noe gikk galt" if status >= 500 else "Forespørselen ble avvist"
    headline = (_PATIENT_REFUSALS if patient else {}).get(status) or _REFUSALS.get(status, fallback)
    return render(
        "avvist.html",
        status=status,
        headline=headline,
        details=details,
        links=links,
        pdf=False,
        emergency=None,
        stylesheet=STYLESHEET,
        title=headline,
    )
