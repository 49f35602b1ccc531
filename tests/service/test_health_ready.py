"""``/health/ready`` (adapter/api/health.py): the store's schema at this release's revision ("migrations
current"), else 503 ADP-5070; and a store that does not answer is reported at once, not after the store's
reconnect tries."""

from __future__ import annotations

import statistics
import time
from typing import Any

import psycopg
import pytest
from flask.testing import FlaskClient
from reliability_helpers import free_port

from adapter.service import Service
from adapter.store.schema import HEAD, VERSION_TABLE

BOTH = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)


def execute(service: Service, sql: str) -> None:
    """``sql`` on the service's store, outside the service (as an operator or another release would)."""
    if service.store.dialect == "sqlite":
        import sqlite3

        connection = sqlite3.connect(service.store.path, isolation_level=None)
        try:
            connection.execute(sql)
        finally:
            connection.close()
    else:
        with psycopg.connect(service.store.url, autocommit=True) as connection:
            connection.execute(sql)


@BOTH
def test_ready_says_the_migrations_are_current(client: FlaskClient) -> None:
    answer = client.get("/health/ready")
    assert answer.status_code == 200
    assert answer.get_json() == {**answer.get_json(), "status": "ok", "store": "ok", "migrations": "current"}


@BOTH
@pytest.mark.parametrize(
    ("change", "code", "migrations"),
    [
        (f"DELETE FROM {VERSION_TABLE}", "ADP-5070", "behind"),  # noqa: S608 - a restore of a store before migrations
        (f"UPDATE {VERSION_TABLE} SET version_num = '9999'", "ADP-5077", "unknown"),  # noqa: S608 - a newer release
        (f"UPDATE {VERSION_TABLE} SET version_num = 'f00d'", "ADP-5077", "unknown"),  # noqa: S608
    ],
)
def test_a_schema_moved_under_the_service_makes_it_not_ready(
    client: FlaskClient, service: Service, change: str, code: str, migrations: str
) -> None:
    """A newer release's `db upgrade` (or a restore of an older schema) while this one runs: behind only when it
    is a revision this release could upgrade from, else unknown (newer), as `db current` says."""
    execute(service, change)
    answer = client.get("/health/ready")
    assert answer.status_code == 503 and answer.content_type == "application/json"
    body = answer.get_json()
    assert body["code"] == code and body["migrations"] == migrations and body["store"] == "ok"
    assert HEAD in body["detail"] and "samhandling db current" in body["detail"]
    assert ("newer" in body["detail"]) == (migrations == "unknown"), body["detail"]
    assert client.get("/health/live").status_code == 200
    execute(service, f"DELETE FROM {VERSION_TABLE}")  # noqa: S608 - test constants
    execute(service, f"INSERT INTO {VERSION_TABLE} VALUES ('{HEAD}')")  # noqa: S608 - test constants
    assert client.get("/health/ready").status_code == 200


def timed(client: FlaskClient, times: int) -> tuple[list[int], float]:
    """``times`` readiness answers: their statuses and the median seconds one took."""
    statuses, seconds = [], []
    for _ in range(times):
        started = time.perf_counter()
        statuses.append(client.get("/health/ready").status_code)
        seconds.append(time.perf_counter() - started)
    return statuses, statistics.median(seconds)


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # an embedded file does not go away
def test_an_unreachable_database_is_reported_about_as_fast_as_a_normal_answer(
    client: FlaskClient, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Through the store's reconnect tries it would take the store's bound (database_timeout, 15 s); the check
    answers no slower than a normal answer, give or take (a refused connection is quick)."""
    statuses, normal = timed(client, 5)
    assert statuses == [200] * 5
    # the database goes away: nothing listens at the port any more (the store's own connection stays open, so
    # the check must not lean on it)
    monkeypatch.setattr(service.store, "url", f"postgresql://postgres@127.0.0.1:{free_port()}/samhandling")
    statuses, down = timed(client, 3)
    assert statuses == [503] * 3
    assert client.get("/health/ready").get_json()["code"] == "ADP-5045"
    assert down < 5 * normal, (down, normal)


@BOTH
def test_the_probe_reads_through_a_connection_of_its_own(service: Service, backend: str) -> None:
    """Closing the store's connections does not make it unready: each check connects anew."""
    service.store.close()
    revision: Any = service.store.run(lambda tx: tx.dialect, probe=1.0)
    assert revision == backend
