"""The pages people read (HTML): the crisis plan page, its PDF, the emergency read's page, the patient overview.

Every resource a page shows is read through the records (``read``, ``read_for_page``, ``search``, ``emergency``),
so the access rules and the audit are those of the FHIR read; a refusal is an HTML page with the same status and
the Norwegian text of its issues. Rendering is :mod:`adapter.pages` (Jinja2, no Flask there).

- ``GET /CarePlan/{id}`` preferring ``text/html`` (a browser): the crisis plan page; ``?format=pdf``: its PDF.
- ``GET /Patient/{id}/kriseplan`` (and ``.pdf``): the patient's current crisis plan, a stable page URL.
- ``GET /Patient/$krise`` preferring ``text/html``: the emergency read's form, then its page (``?format=pdf``).
- ``GET /Patient/{id}/oversikt``: the patient overview for a party to the care (the audit trail with its scope).
- ``GET /pages/static/{name}``: the stylesheet.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from adapter import pages
from adapter.api.context import base_url as _base
from adapter.api.context import caller as _caller
from adapter.api.context import root_path as _root
from adapter.api.context import service as _service
from adapter.api.negotiation import respond
from adapter.errors import AdapterError, AuthError, Issue
from adapter.identifiers import DNR_SYSTEM, FNR_SYSTEM, check_identifier
from adapter.pages.values import OSLO, Resolve
from adapter.reply import Reply
from adapter.security import AUDIT_SCOPE

blueprint = Blueprint("pages", __name__)

#: What every HTML answer carries: no script at all, styles only from here, never cached (patient data).
HTML_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; "
        "frame-ancestors 'none'"
    ),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Vary": "Accept, Authorization",
}


@blueprint.get("/pages/static/<name>")
def static(name: str) -> Response:
    """The pages' stylesheet (no patient data)."""
    data = pages.static_file(name)
    if data is None:
        issue = Issue("ADP-5014", "error", args={"method": "GET", "path": request.path})
        return _refusal(Reply.refused([issue], default=404))
    response = Response(data, content_type=pages.STATIC_TYPES[name])
    response.headers["Cache-Control"] = "public, max-age=3600"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@blueprint.get("/Patient/<id:pid>/kriseplan")
@blueprint.get("/Patient/<id:pid>/kriseplan.pdf")
def patient_crisis_plan(pid: str) -> Response:
    """The patient's current crisis plan: the one last changed of those written by the organisations that take part
    in the patient's care (never one a stranger wrote), read for its page as the caller may read it."""
    pdf = request.path.endswith(".pdf") or request.args.get("format") == "pdf"
    try:
        current = _service().records.current_crisis_plan(pid, _caller())
    except AdapterError as error:
        return _refusal(_refused(error))
    if isinstance(current, Reply):
        return _refusal(current)
    try:
        plan, named = _read_for_page("CarePlan", current)
    except _Refused as refused:
        return _refusal(refused.reply)
    own = f"{_root()}/Patient/{pid}/kriseplan"
    return _plan_page(plan, named.get, {"pdf": f"{own}.pdf", "fhir": _fhir_link(plan)}, pdf)


#: What the overview gathers, by a search per type of the patient's records the caller may see.
_OVERVIEW_TYPES = (
    *("EpisodeOfCare", "CareTeam", "CarePlan", "RiskAssessment", "ServiceRequest", "Task", "Consent"),
    "Goal",  # the plans' goals and the person's own words ("Hva er viktig for meg")
)
#: How much of the audit trail the overview reads (the latest events).
_TRAIL = 500


@blueprint.get("/Patient/<id:pid>/oversikt")
def patient_overview(pid: str) -> Response:
    """The patient overview for a party to the care: the Patient read as the caller (a refusal is the page's), then
    a search per type; care teams and plans read for their page (the names and goals they reference); the audit
    trail only with the audit scope."""
    records, caller = _service().records, _caller()
    try:
        reply = records.read("Patient", pid, caller)
    except AdapterError as error:
        return _refusal(_refused(error), patient=True)
    if reply.status != 200 or reply.resource is None:
        return _refusal(reply, patient=True)
    found, named = _gather(pid)
    named[f"Patient/{pid}"] = reply.resource
    trail = None
    if caller.has(AUDIT_SCOPE):  # as GET /AuditEvent: the latest events of the patient's trail
        total = records.search("AuditEvent", [("patient", f"Patient/{pid}"), ("_count", "0")], caller, _base())
        at = max(0, int((total.resource or {}).get("total") or 0) - _TRAIL)
        trail = _search("AuditEvent", [("patient", f"Patient/{pid}"), ("_count", str(_TRAIL)), ("_offset", str(at))])
    links = _linked({"crisis": f"{_root()}/Patient/{pid}/kriseplan"})
    today = datetime.datetime.fromtimestamp(_service().clock(), OSLO).date()
    return _html(pages.overview_page(reply.resource, found, named.get, links, today=today, trail=trail))


def _gather(pid: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """The patient's records the caller may see, by type, and what its care teams and plans name (read for their
    page: people, organisations, goals), by reference; the goals and organisations also by type."""
    found = {rtype: _search(rtype, [("patient", f"Patient/{pid}"), ("_count", "100")]) for rtype in _OVERVIEW_TYPES}
    named: dict[str, dict[str, Any]] = {}
    for rtype in ("CareTeam", "CarePlan"):
        for resource in found[rtype]:
            try:
                named.update(_read_for_page(rtype, str(resource.get("id") or ""))[1])
            except _Refused:
                continue
    for ref, resource in named.items():
        rtype, _, rid = ref.partition("/")
        listed = found.setdefault(rtype, []) if rtype in ("Goal", "Organization") else None
        if listed is not None and all(str(r.get("id")) != rid for r in listed):  # a goal found by both, once
            listed.append(resource)
    return found, named


def _search(rtype: str, query: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """The resources of a search as the caller (nothing when it is refused)."""
    try:
        reply = _service().records.search(rtype, query, _caller(), _base())
    except AdapterError:
        return []
    entries = (reply.resource or {}).get("entry") or [] if reply.status == 200 else []
    return [e["resource"] for e in entries if isinstance(e.get("resource"), dict)]


def careplan(rid: str) -> Response:
    """``GET /CarePlan/{id}`` for a browser: the crisis plan page (or its PDF); a plan of another kind stays FHIR."""
    pdf = request.args.get("format") == "pdf"
    try:
        plan, named = _read_for_page("CarePlan", rid, pages.is_crisis_plan)
    except _Refused as refused:
        return _refusal(refused.reply)
    if not pages.is_crisis_plan(plan):
        return respond(_service().records.read("CarePlan", rid, _caller()))
    links = {"pdf": f"{_root()}/CarePlan/{rid}?format=pdf", "fhir": _fhir_link(plan)}
    return _plan_page(plan, named.get, links, pdf)


def emergency() -> Response:
    """The emergency read for a browser: the form, then the plan it gives, marked as an emergency read (logged,
    with the reason); ``?format=pdf`` for its PDF."""
    identifier = request.args.get("identifier", "").strip()
    reason = (request.args.get("reason", "") or request.headers.get("X-Emergency-Reason", "")).strip()
    links = {"emergency": f"{_root()}/Patient/$krise", "static": _static()}
    if not identifier and not reason:
        return _html(pages.emergency_form_page(links))
    try:
        reply = _service().records.emergency(identifier, reason, _caller(), _base())
    except AdapterError as error:
        return _refusal(_refused(error))
    if reply.status != 200 or reply.resource is None:
        correct = _what_to_correct(identifier, reply)
        if correct:  # the form again, filled in, with what to correct (the attempt is audited all the same)
            page = _html(pages.emergency_form_page(links, identifier, reason, correct))
            page.status_code = 400
            return page
        return _refusal(reply)
    entries = [e for e in reply.resource.get("entry") or [] if isinstance(e.get("resource"), dict)]
    found = {f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}": e["resource"] for e in entries}
    plan = next(e["resource"] for e in entries if (e.get("search") or {}).get("mode") == "match")
    query = urlencode({"identifier": identifier, "reason": reason, "format": "pdf"})
    links["pdf"] = f"{_root()}/Patient/$krise?{query}"
    marked = {"reason": reason, "identifier": identifier}
    pdf = request.args.get("format") == "pdf"
    if plan.get("resourceType") == "DocumentReference":
        return _answer(pages.document_page(plan, _linked(links), pdf=pdf, emergency=marked), pdf, "kriseplan")
    # only what the emergency read gave: its contacts, nothing else read on the side
    return _plan_page(plan, found.get, links, pdf, emergency=marked)


def _what_to_correct(identifier: str, reply: Reply) -> str:
    """What the person at the emergency form must correct, when the refusal is theirs to correct: a number that is
    no fødselsnummer or D-nummer, or a reason too short to say why; else empty."""
    codes = {str(c.get("code")) for i in (reply.resource or {}).get("issue", []) for c in i["details"]["coding"]}
    number = identifier.rpartition("|")[2]
    if all(check_identifier(system, number) for system in (FNR_SYSTEM, DNR_SYSTEM)):
        return "Nummeret er ikke et gyldig fødselsnummer eller D-nummer. Sjekk sifrene."
    if "ADP-7020" in codes:
        return "Skriv en begrunnelse for hvorfor du trenger planen nå (minst fem bokstaver eller tall)."
    return ""


def _plan_page(
    plan: dict[str, Any], resolve: Resolve, links: dict[str, str], pdf: bool, emergency: dict[str, str] | None = None
) -> Response:
    today = datetime.datetime.fromtimestamp(_service().clock(), OSLO).date()
    html = pages.crisis_plan_page(plan, resolve, _linked(links), today=today, pdf=pdf, emergency=emergency)
    return _answer(html, pdf, f"kriseplan-{plan.get('id', '')}")


def _answer(html: str, pdf: bool, name: str) -> Response:
    if not pdf:
        return _html(html)
    response = Response(pages.to_pdf(html), content_type="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


class _Refused(Exception):
    """A read for a page that was refused, failed or found nothing: ``reply`` is the answer (its status)."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _read_for_page(
    rtype: str, rid: str, shown: Callable[[dict[str, Any]], bool] = lambda _: True
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """A record and what its page shows of what it references (:meth:`Records.read_for_page`: the access rules and
    audit of the FHIR read), with what that read gave by reference (the page resolves only these)."""
    try:
        reply = _service().records.read_for_page(rtype, rid, _caller(), _base(), shown)
    except AdapterError as error:
        raise _Refused(_refused(error)) from error
    if reply.status != 200 or reply.resource is None:
        raise _Refused(reply)
    entries = [e for e in reply.resource.get("entry") or [] if isinstance(e.get("resource"), dict)]
    found = {f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}": e["resource"] for e in entries}
    record = next(e["resource"] for e in entries if (e.get("search") or {}).get("mode") == "match")
    return record, found


@blueprint.errorhandler(AuthError)
def _not_authenticated(error: AuthError) -> Response:
    """A page asked for without a valid token (or scope): the refusal page, not an OperationOutcome."""
    response = _refusal(_refused(error))
    if error.www_authenticate:
        response.headers["WWW-Authenticate"] = error.www_authenticate
    return response


def _refused(error: AdapterError) -> Reply:
    return Reply.refused(error.issues, default=401 if isinstance(error, AuthError) else 400)


def _refusal(reply: Reply, patient: bool = False) -> Response:
    links = {"static": _static(), "emergency": f"{_root()}/Patient/$krise"}
    return _html(pages.refusal_page(reply.status, reply.resource, links, patient=patient), reply.status)


def _html(text: str, status: int = 200) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(HTML_HEADERS)
    return response


def _linked(links: dict[str, str]) -> dict[str, str]:
    return {"static": _static(), **links}


def _fhir_link(resource: dict[str, Any]) -> str:
    return f"{_root()}/{resource.get('resourceType')}/{resource.get('id')}?_format=json"


def _static() -> str:
    return f"{_root()}/pages/static"
