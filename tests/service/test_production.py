"""Running in production, tried as an attacker and an operator would: the public base URL (no Host header a caller
makes up ends in a link), X-Forwarded-* only from trusted proxies, the health checks, the store's file mode, and
``serve`` refusing a setup that cannot work."""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from flask import Flask
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, ack_code, example_json

from adapter.api import create_app
from adapter.cli import main
from adapter.config import Settings
from adapter.security import DemoIssuer
from adapter.service import Service

Auth = Callable[..., dict[str, str]]
BASE = "https://fhir.example.no/fhir"
#: What an attacker sends to get their own host into the links: the Host header and every X-Forwarded-* header.
SPOOFED = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil-forwarded.example",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Port": "4443",
    "X-Forwarded-Prefix": "/evil-prefix",
    "X-Forwarded-For": "203.0.113.66",
}
FNR = "15838510075"
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}


def app_with(make_service: Callable[..., Service], settings: Settings, **changes: Any) -> tuple[Flask, Service]:
    service = make_service(settings, **changes)
    return create_app(service=service), service


def send(client: FlaskClient, org: str, name: str, auth: Auth) -> None:
    answer = client.post(
        "/$process-message",
        data=json.dumps(example_json(name)),
        headers={**auth(org), "Content-Type": "application/fhir+json"},
    )
    assert answer.status_code == 200 and ack_code(answer.get_json()) == "ok", answer.get_data(as_text=True)[-2000:]


def tokens(service: Service) -> Auth:
    def headers(org: str = DPS) -> dict[str, str]:
        assert service.issuer is not None
        scopes = ["samhandling/messages", "samhandling/plans.read", "samhandling/plans.write", "samhandling/audit"]
        return {"Authorization": f"Bearer {service.issuer.issue(org, scopes, ttl_seconds=600)}"}

    return headers


def bundle_urls(bundle: dict[str, Any]) -> list[str]:
    """The Bundle's own links and its entries' fullUrls."""
    return [link["url"] for link in bundle.get("link") or []] + [e["fullUrl"] for e in bundle.get("entry") or []]


def no_evil(answer: Any) -> None:
    """Nothing of the spoofed headers anywhere in the answer, headers or body."""
    text = answer.get_data(as_text=True) + "\n" + "\n".join(f"{k}: {v}" for k, v in answer.headers.items())
    for word in ("evil", "4443", "203.0.113.66"):
        assert word not in text, f"{word} echoed: {text[:3000]}"


# --- the public base URL ---------------------------------------------------------------------------------------


def test_with_a_base_url_no_link_location_or_redirect_echoes_the_callers_host(
    service_settings: Settings, make_service: Callable[..., Service]
) -> None:
    app, service = app_with(make_service, service_settings, base_url=BASE + "/")  # a trailing slash is taken off
    client, auth = app.test_client(), tokens(service)
    send(client, KOMMUNE, "fhir/Bundle-melding-samtykke-ola.json", auth)
    send(client, DPS, "fhir/Bundle-melding-kriseplan-ola.json", auth)

    metadata = client.get("/metadata", headers=SPOOFED)
    assert metadata.get_json()["implementation"]["url"] == BASE
    no_evil(metadata)

    search = client.get("/CarePlan?_count=1", headers={**auth(DPS), **SPOOFED})
    bundle = search.get_json()
    found = bundle_urls(bundle)
    assert found and all(u.startswith(BASE + "/") for u in found), found
    assert {link["relation"] for link in bundle["link"]} >= {"self", "first"}
    no_evil(search)

    plan = dict(bundle["entry"][0]["resource"])
    history = client.get(f"/CarePlan/{plan['id']}/_history", headers={**auth(DPS), **SPOOFED})
    found = bundle_urls(history.get_json())
    assert found and all(u.startswith(BASE + "/") for u in found), found
    no_evil(history)

    plan.pop("id")
    plan.pop("meta", None)
    created = client.post("/CarePlan", json=plan, headers={**auth(DPS), **SPOOFED})
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == f"{BASE}/CarePlan/{created.get_json()['id']}/_history/1"
    no_evil(created)

    slash = client.get("/ig", headers=SPOOFED)  # Werkzeug's own redirect to /ig/
    assert slash.status_code == 308 and slash.headers["Location"] == f"{BASE}/ig/"


def test_the_pages_link_under_the_base_urls_path_whatever_the_host(
    service_settings: Settings, make_service: Callable[..., Service]
) -> None:
    app, service = app_with(make_service, service_settings, base_url=BASE)
    client, auth = app.test_client(), tokens(service)
    send(client, KOMMUNE, "fhir/Bundle-melding-samtykke-ola.json", auth)
    send(client, DPS, "fhir/Bundle-melding-kriseplan-ola.json", auth)
    plans = client.get("/CarePlan", headers=auth(DPS)).get_json()
    rid = plans["entry"][0]["resource"]["id"]
    page = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), **SPOOFED, "Accept": "text/html"})
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    assert 'href="/fhir/pages/static/' in html and f'href="/fhir/CarePlan/{rid}?format=pdf"' in html
    no_evil(page)


def test_the_persons_form_goes_back_to_the_base_url_and_is_checked_against_its_host(
    service_settings: Settings, make_service: Callable[..., Service]
) -> None:
    app, service = app_with(make_service, service_settings, base_url=BASE)
    client, auth = app.test_client(), tokens(service)
    send(client, KOMMUNE, "fhir/Bundle-melding-samtykke-ola.json", auth)
    send(client, KOMMUNE, "fhir/Bundle-melding-individuell-plan-ola.json", auth)
    assert service.issuer is not None
    person = {"Authorization": f"Bearer {service.issuer.issue_person(FNR, ttl_seconds=600)}"}
    saved = client.post("/meg", data={"viktig": "Katten min"}, headers={**person, **FORM, **SPOOFED})
    assert saved.status_code == 303 and saved.headers["Location"] == f"{BASE}/meg?lagret=1"
    no_evil(saved)
    # a browser without Sec-Fetch-Site: the Origin must be the public host, not whatever Host the request named
    bare = {**person, "Content-Type": "application/x-www-form-urlencoded"}
    forged = client.post(
        "/meg", data={"viktig": "x"}, headers={**bare, "Host": "evil.example", "Origin": "http://evil.example"}
    )
    assert forged.status_code == 403
    same = client.post("/meg", data={"viktig": "y"}, headers={**bare, "Origin": "https://fhir.example.no"})
    assert same.status_code == 303
    page = client.get("/meg", headers={**person, **SPOOFED}).get_data(as_text=True)
    assert 'href="/fhir/pages/static/' in page and "evil" not in page


def test_without_a_base_url_forwarded_headers_are_ignored(client: FlaskClient, auth: Auth) -> None:
    """Default (trusted_proxies 0): X-Forwarded-Proto is a caller's word like X-Forwarded-Host, and ignored."""
    forwarded = {k: v for k, v in SPOOFED.items() if k != "Host"}
    metadata = client.get("/metadata", headers=forwarded).get_json()
    assert metadata["implementation"]["url"] == "http://localhost"
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    created = client.post("/CarePlan", json=plan, headers={**auth(DPS), **forwarded})
    assert created.status_code == 201, created.get_json()
    assert created.headers["Location"] == f"http://localhost/CarePlan/{created.get_json()['id']}/_history/1"
    assert client.get("/ig", headers=forwarded).headers["Location"] == "http://localhost/ig/"


def test_forwarded_headers_count_from_the_trusted_proxies_only(
    service_settings: Settings, make_service: Callable[..., Service]
) -> None:
    app, _ = app_with(make_service, service_settings, trusted_proxies=1)
    client = app.test_client()
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "public.example.no", "X-Forwarded-For": "198.51.100.7"}
    assert client.get("/metadata", headers=proxied).get_json()["implementation"]["url"] == "https://public.example.no"
    # a caller's own X-Forwarded-Host before the proxy's value: the one proxy trusted appended the last one
    chained = {**proxied, "X-Forwarded-Host": "evil.example, public.example.no"}
    assert client.get("/metadata", headers=chained).get_json()["implementation"]["url"] == "https://public.example.no"
    # with a base URL, it alone decides
    app, _ = app_with(make_service, service_settings, trusted_proxies=1, base_url=BASE)
    assert app.test_client().get("/metadata", headers=proxied).get_json()["implementation"]["url"] == BASE


@pytest.mark.parametrize(
    "url",
    [
        "fhir.example.no",
        "/fhir",
        "ftp://fhir.example.no",
        "javascript:alert(1)",
        "https://",
        "https://fhir.example.no/fhir?x=1",
        "https://fhir.example.no/fhir#top",
        "https://fhir.example.no:99999",
        "https://fhir.example.no/ fhir",
        "https://fhir.example.no/\nSet-Cookie: x",
        "https://user:secret@fhir.example.no",
    ],
)
def test_a_base_url_that_is_no_absolute_http_url_is_refused(url: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SAMHANDLING_BASE_URL") as raised:
        Settings(base_url=url)
    assert "secret" not in str(raised.value)
    result = CliRunner().invoke(main, ["serve"], env={**clean_env(tmp_path), "SAMHANDLING_BASE_URL": url})
    assert result.exit_code == 2 and "SAMHANDLING_BASE_URL" in result.output, result.output
    assert "Traceback" not in result.output and "secret" not in result.output


def test_a_negative_number_of_trusted_proxies_is_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve"], env={**clean_env(tmp_path), "SAMHANDLING_TRUSTED_PROXIES": "-1"})
    assert result.exit_code == 2 and "SAMHANDLING_TRUSTED_PROXIES" in result.output


# --- health ------------------------------------------------------------------------------------------------------


def test_health_needs_no_token_and_says_nothing_else(client: FlaskClient) -> None:
    for path in ("/health/live", "/health/ready"):
        for headers in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200 and answer.content_type == "application/json", path
            assert answer.get_json()["status"] == "ok" and answer.headers["Cache-Control"] == "no-store"
    assert client.get("/health/live").get_json() == {"status": "ok"}
    ready = client.get("/health/ready").get_json()
    assert ready == {"status": "ok", "store": "ok", "migrations": "current", "outbox_lag_seconds": 0.0}
    assert client.post("/health/ready").status_code == 405
    assert client.get("/health/other").status_code == 401  # only the two paths are open


def test_ready_reports_the_age_of_the_oldest_pending_delivery(client: FlaskClient, service: Service) -> None:
    def queue(tx: Any) -> None:
        tx.enqueue("m1", "http://receiver.example/fhir", "fhir", "application/fhir+json", b"{}")
        tx.enqueue("m2", "http://receiver.example/fhir", "fhir", "application/fhir+json", b"{}")

    service.store.run(queue)
    assert service.settings.sqlite_file is not None
    with sqlite3.connect(service.settings.sqlite_file) as db:  # the first one queued an hour ago
        db.execute("UPDATE outbox SET created_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 hour') WHERE msg_id='m1'")
    lag = client.get("/health/ready").get_json()["outbox_lag_seconds"]
    assert 3590 < lag < 3700
    with sqlite3.connect(service.settings.sqlite_file) as db:
        db.execute("UPDATE outbox SET state = 'delivered' WHERE msg_id = 'm1'")
    assert client.get("/health/ready").get_json()["outbox_lag_seconds"] < 60


def test_ready_is_a_503_with_json_when_the_store_does_not_answer(
    client: FlaskClient, service: Service, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(work: Any, **_: Any) -> Any:
        raise sqlite3.OperationalError("unable to open database file /srv/secret/samhandling.sqlite")

    monkeypatch.setattr(service.store, "run", broken)
    answer = client.get("/health/ready")
    assert answer.status_code == 503 and answer.content_type == "application/json"
    body = answer.get_json()
    assert body["status"] == "unavailable" and body["code"] == "ADP-5045" and body["store"] == "unavailable"
    assert "secret" not in answer.get_data(as_text=True)  # the reason goes to the log, not to whoever asks
    assert "secret" in caplog.text
    assert client.get("/health/live").status_code == 200  # the process still answers


# --- the store's file ----------------------------------------------------------------------------------------------


def test_the_sqlite_file_and_its_siblings_are_the_owners_alone(service_settings: Settings, tmp_path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: the mode must not depend on it
    try:
        service = Service(dataclasses.replace(service_settings, data_dir=tmp_path / "fresh"))
        service.store.run(lambda tx: tx.enqueue("m", "http://r.example", "fhir", "application/fhir+json", b"{}"))
        assert service.settings.sqlite_file is not None
        names = [service.settings.sqlite_file.name + s for s in ("", "-wal", "-shm")]
        found = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "fresh").iterdir()}
        assert set(names) <= set(found), found
        for name in names:
            assert found[name] == 0o600, (name, oct(found[name]))
        assert stat.S_IMODE((tmp_path / "fresh").stat().st_mode) & 0o077 == 0
        service.store.close()
        service.outbound.close()
    finally:
        os.umask(old)


# --- serve refuses a production setup that cannot work ------------------------------------------------------------


def clean_env(tmp_path: Path) -> dict[str, str | None]:
    """An environment with no SAMHANDLING_* setting of the test run but the standards (and data in tmp_path)."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SAMHANDLING_")}
    env.pop("SAMHANDLING_STANDARDS", None)
    env["SAMHANDLING_DATA_DIR"] = str(tmp_path / "data")
    return env


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Scope: function. Type: the gunicorn settings of each ``serve`` that got as far as starting gunicorn (which
    is not run). Default: empty."""
    from gunicorn.app.base import BaseApplication

    runs: list[dict[str, Any]] = []

    def run(self: Any) -> None:
        runs.append({key: setting.value for key, setting in self.cfg.settings.items()})

    monkeypatch.setattr(BaseApplication, "run", run)
    return runs


def keys_file(tmp_path: Path) -> Path:
    path = tmp_path / "issuer-jwks.json"
    issuer = DemoIssuer(tmp_path / "issuer", "urn:test:issuer", "samhandling-adapter")
    path.write_text(json.dumps(issuer.jwks()), encoding="utf-8")
    return path


def test_production_serve_without_keys_or_routes_names_both_and_exits_2(
    tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    result = CliRunner().invoke(main, ["serve"], env=clean_env(tmp_path))
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if "ADP-0009" in line]
    assert len(lines) == 1 and "SAMHANDLING_TOKEN_KEYS_FILE" in lines[0] and "SAMHANDLING_ROUTES_FILE" in lines[0]
    assert "Traceback" not in result.output and not started


def test_production_serve_with_keys_but_no_routes_needs_to_be_told(
    tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    env = {**clean_env(tmp_path), "SAMHANDLING_TOKEN_KEYS_FILE": str(keys_file(tmp_path))}
    refused = CliRunner().invoke(main, ["serve"], env=env)
    assert (
        refused.exit_code == 2
        and "SAMHANDLING_ROUTES_FILE" in refused.output
        and "--allow-empty-routes" in refused.output
    )
    assert "SAMHANDLING_TOKEN_KEYS_FILE" not in refused.output and not started
    empty = tmp_path / "routes.yaml"
    empty.write_text("routes: []\n", encoding="utf-8")
    also_refused = CliRunner().invoke(main, ["serve"], env={**env, "SAMHANDLING_ROUTES_FILE": str(empty)})
    assert also_refused.exit_code == 2 and "SAMHANDLING_ROUTES_FILE" in also_refused.output
    allowed = CliRunner().invoke(main, ["serve", "--allow-empty-routes", "--port", "8443"], env=env)
    assert allowed.exit_code == 0, allowed.output
    assert started and started[0]["bind"] == ["127.0.0.1:8443"]


def test_production_serve_with_routes_but_no_keys_is_refused_even_when_allowed_empty_routes(
    tmp_path: Path, settings: Settings, started: list[dict[str, Any]]
) -> None:
    env = {**clean_env(tmp_path), "SAMHANDLING_ROUTES_FILE": str(settings.examples_dir / "service" / "routes.yaml")}
    result = CliRunner().invoke(main, ["serve", "--allow-empty-routes"], env=env)
    assert result.exit_code == 2 and "SAMHANDLING_TOKEN_KEYS_FILE" in result.output, result.output
    assert "SAMHANDLING_ROUTES_FILE" not in result.output and not started


def test_serve_starts_with_keys_and_routes_and_gunicorn_trusts_no_forwarded_header_itself(
    tmp_path: Path, settings: Settings, started: list[dict[str, Any]]
) -> None:
    env = {
        **clean_env(tmp_path),
        "SAMHANDLING_TOKEN_KEYS_FILE": str(keys_file(tmp_path)),
        "SAMHANDLING_ROUTES_FILE": str(settings.examples_dir / "service" / "routes.yaml"),
    }
    result = CliRunner().invoke(main, ["serve", "--workers", "1", "--threads", "1"], env=env)
    assert result.exit_code == 0, result.output
    (options,) = started
    assert options["workers"] == 1 and options["threads"] == 1
    assert options["forwarded_allow_ips"] == [] and options["secure_scheme_headers"] == {}


def test_demo_serve_needs_neither(tmp_path: Path, started: list[dict[str, Any]]) -> None:
    result = CliRunner().invoke(main, ["serve", "--demo"], env=clean_env(tmp_path))
    assert result.exit_code == 0, result.output
    assert started and "ADP-0009" not in result.output


# --- the same under gunicorn, as `serve` runs it ----------------------------------------------------------------------


def test_under_gunicorn_forwarded_proto_and_host_are_ignored_and_health_answers(tmp_path: Path) -> None:
    """gunicorn by itself takes X-Forwarded-Proto from 127.0.0.1; ``serve`` turns that off, so that only
    SAMHANDLING_TRUSTED_PROXIES decides (0 here)."""
    from reliability_helpers import ServiceProcess, free_port, service_env

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = service_env(tmp_path / "data")
    server = ServiceProcess(
        ["serve", "--port", str(port), "--workers", "1", "--threads", "2", "--no-delivery", "--allow-empty-routes"],
        env,
        tmp_path / "log",
    )
    try:
        server.start().wait_ready(base)
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example", "X-Forwarded-Ssl": "on"}
        answer = requests.get(base + "/metadata", headers=forwarded, timeout=10)
        assert answer.json()["implementation"]["url"] == base
        assert requests.get(base + "/health/live", timeout=10).json() == {"status": "ok"}
        ready = requests.get(base + "/health/ready", timeout=10)
        assert ready.status_code == 200 and ready.json()["store"] == "ok"
    finally:
        server.stop()
