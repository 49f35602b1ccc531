"""FHIR endpoints: ``/metadata``, ``$validate``, ``$process-message``, ``$convert`` and REST over the records."""

from __future__ import annotations

import json

from flask import Blueprint, Response, request

from adapter.api import pages
from adapter.api.capability import capability_statement
from adapter.api.context import base_url as _base
from adapter.api.context import body as _body
from adapter.api.context import caller as _caller
from adapter.api.context import service as _service
from adapter.api.negotiation import (
    body_format,
    lenient,
    preferred_return,
    respond,
    unacceptable,
    unreadable,
    wants_page,
)
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import looks_like_xml, read_fhir
from adapter.reply import Reply
from adapter.security import MESSAGES_SCOPE, VALIDATE_SCOPE

blueprint = Blueprint("fhir", __name__)


@blueprint.before_request
def formats() -> Response | None:
    """406 (ADP-5046) when the answer cannot be given in a format the caller takes; 415 (ADP-5013) when the body
    is of a type the endpoint cannot read (``POST [type]/_search`` reads a form, the others FHIR JSON or XML).
    Checked after the token, before any record is touched."""
    issue = unacceptable()
    if issue is None and request.method in ("POST", "PUT"):
        issue = unreadable(search=request.endpoint == "fhir.search_form")
    return respond(Reply.refused([issue])) if issue else None


@blueprint.get("/metadata")
def metadata() -> Response:
    """The CapabilityStatement: what this server really does; with ``mode=terminology`` its TerminologyCapabilities
    (R4), which :mod:`adapter.records.conformance` makes."""
    if request.args.get("mode") == "terminology":
        return respond(_service().conformance.terminology_capabilities(_base()))
    return respond(Reply(200, capability_statement(_service(), _base())))


@blueprint.get("/.well-known/jwks.json")
def jwks() -> Response:
    """The demo issuer's public keys (only when the demo issuer runs)."""
    issuer = _service().issuer
    if issuer is None:
        issue = Issue("ADP-5014", "error", args={"method": "GET", "path": request.path})
        return respond(Reply.refused([issue], default=404))  # no such endpoint, as the router answers it
    return Response(json.dumps(issuer.jwks()), content_type="application/json")


@blueprint.post("/$validate")
@blueprint.post("/<type:rtype>/$validate")
def validate(rtype: str | None = None) -> Response:
    """Validate a resource (or a Parameters with ``resource`` and ``profile``) against our profiles."""
    _caller().require(VALIDATE_SCOPE)
    profiles = tuple(request.args.getlist("profile"))
    return respond(_service().records.validate(rtype, _body(), body_format(), profiles))


@blueprint.post("/")
def transaction() -> Response:
    """A transaction or batch Bundle (``Prefer: return=`` shapes each write's entry)."""
    records = _service().records
    return respond(records.bundle(_body(), body_format(), _caller(), _base(), preferred_return(), lenient=lenient()))


@blueprint.post("/$process-message")
def process_message() -> Response:
    """FHIR messaging: the acknowledgement message in synchronous mode, 202 in asynchronous mode
    (``?async=true`` or ``Prefer: respond-async``)."""
    _caller().require(MESSAGES_SCOPE)
    asynchronous = request.args.get("async") == "true" or "respond-async" in request.headers.get("Prefer", "")
    reply = _service().pipeline.process_message(_body(), body_format(), _caller(), asynchronous=asynchronous)
    return respond(reply)


@blueprint.post("/$convert")
def convert() -> Response:
    """KITH XML -> FHIR message Bundle, or FHIR message Bundle -> KITH XML (by what the body is). Nothing is
    stored. Issues go in an OperationOutcome (400) when there is no result, else in the ``X-Issues`` count."""
    _caller().require(VALIDATE_SCOPE)
    service = _service()
    data = _body()
    if looks_like_xml(data) and b"kith.no/xmlstds" in data[:500]:
        result = service.translator.kith_to_fhir(data)
        if result.bundle is None:
            return respond(Reply.refused(result.issues))
        return respond(Reply(200, result.bundle, headers=_issue_header(result.issues)))
    try:
        source = read_fhir(data, service.validator.definitions, body_format())
    except AdapterError as error:
        return respond(Reply.refused(error.issues))
    result = service.translator.fhir_to_kith(source.resource)
    if result.xml is None:
        return respond(Reply.refused(result.issues))
    return respond(Reply(200, body=result.xml, content_type="application/xml", headers=_issue_header(result.issues)))


def _issue_header(issues: list[Issue]) -> dict[str, str]:
    errors = sum(1 for i in issues if i.severity in ("error", "fatal"))
    return {"X-Issues": f"{errors} error(s), {len(issues) - errors} other"}


@blueprint.get("/Patient/$krise")
def emergency() -> Response:
    """The emergency read of a patient's current crisis plan (scope ``samhandling/emergency``, a stated reason):
    ``?identifier=<fødselsnummer or system|value>&reason=<why>``."""
    identifier = request.args.get("identifier", "")
    in_url = request.args.get("reason", "")
    reason = in_url or request.headers.get("X-Emergency-Reason", "")
    if wants_page():
        return pages.emergency()
    records = _service().records
    return respond(records.emergency(identifier, reason, _caller(), _base(), reason_in_url=bool(in_url)))


@blueprint.get("/<type:rtype>")
def search(rtype: str) -> Response:
    """Search the current resources the caller may see (``Prefer: handling=lenient`` ignores unknown parameters)."""
    query = [(k, v) for k, values in request.args.lists() for v in values]
    return respond(_service().records.search(rtype, query, _caller(), _base(), lenient=lenient()))


@blueprint.post("/<type:rtype>/_search")
def search_form(rtype: str) -> Response:
    """The same search as ``GET [type]?...``, its parameters in a form body (and the URL): so a fødselsnummer
    need not be in a URL."""
    query = [(k, v) for k, values in request.args.lists() for v in values]
    return respond(_service().records.search_form(rtype, query, _body(), _caller(), _base(), lenient=lenient()))


@blueprint.post("/<type:rtype>")
def create(rtype: str) -> Response:
    """Create a resource (validated against its profiles first); conditionally with ``If-None-Exist``. Search
    parameters in the URL (some clients' way of a conditional create) are refused, never ignored: ignored, they
    would make a duplicate of what the caller meant to find."""
    named = sorted({name for name in request.args if name not in ("_format", "_pretty")})
    if named:
        return respond(Reply.refused([Issue("ADP-5057", "error", args={"params": ", ".join(named)})]))
    records = _service().records
    condition = request.headers.get("If-None-Exist")
    reply = records.create(rtype, _body(), body_format(), _caller(), if_none_exist=condition, prefer=preferred_return())
    return respond(reply)


@blueprint.get("/<type:rtype>/<id:rid>")
def read(rtype: str, rid: str) -> Response:
    """Read the current version (for a browser, a crisis plan as its page and a patient as the overview:
    :mod:`adapter.api.pages`)."""
    if rtype == "CarePlan" and wants_page():
        return pages.careplan(rid)
    if rtype == "Patient" and wants_page():
        return pages.patient_overview(rid)
    return _read(rtype, rid, None)


def _read(rtype: str, rid: str, version: int | None) -> Response:
    """A read, conditional on ``If-None-Match`` and ``If-Modified-Since`` (304 when they hold), shaped by
    ``_summary`` and ``_elements`` (any other parameter but ``_format`` and ``_pretty`` is refused)."""
    records = _service().records
    if_none_match, if_modified_since = request.headers.get("If-None-Match"), request.headers.get("If-Modified-Since")
    query = [(k, v) for k, values in request.args.lists() for v in values]
    reply = records.read(
        rtype, rid, _caller(), version, if_none_match=if_none_match, if_modified_since=if_modified_since, query=query
    )
    return respond(reply)


@blueprint.put("/<type:rtype>")
def update_conditional(rtype: str) -> Response:
    """Conditional update, ``PUT [type]?[search]``: create when nothing the caller may read matches, update the one
    match (``If-Match`` required, as for every update), 412 for several."""
    query = [(k, v) for k, values in request.args.lists() for v in values]
    records = _service().records
    if_match = request.headers.get("If-Match")
    return respond(
        records.update_conditional(rtype, query, _body(), body_format(), _caller(), if_match, prefer=preferred_return())
    )


@blueprint.put("/<type:rtype>/<id:rid>")
def update(rtype: str, rid: str) -> Response:
    """Update (``If-Match`` required; ``If-None-Match: *`` writes only what does not exist, so here never)."""
    records = _service().records
    if_match, if_none_match = request.headers.get("If-Match"), request.headers.get("If-None-Match")
    reply = records.update(
        rtype, rid, _body(), body_format(), _caller(), if_match, prefer=preferred_return(), if_none_match=if_none_match
    )
    return respond(reply)


@blueprint.delete("/<type:rtype>")
@blueprint.delete("/<type:rtype>/<id:rid>")
def delete(rtype: str, rid: str | None = None) -> Response:
    """Refused (405, ADP-5048): nothing is deleted here, a status change withdraws a record (also the conditional
    delete, ``DELETE [type]?...``)."""
    return respond(_service().records.delete(rtype, rid, _caller()))


@blueprint.get("/_history")
@blueprint.get("/<type:rtype>/_history")
def history_of(rtype: str | None = None) -> Response:
    """The versions of every resource of a type (or of every served type) the caller may read, newest first
    (``_count``, ``_offset``, ``_since``)."""
    query = [(k, v) for k, values in request.args.lists() for v in values]
    return respond(_service().records.history_of(rtype, _caller(), _base(), query))


@blueprint.get("/<type:rtype>/<id:rid>/_history")
def history(rtype: str, rid: str) -> Response:
    """Every version of a resource, newest first (``_count`` and ``_offset`` page through them, ``_since``)."""
    query = [(k, v) for k, values in request.args.lists() for v in values]
    return respond(_service().records.history(rtype, rid, _caller(), _base(), query))


@blueprint.get("/<type:rtype>/<id:rid>/_history/<vid>")
def vread(rtype: str, rid: str, vid: str) -> Response:
    """One version of a resource."""
    if not (vid.isascii() and vid.isdigit() and len(vid) <= 18):
        issue = Issue("ADP-5020", "error", args={"ref": f"{rtype}/{rid}/_history/{vid}"})
        return respond(Reply.refused([issue]))
    return _read(rtype, rid, int(vid))
