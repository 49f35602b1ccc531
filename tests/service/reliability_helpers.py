"""Helpers of the reliability tests: a fake receiving system, the service as real processes, a sender that
retries like a real one, distinct test messages, and counting what the store holds."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import requests
from service_helpers import example_json

ROOT = Path(__file__).resolve().parents[2]
CONSENT = "fhir/Bundle-melding-samtykke-ola.json"

#: What the fake receiver does with one request: take it and answer 200 (``ok``), refuse with 500 (``fail``),
#: take it and answer only after the client gave up (``slow``), or take it, start a 200 and trickle the rest
#: (``trickle``).
Behaviour = Callable[[str, int], str]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class FakeReceiver:
    """A receiving system on loopback. It counts every POST by its ``X-Message-Id`` (``requests``) and every one
    it took (``accepted``: answered 200, or taken and answered too late), as a real receiver that commits before it
    answers would. ``behaviour(msg_id, n)`` decides for the n-th request (1, 2, ...) of a message id."""

    def __init__(self, port: int | None = None, behaviour: Behaviour | None = None, slow: float = 1.0) -> None:
        self.port = port or free_port()
        self.behaviour = behaviour or (lambda msg_id, n: "ok")
        self.slow = slow
        self.requests: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.outcomes: Counter[str] = Counter()
        self.taken_at: dict[str, list[float]] = {}
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        """The URL deliveries go to."""
        return f"http://127.0.0.1:{self.port}/fhir"

    def start(self) -> FakeReceiver:
        """Listen (from now on connections are no longer refused)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart (delayed ACK)

            def do_POST(self) -> None:  # noqa: N802 - the name http.server calls
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                msg_id = self.headers.get("X-Message-Id", "")
                with receiver.lock:
                    receiver.requests[msg_id] += 1
                    what = receiver.behaviour(msg_id, receiver.requests[msg_id])
                    receiver.outcomes[what] += 1
                    if what in ("ok", "slow", "trickle"):
                        receiver.accepted[msg_id] += 1
                        receiver.taken_at.setdefault(msg_id, []).append(time.monotonic())
                with contextlib.suppress(OSError):  # the client may have hung up on a slow answer
                    if what == "fail":
                        self._answer(500, b"receiver down")
                    elif what == "slow":
                        time.sleep(receiver.slow)
                        self._answer(200, b"ok")
                    elif what == "trickle":
                        self.send_response(200)
                        self.send_header("Content-Length", "64")
                        self.end_headers()
                        for _ in range(64):
                            self.wfile.write(b".")
                            self.wfile.flush()
                            time.sleep(receiver.slow / 16)
                    else:
                        self._answer(200, b"ok")

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
                pass

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self._server = server
        threading.Thread(target=server.serve_forever, name="fake-receiver", daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def routes(self, path: Path, receiver: str) -> Path:
        """Write a routing table that sends messages for ``receiver`` (HER-id) here, in FHIR; returns ``path``."""
        path.write_text(
            f"routes:\n  - receiver: '{receiver}'\n    destination: {self.url}\n"
            "    format: fhir\n    transport: http\n",
            encoding="utf-8",
        )
        return path

    def duplicates(self) -> int:
        """How many times a message was taken again after the first time (re-sends of the same id)."""
        with self.lock:
            return sum(n - 1 for n in self.accepted.values())


def consent_messages(count: int, prefix: str) -> list[tuple[str, bytes]]:
    """``count`` distinct valid consent messages (the kommune's consent example with new MessageHeader ids, each a
    change of the Consent: its dateTime one second later, so each is stored as a new version), as (message id, JSON
    bytes)."""
    bundle = example_json(CONSENT)
    header = bundle["entry"][0]
    consent = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent")
    messages = []
    for number in range(count):
        msg_id = f"{prefix}-{number:04d}"
        header["resource"]["id"] = msg_id
        header["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{msg_id}"
        consent["dateTime"] = f"2026-01-05T{11 + number // 3600:02d}:{number // 60 % 60:02d}:{number % 60:02d}+01:00"
        messages.append((msg_id, json.dumps(bundle).encode()))
    return messages


# --- the service as real processes ------------------------------------------------------------------------------


def service_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a service process: this checkout first on the path, data in ``data_dir``, the demo
    issuer on, and ``settings`` as SAMHANDLING_<NAME> variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMHANDLING_") or k == "SAMHANDLING_STANDARDS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["SAMHANDLING_DATA_DIR"] = str(data_dir)
    env["SAMHANDLING_DEMO_ISSUER"] = "true"
    env.update({f"SAMHANDLING_{name.upper()}": value for name, value in settings.items()})
    return env


class ServiceProcess:
    """``python -m adapter.cli ARGS`` in its own process group, so that a SIGKILL takes it and every process it
    forked (gunicorn's workers) at once, as a crash of the machine or container would. Output goes to ``log``."""

    def __init__(self, args: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.args = list(args)
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> ServiceProcess:
        """Start (again)."""
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "adapter.cli", *self.args],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.starts += 1
        return self

    def alive(self) -> bool:
        """True while the first process runs."""
        return self.process is not None and self.process.poll() is None

    def signal(self, number: int) -> None:
        """Send ``number`` to the whole process group."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, number)

    def kill(self) -> None:
        """SIGKILL the whole process group and wait for the first process."""
        self.signal(signal.SIGKILL)
        if self.process is not None:
            self.process.wait(30)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 10 s."""
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        self.kill()

    def tail(self, lines: int = 40) -> str:
        """The end of the output (for failure messages)."""
        text = self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, base_url: str, timeout: float = 60) -> None:
        """Until ``GET /metadata`` answers 200; AssertionError (with the output) if the process died or took
        longer than ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                raise AssertionError(f"the service exited:\n{self.tail()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(base_url + "/metadata", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        raise AssertionError(f"the service did not answer within {timeout:g} s:\n{self.tail()}")


# --- a sender that retries like a real one ----------------------------------------------------------------------


@dataclass
class SendLog:
    """What the senders saw: acknowledgements per message id, answers without an ack, and every 5xx."""

    acked: dict[str, int] = field(default_factory=dict)  # message id -> tries it took
    no_answer: int = 0
    server_errors: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int, str]] = field(default_factory=list)
    retried: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def ok(self, msg_id: str, tries: int) -> None:
        """The message was acknowledged with code ok."""
        with self.lock:
            self.acked[msg_id] = tries
            if tries > 1:
                self.retried.add(msg_id)


def send_all(
    base_url: str,
    messages: Sequence[tuple[str, bytes]],
    token: str,
    *,
    threads: int = 4,
    deadline: float = 120.0,
    log: SendLog | None = None,
) -> SendLog:
    """Post every message to ``$process-message`` from ``threads`` threads; a message that gets no answer, or a
    5xx, is sent again (after a short pause) until it is acknowledged, as a sender does that holds a message
    until it has its receipt. Any other answer is recorded in ``refused`` and not retried."""
    log = log or SendLog()
    queue = list(reversed(messages))
    queue_lock = threading.Lock()
    stop_at = time.monotonic() + deadline
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"}

    def run() -> None:
        session = requests.Session()
        while True:
            with queue_lock:
                if not queue:
                    return
                msg_id, body = queue.pop()
            tries = 0
            while time.monotonic() < stop_at:
                tries += 1
                try:
                    response = session.post(base_url + "/$process-message", data=body, headers=headers, timeout=15)
                except requests.RequestException:
                    with log.lock:
                        log.no_answer += 1
                    session.close()
                    session = requests.Session()
                    time.sleep(0.1)
                    continue
                if response.status_code >= 500:
                    with log.lock:
                        log.server_errors.append((msg_id, response.status_code))
                    time.sleep(0.1)
                    continue
                code = _ack_code(response)
                if response.status_code == 200 and code == "ok":
                    log.ok(msg_id, tries)
                else:
                    with log.lock:
                        log.refused.append((msg_id, response.status_code, response.text[:500]))
                break

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(max(1.0, stop_at - time.monotonic() + 20))
    return log


def _ack_code(response: requests.Response) -> str:
    try:
        return str(response.json()["entry"][0]["resource"]["response"]["code"])
    except (ValueError, KeyError, IndexError, TypeError):
        return ""


def wait_until(condition: Callable[[], bool], timeout: float, what: str, pause: float = 0.1) -> None:
    """Poll ``condition`` until it holds; AssertionError naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(pause)


# --- what the store holds ---------------------------------------------------------------------------------------


def query(store_url: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` on the store at ``store_url`` (SQLite file or PostgreSQL), on a connection of its own."""
    if store_url.startswith("sqlite:///"):
        with contextlib.closing(sqlite3.connect(store_url.removeprefix("sqlite:///"), timeout=30)) as connection:
            return list(connection.execute(sql, tuple(params)).fetchall())
    with psycopg.connect(store_url, autocommit=True, connect_timeout=5) as connection:
        if not params:  # no placeholders: a literal % (LIKE) stays as it is
            return list(connection.execute(sql.encode()).fetchall())
        return list(connection.execute(sql.replace("?", "%s").encode(), tuple(params)).fetchall())


def counts(store_url: str) -> dict[str, Any]:
    """What the store holds: messages by state, Consent versions, outbox rows by state, delivery attempts."""
    messages = dict(query(store_url, "SELECT state, COUNT(*) FROM messages GROUP BY state"))
    outbox = dict(query(store_url, "SELECT state, COUNT(*) FROM outbox GROUP BY state"))
    (versions,) = query(store_url, "SELECT COUNT(*) FROM resources WHERE type = 'Consent'")[0]
    (distinct_versions,) = query(store_url, "SELECT COUNT(DISTINCT version) FROM resources WHERE type = 'Consent'")[0]
    (attempts,) = query(store_url, "SELECT COALESCE(SUM(attempts), 0) FROM outbox")[0]
    (audited,) = query(store_url, "SELECT COUNT(*) FROM audit WHERE action = 'C'")[0]
    return {
        "messages": messages,
        "outbox": outbox,
        "consent_versions": int(versions),
        "distinct_consent_versions": int(distinct_versions),
        "attempts": int(attempts),
        "message_audits": int(audited),
    }


@contextlib.contextmanager
def scratch_database(postgres_url: str, name: str) -> Iterator[str]:
    """A fresh PostgreSQL database ``name`` on the server of ``postgres_url``, dropped afterwards (with any
    connections still open to it); yields its URL."""
    base, _, _ = postgres_url.rpartition("/")
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{base}/{name}"
    finally:
        with contextlib.suppress(psycopg.Error), psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
