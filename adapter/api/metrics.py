"""Observing every request: its id, one JSON access log line, the Prometheus metrics, and ``GET /metrics``.

**Request id.** Every request gets one: the caller's ``X-Request-Id`` when it is a sane token (1 to 64 of
``A-Z a-z 0-9 . _ ~ : -``, and no run of 11 digits, which could be a fødselsnummer), else a new uuid4. It is echoed
in the response's ``X-Request-Id``, written in the access log line and carried into the AuditEvents written while
the request is answered (:data:`adapter.receipt.audit.REQUEST_ID`).

**Access log.** One JSON object per request, one line, on the ``samhandling.access`` logger::

    {"time": "2026-06-01T12:00:00.123Z", "request_id": "...", "method": "GET", "endpoint": "/<type:type>",
     "status": 200, "duration_ms": 12.3, "org": "8100001"}

``endpoint`` is the Flask rule (``null`` when no rule matched), never the path or the query string a caller sent
(either could hold a fødselsnummer); ``org`` is the caller's organisation HER-id when a token named one (a person's
token: ``null``, its subject is a fødselsnummer).

**Metrics.** ``GET /metrics`` (Prometheus text, :mod:`adapter.metrics`) needs a token with ``samhandling/admin``,
or none when ``SAMHANDLING_METRICS=open``.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
import uuid
from typing import Any

from werkzeug.wrappers import Response

from adapter import metrics
from adapter.api.context import caller, service
from adapter.security import ADMIN_SCOPE

access_log = logging.getLogger("samhandling.access")
#: The path of the metrics.
METRICS_PATH = "/metrics"
_SANE_ID = re.compile(r"[A-Za-z0-9._~:-]{1,64}")
_ELEVEN_DIGITS = re.compile(r"\d{11}")
#: Largest OperationOutcome whose issues are counted (bytes); a bigger one is not parsed.
_COUNTED_OUTCOME_BYTES = 1024 * 1024
_OUTCOME_START = b'{"resourceType": "OperationOutcome"'


def request_id(given: str | None) -> str:
    """``given`` when it is a sane request id, else a new uuid4."""
    if given and _SANE_ID.fullmatch(given) and not _ELEVEN_DIGITS.search(given):
        return given
    return str(uuid.uuid4())


def finish(response: Response, rid: str, method: str, endpoint: str | None, seconds: float, caller: Any) -> None:
    """An answer is ready: its ``X-Request-Id``, its metrics and its access log line."""
    response.headers["X-Request-Id"] = rid
    metrics.observe_request(method, endpoint or "<unmatched>", response.status_code, seconds)
    _count_outcome(response)
    line = _line(rid, method, endpoint, response.status_code, seconds, caller)
    access_log.info(json.dumps(line, ensure_ascii=False))


def _line(rid: str, method: str, endpoint: str | None, status: int, seconds: float, caller: Any) -> dict[str, Any]:
    org = getattr(caller, "org", None) if caller is not None and getattr(caller, "person", None) is None else None
    now = datetime.datetime.now(datetime.UTC)
    return {
        "time": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        "request_id": rid,
        "method": method,
        "endpoint": endpoint,
        "status": status,
        "duration_ms": round(seconds * 1000, 1),
        "org": org or None,
    }


def _count_outcome(response: Response) -> None:
    """Count the issues of an OperationOutcome answered in JSON (other answers are not read)."""
    if response.direct_passthrough or response.is_streamed or response.mimetype != "application/fhir+json":
        return
    length = response.calculate_content_length()
    if length is None or length > _COUNTED_OUTCOME_BYTES:
        return
    data = response.get_data()
    if not data.startswith(_OUTCOME_START):
        return
    try:
        metrics.count_issues(json.loads(data))
    except ValueError:
        return


def metrics_view() -> Response:
    """``GET /metrics``: Prometheus' text format; a token with ``samhandling/admin`` unless the setting says open."""
    current = service()
    if current.settings.metrics != "open":
        caller().require(ADMIN_SCOPE)
    body, content_type = metrics.exposition(current.store)
    response = Response(body, status=200, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response
