"""The KITH XSD registry against the real schemas and samples of the standards directory (kith/SOURCES.md).

Every sample under the folders below is run: the ones SOURCES.md calls valid must give no issue, the ones it calls
invalid must give ADP-2001 at the line it names. Files that are not KITH messages are listed in EXCLUDED with the
reason, so none is skipped silently; a test checks these lists against SOURCES.md's table.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from local_http import LocalHttp
from lxml import etree

from adapter.config import Settings
from adapter.errors import AdapterError, SetupError
from adapter.parse.xml_safe import parse_xml
from adapter.parse.xsd import MSGHEAD_NS, SchemaRegistry

KITH = Settings.from_env().standards / "kith"
FOLDERS = ("apprec", "dialogmelding", "henvisning", "plo", "epikrise", "testcases", "helsenorge-messaging")

#: Samples that are not validated, with the reason (their status in SOURCES.md comes first).
EXCLUDED = {
    "samples/helsenorge-messaging/SoapFault.xml": "no-schema: an AMQP SOAP 1.2 fault, not a KITH message",
    "samples/testcases/dialogmelding-v1.0-mottak/Case1-2.xml": (
        "not-well-formed: parse_xml refuses it before any schema (test_not_well_formed_sample_is_refused_by_the_parser)"
    ),
}

#: Samples SOURCES.md calls invalid: the line of the first error there, and our expression for that element.
INVALID = {
    "samples/apprec/invalid/fiks-nhn-client/missing-migversion.xml": (4, "/AppRec"),
    "samples/apprec/invalid/fiks-nhn-client/unknown-migversion.xml": (5, "/AppRec/MIGversion"),
    "samples/dialogmelding/invalid/fiks-nhn-client/invalid-version.xml": (5, "/MsgHead/MsgInfo/MIGversion"),
    # The xsi namespace is misspelt ("XMLSchemainstance") on Base64Container; the error is about that attribute.
    "samples/dialogmelding/v1.1/helsenorge-messaging/MetadataTestsDialogmelding11.xml": (
        98,
        "/MsgHead/Document[2]/RefDoc/Content/Base64Container",
    ),
    # Carries an eResept M1 2010-05-01 payload, whose schema is not in the standards directory.
    "samples/helsenorge-messaging/DIALOG_INNBYGGER_RESEPTFORNYELSE.xml": (
        77,
        "/MsgHead/Document[2]/RefDoc/Content/Resept",
    ),
    "samples/testcases/dialogmelding-v1.0-mottak/Case1-16b.xml": (10, "/MsgHead/MsgInfo/Sender"),
    "samples/testcases/dialogmelding-v1.0-mottak/Case1-16c.xml": (10, "/MsgHead/MsgInfo/Receiver"),
    "samples/testcases/dialogmelding-v1.0-mottak/Case1-17b.xml": (49, "/MsgHead/MsgInfo/Patient/Ident/TypeId"),
    "samples/testcases/epikrise-v1.1-mottak/Epikrise1-1-case1-2Feil.xml": (14, "/Message/ServRprt/ApprDate"),
    "samples/testcases/henvisning-v1.0-mottak/Case1-20-b.xml": (15, "/Message/ServReq/ServProvider"),
    "samples/testcases/henvisning-v1.0-mottak/Case1-21-b.xml": (71, "/Message/ServReq/ReasonAsText[1]"),
}

#: The namespaces the registry must know (the brief of adapter/parse/xsd.py).
REQUIRED_NAMESPACES = [
    MSGHEAD_NS,
    "http://www.kith.no/xmlstds/apprec/2004-11-21",
    "http://www.kith.no/xmlstds/apprec/2012-02-15",
    "http://www.kith.no/xmlstds/dialog/2006-10-11",
    "http://www.kith.no/xmlstds/dialog/2013-01-23",
    "http://www.kith.no/xmlstds/henvisning/2005-07-08",
    "http://www.kith.no/xmlstds/henvisning/2012-02-15",
    "http://ehelse.no/xmlstds/henvisning/2017-11-30",
    "http://www.kith.no/xmlstds/po/poKomponent/2009-06-30",
    "http://www.kith.no/xmlstds/po/poKomponent/2012-04-01",
    "http://ehelse.no/xmlstds/po/poKomponent/2017-11-30",
    "http://www.kith.no/xmlstds/po/Pasientlogistikk/2009-06-30",
    "http://www.kith.no/xmlstds/po/Pasientlogistikk/2012-04-01",
    "http://ehelse.no/xmlstds/po/Pasientlogistikk/2016-05-30",
    "http://www.kith.no/xmlstds/epikrise/2006-09-23",
    "http://www.kith.no/xmlstds/epikrise/2012-02-15",
    "http://www.kith.no/xmlstds/base64container",
    "http://www.kith.no/xmlstds/felleskomponent1",
    "http://www.kith.no/xmlstds",
    "http://www.kith.no/xmlstds/epj/epj1/2008-02-20",
    "http://www.kith.no/xmlstds/epj/epj2/2008-02-20",
    "http://www.kith.no/xmlstds/epj/epj3/2008-02-20",
    "http://www.kith.no/xmlstds/epj/meta/2008-02-20",
]

DIALOG_SAMPLE = "samples/dialogmelding/v1.0/sarepta/Dialogmelding_avvik_v1-0.xml"
APPREC_SAMPLE = "samples/apprec/v1.1/fiks-nhn-client/example-ok.xml"


def _samples() -> list[str]:
    """Every XML file under FOLDERS, relative to kith/ (empty when the standards directory is missing)."""
    found = [p for folder in FOLDERS for p in (KITH / "samples" / folder).rglob("*.xml")]
    return sorted(p.relative_to(KITH).as_posix() for p in found)


SAMPLES = _samples()
VALID = [s for s in SAMPLES if s not in EXCLUDED and s not in INVALID]


def _sources_table() -> dict[str, str]:
    """File -> validation column of SOURCES.md's sample table."""
    table: dict[str, str] = {}
    for line in (KITH / "SOURCES.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| `samples/") and len(cells) >= 5:
            table[cells[0].strip("`")] = cells[4]
    return table


def _load(relative: str) -> etree._ElementTree:
    return parse_xml((KITH / relative).read_bytes())


def _load_replacing(relative: str, old: bytes, new: bytes) -> etree._ElementTree:
    data = (KITH / relative).read_bytes()
    assert old in data
    return parse_xml(data.replace(old, new))


@pytest.fixture(scope="module")
def registry(settings: Settings) -> SchemaRegistry:
    """Scope: module. Type: SchemaRegistry, shared like the application shares it. Default: from ``settings``."""
    return SchemaRegistry.from_settings(settings)


@pytest.fixture
def fresh_registry(settings: Settings) -> SchemaRegistry:
    """Scope: function. Type: SchemaRegistry with an empty cache. Default: from ``settings``."""
    return SchemaRegistry.from_settings(settings)


# --- the samples ---------------------------------------------------------------------------------------------------


def test_the_lists_agree_with_sources_md() -> None:
    table = _sources_table()
    assert set(SAMPLES) <= table.keys(), "samples on disk that SOURCES.md does not list"
    statuses = {sample: table[sample].split(":")[0] for sample in SAMPLES}
    assert {s for s, status in statuses.items() if status == "valid"} == set(VALID)
    assert {s for s, status in statuses.items() if status == "invalid"} == INVALID.keys()
    for sample, reason in EXCLUDED.items():
        assert reason.startswith(statuses[sample] + ":"), sample
    for sample, (line, _) in INVALID.items():
        assert re.match(rf"invalid: line {line}:", table[sample]), sample
    # SOURCES.md's summary: valid 169, invalid 11 (all in these folders), so nothing went missing on the way.
    assert (len(VALID), len(INVALID)) == (169, 11)


@pytest.mark.parametrize("sample", VALID)
def test_valid_sample_has_no_issues(registry: SchemaRegistry, sample: str) -> None:
    assert registry.validate(_load(sample)) == []


@pytest.mark.parametrize("sample", sorted(INVALID))
def test_invalid_sample_breaks_its_xsd(registry: SchemaRegistry, sample: str) -> None:
    issues = registry.validate(_load(sample))
    line, expression = INVALID[sample]
    first = issues[0]
    assert (first.code, first.severity, first.line, first.expression) == ("ADP-2001", "error", line, expression)
    assert first.args["detail"] in first.text_en and first.args["detail"] in first.text_nb
    schema_errors = [issue for issue in issues if issue.code == "ADP-2001"]
    assert all(issue.line and issue.expression for issue in schema_errors)
    assert all(issue.column is None for issue in schema_errors)  # libxml2 gives no column when validating


def test_not_well_formed_sample_is_refused_by_the_parser() -> None:
    with pytest.raises(AdapterError) as refused:
        _load("samples/testcases/dialogmelding-v1.0-mottak/Case1-2.xml")
    assert [(i.code, i.line) for i in refused.value.issues] == [("ADP-1004", 64)]


# --- namespaces ----------------------------------------------------------------------------------------------------


def test_wrong_root_namespace_is_named(registry: SchemaRegistry) -> None:
    tree = _load_replacing(DIALOG_SAMPLE, MSGHEAD_NS.encode(), b"http://www.kith.no/xmlstds/msghead/2006-05-25")
    [issue] = registry.validate(tree)
    assert (issue.code, issue.severity, issue.expression) == ("ADP-2002", "fatal", "/MsgHead")
    assert issue.line == tree.getroot().sourceline
    assert "http://www.kith.no/xmlstds/msghead/2006-05-25" in issue.text_en
    assert "navnerommet" in issue.text_nb


def test_a_root_without_namespace_or_in_a_component_namespace_is_not_a_message(registry: SchemaRegistry) -> None:
    [bare] = registry.validate(parse_xml(b"<MsgHead/>"))
    component = parse_xml(b'<Base64Container xmlns="http://www.kith.no/xmlstds/base64container">AA==</Base64Container>')
    [building_block] = registry.validate(component)
    assert (bare.code, bare.args["namespace"]) == ("ADP-2002", "")
    assert (building_block.code, building_block.args["namespace"]) == (
        "ADP-2002",
        "http://www.kith.no/xmlstds/base64container",
    )


def test_payload_namespace_without_schema_is_an_issue_not_an_exception(registry: SchemaRegistry) -> None:
    unknown = "http://www.kith.no/xmlstds/dialog/2099-01-01"
    tree = _load_replacing(DIALOG_SAMPLE, b"http://www.kith.no/xmlstds/dialog/2006-10-11", unknown.encode())
    issues = registry.validate(tree)
    codes = [(issue.code, issue.expression) for issue in issues]
    assert ("ADP-2001", "/MsgHead/Document/RefDoc/Content/Dialogmelding") in codes
    [named] = [issue for issue in issues if issue.code == "ADP-2002"]
    assert (named.severity, named.args["namespace"], named.expression) == (
        "error",
        unknown,
        "/MsgHead/Document/RefDoc/Content/Dialogmelding",
    )


def test_eresept_payload_is_reported_by_namespace(registry: SchemaRegistry) -> None:
    issues = registry.validate(_load("samples/helsenorge-messaging/DIALOG_INNBYGGER_RESEPTFORNYELSE.xml"))
    named = {issue.args["namespace"] for issue in issues if issue.code == "ADP-2002"}
    assert named == {"http://www.kith.no/xmlstds/eresept/m1/2010-05-01"}


def test_unknown_namespace_below_a_lax_wildcard_is_fine(registry: SchemaRegistry) -> None:
    # Epikrise 1.1 carries XHTML (no schema here) in elements of type anyType, whose content is checked laxly.
    tree = _load("samples/testcases/epikrise-v1.1-mottak/Epikrise1-1-case_1.xml")
    assert any(el.tag.startswith("{http://www.w3.org/1999/xhtml}") for el in tree.iter(etree.Element))
    assert registry.validate(tree) == []


def test_standalone_apprec_validates_without_msghead(registry: SchemaRegistry) -> None:
    tree = _load(APPREC_SAMPLE)
    assert etree.QName(tree.getroot()).localname == "AppRec"
    assert registry.validate(tree) == []
    broken = _load_replacing(APPREC_SAMPLE, b'<MsgType V="APPREC"', b'<MsgKind V="APPREC"')
    issues = registry.validate(broken)
    assert [(i.code, i.expression) for i in issues][:1] == [("ADP-2001", "/AppRec/MsgKind")]


def test_every_known_namespace_compiles_with_msghead(registry: SchemaRegistry) -> None:
    assert set(REQUIRED_NAMESPACES) <= registry.schema_files.keys()
    for namespace in sorted(registry.schema_files):
        assert registry.prepare({MSGHEAD_NS, namespace}) == [], namespace
    assert registry.prepare(registry.schema_files) == []


def test_every_schema_file_declares_its_namespace(registry: SchemaRegistry) -> None:
    for namespace, path in registry.schema_files.items():
        # Read as text: xmldsig-core-schema.xsd has a DOCTYPE naming an external DTD, which parse_xml refuses and
        # safe_parser() answers with "Attempt to load network entity" (libxml2 compiles it without loading the DTD).
        declared = re.search(rb'targetNamespace="([^"]*)"', path.read_bytes())
        assert declared is not None and declared.group(1).decode() == namespace, path


def test_an_unknown_namespace_cannot_be_prepared(registry: SchemaRegistry) -> None:
    [issue] = registry.prepare({MSGHEAD_NS, "urn:nowhere"})
    assert issue.code == "ADP-2003" and "urn:nowhere" in issue.text_en


# --- cache, timing, threads ----------------------------------------------------------------------------------------


def test_one_compilation_per_namespace_set(fresh_registry: SchemaRegistry) -> None:
    tree = _load(DIALOG_SAMPLE)
    assert fresh_registry.validate(tree) == []
    assert fresh_registry.validate(_load(DIALOG_SAMPLE)) == []
    [(namespaces, seconds)] = fresh_registry.compile_times.items()
    assert MSGHEAD_NS in namespaces and "http://www.kith.no/xmlstds/dialog/2006-10-11" in namespaces
    assert 0 < seconds < 10


def test_the_cache_is_bounded(settings: Settings) -> None:
    full = SchemaRegistry.from_settings(settings)
    small = SchemaRegistry(settings.standards / "kith/xsd", full.schema_files, {}, max_schemas=2)
    for payload in ("dialog/2006-10-11", "dialog/2013-01-23", "apprec/2004-11-21"):
        assert small.prepare({f"http://www.kith.no/xmlstds/{payload}"}) == []
    assert len(small.compile_times) == 2


def test_validation_from_many_threads_gives_each_its_own_findings(registry: SchemaRegistry) -> None:
    # Same namespace set, so the same compiled schema (and its error log) is shared by all threads.
    good = _load("samples/testcases/dialogmelding-v1.0-mottak/Case1-16a.xml")
    bad = _load("samples/testcases/dialogmelding-v1.0-mottak/Case1-16b.xml")
    expected_bad = registry.validate(bad)
    assert registry.validate(good) == [] and expected_bad
    failures: list[str] = []

    def work() -> None:
        for _ in range(200):
            if registry.validate(good) != []:
                failures.append("good")
            if registry.validate(bad) != expected_bad:
                failures.append("bad")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


# --- loading schemas: catalog, refusals, no network ----------------------------------------------------------------


@pytest.fixture
def http_hits(local_http: LocalHttp) -> tuple[str, list[str]]:
    """Scope: function. Type: (base URL, list of requested paths). Default: conftest's local server, answering
    a small schema (what a schema import would fetch)."""
    local_http.body = b'<schema xmlns="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:far"/>'
    return local_http.url, local_http.hits


def _schema(folder: Path, name: str, namespace: str, imports: dict[str, str]) -> Path:
    """A small XSD with a global element ``root`` of type ``xs:string``, importing ``imports`` (namespace -> at)."""
    lines = "".join(f'<xs:import namespace="{ns}" schemaLocation="{at}"/>' for ns, at in imports.items())
    path = folder / name
    path.write_text(
        f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="{namespace}">{lines}'
        '<xs:element name="root" type="xs:string"/></xs:schema>',
        encoding="utf-8",
    )
    return path


def test_catalog_urls_map_to_local_files(tmp_path: Path) -> None:
    xsd = tmp_path / "xsd"
    (xsd / "common").mkdir(parents=True)
    _schema(xsd / "common", "base.xsd", "urn:base", {})
    message = _schema(xsd, "message.xsd", "urn:message", {"urn:base": "http://example.org/base.xsd"})
    catalog = {"http://example.org/base.xsd": xsd / "common" / "base.xsd"}
    registry = SchemaRegistry(xsd, {"urn:message": message}, catalog)
    assert registry.validate(parse_xml(b'<root xmlns="urn:message">ok</root>')) == []
    [issue] = registry.validate(parse_xml(b'<root xmlns="urn:message"><x/></root>'))
    assert (issue.code, issue.expression, issue.line) == ("ADP-2001", "/root", 1)


def test_a_url_outside_the_catalog_is_refused_without_a_request(
    tmp_path: Path, http_hits: tuple[str, list[str]]
) -> None:
    base, hits = http_hits
    message = _schema(tmp_path, "message.xsd", "urn:message", {"urn:far": f"{base}/far.xsd"})
    registry = SchemaRegistry(tmp_path, {"urn:message": message}, {})
    [issue] = registry.validate(parse_xml(b'<root xmlns="urn:message">ok</root>'))
    assert issue.code == "ADP-2003" and issue.severity == "fatal"
    assert f"{base}/far.xsd" in issue.text_en and "network" in issue.text_en
    assert hits == []


def test_a_file_outside_the_xsd_folder_or_missing_is_refused(tmp_path: Path) -> None:
    xsd = tmp_path / "xsd"
    xsd.mkdir()
    _schema(tmp_path, "outside.xsd", "urn:outside", {})
    escaping = _schema(xsd, "escaping.xsd", "urn:escaping", {"urn:outside": "../outside.xsd"})
    dangling = _schema(xsd, "dangling.xsd", "urn:dangling", {"urn:gone": "gone.xsd"})
    registry = SchemaRegistry(xsd, {"urn:escaping": escaping, "urn:dangling": dangling}, {})
    [outside] = registry.validate(parse_xml(b'<root xmlns="urn:escaping">ok</root>'))
    [missing] = registry.validate(parse_xml(b'<root xmlns="urn:dangling">ok</root>'))
    assert outside.code == "ADP-2003" and "outside.xsd (outside" in outside.text_en
    assert missing.code == "ADP-2003" and "gone.xsd (no such file)" in missing.text_en
    assert "kunne ikke lastes" in missing.text_nb


def test_a_missing_standards_directory_is_a_setup_error(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, standards=tmp_path / "std", cache=tmp_path / "cache")
    with pytest.raises(SetupError) as raised:
        SchemaRegistry.from_settings(settings)
    assert raised.value.issues[0].code == "ADP-0001" and "kith/xsd" in raised.value.issues[0].text_en
