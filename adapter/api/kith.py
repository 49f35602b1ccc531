"""KITH endpoints: ``POST /kith/messages`` (answered with the AppRec) and ``GET /kith/receipts/<msgId>``.

The body is the KITH XML message, raw or base64-encoded as NHN's EDI 2.0 sends it. It is read as base64 when a
``Content-Transfer-Encoding: base64`` header says so, or when it is neither sent as XML (``application/xml``,
``text/xml``) nor starts, after a byte-order mark and white space, with ``<``.
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, request

from adapter.api.context import body as _body
from adapter.api.context import caller as _caller
from adapter.api.context import service as _service
from adapter.api.negotiation import respond
from adapter.errors import Issue
from adapter.parse.fhir_source import looks_like_xml
from adapter.reply import Reply
from adapter.security import MESSAGES_SCOPE

blueprint = Blueprint("kith", __name__, url_prefix="/kith")


@blueprint.post("/messages")
def receive() -> Response:
    """Process one KITH message and answer with its AppRec (a stored duplicate gets the stored AppRec); an AppRec
    is recorded on the delivery it answers and answered with an OperationOutcome."""
    _caller().require(MESSAGES_SCOPE)
    data = _body()
    if _is_base64(data):
        try:
            data = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            return respond(Reply.refused([Issue("ADP-5017", "error", args={"detail": str(exc)})]))
    return respond(_service().pipeline.process_kith(data, _caller()))


def _is_base64(data: bytes) -> bool:
    if request.headers.get("Content-Transfer-Encoding", "").strip().lower() == "base64":
        return True
    if request.mimetype in ("application/xml", "text/xml") or request.mimetype.endswith("+xml"):
        return False
    return bool(data.strip()) and not looks_like_xml(data)


@blueprint.get("/receipts/<msg_id>")
def receipt(msg_id: str) -> Response:
    """The AppRec (or FHIR acknowledgement) stored for a message the caller sent."""
    _caller().require(MESSAGES_SCOPE)
    return respond(_service().pipeline.receipt(msg_id, _caller()))
