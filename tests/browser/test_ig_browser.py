"""The implementation guide in a real browser (Debian's Chromium, headless, driven by Playwright): the home page, a
profile page (the crisis-and-coping plan) and the KITH mapping overview load with no console error and no broken
link or stylesheet, show their key texts (checked in the page, and a screenshot taken), can be used with the
keyboard (Tab moves through the links in order with the focus visible), and axe-core finds no serious or critical
WCAG 2.1 AA violation. The guide needs no token."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from browser_helpers import Site, axe_serious

#: (name, path, key texts)
PAGES = [
    ("home", "/ig/", ("krise- og mestringsplan", "krise-og-mestringsplan", "hovedforløp")),
    (
        "profile",
        "/ig/StructureDefinition-krise-og-mestringsplan.html",
        ("CarePlan.activity", "kriseplan-del", "kmp-1"),
    ),
    ("mappings", "/ig/mappings.html", ("Dialogmelding", "Henvisning", "PLO")),
]
#: The first links Tab must reach in order (a profile page has hundreds; the order of the first ones says enough).
FIRST_STOPS = 25


@pytest.fixture(params=PAGES, ids=[p[0] for p in PAGES])
def guide_page(request: pytest.FixtureRequest, site: Site, open_page: Callable[..., Any]) -> tuple[Any, list[str]]:
    """(a guide page opened in Chromium with no token, its console errors)."""
    name, path, texts = request.param
    page = open_page({})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    answer = page.goto(site.url + path, wait_until="load")
    assert answer is not None and answer.status == 200, answer and answer.text()[:300]
    page.name, page.texts = name, texts  # type: ignore[attr-defined]
    return page, errors


def test_guide_page_loads_clean_with_its_key_texts(guide_page: tuple[Any, list[str]], tmp_path: Path) -> None:
    page, errors = guide_page
    assert errors == [], errors
    origin = "/".join(page.url.split("/", 3)[:3])
    targets = set(page.eval_on_selector_all("a[href], link[href], img[src]", "els => els.map(e => e.href || e.src)"))
    for target in sorted(targets):
        address = urljoin(page.url, target).split("#")[0]
        if not address.startswith(origin):
            continue  # outside links (HL7, Volven) are not followed: tests never touch the network
        assert page.request.get(address).status == 200, address
    assert page.evaluate("document.styleSheets.length") >= 1, "the stylesheet did not load"
    text = " ".join(page.inner_text("body").split()).lower()
    for key in page.texts:
        assert key.lower() in text, key
    shot = tmp_path / f"ig-{page.name}.png"
    page.screenshot(path=str(shot), full_page=False)
    assert shot.stat().st_size > 10_000


def test_guide_page_can_be_used_with_the_keyboard(guide_page: tuple[Any, list[str]]) -> None:
    page, _ = guide_page
    expected = page.eval_on_selector_all("a[href], button, input, select, textarea", "els => els.map(e => e.outerHTML)")
    assert expected, f"{page.name} has no link"
    reached = []
    for _ in expected[:FIRST_STOPS]:
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.outerHTML"))
        style = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement); return s.outlineStyle; })()"
        )
        assert style != "none", f"focus not visible on {reached[-1][:80]}"
    assert reached == expected[:FIRST_STOPS]


def test_axe_finds_no_serious_violation_in_the_guide(guide_page: tuple[Any, list[str]], axe_script: Path) -> None:
    page, _ = guide_page
    serious, result = axe_serious(page, axe_script)
    assert serious == [], serious
    print(f"axe ig-{page.name}: {len(result['passes'])} passed, {len(result['violations'])} violations")
