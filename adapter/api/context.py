"""What a request handler needs from Flask's context: the app's Service, the verified caller and the body."""

from __future__ import annotations

from flask import current_app, g, request
from werkzeug.exceptions import RequestEntityTooLarge

from adapter.security import Caller
from adapter.service import Service


def service() -> Service:
    """The Service of this app (``create_app`` puts it in ``app.extensions``)."""
    found: Service = current_app.extensions["samhandling"]
    return found


def caller() -> Caller:
    """The caller whose token ``create_app``'s before-request check verified."""
    found: Caller = g.caller
    return found


def body() -> bytes:
    """The request body; RequestEntityTooLarge (413) when it is over the size cap, also when it came chunked with no
    Content-Length (Werkzeug cuts such a body off at ``MAX_CONTENT_LENGTH`` without a word, so ``create_app`` sets
    that one byte above the cap, and a body that reaches it is refused here)."""
    data = request.get_data()
    if len(data) > service().settings.max_request_bytes:
        raise RequestEntityTooLarge()
    return data
