"""The implementation guide site (``samhandling profiles site``, served at /ig/): every conformance resource has a
page, every page is well-formed HTML in Norwegian with a title and links that resolve, the profile and mapping pages
show what they should, the guideline model agrees with README's table, and the service serves the site without a
token and refuses paths that leave it."""

from __future__ import annotations

import dataclasses
import json
import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest
import yaml
from click.testing import CliRunner
from werkzeug.test import Client, TestResponse

from adapter.api import create_app
from adapter.build.site import write_site
from adapter.build.site.cache import CACHE_FOLDER, cached_site
from adapter.cli import main
from adapter.config import Settings
from adapter.service import Service
from adapter.validate import Validator

PAGE_TYPES = ("StructureDefinition", "Questionnaire", "CodeSystem", "ValueSet", "ConceptMap")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
CRISIS_PLAN = "StructureDefinition-krise-og-mestringsplan.html"


@pytest.fixture(scope="module")
def site(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Scope: module. Type: Path, the folder of the generated site. Default: write_site into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    written = write_site(settings, folder)
    assert all(path.parent == folder for path in written)
    return folder


def _pages(site: Path) -> list[Path]:
    return sorted(site.glob("*.html"))


def _tree(path: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring(path.read_bytes())


def _row(tree: lxml.html.HtmlElement, header: str) -> list[str]:
    """The cells' texts of the first table row whose row header is ``header``."""
    for row in tree.iter("tr"):
        cells = row.xpath("./th|./td")
        if cells and cells[0].get("scope") == "row" and cells[0].text_content().split() == header.split():
            return [" ".join(cell.text_content().split()) for cell in cells]
    raise AssertionError(f"no row {header!r}")


def test_every_conformance_resource_has_a_page(settings: Settings, site: Path) -> None:
    expected, events = set(), set()
    for path in (settings.profiles_dir / "resources").glob("*.json"):
        resource = json.loads(path.read_text(encoding="utf-8"))
        if resource["resourceType"] in PAGE_TYPES:
            expected.add(f"{resource['resourceType']}-{resource['id']}.html")
        elif resource["resourceType"] == "MessageDefinition":
            events.add(resource["id"])
    assert len(expected) >= 70 and len(events) >= 10
    assert expected <= {path.name for path in _pages(site)}
    assert events <= {str(h.get("id")) for h in _tree(site / "events.html").iter("h2")}
    for name in ("index.html", "profiles.html", "terminology.html", "events.html", "mappings.html", "errors.html"):
        assert (site / name).is_file(), name


class _Balance(HTMLParser):
    """Checks that every element is closed, in order (void elements need no end tag)."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> at {self.getpos()} closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()


@pytest.mark.parametrize("check", ["well-formed", "accessible"])
def test_every_page_is_well_formed_html_in_norwegian_with_a_title(site: Path, check: str) -> None:
    for path in _pages(site):
        text = path.read_text(encoding="utf-8")
        if check == "well-formed":
            assert text.startswith("<!DOCTYPE html>"), path.name
            balance = _Balance()
            balance.feed(text)
            balance.close()
            assert balance.problems == [] and balance.stack == [], (path.name, balance.problems, balance.stack)
            continue
        tree = _tree(path)
        assert tree.get("lang") == "nb", path.name
        assert tree.findtext(".//title").strip(), path.name
        assert len(tree.findall(".//h1")) == 1, path.name
        levels = [int(h.tag[1]) for h in tree.iter("h1", "h2", "h3", "h4", "h5", "h6")]
        assert all(b <= a + 1 for a, b in zip(levels, levels[1:], strict=False)), (path.name, levels)
        assert tree.xpath("//a[@href='#main']") and tree.xpath("//main[@id='main']"), path.name
        assert all(th.get("scope") in ("col", "row") for th in tree.iter("th")), path.name
        ids = [element.get("id") for element in tree.iter() if element.get("id")]
        assert len(ids) == len(set(ids)), path.name


def test_every_internal_link_and_stylesheet_resolves(site: Path) -> None:
    ids: dict[str, set[str]] = {}
    for path in _pages(site):
        ids[path.name] = {str(e.get("id")) for e in _tree(path).iter() if e.get("id")}
    checked = 0
    for path in _pages(site):
        tree = _tree(path)
        stylesheets = tree.xpath("//link[@rel='stylesheet']/@href")
        assert stylesheets == ["style.css"], path.name
        for href in [*tree.xpath("//a/@href"), *stylesheets]:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc:
                assert parts.scheme in ("http", "https"), (path.name, href)
                continue
            target = unquote(parts.path) or path.name
            assert "/" not in target and (site / target).is_file(), (path.name, href)
            if parts.fragment:
                assert parts.fragment in ids[target], (path.name, href)
            checked += 1
    assert checked > 1000


def test_the_crisis_plan_page_shows_cardinalities_must_support_bindings_slices_invariants(site: Path) -> None:
    tree = _tree(site / CRISIS_PLAN)
    assert tree.findtext(".//h1") == "Krise- og mestringsplan"
    activity = _row(tree, "CarePlan.activity")
    assert activity[1] == "3..*" and activity[2] == "MS"
    code = _row(tree, "CarePlan.activity.detail.code")
    assert code[1] == "1..1" and code[2] == "MS" and "required: Del av krise- og mestringsplan" in code[4]
    assert tree.xpath("//a[@href='ValueSet-kriseplan-del.html']")
    assert _row(tree, "CarePlan.subject")[1] == "1..1"
    assert "Sone" in _row(tree, "CarePlan.activity.extension:sone")[3]
    assert _row(tree, "varselsignaler")[1] == "1..*"
    assert _row(tree, "brukerstyrt-plass")[1] == "0..1"
    invariant = _row(tree, "kmp-1")
    assert invariant[2] == "error"
    assert invariant[3].startswith("Planen skal si hvem som skal kontaktes i rød sone")
    assert invariant[4].startswith("The plan shall say whom to contact in the red zone")
    assert "kriseplan-del" in invariant[5]
    examples = [h.text_content() for h in tree.xpath("//h2[@id='eksempler']/following-sibling::h3")]
    assert "CarePlan/krise-og-mestringsplan-ola" in examples
    assert '"resourceType": "CarePlan"' in tree.xpath("string(//pre)")


def test_the_mapping_page_lists_kith_elements_and_their_fhir_elements_both_ways(site: Path) -> None:
    tree = _tree(site / "mapping-kith-dialogmelding-1.1.html")
    topic = _row(tree, "Dialogmelding/Notat/TemaKodet")
    assert topic[1] == "Communication.topic.coding[0]" and topic[3] == "begge veier"
    assert _row(tree, "Dialogmelding/Notat/Tema")[1] == "Communication.topic.text"
    assert "fhir.to-kith-dialogmelding-1.1.yaml" in tree.text_content()
    assert "bare til FHIR" in tree.text_content()
    index = _tree(site / "mappings.html")
    assert index.xpath("//a[@href='mapping-kith-dialogmelding-1.1.html']")
    assert "kith-residue" in index.text_content()


def test_events_and_home_page(site: Path) -> None:
    events = _tree(site / "events.html")
    assert _row(events, "Krise- og mestringsplan delt crisisplan-shared")[3] == "DIALOG_HELSEFAGLIG Helsefaglig dialog"
    assert events.xpath("//h2[@id='md-crisisplan-shared']")
    home = _tree(site / "index.html")
    crisis = _row(home, "krise- og mestringsplan crisis and coping plan")
    assert "Krise- og mestringsplan (CarePlan krise-og-mestringsplan)" in crisis[1]
    assert home.xpath(f"//a[@href='{CRISIS_PLAN}']")


def test_the_model_file_agrees_with_the_readme_model_table(settings: Settings) -> None:
    readme = (settings.home / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The model", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|")[1:3] for line in section.splitlines() if line.startswith("| ") and "---" not in line]
    table = {first.strip(): set(re.findall(r"`([^`]+)`", second)) for first, second in rows[1:]}
    ids = {json.loads(p.read_text(encoding="utf-8"))["id"] for p in (settings.profiles_dir / "resources").glob("*")}
    model = yaml.safe_load((settings.profiles_dir / "model.yaml").read_text(encoding="utf-8"))
    assert [entry["guideline"] for entry in model] == list(table)
    for entry in model:
        named = {ref.split("/", 1)[1] for ref in entry["resources"]}
        assert named <= ids, entry["guideline"]
        assert named == table[entry["guideline"]] & ids, entry["guideline"]


@pytest.fixture(scope="module")
def client(settings: Settings, validator: Validator, tmp_path_factory: pytest.TempPathFactory) -> Client:
    """Scope: module. Type: a Flask test client with no token. Default: an app over a fresh store and cache."""
    tmp = tmp_path_factory.mktemp("ig-service")
    changed = dataclasses.replace(settings, data_dir=tmp / "data", cache=tmp / "cache", routes_file="")
    service = Service(changed, validator=validator)
    (tmp / "cache").mkdir()
    (tmp / "cache" / "secret.txt").write_text("root:x:0:0", encoding="utf-8")
    return create_app(service=service).test_client()


def _get(client: Client, path: str) -> TestResponse:
    """GET ``path`` (following redirects), read the body and close the response (a file sent is closed with it)."""
    answer = client.get(path, follow_redirects=True)
    answer.get_data()
    answer.close()
    return answer


def test_the_service_serves_the_site_at_ig_without_a_token(client: Client) -> None:
    home = _get(client, "/ig/")
    assert home.status_code == 200 and home.mimetype == "text/html"
    assert lxml.html.fromstring(home.data).get("lang") == "nb"
    assert _get(client, "/ig").data == home.data
    page = _get(client, f"/ig/{CRISIS_PLAN}")
    assert page.status_code == 200 and b"kmp-1" in page.data
    assert _get(client, "/ig/style.css").mimetype == "text/css"
    missing = _get(client, "/ig/StructureDefinition-nothing.html")
    assert missing.status_code == 404
    assert missing.get_json(force=True)["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize(
    "path",
    [
        "/ig/../../etc/passwd",
        "/ig/../../secret.txt",
        "/ig/%2e%2e/%2e%2e/secret.txt",
        "/ig/..%2f..%2fsecret.txt",
        "/ig/%2E%2E%2F%2E%2E%2Fsecret.txt",
        "/ig/..%5c..%5csecret.txt",
        "/ig//etc/passwd",
        "/ig/%2fetc%2fpasswd",
        "/ig/....//....//secret.txt",
    ],
)
def test_paths_that_leave_the_site_are_refused(client: Client, path: str) -> None:
    answer = _get(client, path)
    assert answer.status_code == 404, path
    assert b"root:" not in answer.data


def test_the_cached_site_is_reused_and_older_sites_are_dropped(settings: Settings, tmp_path: Path) -> None:
    changed = dataclasses.replace(settings, cache=tmp_path)
    stale = tmp_path / CACHE_FOLDER / "0123456789abcdef0123"
    stale.mkdir(parents=True)
    folder = cached_site(changed)
    assert (folder / "index.html").is_file() and not stale.exists()
    stamp = (folder / "index.html").stat().st_mtime_ns
    assert cached_site(changed) == folder
    assert (folder / "index.html").stat().st_mtime_ns == stamp
    assert [p.name for p in (tmp_path / CACHE_FOLDER).iterdir()] == [folder.name]


def test_the_command_writes_the_site(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["profiles", "site", "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "index.html").is_file() and (tmp_path / "out" / "style.css").is_file()
    assert "pages to" in result.output


def test_the_examples_are_rendered_as_they_read_and_given_as_json(site: Path) -> None:
    """A profile page shows each example as its narrative reads (headings below the example's own) and as JSON in
    a block the keyboard can reach and scroll (axe: scrollable-region-focusable)."""
    tree = _tree(site / "StructureDefinition-krise-og-mestringsplan.html")
    narrative = tree.xpath("//div[@class='narrativ']")
    assert narrative, "no rendered example"
    text = " ".join(narrative[0].text_content().split())
    assert "Min krise- og mestringsplan" in text and "Faste rutiner" in text
    assert [h.tag for h in narrative[0].iter("h1", "h2", "h3")] == []
    assert all(th.get("scope") == "row" for th in narrative[0].iter("th"))
    assert all(pre.get("tabindex") == "0" for pre in tree.iter("pre"))
