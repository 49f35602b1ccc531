"""Shared fixtures. Every fixture says its scope, type and default.

In CI (``CI=true``) a skipped test counts as a failure: whatever CI is able to provide (node and npm for SUSHI, the
standards directory) must be there, so a skip would only hide a missing install step.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from adapter.config import Settings
from adapter.validate import Validator

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Scope: session. Type: Settings. Default: ``Settings.from_env()`` (the checkout and ../shared/standards)."""
    return Settings.from_env()


@pytest.fixture(scope="session")
def validator(settings: Settings) -> Validator:
    """Scope: session. Type: Validator over our profiles, no-basis and core. Default: built from ``settings``."""
    return Validator(settings)


@pytest.fixture(scope="session")
def node_tools() -> None:
    """Scope: session. Type: None. Skips (a failure in CI) when node and npm, which SUSHI needs, are missing."""
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} to run SUSHI")


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--regen-golden``: rewrite the golden files of tests/test_golden.py from the current outputs and print what
    changed (a unified diff per file) at the end of the run."""
    parser.addoption(
        "--regen-golden",
        action="store_true",
        default=False,
        help="rewrite tests/translate/golden from the current translation outputs and show the diff",
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """After a ``--regen-golden`` run: the diff of every golden file that changed."""
    diffs: list[str] = getattr(config, "golden_diffs", [])
    if config.getoption("--regen-golden"):
        terminalreporter.section("golden files")
        terminalreporter.write_line(f"{len(diffs)} golden file(s) written or changed")
        for diff in diffs:
            terminalreporter.write(diff)


@dataclass
class LocalHttp:
    """A local HTTP server: its base URL, the paths requested so far, and the body every GET is answered with."""

    url: str
    hits: list[str] = field(default_factory=list)
    body: bytes = b""


@pytest.fixture
def local_http() -> Iterator[LocalHttp]:
    """Scope: function. Type: LocalHttp. Default: a server on 127.0.0.1 and a free port answering an empty body
    (a test sets ``body``). Tests never use the network; this server is how they prove that no request is made
    (or which one would be)."""
    state = LocalHttp(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hits.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(state.body)

        def log_message(self, *args: object) -> None:
            """Keep the test output quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Generator[None, Any, None]:
    """In CI, turn every skip into a failure that says what was missing."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.longrepr = f"skipped in CI, which must provide everything this test needs: {reason}"
