"""Health of the process for load balancers and orchestrators: ``/health/live`` and ``/health/ready``.

No token is needed (``OPEN_PATHS``), and neither answer holds patient data or anything about the setup that an
outsider could use (no database URL, host or driver message: those go to the log). Both are small JSON, not FHIR;
``create_app`` routes them (``GET`` only).

- ``GET /health/live``: the process answers (``{"status": "ok"}``); nothing else is asked.
- ``GET /health/ready``: the store answers, its schema is at the revision this release needs (``migrations``), and
  the outbox lag, the age in seconds of the oldest delivery still pending (0 when none is). 503 with
  ``{"status": "unavailable", "code": "ADP-5045", ...}`` when the store does not answer, with ``ADP-5070``
  (``"migrations": "behind"``) when its schema is at an older revision this release knows (a restore put an older
  schema back), and with ``ADP-5077`` (``"migrations": "unknown"``) when it is at a revision this release does not
  know (``samhandling db upgrade`` ran for a newer release). The store is asked once, on a connection of its own
  that gives up after :data:`PROBE_SECONDS` (connecting, and each query), never through the store's reconnect
  tries: an orchestrator asks often and must hear "not ready" while the database is away, not after it is back.
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
from adapter.store.migrate import revision_in
from adapter.store.schema import HEAD, REVISIONS

log = logging.getLogger(__name__)
#: The code of a readiness check the store did not answer (its HTTP status, 503, is the table's).
STORE_DOWN = "ADP-5045"
#: The code of a readiness check that found the schema at an older revision than this release's (503 too).
SCHEMA_BEHIND = "ADP-5070"
#: The code of a readiness check that found the schema at a revision this release does not know: a newer one's.
SCHEMA_UNKNOWN = "ADP-5077"
#: How long the readiness check waits for the store, connecting and for each query.
PROBE_SECONDS = 2.0


def live() -> Response:
    """The process answers."""
    return _json({"status": "ok"}, 200)


def ready() -> Response:
    """The store answers at this release's schema revision, and how far the outbox is behind."""
    try:
        revision, oldest = service().store.run(_probe, probe=PROBE_SECONDS)
    except (*database_errors(), OSError) as error:  # type: ignore[misc]  # a tuple of exception classes
        log.warning("readiness: the store does not answer: %s", " ".join(str(error).split()))
        issue = Issue(STORE_DOWN, "fatal")
        body = {"status": "unavailable", "code": STORE_DOWN, "detail": issue.text_en, "store": "unavailable"}
        return _json(body, Reply.refused([issue]).status)  # the code table's status
    if revision != HEAD:
        log.warning("readiness: the store's schema is at %s, this release needs %s", revision, HEAD)
        known = revision is None or revision in REVISIONS
        code = SCHEMA_BEHIND if known else SCHEMA_UNKNOWN
        issue = Issue(code, "fatal", args={"head": HEAD, "found": revision})
        body = {"status": "unavailable", "code": code, "detail": issue.text_en, "store": "ok"}
        return _json({**body, "migrations": "behind" if known else "unknown"}, Reply.refused([issue]).status)
    lag = _age(oldest)
    return _json({"status": "ok", "store": "ok", "migrations": "current", "outbox_lag_seconds": lag}, 200)


def _probe(tx: Tx) -> tuple[str | None, str | None]:
    """The schema's revision and the creation time of the oldest pending delivery (None when none is)."""
    revision = revision_in(tx)
    pending = tx.deliveries("pending", limit=1)
    return revision, pending[0].created_at if pending else None


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
