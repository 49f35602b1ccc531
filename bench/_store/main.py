"""bench/store: fill a store with copies of the examples for many patients and time its operations at each size.

The store is filled once per backend and grown from size to size (10^4, then 10^5 ...), in transactions of
:data:`BATCH` resources, with the statistics brought up to date after each load (:meth:`Store.analyze`). Each
patient gets a copy of every example resource that belongs to a patient (ids ``<id>-p<n>``, references to the
copies, a fødselsnummer of its own), a second version of its crisis plan and an AuditEvent; the organisations and
practitioners are written once and shared. Then each operation is called on random patients, the figure is the
median time per call, and the last column is the ratio of the largest size to the smallest.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.progress import Progress

from adapter import access
from adapter.store import Store, Tx, open_store

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"
EXAMPLE_FNR = "15838510075"
SHARED = ("Organization", "Practitioner")
#: resources written per transaction while filling
BATCH = 2000
WRITER = "8100002"
PARTIES = ("8100001", "8100002", "8100003")
PLAN = "krise-og-mestringsplan-ola"


def examples() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the shared directory resources, the patient's own resources) of the examples."""
    shared: list[dict[str, Any]] = []
    own: list[dict[str, Any]] = []
    for path in sorted(EXAMPLES.glob("*.json")):
        body = json.loads(path.read_text(encoding="utf-8"))
        rtype = body.get("resourceType")
        if rtype in ("Bundle", "MessageHeader", "OperationOutcome"):
            continue
        (shared if rtype in SHARED else own).append(body)
    return shared, own


class Filler:
    """Writes patient after patient into ``store``; :attr:`resources` counts the rows of ``resources``."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.shared, self.own = examples()
        own_refs = "|".join(re.escape(f"{r['resourceType']}/{r['id']}") for r in self.own)
        self._refs = re.compile(rf'"({own_refs})"')
        self.patients = 0
        self.resources = 0
        self.category = _category(next(r for r in self.own if r["id"] == PLAN))

    @property
    def per_patient(self) -> int:
        return len(self.own) + 1  # and the crisis plan's second version

    def start(self) -> None:
        def work(tx: Tx) -> None:
            for body in self.shared:
                tx.write(body, patient=None, parties=PARTIES, index=access.index_terms(body, None, []), writer=WRITER)

        self.store.run(work)
        self.resources += len(self.shared)

    def grow_to(self, size: int, progress: Progress, label: str) -> None:
        """Add patients until the store holds at least ``size`` resources."""
        wanted = max(0, -(-(size - self.resources) // self.per_patient))
        task = progress.add_task(label, total=wanted)
        while wanted > 0:
            batch = min(wanted, max(1, BATCH // self.per_patient))
            patients = range(self.patients, self.patients + batch)
            self.store.run(lambda tx, patients=patients: self._patients(tx, patients))  # type: ignore[misc]
            self.patients += batch
            self.resources += batch * self.per_patient
            wanted -= batch
            progress.advance(task, batch)
        self.store.analyze()

    def _patients(self, tx: Tx, patients: range) -> None:
        for n in patients:
            self._patient(tx, n)

    def _patient(self, tx: Tx, n: int) -> None:
        patient = f"Patient/pasient-ola-p{n}"
        identifiers = [(FNR, fnr(n))]
        for body in self.own:
            text = self._refs.sub(lambda m: f'"{m.group(1)}-p{n}"', json.dumps(body))
            copy = json.loads(text.replace(EXAMPLE_FNR, fnr(n)))
            copy["id"] = f"{body['id']}-p{n}"
            index = list(access.index_terms(copy, patient, identifiers))
            times = 2 if body["id"] == PLAN else 1
            for _ in range(times):
                tx.write(copy, patient=patient, parties=PARTIES, index=index, writer=WRITER)
        tx.audit(_audit_event(patient))


def fnr(n: int) -> str:
    return f"{n + 1:011d}"


def _category(plan: dict[str, Any]) -> str:
    coding = plan["category"][0]["coding"][0]
    return f"{coding['system']}|{coding['code']}"


def _audit_event(patient: str) -> dict[str, Any]:
    return {
        "resourceType": "AuditEvent",
        "action": "C",
        "outcome": "0",
        "agent": [{"who": {"identifier": {"value": WRITER}}}],
        "entity": [{"what": {"reference": patient}, "role": {"code": "1"}}],
    }


def operations(filler: Filler) -> dict[str, Callable[[Tx, int], object]]:
    """The timed operations, each on patient ``n``."""
    plan = next(r for r in filler.own if r["id"] == PLAN)

    def write(tx: Tx, n: int) -> object:
        body = {**plan, "id": f"{PLAN}-p{n}"}
        return tx.write(body, patient=f"Patient/pasient-ola-p{n}", parties=PARTIES, index=[], writer=WRITER)

    return {
        "write (a new version)": write,
        "read by id": lambda tx, n: tx.read("CarePlan", f"{PLAN}-p{n}"),
        "search patient:identifier": lambda tx, n: tx.search("CarePlan", [("patient:identifier", [f"{FNR}|{fnr(n)}"])]),
        "search category+_lastUpdated, 10": lambda tx, n: tx.search(
            "CarePlan", [("category", [filler.category])], updated=[(">=", "2000-01-01")], limit=10
        ),
        "_history of a plan": lambda tx, n: tx.history("CarePlan", f"{PLAN}-p{n}"),
        "AuditEvent search (patient)": lambda tx, n: tx.audits(patient=f"Patient/pasient-ola-p{n}", limit=10),
    }


def timed(store: Store, filler: Filler, calls: int) -> dict[str, float]:
    """The median milliseconds per call of each operation, on random patients."""
    chooser = random.Random(7)  # noqa: S311 - which patients, not cryptography
    figures: dict[str, float] = {}
    for name, operation in operations(filler).items():
        times = []
        for _ in range(calls):
            n = chooser.randrange(filler.patients)
            started = time.perf_counter()
            store.run(lambda tx, n=n, operation=operation: operation(tx, n))  # type: ignore[misc]
            times.append((time.perf_counter() - started) * 1000)
        figures[name] = statistics.median(times)
    return figures


def table(backend: str, results: dict[int, dict[str, float]], load: dict[int, float]) -> str:
    sizes = sorted(results)
    width = 36
    head = f"{backend:<{width}}" + "".join(f"{f'{s:,} res':>16}" for s in sizes) + f"{'largest/smallest':>18}"
    lines = [head, "-" * len(head)]
    names = list(results[sizes[0]])
    for name in names:
        row = f"{name:<{width}}" + "".join(f"{results[s][name]:>13.3f} ms" for s in sizes)
        ratio = results[sizes[-1]][name] / max(results[sizes[0]][name], 1e-9)
        lines.append(row + f"{ratio:>17.1f}x")
    row = f"{'load (per resource)':<{width}}" + "".join(f"{load[s]:>13.3f} ms" for s in sizes)
    ratio = load[sizes[-1]] / max(load[sizes[0]], 1e-9)
    lines.append(row + f"{ratio:>17.1f}x")
    return "\n".join(lines)


def run_backend(url: str, backend: str, sizes: list[int], calls: int) -> str:
    store = open_store(url)
    try:
        filler = Filler(store)
        filler.start()
        results: dict[int, dict[str, float]] = {}
        load: dict[int, float] = {}
        with Progress(transient=True, console=None) as progress:
            for size in sizes:
                before, started = filler.resources, time.perf_counter()
                filler.grow_to(size, progress, f"{backend}: filling to {size:,}")
                added = max(1, filler.resources - before)
                load[size] = (time.perf_counter() - started) * 1000 / added
                results[size] = timed(store, filler, calls)
                print(f"{backend}: {filler.resources:,} resources, {filler.patients:,} patients", file=sys.stderr)
        return table(backend, results, load)
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/store",
        description="Time the store's operations on stores of 10^4 and 10^5 resources (10^6 with --million), "
        "filled with copies of the examples for many patients.",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run: 1,000 and 3,000 resources, few calls")
    parser.add_argument("--million", action="store_true", help="also 10^6 resources (takes long)")
    parser.add_argument("--sizes", help="comma-separated resource counts, instead of the default ones")
    parser.add_argument("--calls", type=int, help="timed calls per operation and size (default 200; quick 20)")
    parser.add_argument("--postgres", metavar="URL", help="also PostgreSQL at URL (an empty database or schema)")
    parser.add_argument("--sqlite", metavar="PATH", help="the SQLite file (default: a new one in a temp folder)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only (with --postgres)")
    args = parser.parse_args(argv)
    if args.sizes:
        sizes = sorted(int(s) for s in args.sizes.split(","))
    elif args.quick:
        sizes = [1000, 3000]
    else:
        sizes = [10_000, 100_000, *([1_000_000] if args.million else [])]
    calls = args.calls or (20 if args.quick else 200)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(args.sqlite) if args.sqlite else Path(folder) / "bench.sqlite"
        tables = []
        if not (args.no_sqlite and args.postgres):
            tables.append(run_backend(f"sqlite:///{path}", "sqlite", sizes, calls))
        if args.postgres:
            tables.append(run_backend(args.postgres, "postgresql", sizes, calls))
        print("\n\n".join(tables))
    print("\nTarget: the time per call at the largest size at most 2x the time at the smallest, on both backends.")
    return 0
