"""Shared fixtures. Every fixture says its scope, type and default.

In CI (``CI=true``) a skipped test counts as a failure: whatever CI is able to provide (node and npm for SUSHI, the
standards directory) must be there, so a skip would only hide a missing install step.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg
import pytest
from local_http import LocalHttp

from adapter.config import Settings
from adapter.validate import Validator

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

#: Starts (installing if need be) the throwaway PostgreSQL server; prints its URL.
PG_SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "postgres"


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


def postgres_problem(url: str) -> str | None:
    """None when ``SELECT 1`` works on ``url``, else why not (one line)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        return " ".join(str(error).split()) or type(error).__name__
    return None


def _redacted(url: str) -> str:
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url)


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """Scope: session. Type: str, the ``postgresql://`` URL of a live server whose database the tests may use.

    Default: ``SAMHANDLING_TEST_DATABASE_URL`` when it is set and answers ``SELECT 1`` (``.ci/run`` sets it).
    When it is not set (or is the script's own URL and the server is down), ``.ci/postgres start`` starts the
    throwaway server (postgresql://postgres@127.0.0.1:54329/samhandling_test), so a plain ``python -m pytest``
    works. Skips (a failure in CI) when there is still no server.
    """
    url = os.environ.get("SAMHANDLING_TEST_DATABASE_URL")
    if url:
        problem = postgres_problem(url)
        if problem is None:
            return url
        script_url = subprocess.run([PG_SCRIPT, "url"], capture_output=True, text=True, check=False).stdout.strip()
        if url != script_url:
            pytest.skip(f"SAMHANDLING_TEST_DATABASE_URL={_redacted(url)} does not answer: {problem}")
    try:
        done = subprocess.run([PG_SCRIPT, "start"], capture_output=True, text=True, timeout=900, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        pytest.skip(f"cannot run {PG_SCRIPT.name} to start PostgreSQL: {error}")
    started = done.stdout.strip().splitlines()[-1:] if done.returncode == 0 else []
    if not started:
        pytest.skip(f"no PostgreSQL server: .ci/postgres start failed: {done.stderr.strip()[-800:]}")
    problem = postgres_problem(started[0])
    if problem is not None:
        pytest.skip(f"the PostgreSQL server that .ci/postgres started does not answer: {problem}")
    return started[0]


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


@pytest.fixture(autouse=True)
def _logging_as_it_was() -> Iterator[None]:
    """Scope: function, for every test. A command run in process (``serve``, ``worker``) sets up logging for its
    process: the root handlers, and the JSON access log on its own handler without propagation. Put back after
    each test, so that a later test's ``caplog`` still sees what is logged, whatever the order."""
    loggers = [logging.getLogger(), logging.getLogger("samhandling.access")]
    saved = [(lg, list(lg.handlers), lg.level, lg.propagate) for lg in loggers]
    yield
    for logger, handlers, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.setLevel(level)
        logger.propagate = propagate


@pytest.fixture
def new_url(tmp_path: Path, request: pytest.FixtureRequest) -> Generator[Callable[[str], str], None, None]:
    """Scope: function. Type: ``new_url(backend)`` -> the URL of a store that does not exist yet: a SQLite file in
    tmp_path, or a new, empty schema of the PostgreSQL test database (dropped at the end). Default: none made."""
    schemas: list[str] = []
    postgres: list[str] = []

    def make(backend: str) -> str:
        if backend == "sqlite":  # the file name of a data folder's store, for the commands
            folder = tmp_path / f"data-{uuid.uuid4().hex[:8]}"
            folder.mkdir(mode=0o700)
            return f"sqlite:///{folder / 'samhandling.sqlite'}"
        if not postgres:
            postgres.append(request.getfixturevalue("postgres_url"))
        schema = f"store_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(postgres[0], autocommit=True) as connection:
            connection.execute(f"CREATE SCHEMA {schema}")
        schemas.append(schema)
        joiner = "&" if "?" in postgres[0] else "?"
        return f"{postgres[0]}{joiner}options=-csearch_path%3D{schema}"

    yield make
    if postgres:
        with psycopg.connect(postgres[0], autocommit=True) as connection:
            for schema in schemas:
                connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
