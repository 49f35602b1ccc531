"""The pages people read (HTML): the crisis plan page, its PDF, and the emergency read's page.

Every resource a page shows is read through the records (``read``, ``search``, ``emergency``), so the access
rules and the audit are those of the FHIR read; a refusal is an HTML page with the same status and the Norwegian
text of its issues. Rendering is :mod:`adapter.pages` (Jinja2, no Flask there).

- ``GET /CarePlan/{id}`` preferring ``text/html`` (a browser): the crisis plan page; ``?format=pdf``: its PDF.
- ``GET /Patient/{id}/kriseplan`` (and ``.pdf``): the patient's current crisis plan, a stable page URL.
- ``GET /Patient/$krise`` preferring ``text/html``: the emergency read's form, then its page (``?format=pdf``).
- ``GET /pages/static/{name}``: the stylesheet.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from adapter import pages
from adapter.api.context import caller as _caller
from adapter.api.context import service as _service
from adapter.api.negotiation import respond
from adapter.errors import AdapterError, AuthError, Issue
from adapter.pages.values import OSLO, Resolve
from adapter.records import CRISIS_PROFILE, ID_PATTERN
from adapter.reply import Reply
from adapter.search import SEARCH_PARAMS

blueprint = Blueprint("pages", __name__)

#: A literal reference a page may resolve (``Type/id``).
_REFERENCE = re.compile(f"[A-Z][A-Za-z]{{0,63}}/(?:{ID_PATTERN})")

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
    """The patient's current crisis plan (the active one last changed), found by a search the caller may make."""
    pdf = request.path.endswith(".pdf") or request.args.get("format") == "pdf"
    query = [("patient", f"Patient/{pid}"), ("_profile", CRISIS_PROFILE), ("status", "active")]
    try:
        reply = _service().records.search("CarePlan", query, _caller(), _base())
    except AdapterError as error:
        return _refusal(_refused(error))
    if reply.status != 200 or reply.resource is None:
        return _refusal(reply)
    plans = [e["resource"] for e in reply.resource.get("entry") or [] if isinstance(e.get("resource"), dict)]
    if not plans:
        issue = Issue("ADP-5020", "error", args={"ref": f"Gjeldende krise- og mestringsplan for Patient/{pid}"})
        return _refusal(Reply.refused([issue]))
    plan = max(plans, key=lambda p: str((p.get("meta") or {}).get("lastUpdated") or ""))
    own = f"{_root()}/Patient/{pid}/kriseplan"
    return _plan_page(plan, _resolver(), {"pdf": f"{own}.pdf", "fhir": _fhir_link(plan)}, pdf)


def careplan(rid: str) -> Response:
    """``GET /CarePlan/{id}`` for a browser: the crisis plan page (or its PDF); a plan of another kind stays FHIR."""
    pdf = request.args.get("format") == "pdf"
    try:
        reply = _service().records.read("CarePlan", rid, _caller())
    except AdapterError as error:
        return _refusal(_refused(error))
    if reply.status != 200 or reply.resource is None:
        return _refusal(reply)
    if not pages.is_crisis_plan(reply.resource):
        return respond(reply)
    links = {"pdf": f"{_root()}/CarePlan/{rid}?format=pdf", "fhir": _fhir_link(reply.resource)}
    return _plan_page(reply.resource, _resolver(), links, pdf)


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


def _resolver() -> Callable[[str], dict[str, Any] | None]:
    """Finds what a plan references by reading it as the caller (access check and audit of each read); None for
    what the caller may not see, what does not exist, and a type the REST API does not serve (not asked for, so
    the trail holds no refusal the reader never made)."""
    records, caller = _service().records, _caller()
    seen: dict[str, dict[str, Any] | None] = {}

    def resolve(reference: str) -> dict[str, Any] | None:
        if not _REFERENCE.fullmatch(reference) or reference.partition("/")[0] not in SEARCH_PARAMS:
            return None
        if reference not in seen:
            rtype, _, rid = reference.partition("/")
            try:
                reply = records.read(rtype, rid, caller)
            except AdapterError:
                reply = None
            seen[reference] = reply.resource if reply is not None and reply.status == 200 else None
        return seen[reference]

    return resolve


@blueprint.errorhandler(AuthError)
def _not_authenticated(error: AuthError) -> Response:
    """A page asked for without a valid token (or scope): the refusal page, not an OperationOutcome."""
    response = _refusal(_refused(error))
    if error.www_authenticate:
        response.headers["WWW-Authenticate"] = error.www_authenticate
    return response


def _refused(error: AdapterError) -> Reply:
    return Reply.refused(error.issues, default=401 if isinstance(error, AuthError) else 400)


def _refusal(reply: Reply) -> Response:
    links = {"static": _static(), "emergency": f"{_root()}/Patient/$krise"}
    return _html(pages.refusal_page(reply.status, reply.resource, links), reply.status)


def _html(text: str, status: int = 200) -> Response:
    response = Response(text, status=status, content_type="text/html; charset=utf-8")
    response.headers.update(HTML_HEADERS)
    return response


def _linked(links: dict[str, str]) -> dict[str, str]:
    return {"static": _static(), **links}


def _fhir_link(resource: dict[str, Any]) -> str:
    return f"{_root()}/{resource.get('resourceType')}/{resource.get('id')}?_format=json"


def _root() -> str:
    return request.script_root


def _static() -> str:
    return f"{_root()}/pages/static"


def _base() -> str:
    return request.url_root.rstrip("/")
