"""Health of the process for load balancers and orchestrators: ``/health/live`` and ``/health/ready``.

No token is needed (``OPEN_PATHS``), and neither answer holds patient data or anything about the setup that an
outsider could use (no database URL, host or driver message: those go to the log). Both are small JSON, not FHIR;
``create_app`` routes them (``GET`` only).

- ``GET /health/live``: the process answers (``{"status": "ok"}``); nothing else is asked.
- ``GET /health/ready``: the store answers a trivial query; reported with the outbox lag, the age in seconds of the
  oldest delivery still pending (0 when none is). 503 with ``{"status": "unavailable", "code": "ADP-5045", ...}``
  when the store does not answer (after the store's own reconnect tries).
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

from werkzeug.wrappers import Response

from adapter.api.context import service
from adapter.errors import Issue
from adapter.reply import Reply
from adapter.store import Tx, database_errors

log = logging.getLogger(__name__)
#: The code of a readiness check the store did not answer (its HTTP status, 503, is the table's).
STORE_DOWN = "ADP-5045"


def live() -> Response:
    """The process answers."""
    return _json({"status": "ok"}, 200)


def ready() -> Response:
    """The store answers, and how far the outbox is behind."""
    try:
        oldest = service().store.run(_oldest_pending)
    except (*database_errors(), OSError) as error:  # type: ignore[misc]  # a tuple of exception classes
        log.warning("readiness: the store does not answer: %s", " ".join(str(error).split()))
        issue = Issue(STORE_DOWN, "fatal")
        body = {"status": "unavailable", "code": STORE_DOWN, "detail": issue.text_en, "store": "unavailable"}
        return _json(body, Reply.refused([issue]).status)  # the code table's status
    return _json({"status": "ok", "store": "ok", "outbox_lag_seconds": _age(oldest)}, 200)


def _oldest_pending(tx: Tx) -> str | None:
    pending = tx.deliveries("pending", limit=1)
    return pending[0].created_at if pending else None


def _age(created_at: str | None) -> float:
    """Seconds since ``created_at`` (a stored UTC instant), 0 for none; never negative."""
    if not created_at:
        return 0.0
    when = datetime.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    return max(0.0, round((datetime.datetime.now(datetime.UTC) - when).total_seconds(), 3))


def _json(body: dict[str, Any], status: int) -> Response:
    response = Response(json.dumps(body), status=status, content_type="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response
