"""Fixtures of the service tests: a Service per test on a fresh store (SQLite, or PostgreSQL for the tests that
ask for ``backend``), its Flask app and client, and tokens from its demo issuer."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, exchange

from adapter.api import create_app
from adapter.config import Settings
from adapter.security import SCOPES
from adapter.service import Service
from adapter.translate import Translator
from adapter.validate import Validator

TABLES = ("messages", "resources", "search", "outbox", "audit", "nhn_inbox", "schema_version")
#: The services' clock: inside the period of the example consent (2026-01-05 to 2031-01-05), whatever the date.
TODAY = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC).timestamp()


@pytest.fixture(scope="session")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: session. Type: Translator (mappings and XSDs loaded once). Default: over the session validator."""
    return Translator(settings, validator)


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Scope: function. Type: "sqlite" or "postgresql". Default: sqlite; tests parametrize it indirectly."""
    return str(request.param)


@pytest.fixture
def service_settings(settings: Settings, tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Settings:
    """Scope: function. Type: Settings of a service with a fresh store and the demo issuer. Default: SQLite in
    tmp_path; for ``backend`` postgresql the test database of ``postgres_url``, emptied first."""
    database_url = ""
    if backend == "postgresql":
        database_url = request.getfixturevalue("postgres_url")
        with psycopg.connect(database_url, autocommit=True) as connection:
            for table in TABLES:
                connection.execute(f"DROP TABLE IF EXISTS {table}")
    return dataclasses.replace(
        settings, data_dir=tmp_path / "data", database_url=database_url, demo_issuer=True, routes_file=""
    )


@pytest.fixture
def make_service(translator: Translator) -> Generator[Callable[..., Service], None, None]:
    """Scope: function. Type: a factory ``make_service(settings, **changes)`` of Services sharing the session
    translator, with the clock at TODAY; each one's store is closed at the end. Default: none made."""
    made: list[Service] = []

    def make(settings: Settings, **changes: Any) -> Service:
        service = Service(dataclasses.replace(settings, **changes), translator=translator, clock=lambda: TODAY)
        made.append(service)
        return service

    yield make
    for service in made:
        service.store.close()
        service.outbound.close()


@pytest.fixture
def service(service_settings: Settings, make_service: Callable[..., Service]) -> Service:
    """Scope: function. Type: Service on a fresh store, demo issuer, no routes. Default: from service_settings."""
    return make_service(service_settings)


@pytest.fixture
def app(service: Service) -> Flask:
    """Scope: function. Type: the Flask app of ``service``. Default: create_app(service=service)."""
    return create_app(service=service)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Scope: function. Type: Flask test client. Default: of ``app``."""
    return app.test_client()


@pytest.fixture
def auth(service: Service) -> Callable[..., dict[str, str]]:
    """Scope: function. Type: ``auth(org, *scopes)`` -> request headers with a demo token (all scopes when none
    are named). Default: tokens of the service's demo issuer."""

    def headers(org: str = DPS, *scopes: str) -> dict[str, str]:
        assert service.issuer is not None
        token = service.issuer.issue(org, scopes or SCOPES, ttl_seconds=600)
        return {"Authorization": f"Bearer {token}"}

    return headers


@pytest.fixture
def shared(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> FlaskClient:
    """Scope: function. Type: the client after the example consent (the kommune records it; the kommune may read the
    DPS's plans) and the DPS's crisis plan (with its goal, care team, patient and author) were exchanged."""
    exchange(client, auth, (KOMMUNE, "samtykke"), (DPS, "kriseplan"))
    return client
