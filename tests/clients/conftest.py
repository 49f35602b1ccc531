"""Fixtures of the client tests: a real ``samhandling serve --demo`` (gunicorn, SQLite in a tmp folder, a free
port on 127.0.0.1, no outbox worker) for each test module, driven by FHIR client libraries as their users drive
them: fhirpy and fhirclient (the dev extra) and fhir-kit-client (npm, pinned in tests/clients/package-lock.json).

What they need: ``pip install -e '.[dev]'`` and ``npm ci --prefix tests/clients`` (``.ci/run`` does both) and
node. Outside CI a missing one skips the tests; in CI (``CI=true``) it fails them, naming the command.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from client_helpers import ROOT, RunningService

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
NODE_MODULES = Path(__file__).resolve().parent / "node_modules"
#: How long the service may take to answer /health/ready (gunicorn start and the demo examples loaded).
READY_WITHIN = 60.0


def missing(what: str, command: str) -> None:
    """Fail in CI, skip elsewhere: ``what`` is missing and ``command`` installs it."""
    message = f"{what} is missing: install it with `{command}`"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - our own http URL on 127.0.0.1
            return bool(answer.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (gunicorn and its worker), SIGKILL after 10 s."""
    for number, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 30)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, number)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(wait)
            return


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """Scope: module. Type: :class:`RunningService`, ``samhandling serve --demo --no-delivery`` (one worker, four
    threads) on a free port, answering ``/health/ready``; stopped at the end. Default: SQLite in a tmp folder,
    no SAMHANDLING_ setting of the caller's environment but the standards directory."""
    folder = tmp_path_factory.mktemp("client-service")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SAMHANDLING_") or k == "SAMHANDLING_STANDARDS"}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
    env["SAMHANDLING_DATA_DIR"] = str(folder / "data")
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = folder / "serve.log"
    command = ["serve", "--demo", "--no-delivery", "--host", "127.0.0.1", "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "adapter.cli", *command, "--workers", "1", "--threads", "4"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopping it stops gunicorn's worker too
        )
    try:
        deadline = time.monotonic() + READY_WITHIN
        while not _ready(base + "/health/ready"):
            if process.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(encoding="utf-8", errors="replace")[-3000:]
                pytest.fail(f"samhandling serve did not get ready within {READY_WITHIN:g} s (log below):\n{tail}")
            time.sleep(0.1)
        yield RunningService(base, env)
    finally:
        _stop(process)


@pytest.fixture(scope="session")
def node_modules() -> Path:
    """Scope: session. Type: Path of tests/clients/node_modules with fhir-kit-client in it, and node on the PATH.
    Default: ``npm ci --prefix tests/clients``."""
    if not (NODE_MODULES / "fhir-kit-client" / "package.json").is_file():
        missing("fhir-kit-client", "npm ci --prefix tests/clients --no-audit --no-fund")
    if shutil.which("node") is None:
        missing("node", "apt-get install -y nodejs")
    return NODE_MODULES
