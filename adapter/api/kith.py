"""KITH endpoints: ``POST /kith/messages`` (answered with the AppRec) and ``GET /kith/receipts/<msgId>``.

The body is the KITH XML message, raw (``application/xml``) or base64-encoded as NHN's EDI 2.0 sends it (any body
whose first byte is not ``<`` is read as base64, or a ``Content-Transfer-Encoding: base64`` header says so).
"""

from __future__ import annotations

import base64
import binascii

from flask import Blueprint, Response, current_app, g, request

from adapter.api.negotiation import respond
from adapter.errors import Issue
from adapter.pipeline import Reply
from adapter.security import Caller
from adapter.service import Service
from adapter.validate import operation_outcome

blueprint = Blueprint("kith", __name__, url_prefix="/kith")
MESSAGES_SCOPE = "samhandling/messages"


def _service() -> Service:
    service: Service = current_app.extensions["samhandling"]
    return service


def _caller() -> Caller:
    caller: Caller = g.caller
    return caller


@blueprint.post("/messages")
def receive() -> Response:
    """Process one KITH message and answer with its AppRec (a stored duplicate gets the stored AppRec)."""
    if MESSAGES_SCOPE not in _caller().scopes:
        return respond(Reply(403, operation_outcome([Issue("ADP-7006", "error", args={"scope": MESSAGES_SCOPE})])))
    data = request.get_data()
    encoded = request.headers.get("Content-Transfer-Encoding", "").lower() == "base64"
    if encoded or (data.strip() and not data.lstrip().startswith(b"<")):
        try:
            data = base64.b64decode(b"".join(data.split()), validate=True)
        except (binascii.Error, ValueError) as exc:
            return respond(Reply(400, operation_outcome([Issue("ADP-5017", "error", args={"detail": str(exc)})])))
    return respond(_service().pipeline.process_kith(data, _caller()))


@blueprint.get("/receipts/<msg_id>")
def receipt(msg_id: str) -> Response:
    """The AppRec (or FHIR acknowledgement) stored for a message the caller sent."""
    if MESSAGES_SCOPE not in _caller().scopes:
        return respond(Reply(403, operation_outcome([Issue("ADP-7006", "error", args={"scope": MESSAGES_SCOPE})])))
    return respond(_service().pipeline.receipt(msg_id, _caller()))
