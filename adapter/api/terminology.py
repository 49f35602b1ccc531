"""The conformance resources and the terminology operations: read-only REST over our package, ``$expand``,
``$lookup``, ``$validate-code`` and ``$translate`` (:mod:`adapter.records.conformance` does the work).

This blueprint alone serves the types of :data:`~adapter.validate.catalogue.SERVED_TYPES` (the REST records serve
none of them). Its rules name each type (``/ValueSet``, ``/ValueSet/<id>``), so Werkzeug, which prefers a static
path part to a converter, matches them before the records' ``/<type>`` and ``/<type>/<id>``; and each takes every
write method, so a write of a served type is refused here (ADP-5064, 405), never handed to the records. Any verified
caller may read: none of it is patient data (the same content is published at ``/ig``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from flask import Blueprint, Response, request

from adapter.api.context import base_url, body
from adapter.api.context import service as _service
from adapter.api.negotiation import body_format, respond, unacceptable, unreadable
from adapter.records.conformance import OPERATIONS, SERVED_TYPES, Conformance
from adapter.reply import Reply

blueprint = Blueprint("terminology", __name__)
_WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _conformance() -> Conformance:
    return _service().conformance


def _query() -> list[tuple[str, str]]:
    return [(k, v) for k, values in request.args.lists() for v in values]


@blueprint.before_request
def formats() -> Response | None:
    """406 when the answer cannot be given in a format the caller takes; 415 when the body of an operation or a
    ``_search`` cannot be read (as :mod:`adapter.api.fhir` checks them)."""
    issue = unacceptable()
    if issue is None and request.method == "POST" and request.endpoint not in _WRITE_ENDPOINTS:
        issue = unreadable(search=(request.endpoint or "").endswith("_search_form"))
    return respond(Reply.refused([issue])) if issue else None


def _search(rtype: str) -> Response:
    if request.method != "GET":
        return respond(Conformance.refuse_write(request.method, request.path, "GET"))
    return respond(_conformance().search(rtype, _query(), base_url()))


def _search_form(rtype: str) -> Response:
    return respond(_conformance().search_form(rtype, _query(), body(), base_url()))


def _read(rtype: str, rid: str) -> Response:
    if request.method != "GET":
        return respond(Conformance.refuse_write(request.method, request.path, "GET"))
    return respond(_conformance().read(rtype, rid))


def _history(rtype: str, rid: str, vid: str | None = None) -> Response:
    """History and versions: not kept for conformance resources (they change only with a new package)."""
    return respond(Conformance.refuse_write(request.method, request.path, ""))


def _operation(rtype: str, name: str, rid: str | None = None) -> Response:
    if request.method == "POST":
        reply = _conformance().operation(rtype, name, rid, _query(), body(), body_format())
    else:
        reply = _conformance().operation(rtype, name, rid, _query())
    return respond(reply)


_WRITE_ENDPOINTS: set[str] = set()


def _register() -> None:
    """The rules of every served type and operation."""
    every = ["GET", *_WRITES]
    for rtype in SERVED_TYPES:
        name = rtype.lower()
        _rule(f"/{rtype}", f"{name}_search", partial(_search, rtype), every)
        _rule(f"/{rtype}/_search", f"{name}_search_form", partial(_search_form, rtype), ["POST"])
        _rule(f"/{rtype}/<id:rid>", f"{name}_read", partial(_read, rtype), every)
        _rule(f"/{rtype}/<id:rid>/_history", f"{name}_history", partial(_history, rtype), every)
        _rule(f"/{rtype}/<id:rid>/_history/<vid>", f"{name}_vread", partial(_history, rtype), every)
        _WRITE_ENDPOINTS.update(f"terminology.{name}_{kind}" for kind in ("search", "read", "history", "vread"))
    for (rtype, op), on_instance in OPERATIONS.items():
        endpoint = f"{rtype.lower()}_{op.replace('-', '_')}"
        _rule(f"/{rtype}/${op}", endpoint, partial(_operation, rtype, op), ["GET", "POST"])
        if on_instance:
            _rule(f"/{rtype}/<id:rid>/${op}", endpoint + "_instance", partial(_operation, rtype, op), ["GET", "POST"])


def _rule(path: str, endpoint: str, view: Callable[..., Response], methods: list[str]) -> None:
    blueprint.add_url_rule(path, endpoint, view, methods=methods)


_register()
