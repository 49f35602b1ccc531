"""The crisis plan pages and the patient overview in a real browser (Debian's Chromium, headless, driven by
Playwright): each page loads with no console error and no broken link or stylesheet, shows its key texts (checked
in the page and with a screenshot taken), prints on one A4 page, is usable with the keyboard alone (Tab reaches
every link and control in order, focus visible), and axe-core finds no serious or critical WCAG 2.1 AA violation."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin

import pytest
from browser_helpers import DPS, KOMMUNE, Site, axe_serious
from pypdf import PdfReader

FNR = "15838510075"
LEGEVAKT = "8100009"
STRANGER = "8199999"
REASON = "Akutt psykose, legevakten kl 03"
#: What a legevakt doctor must find: the first contact, the zones, a warning sign, what helps, the bed agreement.
KEY_TEXTS = (
    "Ring først",
    "Vestbyen DPS, ambulant akutteam",
    "Kari Nordmann, søster",
    "900 00 002",
    "Rød sone",
    "Gul sone",
    "Grønn sone",
    "Stemmene sier hva jeg skal gjøre",
    "Faste rutiner",
    "Avtale om brukerstyrt plass",
)
#: (name, path, org, scopes, expected status, key texts)
PAGES = [
    ("plan", "/CarePlan/krise-og-mestringsplan-ola", KOMMUNE, (), 200, KEY_TEXTS),
    ("stable", "/Patient/pasient-ola/kriseplan", DPS, (), 200, KEY_TEXTS),
    (
        "emergency",
        f"/Patient/$krise?identifier={FNR}&reason={quote(REASON)}",
        LEGEVAKT,
        ("samhandling/emergency",),
        200,
        (*KEY_TEXTS, "Nødtilgang", REASON, "Bergen kommune, kommunal akutt døgnenhet", "55 00 01 00"),
    ),
    ("form", "/Patient/$krise", LEGEVAKT, ("samhandling/emergency",), 200, ("Nødtilgang til kriseplan",)),
    ("refused", "/CarePlan/krise-og-mestringsplan-ola", STRANGER, (), 403, ("Du har ikke tilgang til denne planen",)),
    (
        "overview",
        "/Patient/pasient-ola/oversikt",
        KOMMUNE,
        ("samhandling/plans.read",),
        200,
        (
            "Ola Nordmann",
            "Hovedforløp",
            "Koordinator i kommunen",
            "Liv Berg",
            "Å ha et sted å bo",
            "Noe kan være skjult",
        ),
    ),
    (
        "overview-audit",
        "/Patient/pasient-ola/oversikt",
        DPS,
        (),
        200,
        ("Ola Nordmann", "Hovedforløp", "Hvem har sett opplysningene", "Bergen kommune, psykisk helse og rus"),
    ),
    (
        "overview-refused",
        "/Patient/pasient-ola/oversikt",
        STRANGER,
        (),
        403,
        ("Du har ikke tilgang til denne pasienten",),
    ),
]
FOCUSABLE = "a[href], button, input, textarea, select, [tabindex]:not([tabindex='-1'])"


@pytest.fixture(params=PAGES, ids=[p[0] for p in PAGES])
def loaded(
    request: pytest.FixtureRequest, site: Site, open_page: Callable[..., Any]
) -> tuple[Any, list[str], str, tuple[str, ...], dict[str, str]]:
    """A page opened in Chromium: (page, its console errors, name, key texts, request headers)."""
    name, path, org, scopes, status, texts = request.param
    headers = site.headers(org, *scopes)
    page = open_page(headers)
    errors: list[str] = []
    url = site.url + path

    def on_console(message: Any) -> None:
        own_status = message.text.startswith("Failed to load resource") and message.location.get("url") == url
        if message.type == "error" and not (own_status and status != 200):  # the refusal's own status
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    answer = page.goto(url, wait_until="load")
    assert answer is not None and answer.status == status, answer and answer.text()[:300]
    return page, errors, name, texts, headers


def test_page_loads_clean_with_its_key_texts(
    loaded: tuple[Any, list[str], str, tuple[str, ...], dict[str, str]], tmp_path: Path
) -> None:
    page, errors, name, texts, headers = loaded
    assert errors == [], errors
    # every link and stylesheet answers 200 (tel: links are phone numbers, not fetched)
    targets = page.eval_on_selector_all(
        "a[href], link[href], img[src], script[src]", "els => els.map(e => e.getAttribute('href') || e.src)"
    )
    for target in targets:
        address = urljoin(page.url, target)
        if address.startswith("tel:") or address.split("#")[0] == page.url.split("#")[0]:
            continue
        assert address.startswith(page.url.split("/", 3)[0] + "//" + page.url.split("/", 3)[2]), address
        asked = {**headers, "Accept": "text/html,*/*;q=0.8"}  # as the browser follows a link
        assert page.request.get(address, headers=asked).status == 200, address
    stylesheet_applied = page.evaluate("getComputedStyle(document.body).maxWidth")
    assert stylesheet_applied != "none", "the stylesheet did not load"
    text = " ".join(page.inner_text("body").split())
    for key in texts:
        assert key in text, key
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000


def test_page_prints_on_one_a4_page(loaded: tuple[Any, list[str], str, tuple[str, ...], dict[str, str]]) -> None:
    page, _, name, texts, _ = loaded
    page.emulate_media(media="print")
    pdf = page.pdf(format="A4", print_background=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1, f"{name} prints on {len(reader.pages)} pages"
    printed = " ".join(reader.pages[0].extract_text().split())
    assert texts[0] in printed
    assert "Last ned PDF" not in printed  # the links are for the screen


def test_keyboard_reaches_every_control_in_order(
    loaded: tuple[Any, list[str], str, tuple[str, ...], dict[str, str]],
) -> None:
    page, _, name, _, _ = loaded
    expected = page.eval_on_selector_all(FOCUSABLE, "els => els.map(e => e.outerHTML)")
    assert expected, f"{name} has nothing to reach with the keyboard"
    reached = []
    for _ in expected:
        page.keyboard.press("Tab")
        reached.append(page.evaluate("document.activeElement.outerHTML"))
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return [s.outlineStyle, s.outlineWidth, s.boxShadow]; })()"
        )
        assert outline[0] != "none" and outline[1] != "0px", f"focus not visible on {reached[-1][:80]}: {outline}"
    assert reached == expected


def test_axe_finds_no_serious_violation(
    loaded: tuple[Any, list[str], str, tuple[str, ...], dict[str, str]], axe_script: Path
) -> None:
    page, _, name, _, _ = loaded
    serious, result = axe_serious(page, axe_script)
    assert serious == [], serious
    print(
        f"axe {name}: {len(result['passes'])} rules passed, {len(result['violations'])} violations, "
        f"{len(result['incomplete'])} to review"
    )
