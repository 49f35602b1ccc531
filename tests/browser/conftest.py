"""Fixtures of the browser tests: the service on a real HTTP server on localhost, with Ola's plans in it, and
Debian's Chromium driven by Playwright, with axe-core (tests/browser/package.json) to inject.

What they need: ``apt-get install -y chromium`` (/usr/bin/chromium), ``npm ci --prefix tests/browser`` (axe-core)
and Playwright from the dev extra (never ``playwright install``: the browser is Debian's). ``.ci/run`` installs
all three. Outside CI a missing one skips the tests; in CI (``CI=true``) it fails them, naming the command.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import threading
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_helpers import DPS, KOMMUNE, Site
from werkzeug.serving import make_server

from adapter.api import create_app
from adapter.config import Settings
from adapter.service import Service

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "fhir"
#: Chromium as root in a closed network (docs of the machine): no sandbox, no GPU, no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: The services' clock: inside the period of the example consent and of the crisis plan.
TODAY = datetime.datetime(2026, 6, 1, 12, tzinfo=datetime.UTC).timestamp()


def missing(what: str, command: str) -> None:
    """Fail in CI, skip elsewhere: ``what`` is missing and ``command`` installs it."""
    message = f"{what} is missing: install it with `{command}`"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """Scope: session. Type: Path of axe.min.js. Default: tests/browser/node_modules (``npm ci``)."""
    if not AXE.is_file():
        missing("axe-core", "npm ci --prefix tests/browser")
    return AXE


@pytest.fixture(scope="session")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Scope: session. Type: :class:`Site`, the service on a werkzeug server on 127.0.0.1 (a thread), with Ola's
    consent and individual plan from the kommune and his crisis plan from the DPS. Default: SQLite in a tmp dir."""
    data = tmp_path_factory.mktemp("browser-service")
    changed = dataclasses.replace(settings, data_dir=data, database_url="", demo_issuer=True, routes_file="")
    service = Service(changed, clock=lambda: TODAY)
    app = create_app(service=service)
    client = app.test_client()
    for org, name in ((KOMMUNE, "samtykke"), (KOMMUNE, "individuell-plan"), (DPS, "kriseplan")):
        bundle = (EXAMPLES / f"Bundle-melding-{name}-ola.json").read_bytes()
        headers = {"Content-Type": "application/fhir+json", **Site.token(service, org)}
        answer = client.post("/$process-message", data=bundle, headers=headers)
        assert answer.status_code == 200, answer.data[:500]
        assert json.loads(answer.data)["entry"][0]["resource"]["response"]["code"] == "ok"
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Site(f"http://127.0.0.1:{server.server_port}", service)
    finally:
        server.shutdown()
        thread.join(10)
        service.store.close()
        service.outbound.close()


@pytest.fixture(scope="session")
def browser() -> Generator[Any, None, None]:
    """Scope: session. Type: a Playwright Browser, Debian's Chromium headless. Default: /usr/bin/chromium."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright", "pip install -e '.[dev]'")
    if not CHROMIUM.is_file():
        missing("Chromium", "apt-get install -y chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def open_page(browser: Any) -> Generator[Callable[..., Any], None, None]:
    """Scope: function. Type: ``open_page(headers)`` -> a new Page in a context sending ``headers`` (the token)
    with every request, CSP bypassed so axe-core can be injected. Default: A4-wide viewport."""
    contexts: list[Any] = []

    def make(headers: dict[str, str]) -> Any:
        context = browser.new_context(
            extra_http_headers=headers, bypass_csp=True, viewport={"width": 1000, "height": 1200}, locale="nb-NO"
        )
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
