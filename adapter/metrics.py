"""Prometheus metrics (prometheus-client): what the service counts, and the text ``GET /metrics`` answers.

No label ever holds patient data: requests are labelled by method, the Flask rule (``/<type:type>/<id:id>``, never
the path a caller sent) and status; issues by their ``ADP-`` code (or FHIR issue type) and severity.

- ``samhandling_http_requests_total{method,endpoint,status}`` and ``samhandling_http_request_duration_seconds``
  (a histogram by method and endpoint): every request, observed by the app (``adapter.api.metrics``).
- ``samhandling_validation_issues_total{code,severity}``: the issues of every OperationOutcome answered
  (validation, refusals and errors alike).
- ``samhandling_delivery_latency_seconds``: from a delivery's creation to the receiver taking it (the worker).
- ``samhandling_outbox_deliveries{state}`` and ``samhandling_outbox_dead_letters``: read from the store when
  scraped (one ``GROUP BY`` query), so every process reports the same shared outbox.

Under gunicorn with several workers ``serve`` gives prometheus-client a private folder (its multiprocess mode,
``PROMETHEUS_MULTIPROC_DIR``, see :func:`adapter.config.metrics_multiprocess_dir`): a scrape of any worker answers
the sum over all of them. Without it (tests, ``gunicorn 'adapter.api:create_app()'``) each process reports its own.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from adapter.config import metrics_multiprocess_dir
from adapter.store import Store, database_errors

log = logging.getLogger(__name__)

REQUESTS = Counter(
    "samhandling_http_requests",
    "HTTP requests answered, by method, endpoint (Flask rule) and status",
    ["method", "endpoint", "status"],
)
LATENCY = Histogram(
    "samhandling_http_request_duration_seconds",
    "Time to answer a request, by method and endpoint (Flask rule)",
    ["method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
ISSUES = Counter(
    "samhandling_validation_issues",
    "Issues in the OperationOutcomes answered, by code and severity",
    ["code", "severity"],
)
DELIVERY_LATENCY = Histogram(
    "samhandling_delivery_latency_seconds",
    "From a delivery's creation to the receiver (or NHN) taking it",
    buckets=(0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 24 * 3600.0),
)
#: HTTP methods counted by name; any other a caller makes up is ``other`` (no unbounded label values).
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
#: An issue code as a label: an ADP code or a FHIR issue type; anything else is ``other``.
_CODE = re.compile(r"[A-Za-z0-9-]{1,32}")
_SEVERITIES = frozenset({"fatal", "error", "warning", "information"})
#: The outbox states reported (each always, 0 when none).
STATES = ("pending", "delivered", "dead", "withdrawn")


def observe_request(method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    method = method if method in METHODS else "other"
    REQUESTS.labels(method, endpoint, str(status)).inc()
    LATENCY.labels(method, endpoint).observe(seconds)


def count_issues(outcome: dict[str, Any]) -> None:
    """Count the issues of an OperationOutcome by their ADP code (else their FHIR issue type) and severity."""
    for issue in outcome.get("issue") or []:
        if not isinstance(issue, dict):
            continue
        codings = (issue.get("details") or {}).get("coding") or [{}]
        code = str((codings[0] if isinstance(codings[0], dict) else {}).get("code") or issue.get("code") or "")
        severity = str(issue.get("severity") or "")
        ISSUES.labels(
            code if _CODE.fullmatch(code) else "other", severity if severity in _SEVERITIES else "other"
        ).inc()


def observe_delivery(created_at: str | None, now: datetime.datetime | None = None) -> None:
    """A delivery created at ``created_at`` (a stored UTC instant) was taken by its receiver now."""
    if not created_at:
        return
    try:
        created = datetime.datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    except ValueError:
        return
    if created.tzinfo is None:
        created = created.replace(tzinfo=datetime.UTC)
    now = now or datetime.datetime.now(datetime.UTC)
    DELIVERY_LATENCY.observe(max(0.0, (now - created).total_seconds()))


class OutboxCollector:
    """The outbox by state, and its dead letters, asked of the store at each scrape (one query)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        try:
            rows = self.store.run(_counts)
        except (*database_errors(), OSError) as error:  # type: ignore[misc]  # a tuple of exception classes
            log.warning("metrics: the store does not answer: %s", " ".join(str(error).split()))
            return
        counts = {state: 0 for state in STATES}
        counts.update({str(state): int(n) for state, n in rows})
        depth = GaugeMetricFamily("samhandling_outbox_deliveries", "Outbox deliveries by state", labels=["state"])
        for state, n in sorted(counts.items()):
            depth.add_metric([state], n)
        yield depth
        yield GaugeMetricFamily("samhandling_outbox_dead_letters", "Dead deliveries", value=counts["dead"])


def _counts(tx: Any) -> Iterable[tuple[str, int]]:
    rows: Iterable[tuple[str, int]] = tx._sql("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    return list(rows)


class _ThisProcess:
    """The metrics of this process (the default registry), when there is no multiprocess folder."""

    def collect(self) -> Iterator[Metric]:
        return iter(REGISTRY.collect())


def exposition(store: Store) -> tuple[bytes, str]:
    """The metrics in Prometheus' text format, and its content type."""
    registry = CollectorRegistry(auto_describe=False)
    folder = metrics_multiprocess_dir()
    if folder:
        MultiProcessCollector(registry, path=folder)  # type: ignore[no-untyped-call]
    else:
        registry.register(_ThisProcess())
    registry.register(OutboxCollector(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST
