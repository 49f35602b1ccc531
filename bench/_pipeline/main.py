"""bench/pipeline: ``$process-message`` in process, in parts, against ``Bundle.model_validate`` (see bench/README.md).

One process, one run. A service on a fresh store (SQLite in a temporary folder, or the PostgreSQL database of
``--database-url``, emptied first) takes the example consent, then the crisis-plan message again and again, each
time with a new message id (a repeated id would be answered from the store). The parts are timed by wrapping the
pipeline's own steps for the run (nothing in the adapter is changed):

* read: the FHIR JSON read (``read_fhir``: bytes to the resource, with positions)
* validate: the profile validation of the message (``Validator.validate_source``)
* route: what goes to whom, translated to each receiver's format (``Pipeline._outgoing``)
* access+write: the access rules, the writes of the records, deliveries and audit (``Pipeline._apply``)
* answer: the acknowledgement (``Pipeline._answer``)
* store: the rest of the store transaction (the message row, the receipt, the commit)
* other: what is left of the whole call

The floor is ``fhir.resources.R4B.Bundle.model_validate`` of the same message, parsed by ``json.loads`` (timed with
it, as the pipeline's figure includes reading the bytes). Calls are interleaved; each figure is a median.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import dataclasses
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

PARTS = ("read", "validate", "route", "access+write", "answer", "store", "other")
CRISIS = "Bundle-melding-kriseplan-ola.json"
CONSENT = "Bundle-melding-samtykke-ola.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/pipeline",
        description="$process-message of the crisis-plan message in process, in parts, against Bundle.model_validate "
        "of the same message (fhir.resources R4B), measured in one run.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: a few calls, for the tests")
    parser.add_argument("--seconds", type=float, default=5.0, help="time budget per contestant (default 5)")
    parser.add_argument("--database-url", default="", help="a postgresql:// database to use (emptied first)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.seconds <= 0:
        parser.error("--seconds must be more than 0")
    budget, repeats = (0.3, 5) if args.quick else (args.seconds, 2000)
    with _service(args.database_url) as service:
        figures = _run(service, budget, repeats)
    _print(figures, args.database_url)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


@contextlib.contextmanager
def _service(database_url: str) -> Iterator[Any]:
    from adapter.config import Settings
    from adapter.service import Service

    with tempfile.TemporaryDirectory() as folder:
        if database_url:
            _empty(database_url)
        settings = dataclasses.replace(
            Settings.from_env(), data_dir=Path(folder), database_url=database_url, routes_file="", demo_issuer=False
        )
        print(f"bench/pipeline: a service on {'PostgreSQL' if database_url else 'SQLite'}...", file=sys.stderr)
        service = Service(settings, clock=lambda: _TODAY)
        try:
            yield service
        finally:
            service.store.close()


_TODAY = 1780315200.0  # 2026-06-01 12:00 UTC: inside the example consent's period, whatever the date


def _empty(database_url: str) -> None:
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as connection:
        for table in ("messages", "resources", "search", "outbox", "audit", "nhn_inbox", "schema_version"):
            connection.execute(f"DROP TABLE IF EXISTS {table}")  # our own tables, named here


def _run(service: Any, budget: float, repeats: int) -> dict[str, Any]:
    from fhir.resources.R4B.bundle import Bundle

    from adapter import access
    from adapter.security import SCOPES, Caller

    folder = service.settings.examples_dir / "fhir"
    consent = (folder / CONSENT).read_bytes()
    crisis = json.loads((folder / CRISIS).read_text(encoding="utf-8"))
    for data in (consent,):
        sender = access.message_sender(json.loads(data)) or ""
        service.pipeline.process_message(data, "json", Caller(sender, frozenset(SCOPES), "bench", None))
    sender = access.message_sender(crisis) or ""
    caller = Caller(sender, frozenset(SCOPES), "bench", None)
    parts = _Parts(service)

    def message() -> bytes:
        fresh = copy.deepcopy(crisis)
        fresh["id"] = str(uuid.uuid4())
        header = fresh["entry"][0]  # the MessageHeader: a new message each time
        header["resource"]["id"] = str(uuid.uuid4())
        header["fullUrl"] = header["fullUrl"].rsplit("/", 1)[0] + "/" + header["resource"]["id"]
        return json.dumps(fresh).encode()

    data = message()
    answer = service.pipeline.process_message(message(), "json", caller)  # warm-up, and the check that it works
    if _ack_code(answer) != "ok":
        raise SystemExit(f"bench/pipeline: the crisis-plan message was not accepted ({_ack_code(answer)})")
    ours: list[float] = []
    floor: list[float] = []
    shares: dict[str, list[float]] = {part: [] for part in PARTS}
    started = time.perf_counter()
    while len(ours) < repeats and (time.perf_counter() - started < 2 * budget or len(ours) < 3):
        body = message()
        parts.reset()
        t0 = time.perf_counter()
        reply = service.pipeline.process_message(body, "json", caller)
        ours.append(time.perf_counter() - t0)
        if _ack_code(reply) != "ok":
            raise SystemExit(f"bench/pipeline: a message was refused ({_ack_code(reply)})")
        for part, seconds in parts.split(ours[-1]).items():
            shares[part].append(seconds)
        t0 = time.perf_counter()
        Bundle.model_validate(json.loads(data))
        floor.append(time.perf_counter() - t0)
    return {
        "entries": len(crisis["entry"]),
        "bytes": len(data),
        "calls": len(ours),
        "process_message_ms": round(statistics.median(ours) * 1e3, 3),
        "model_validate_ms": round(statistics.median(floor) * 1e3, 3),
        "ratio": round(statistics.median(ours) / statistics.median(floor), 2),
        "parts_ms": {part: round(statistics.median(v) * 1e3, 3) for part, v in shares.items()},
    }


def _ack_code(reply: Any) -> str:
    """The acknowledgement's response code (``ok``, ``transient-error``, ``fatal-error``), or the HTTP status."""
    try:
        return str(reply.resource["entry"][0]["resource"]["response"]["code"])
    except (KeyError, IndexError, TypeError):
        return f"HTTP {reply.status}"


class _Parts:
    """The pipeline's steps wrapped for the run, each adding its time to its part."""

    def __init__(self, service: Any) -> None:
        import adapter.pipeline as pipeline_module

        self.seconds: dict[str, float] = {}
        self.in_store = 0.0
        pipeline = service.pipeline
        pipeline_module.read_fhir = self._timed("read", pipeline_module.read_fhir)
        service.validator.validate_source = self._timed("validate", service.validator.validate_source)
        pipeline._outgoing = self._timed("route", pipeline._outgoing)
        pipeline._apply = self._timed("access+write", pipeline._apply)
        pipeline._answer = self._timed("answer", pipeline._answer)
        pipeline.store.run = self._timed("store-run", pipeline.store.run)

    def reset(self) -> None:
        self.seconds = {}

    def _timed(self, part: str, call: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return call(*args, **kwargs)
            finally:
                self.seconds[part] = self.seconds.get(part, 0.0) + time.perf_counter() - t0

        return timed

    def split(self, total: float) -> dict[str, float]:
        """The parts of one call of ``total`` seconds (the store's own: its run less what ran inside it)."""
        got = self.seconds
        inside = got.get("access+write", 0.0) + got.get("answer", 0.0)
        store = max(0.0, got.get("store-run", 0.0) - inside)
        named = {p: got.get(p, 0.0) for p in ("read", "validate", "route", "access+write", "answer")}
        named["store"] = store
        named["other"] = max(0.0, total - sum(named.values()))
        return named


def _print(figures: dict[str, Any], database_url: str) -> None:
    backend = "PostgreSQL" if database_url else "SQLite"
    print(
        f"$process-message of the crisis-plan message ({figures['entries']} entries, {figures['bytes']} bytes), "
        f"{backend}, {figures['calls']} calls, medians:"
    )
    print(f"{'':28}{'ms':>10}")
    print(f"{'process-message (ours)':28}{figures['process_message_ms']:>10.3f}")
    print(f"{'Bundle.model_validate':28}{figures['model_validate_ms']:>10.3f}")
    print(f"{'ours/model_validate (<=1)':28}{figures['ratio']:>10.2f}")
    print("parts of process-message:")
    total = sum(figures["parts_ms"].values()) or 1.0
    for part, ms in figures["parts_ms"].items():
        print(f"  {part:26}{ms:>10.3f}  {100 * ms / total:5.1f} %")
