"""The person's own page (``/meg``, a person's token) in a real browser (Debian's Chromium, Playwright): it loads
with no console error and no broken link, shows the person's plans, is usable with the keyboard alone (Tab reaches
the links, both text fields and the button, focus visible), axe-core finds no serious or critical WCAG 2.1 AA
violation, and the form posts without JavaScript and comes back to the page saying it was saved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from browser_helpers import Site, axe_serious

FNR = "15838510075"
KEY_TEXTS = ("Hei, Ola Nordmann", "Hvem du kan kontakte", "Liv Berg", "Krise- og mestringsplanen din", "Skriv selv")
FOCUSABLE = "a[href], button, input, textarea, select, [tabindex]:not([tabindex='-1'])"


@pytest.fixture
def person_page(site: Site, open_page: Callable[..., Any]) -> tuple[Any, list[str], dict[str, str]]:
    """Ola's own page opened in Chromium with his person's token: (page, console errors, request headers)."""
    assert site.service.issuer is not None
    headers = {"Authorization": f"Bearer {site.service.issuer.issue_person(FNR, ttl_seconds=3600)}"}
    page = open_page(headers)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    answer = page.goto(site.url + "/meg", wait_until="load")
    assert answer is not None and answer.status == 200, answer and answer.text()[:300]
    return page, errors, headers


def test_the_persons_page_loads_clean(person_page: tuple[Any, list[str], dict[str, str]]) -> None:
    page, errors, headers = person_page
    assert errors == [], errors
    targets = page.eval_on_selector_all("a[href], link[href], img[src]", "els => els.map(e => e.getAttribute('href'))")
    for target in targets:
        address = urljoin(page.url, target)
        if address.startswith("tel:") or address.split("#")[0] == page.url.split("#")[0]:
            continue
        assert page.request.get(address, headers=headers).status == 200, address
    assert page.evaluate("getComputedStyle(document.body).maxWidth") != "none", "the stylesheet did not load"
    text = " ".join(page.inner_text("body").split())
    for key in KEY_TEXTS:
        assert key in text, key


def test_the_keyboard_reaches_the_form(person_page: tuple[Any, list[str], dict[str, str]]) -> None:
    page, _, _ = person_page
    expected = page.eval_on_selector_all(FOCUSABLE, "els => els.map(e => e.outerHTML)")
    reached = []
    for _ in expected:
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.outerHTML"))
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); return [s.outlineStyle, s.outlineWidth]; })()"
        )
        assert outline[0] != "none" and outline[1] != "0px", f"focus not visible on {reached[-1][:80]}"
    assert reached == expected
    assert any('id="viktig-for-meg"' in r for r in reached) and any('id="hjelper-meg"' in r for r in reached)
    assert "Lagre" in reached[-1]  # the button, last


def test_axe_finds_no_serious_violation(person_page: tuple[Any, list[str], dict[str, str]], axe_script: Path) -> None:
    page, _, _ = person_page
    serious, result = axe_serious(page, axe_script)
    assert serious == [], serious
    print(f"axe meg: {len(result['passes'])} rules passed, {len(result['violations'])} violations")


def test_the_form_posts_without_javascript(
    site: Site, browser: Any, person_page: tuple[Any, list[str], dict[str, str]]
) -> None:
    _, _, headers = person_page
    context = browser.new_context(extra_http_headers=headers, java_script_enabled=False, locale="nb-NO")
    try:
        page = context.new_page()
        page.goto(site.url + "/meg")
        page.fill("#viktig-for-meg", "Å kunne gå tur med hunden <b>hver dag</b>")
        page.fill("#hjelper-meg", "Å ringe søsteren min")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url.endswith("/meg?lagret=1")
        text = " ".join(page.inner_text("body").split())
        assert "Takk! Det du skrev, er lagret." in text
        assert "Å kunne gå tur med hunden <b>hver dag</b>" in text  # shown as text, not markup
        assert "Å ringe søsteren min" in text
    finally:
        context.close()
