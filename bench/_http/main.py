"""``bench/http``: the service over HTTP against a bare Flask echo app on the same gunicorn setup.

Both run as real gunicorn servers on loopback (gthread workers, the settings of ``samhandling serve``), one after
the other, never side by side. Four endpoints get the same load (``--connections`` requests in flight for
``--seconds``, after a warm-up):

* echo POST: the echo app answers with the crisis-plan message it was sent;
* ``$process-message``: the crisis-plan message (DPS to the kommune), each request with a new MessageHeader id, so
  every one is validated, stored, applied to the shared plan and acknowledged (no duplicate replay); the kommune's
  consent is sent once first;
* parse POST (informative, no target): the echo app reads the same message into fhir.resources R4B models
  (``Bundle.model_validate``, structure only) and answers with it: the floor of merely reading the Bundle;
* echo GET: the echo app answers with the bytes of the plan as the service answers a read;
* plan read: ``GET /CarePlan/krise-og-mestringsplan-ola`` (access check, the read, its AuditEvent).

Errors: connection errors, timeouts and HTTP statuses >= 400 from the load generator, plus every
``$process-message`` whose stored outcome is not ``processed`` (an acknowledgement with an error code).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from _http.load import MSG_ID, Load, Result, run_python, run_wrk, wrk_path, wrk_version

ROOT = Path(__file__).resolve().parents[2]
CONSENT = ROOT / "examples" / "fhir" / "Bundle-melding-samtykke-ola.json"
CRISIS_PLAN = ROOT / "examples" / "fhir" / "Bundle-melding-kriseplan-ola.json"
PLAN_PATH = "/CarePlan/krise-og-mestringsplan-ola"
KOMMUNE, DPS = "8100001", "8100002"
#: Targets of the performance issue (16): $process-message at least twice parse POST, the plan read at least 60 % of
#: echo GET, p99 at most 5 x p50 on every endpoint, zero errors.
MIN_VERSUS_PARSE = 2.0
MIN_READ_SHARE = 0.60
MAX_TAIL = 5.0


@dataclass(frozen=True)
class Plan:
    """What one run does, after --quick and the explicit options."""

    quick: bool
    seconds: float
    warmup: float
    connections: int
    workers: int
    threads: int
    tool: str


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(
        prog="bench/http",
        description=(
            "Throughput and p50/p99 latency of $process-message (crisis-plan message, a new id each request) and "
            "of a plan read, over HTTP on loopback, each as a ratio to a bare Flask echo endpoint on the same "
            "gunicorn setup; SQLite store, demo tokens. Progress on stderr, tables on stdout."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 2 s per endpoint, short warm-up")
    parser.add_argument("--seconds", type=float, help="measured seconds per endpoint (default 10; quick 2)")
    parser.add_argument("--warmup", type=float, help="warm-up seconds per endpoint (default 2; quick 1)")
    parser.add_argument("--connections", type=int, default=8, help="requests in flight (default 8)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (default 2)")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker process (default 8)")
    parser.add_argument(
        "--tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (Debian package wrk), python (threads, built in), auto: wrk when installed",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument(
        "--processes",
        metavar="N,M",
        help="run the whole measurement once per number of service processes (gunicorn workers), e.g. 1,2, and "
        "show how throughput scales (--workers is then ignored)",
    )
    args = parser.parse_args(argv)
    if args.processes is not None:
        try:
            counts = [int(n) for n in args.processes.split(",")]
        except ValueError:
            parser.error("--processes takes numbers separated by commas, e.g. 1,2")
        if not counts or min(counts) < 1:
            parser.error("--processes takes numbers of at least 1, e.g. 1,2")
        args.process_counts = counts
    tool = args.tool
    if tool == "auto":
        tool = "wrk" if wrk_path() else "python"
    plan = Plan(
        quick=args.quick,
        seconds=args.seconds or (2.0 if args.quick else 10.0),
        warmup=args.warmup if args.warmup is not None else (1.0 if args.quick else 2.0),
        connections=args.connections,
        workers=args.workers,
        threads=args.threads,
        tool=tool,
    )
    return args, plan


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args, plan = parse_args(argv)
    if plan.tool == "wrk" and not wrk_path():
        print("bench/http: wrk is not installed (apt-get install wrk), or use --tool python", file=sys.stderr)
        return 2
    counts = getattr(args, "process_counts", None)
    runs: list[tuple[Plan, dict[str, Row]]] = []
    for workers in counts or [plan.workers]:
        each = Plan(**{**plan.__dict__, "workers": workers})
        with tempfile.TemporaryDirectory(prefix="bench-http-") as scratch:
            try:
                rows = measure(each, Path(scratch))
            except (RuntimeError, OSError) as error:
                print(f"bench/http: {error}", file=sys.stderr)
                return 2
        json_path = args.json if not counts else _numbered(args.json, workers)
        report(each, rows, json_path)
        runs.append((each, rows))
    if counts:
        print(scaling(runs))
    return 0


def _numbered(path: Path | None, workers: int) -> Path | None:
    return None if path is None else path.with_name(f"{path.stem}-{workers}{path.suffix}")


def scaling(runs: list[tuple[Plan, dict[str, Row]]]) -> str:
    """Throughput by the number of service processes, each against the first count's."""
    first = runs[0][1]
    lines = ["", "Scaling (throughput by service processes, from the runs above):"]
    lines.append(f"{'processes':>9} {'$process-message req/s':>23} {'x':>6} {'plan read req/s':>16} {'x':>6}")
    for plan, rows in runs:
        process, read = rows["process"].result.rate, rows["read"].result.rate
        grow = process / first["process"].result.rate if first["process"].result.rate else 0.0
        grow_read = read / first["read"].result.rate if first["read"].result.rate else 0.0
        lines.append(f"{plan.workers:>9} {process:>23.1f} {grow:>6.2f} {read:>16.1f} {grow_read:>6.2f}")
    return "\n".join(lines)


# --- the servers ------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def server(command: list[str], env: dict[str, str], log: Path, port: int) -> Iterator[str]:
    """Run a gunicorn server (its own process group) until the block ends; yields its base URL once it answers."""
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{' '.join(command[:4])} exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                if request("GET", base + "/metadata")[0] in (200, 404):
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{' '.join(command[:4])} did not answer within 60 s")
            time.sleep(0.1)
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def request(
    method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    """One request (setup and checks, not timed)."""
    host, _, rest = url.removeprefix("http://").partition("/")
    name, _, port = host.partition(":")
    connection = http.client.HTTPConnection(name, int(port), timeout=30)
    try:
        connection.request(method, "/" + rest, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMHANDLING_") or k == "SAMHANDLING_STANDARDS"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "bench"), os.environ.get("PYTHONPATH")]))
    env["SAMHANDLING_DATA_DIR"] = str(data_dir)
    env["SAMHANDLING_DEMO_ISSUER"] = "true"
    env["SAMHANDLING_RATE_LIMIT"] = ""  # a load test is no abuse: the rate limits would refuse most of it
    env["SAMHANDLING_RATE_LIMIT_ANONYMOUS"] = ""
    return env


# --- the run ----------------------------------------------------------------------------------------------------


@dataclass
class Row:
    """One endpoint's figures."""

    key: str
    label: str
    result: Result
    floor: str | None = None  # key of the echo row it is compared with

    def ratio(self, rows: dict[str, Row]) -> float | None:
        if self.floor is None or not rows[self.floor].result.rate:
            return None
        return self.result.rate / rows[self.floor].result.rate

    @property
    def tail(self) -> float | None:
        return self.result.p99_ms / self.result.p50_ms if self.result.p50_ms else None


def measure(plan: Plan, scratch: Path) -> dict[str, Row]:
    """Start the service, then the echo app, and load each endpoint in turn."""
    from adapter.config import Settings
    from adapter.security import SCOPES, DemoIssuer

    data_dir = scratch / "data"
    env = environment(data_dir)
    defaults = Settings()
    issuer = DemoIssuer(data_dir, defaults.token_issuer, defaults.token_audience)
    token = {org: issuer.issue(org, SCOPES, ttl_seconds=3600) for org in (KOMMUNE, DPS)}
    message = crisis_plan_template()
    run_id = uuid.uuid4().hex[:6]
    rows: dict[str, Row] = {}
    gunicorn = ["--workers", str(plan.workers), "--threads", str(plan.threads)]

    port = free_port()
    serve = [sys.executable, "-m", "adapter.cli", "serve", "--allow-empty-routes", "--port", str(port), *gunicorn]
    progress(f"starting the service: {' '.join(serve[1:])} (SQLite in a temporary folder) ...")
    with server(serve, env, scratch / "service.log", port) as base:
        status, body = request("POST", base + "/$process-message", CONSENT.read_bytes(), json_headers(token[KOMMUNE]))
        if status != 200 or ack_code(body) != "ok":
            raise RuntimeError(f"the consent message was not accepted: {status} {body[:500]!r}")
        check = message.replace(MSG_ID.encode(), f"check-{run_id}".encode())
        status, body = request("POST", base + "/$process-message", check, json_headers(token[DPS]))
        if status != 200 or ack_code(body) != "ok":
            raise RuntimeError(f"the crisis-plan message was not accepted: {status} {body[:500]!r}")
        status, plan_body = request("GET", base + PLAN_PATH, headers=auth(token[DPS]))
        if status != 200:
            raise RuntimeError(f"the plan read failed: {status} {plan_body[:500]!r}")
        (scratch / "plan.json").write_bytes(plan_body)
        post = Load("POST", base + "/$process-message", json_headers(token[DPS]), message)
        rows["process"] = Row("process", "$process-message (crisis plan)", load(plan, post, f"{run_id}p"), "echo_post")
        processed = stored_outcomes(data_dir, f"{run_id}p-%")
        refused = sum(n for state, n in processed.items() if state != "processed")
        if refused:
            rows["process"].result.errors["refused ack"] = refused
        read = Load("GET", base + PLAN_PATH, auth(token[DPS]))
        rows["read"] = Row("read", "plan read (GET /CarePlan/<id>)", load(plan, read, run_id), "echo_get")

    port = free_port()
    echo = [sys.executable, str(ROOT / "bench" / "_http" / "echo.py"), "--port", str(port), *gunicorn]
    progress(f"starting the echo app: bench/_http/echo.py {' '.join(gunicorn)} ...")
    env["BENCH_ECHO_BODY"] = str(scratch / "plan.json")
    with server(echo, env, scratch / "echo.log", port) as base:
        post = Load("POST", base + "/echo", json_headers(token[DPS]), message)
        rows["echo_post"] = Row("echo_post", "echo POST (the same message)", load(plan, post, f"{run_id}e"))
        parse = Load("POST", base + "/parse", json_headers(token[DPS]), message)
        rows["parse"] = Row("parse", "parse POST (informative)", load(plan, parse, f"{run_id}f"), "echo_post")
        read = Load("GET", base + "/echo", auth(token[DPS]))
        rows["echo_get"] = Row("echo_get", "echo GET (the same plan bytes)", load(plan, read, run_id))
    order = ("echo_post", "parse", "process", "echo_get", "read")
    return {key: rows[key] for key in order}


def load(plan: Plan, target: Load, run_id: str) -> Result:
    """Warm up, then measure one endpoint."""
    name = f"{target.method} {target.url.split('/', 3)[-1]}"
    progress(f"  {name}: warm-up {plan.warmup:g} s, then {plan.seconds:g} s with {plan.connections} connections ...")
    generate = (
        (lambda t, s, r: run_wrk(t, plan.connections, s, r))
        if plan.tool == "wrk"
        else (lambda t, s, r: run_python(t, plan.connections, s, r))
    )
    if plan.warmup > 0:
        generate(target, plan.warmup, run_id + "w")
    result = generate(target, plan.seconds, run_id)
    progress(f"    {result.rate:.1f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
    return result


def crisis_plan_template() -> bytes:
    """The crisis-plan message with MSG_ID where its MessageHeader id goes (the id and the entry's fullUrl)."""
    bundle = json.loads(CRISIS_PLAN.read_bytes())
    header = bundle["entry"][0]
    header["resource"]["id"] = MSG_ID
    header["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{MSG_ID}"
    return json.dumps(bundle, ensure_ascii=False).encode()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/fhir+json"}


def json_headers(token: str) -> dict[str, str]:
    return {**auth(token), "Content-Type": "application/fhir+json"}


def ack_code(body: bytes) -> str:
    try:
        return str(json.loads(body)["entry"][0]["resource"]["response"]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def stored_outcomes(data_dir: Path, pattern: str) -> dict[str, int]:
    """States of the stored messages whose id matches ``pattern`` (warm-up included)."""
    from adapter.config import Settings

    database = Settings(data_dir=data_dir).sqlite_file
    with contextlib.closing(sqlite3.connect(str(database), timeout=30)) as connection:
        rows = connection.execute(
            "SELECT state, COUNT(*) FROM messages WHERE msg_id LIKE ? GROUP BY state", (pattern,)
        ).fetchall()
    return {str(state): int(count) for state, count in rows}


# --- the report -------------------------------------------------------------------------------------------------


def report(plan: Plan, rows: dict[str, Row], json_path: Path | None) -> None:
    tool = wrk_version() if plan.tool == "wrk" else "python threads (bench/_http/load.py)"
    lines = [
        f"bench/http: gunicorn {plan.workers} workers x {plan.threads} threads (gthread) on 127.0.0.1, "
        f"SQLite store, demo tokens",
        f"load: {tool}, {plan.connections} connections, {plan.seconds:g} s per endpoint after {plan.warmup:g} s "
        f"warm-up; {os.cpu_count()} CPUs shared by the load generator and the server",
        "",
        f"{'endpoint':<34} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'p99/p50':>8} {'errors':>6} "
        f"{'vs echo':>8}",
    ]
    for row in rows.values():
        result, ratio, tail = row.result, row.ratio(rows), row.tail
        lines.append(
            f"{row.label:<34} {result.requests:>8} {result.rate:>9.1f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f} "
            f"{fmt(tail, 1):>8} {result.error_count:>6} {fmt_pct(ratio):>8}"
        )
    targets = verdicts(rows)
    if rows["parse"].result.rate:
        versus = rows["process"].result.rate / rows["parse"].result.rate
        lines += [
            "",
            f"Informative: $process-message throughput is {versus:.0%} of parse POST (reading the Bundle only)",
        ]
    lines += ["", "Targets:"]
    lines += [f"  {verdict:<4}  {text}" for verdict, text in targets]
    errors = {row.label: row.result.errors for row in rows.values() if row.result.errors}
    if errors:
        lines += ["", "Errors by kind: " + "; ".join(f"{label}: {kinds}" for label, kinds in errors.items())]
    print("\n".join(lines))
    if json_path:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures(plan, rows, targets), indent=2) + "\n", encoding="utf-8")
        progress(f"figures written to {json_path}")


def verdicts(rows: dict[str, Row]) -> list[tuple[str, str]]:
    parse = rows["parse"].result.rate
    versus = rows["process"].result.rate / parse if parse else None
    read = rows["read"].ratio(rows)
    tails = {row.label: row.tail for key, row in rows.items() if key != "parse"}  # parse is informative only
    worst = max(tails.items(), key=lambda item: item[1] or 0.0)
    errors = sum(row.result.error_count for row in rows.values())
    return [
        (
            "PASS" if versus is not None and versus >= MIN_VERSUS_PARSE else "FAIL",
            f"$process-message throughput >= {MIN_VERSUS_PARSE:g} x parse POST: {fmt(versus)} x",
        ),
        (
            "PASS" if read is not None and read >= MIN_READ_SHARE else "FAIL",
            f"plan read throughput >= {MIN_READ_SHARE:.0%} of echo GET: {fmt_pct(read)}",
        ),
        (
            "PASS" if all(t is not None and t <= MAX_TAIL for t in tails.values()) else "FAIL",
            f"p99 <= {MAX_TAIL:g} x p50 on every endpoint: worst {fmt(worst[1], 1)} ({worst[0]})",
        ),
        ("PASS" if errors == 0 else "FAIL", f"zero errors: {errors}"),
    ]


def figures(plan: Plan, rows: dict[str, Row], targets: list[tuple[str, str]]) -> dict[str, Any]:
    return {
        "plan": plan.__dict__,
        "rows": {
            key: {
                "label": row.label,
                "requests": row.result.requests,
                "seconds": row.result.seconds,
                "rate": row.result.rate,
                "p50_ms": row.result.p50_ms,
                "p99_ms": row.result.p99_ms,
                "errors": row.result.errors,
                "ratio_to_echo": row.ratio(rows),
                "tool": row.result.tool,
            }
            for key, row in rows.items()
        },
        "targets": [{"result": verdict, "target": text} for verdict, text in targets],
    }


def fmt(value: float | None, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def fmt_pct(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"
