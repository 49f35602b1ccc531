"""The PostgreSQL test server: the fixture gives a live server, .ci/postgres is idempotent, and a restart (which
the service's reliability test does under load) keeps every committed row and lets clients reconnect."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Generator

import psycopg
import pytest
from psycopg import sql

from tests.conftest import PG_SCRIPT, postgres_problem

pytestmark = pytest.mark.postgres


def _script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PG_SCRIPT, *args], capture_output=True, text=True, timeout=600, check=False, env=env)


@pytest.fixture
def scratch_table(postgres_url: str) -> Generator[str, None, None]:
    """Scope: function. Type: str, the name of a fresh table ``(id int primary key)``, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(_q("CREATE TABLE {} (id integer PRIMARY KEY)", name))
    yield name
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(_q("DROP TABLE IF EXISTS {}", name))


def _q(template: str, table: str) -> sql.Composed:
    """``template`` with ``{}`` replaced by the quoted table name."""
    return sql.SQL(template).format(sql.Identifier(table))


def _ours(postgres_url: str) -> bool:
    return postgres_url == _script("url").stdout.strip()


def test_fixture_gives_a_live_server(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql://")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
        (version,) = conn.execute("SHOW server_version_num").fetchone() or ("0",)
    assert int(version) >= 130000
    assert postgres_problem(postgres_url) is None


def test_problem_is_reported_for_a_dead_url() -> None:
    problem = postgres_problem("postgresql://postgres@127.0.0.1:1/none")
    assert problem and "\n" not in problem


def test_script_is_idempotent(postgres_url: str) -> None:
    if not _ours(postgres_url):
        pytest.skip("the test database is not the .ci/postgres server")
    first, second = _script("start"), _script("start")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert first.stdout.strip() == second.stdout.strip() == postgres_url
    assert "already running" in second.stderr
    assert _script("status").returncode == 0


def test_script_finds_debian_binaries_off_path() -> None:
    # Debian's server programs live in /usr/lib/postgresql/<major>/bin, which is not on PATH.
    done = _script("bindir", env={**os.environ, "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr
    assert os.access(os.path.join(done.stdout.strip(), "pg_ctl"), os.X_OK)


def test_script_rejects_unknown_commands() -> None:
    done = _script("explode")
    assert done.returncode != 0 and "usage" in done.stderr


def test_plain_pytest_starts_the_server_itself() -> None:
    """Without SAMHANDLING_TEST_DATABASE_URL the fixture runs .ci/postgres (as `python -m pytest` does locally)."""
    env = {k: v for k, v in os.environ.items() if k != "SAMHANDLING_TEST_DATABASE_URL"}
    node = f"{__file__}::test_fixture_gives_a_live_server"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout


@pytest.mark.postgres_restart
def test_restart_keeps_committed_rows_and_clients_reconnect(postgres_url: str, scratch_table: str) -> None:
    if not _ours(postgres_url):
        pytest.skip("the test database is not the .ci/postgres server, so this test cannot restart it")
    old = psycopg.connect(postgres_url, autocommit=True)
    old.execute(_q("INSERT INTO {} VALUES (1), (2), (3)", scratch_table))

    started = time.monotonic()
    done = _script("restart")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == postgres_url
    assert time.monotonic() - started < 60

    with pytest.raises(psycopg.OperationalError):
        old.execute("SELECT 1")  # the server went away under this connection
    old.close()
    with psycopg.connect(postgres_url) as conn:
        rows = conn.execute(_q("SELECT id FROM {} ORDER BY id", scratch_table)).fetchall()
    assert rows == [(1,), (2,), (3,)]


@pytest.mark.postgres_restart
def test_restart_under_load_loses_no_committed_row(postgres_url: str, scratch_table: str) -> None:
    if not _ours(postgres_url):
        pytest.skip("the test database is not the .ci/postgres server, so this test cannot restart it")
    committed: list[int] = []
    errors: list[str] = []
    restarted = threading.Event()
    after_restart = threading.Event()
    stop = threading.Event()

    def writer() -> None:
        """Insert one row per transaction; on a lost connection, reconnect and go on (as a store would)."""
        conn: psycopg.Connection[tuple[object, ...]] | None = None
        next_id = 0
        while not stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(postgres_url, connect_timeout=2)
                next_id += 1
                with conn.transaction():
                    conn.execute(_q("INSERT INTO {} VALUES (%s)", scratch_table), (next_id,))
                committed.append(next_id)
                if restarted.is_set():
                    after_restart.set()
            except psycopg.OperationalError as error:
                errors.append(type(error).__name__)
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(0.05)
        if conn is not None:
            conn.close()

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(committed) < 50 and time.monotonic() < deadline:
            time.sleep(0.01)
        done = _script("restart")
        assert done.returncode == 0, done.stderr
        restarted.set()
        assert after_restart.wait(30), "the writer did not get going again after the restart"
        time.sleep(0.2)
    finally:
        stop.set()
        thread.join(30)

    with psycopg.connect(postgres_url) as conn:
        stored = {row[0] for row in conn.execute(_q("SELECT id FROM {}", scratch_table))}
    assert set(committed) <= stored  # every acknowledged commit survived
    assert len(stored - set(committed)) <= 1  # at most the one whose acknowledgement the restart cut off
    assert errors, "the restart should have broken the writer's connection at least once"
