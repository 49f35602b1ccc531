"""What a request handler needs from Flask's context: the app's Service and the verified caller."""

from __future__ import annotations

from flask import current_app, g

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
