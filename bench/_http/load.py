"""Load generators of ``bench/http``: wrk (with a Lua script that gives every request a new message id) or, where
wrk is not installed, a closed-loop generator in Python (one thread and one keep-alive connection per connection).

Both keep ``connections`` requests in flight for ``seconds`` and report completed requests, errors and latency
percentiles. ``MSG_ID`` in a body is replaced by a new id in each request (``<run>-<thread>-<n>``).
"""

from __future__ import annotations

import http.client
import json
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

#: The placeholder for a new message id in a request body.
MSG_ID = "BENCHMSGID"


@dataclass(frozen=True)
class Load:
    """One endpoint to load: method, URL, headers and body (with MSG_ID placeholders, or none)."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class Result:
    """What one run measured: completed requests in ``seconds``, errors by kind, latencies (ms)."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    errors: dict[str, int] = field(default_factory=dict)
    tool: str = ""

    @property
    def rate(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def error_count(self) -> int:
        """Errors of every kind (connection, timeout, HTTP status >= 400, refused messages)."""
        return sum(self.errors.values())


def wrk_path() -> str | None:
    """The wrk program, or None."""
    return shutil.which("wrk")


def wrk_version() -> str:
    """wrk's version line."""
    done = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (done.stdout or done.stderr).splitlines()[0].split(" [")[0] if (done.stdout or done.stderr) else "wrk"


_LUA = """
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
local body = nil
function init(args)
  if BODY_FILE ~= "" then
    local file = io.open(BODY_FILE, "rb")
    body = file:read("*a")
    file:close()
  end
end

function request()
  counter = counter + 1
  if body == nil then
    return wrk.format(nil, nil, nil, nil)
  end
  local id = RUN .. "-" .. tid .. "-" .. counter
  return wrk.format(nil, nil, nil, (body:gsub(PLACEHOLDER, id)))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\nBENCH-JSON {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, "status": %d, '
    .. '"timeout": %d, "p50_us": %d, "p99_us": %d}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
"""


def run_wrk(load: Load, connections: int, seconds: float, run_id: str, threads: int = 1) -> Result:
    """Load with wrk for ``seconds``."""
    with tempfile.TemporaryDirectory(prefix="bench-http-") as scratch:
        body_file = Path(scratch) / "body"
        body_file.write_bytes(load.body)
        script = Path(scratch) / "script.lua"
        script.write_text(
            f'wrk.method = "{load.method}"\n'
            + "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in load.headers.items())
            + f"BODY_FILE = {json.dumps(str(body_file) if load.body else '')}\n"
            + f"RUN = {json.dumps(run_id)}\nPLACEHOLDER = {json.dumps(MSG_ID)}\n"
            + _LUA,
            encoding="utf-8",
        )
        command = [
            "wrk",
            f"-t{min(threads, connections)}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "30s",
            "-s",
            str(script),
            load.url,
        ]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCH-JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    errors = {k: int(data[k]) for k in ("connect", "read", "write", "status", "timeout") if data[k]}
    return Result(
        int(data["requests"]),
        data["duration_us"] / 1e6,
        data["p50_us"] / 1e3,
        data["p99_us"] / 1e3,
        errors,
        "wrk",
    )


def run_python(load: Load, connections: int, seconds: float, run_id: str) -> Result:
    """Load from ``connections`` Python threads for ``seconds`` (a fallback: it needs CPU the server would use)."""
    parts = urlsplit(load.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    latencies: list[list[float]] = [[] for _ in range(connections)]
    errors: dict[str, int] = {}
    lock = threading.Lock()
    start = threading.Barrier(connections + 1)
    stop_at = [0.0]

    def error(kind: str) -> None:
        with lock:
            errors[kind] = errors.get(kind, 0) + 1

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
        mine = latencies[number]
        count = 0
        start.wait()
        while time.perf_counter() < stop_at[0]:
            count += 1
            body = load.body.replace(MSG_ID.encode(), f"{run_id}-{number}-{count}".encode()) if load.body else None
            began = time.perf_counter()
            try:
                connection.request(load.method, path, body=body, headers=load.headers)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                error("connect/read")
                connection.close()
                connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
                continue
            mine.append(time.perf_counter() - began)
            if response.status >= 400:
                error("status")
        connection.close()

    workers = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(connections)]
    for worker in workers:
        worker.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - began
    every = sorted(x for mine in latencies for x in mine)
    return Result(len(every), elapsed, _percentile(every, 50) * 1e3, _percentile(every, 99) * 1e3, errors, "python")


def _percentile(values: list[float], pct: float) -> float:
    if not values:
        return 0.0
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values)) - 1))
    return values[index]
