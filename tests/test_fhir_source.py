"""Reading FHIR JSON and XML with source positions; XML converted to the JSON form and checked against HL7's twins."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_json import JsonScanner as _JsonScanner
from adapter.parse.fhir_json import json_positions as _json_positions
from adapter.parse.fhir_source import Source, read_fhir, resolve_expression
from adapter.validate.packages import Definitions
from adapter.validate.registry import load_definitions

DATA = Path(__file__).parent / "data" / "source"
EXAMPLES = Path(__file__).parent.parent / "examples" / "fhir"


@pytest.fixture(scope="module")
def defs(settings: Settings) -> Definitions:
    """Scope: module. Type: Definitions. Default: ``load_definitions(settings)`` (profiles, no-basis, core)."""
    return load_definitions(settings)


def _read(name: str, defs: Definitions) -> Source:
    return read_fhir((DATA / name).read_bytes(), defs)


def _fails(data: bytes, defs: Definitions, fmt: str | None = None) -> Issue:
    with pytest.raises(AdapterError) as caught:
        read_fhir(data, defs, fmt)
    assert len(caught.value.issues) == 1
    return caught.value.issues[0]


# --- JSON -----------------------------------------------------------------------------------------------------


def test_json_is_read_with_the_stdlib(defs: Definitions) -> None:
    source = _read("patient.json", defs)
    assert source.format == "json"
    assert source.resource == json.loads((DATA / "patient.json").read_text())
    assert source.duplicates == []
    assert source.issues == []
    assert source._positions is None  # positions are only worked out when asked for


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("Patient", (1, 1)),
        ("Patient.id", (3, 3)),
        ("Patient.name[0].given[1]", (13, 25)),
        ("Patient.name[1]", (15, 5)),
        ("Patient.name[1].given[1].id", (21, 11)),
        ("Patient.name[1].given[1].extension[0]", (23, 13)),
        ("Patient.name[1].given[1].extension[0].value.ofType(boolean)", (23, 78)),
        ("Patient.birthDate", (30, 3)),
        ("Patient.birthDate.extension[0]", (33, 7)),
        ("Patient.birthDate.extension('http://hl7.org/fhir/StructureDefinition/patient-birthTime')", (33, 7)),
        ("Patient.birthDate.extension[0].value.ofType(dateTime)", (35, 9)),
        ("Patient.multipleBirth", (39, 3)),
        ("Patient.multipleBirth.ofType(integer)", (39, 3)),
        ("Patient.contact[0].telecom[0].rank", (43, 58)),
        ("name[0].family", (12, 7)),  # without the type name
        # missing parts: the deepest prefix that exists
        ("Patient.name[0].suffix[0]", (10, 5)),
        ("Patient.name[7].given[0]", (9, 3)),
        ("Patient.maritalStatus.coding[0]", (1, 1)),
        ("Patient.name[0].given[0].extension[0]", (13, 17)),
    ],
)
def test_json_positions(defs: Definitions, expression: str, position: tuple[int, int]) -> None:
    assert _read("patient.json", defs).locate(expression) == position


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("Observation.value.ofType(Quantity)", (10, 3)),
        ("Observation.valueQuantity.value", (11, 5)),
        ("Observation.value.value", (11, 5)),
        ("Observation.component[1].value.ofType(Ratio).numerator.value", (24, 24)),
        ("Observation.component[2].value", (30, 7)),
    ],
)
def test_json_positions_of_choices(defs: Definitions, expression: str, position: tuple[int, int]) -> None:
    assert _read("observation.json", defs).locate(expression) == position


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("Bundle.entry[1].resource", (16, 7)),
        ("Bundle.entry[1].resource.name[0].family", (19, 20)),
        ("Bundle.entry[1].resource/*Patient/pat1*/.gender", (20, 9)),
        ("Bundle.entry[1].resource.Patient.gender", (20, 9)),
        ("Bundle.entry[1].resource.ofType(Patient).gender", (20, 9)),
        ("Bundle.entry[0].resource.name", (11, 9)),
        ("Bundle.entry[0].resource.Patient.name", (16 - 8, 7)),  # wrong type: stays at the resource
    ],
)
def test_json_positions_in_bundle_entries(defs: Definitions, expression: str, position: tuple[int, int]) -> None:
    assert _read("bundle.json", defs).locate(expression) == position


def test_located_paths_agree_with_the_full_scan(settings: Settings) -> None:
    """Locating a path by scanning only the objects and arrays on the way to it gives what the scan of every
    token gives, for every key and array item of our examples, HL7's R4 examples and the source test files (and for
    paths that leave the text: their deepest prefix), whatever the white space."""
    files = [*sorted(DATA.glob("*.json")), *sorted(EXAMPLES.glob("*.json"))]
    files += sorted((settings.standards / "fhir" / "r4-examples" / "json").glob("*.json"))[:150]
    texts = [path.read_text(encoding="utf-8-sig") for path in files]
    texts += [json.dumps(json.loads(texts[0]), indent=None), '  [ 1 ,\r\n\t{ "a" : [ ] , "a" : { "b\\"" : null } } ]']
    compared = 0
    for text in texts:
        positions, duplicates = _json_positions(text)
        scanner, unique = _JsonScanner(text), _JsonScanner(text, unique_keys=True)
        for path, position in positions.items():
            assert scanner.position(path) == position, path
            assert scanner.position((*path, "missing", 0)) == position
            if not duplicates:
                assert unique.position(path) == position, path
            compared += 1
        backwards = _JsonScanner(text, unique_keys=not duplicates)  # later members first, then earlier ones
        assert all(backwards.position(path) == positions[path] for path in reversed(positions))
    assert compared > 10_000
    assert _JsonScanner(texts[-1]).position((1, "a", 'b"')) == (2, 24)  # the later "a" wins


@pytest.mark.parametrize("expression", ["", "Patient.name[", "Patient..name", "Patient.name[0]]", "'x'", "/* */"])
def test_unparseable_expressions(defs: Definitions, expression: str) -> None:
    assert _read("patient.json", defs).locate(expression) is None


def test_resolve_expression_gives_json_paths() -> None:
    resource = {"resourceType": "Patient", "birthDate": "2000", "_birthDate": {"extension": [{"url": "u"}]}}
    assert resolve_expression(resource, "Patient.birthDate.extension[0].url") == ("_birthDate", "extension", 0, "url")
    assert resolve_expression(resource, "Patient.birthDate") == ("birthDate",)


def test_json_syntax_error_has_line_and_column(defs: Definitions) -> None:
    issue = _fails(b'{\n  "resourceType": "Patient",\n  "id": "x"\n  "active": true\n}', defs)
    assert issue.code == "ADP-1001"
    assert (issue.line, issue.column) == (4, 3)
    assert "delimiter" in issue.args["detail"]


@pytest.mark.parametrize(
    ("data", "position"),
    [
        (b'{"resourceType": "Observation",\n "valueDecimal": NaN}', (2, 18)),
        (b'{"resourceType": "Patient", "name": "\xff"}', (1, 38)),
        (b"", (1, 1)),
        (b"[" * 100_000, (1, 1)),
    ],
    ids=["nan", "not-utf8", "empty", "too-deep"],
)
def test_other_json_errors(defs: Definitions, data: bytes, position: tuple[int, int]) -> None:
    issue = _fails(data, defs, "json")
    assert issue.code == "ADP-1001"
    assert (issue.line, issue.column) == position


def test_json_with_bom(defs: Definitions) -> None:
    source = read_fhir(b'\xef\xbb\xbf{"resourceType": "Patient",\n "id": "x"}', defs)
    assert source.resource == {"resourceType": "Patient", "id": "x"}
    assert source.locate("Patient.id") == (2, 2)


def test_duplicate_keys_are_located(defs: Definitions) -> None:
    data = (
        b'{"resourceType": "Patient",\n "gender": "male",\n "name": [{"family": "A",\n  "family": "B"}],\n'
        b' "gender": "female"}'
    )
    source = read_fhir(data, defs)
    assert source.duplicates == [("Patient.name[0].family", 4, 3), ("Patient.gender", 5, 2)]
    assert source.resource["gender"] == "female"  # like the stdlib: the last one wins
    assert source.resource["name"] == [{"family": "B"}]


def test_size_limit_applies_to_json(defs: Definitions) -> None:
    with pytest.raises(AdapterError) as caught:
        read_fhir(b'{"resourceType": "Patient"}', defs, max_bytes=10)
    assert caught.value.issues[0].code == "ADP-1006"


def test_format_sniffing(defs: Definitions) -> None:
    xml = (DATA / "bundle.xml").read_bytes()  # no XML declaration, so white space may come first
    assert read_fhir(b" \r\n\t" + xml, defs).format == "xml"
    assert read_fhir(b'  {"resourceType": "Patient"}', defs).format == "json"
    assert _fails(xml, defs, "json").code == "ADP-1001"
    with pytest.raises(ValueError, match="unknown format"):
        read_fhir(xml, defs, "turtle")


# --- XML ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["patient", "observation", "questionnaire", "bundle"])
def test_xml_gives_the_same_json_form(defs: Definitions, name: str) -> None:
    """Our own twins cover primitive extensions, decimals, choices, contentReference, contained and entries."""
    xml = _read(f"{name}.xml", defs)
    assert xml.format == "xml"
    assert xml.issues == []
    assert xml.duplicates == []
    assert xml.resource == json.loads((DATA / f"{name}.json").read_text())


def test_xml_primitive_values(defs: Definitions) -> None:
    resource = _read("observation.xml", defs).resource
    assert resource["valueQuantity"]["value"] == 72.5
    assert isinstance(resource["component"][0]["valueInteger"], int)
    assert resource["component"][1]["valueRatio"]["numerator"]["value"] == 0.001
    assert isinstance(resource["component"][1]["valueRatio"]["denominator"]["value"], int)  # "100": no fraction
    assert resource["component"][2]["valueBoolean"] is False


def test_xml_invalid_primitive_text_stays_a_string(defs: Definitions) -> None:
    data = (
        b'<Observation xmlns="http://hl7.org/fhir"><status value="final"/><valueInteger value="01"/>'
        b'<component><valueBoolean value="yes"/></component><component><valueQuantity><value value="1.5.0"/>'
        b"</valueQuantity></component></Observation>"
    )
    resource = read_fhir(data, defs).resource
    assert resource["valueInteger"] == "01"
    assert resource["component"][0]["valueBoolean"] == "yes"
    assert resource["component"][1]["valueQuantity"]["value"] == "1.5.0"


@pytest.mark.parametrize(
    ("expression", "position"),
    [
        ("Patient", (3, 1)),
        ("Patient.text.div", (7, 5)),
        ("Patient.name[0].given[1]", (14, 5)),
        ("Patient.name[1].given[1].id", (19, 5)),
        ("Patient.name[1].given[1].extension[0]", (20, 7)),
        ("Patient.birthDate.extension[0].value.ofType(dateTime)", (28, 7)),
        ("Patient.multipleBirth", (31, 3)),
        ("Patient.contact[0].telecom[0].rank", (36, 7)),
        ("Patient.name[0].suffix", (10, 3)),
    ],
)
def test_xml_positions(defs: Definitions, expression: str, position: tuple[int, int]) -> None:
    assert _read("patient.xml", defs).locate(expression) == position


def test_xml_positions_in_bundle_entries(defs: Definitions) -> None:
    source = _read("bundle.xml", defs)
    assert source.locate("Bundle.entry[1].resource") == (15, 5)
    assert source.locate("Bundle.entry[1].resource/*Patient/pat1*/.gender") == (21, 9)
    assert source.locate("Bundle.entry[1].resource.name[0].family") == (19, 11)


def test_xml_position_of_start_tag_over_several_lines(defs: Definitions) -> None:
    data = (
        b'<Patient xmlns="http://hl7.org/fhir">\n  <name\n     id="n1">\n'
        b'  <family value="A"/></name><name><family\n value="B"/></name></Patient>'
    )
    source = read_fhir(data, defs)
    assert source.resource["name"] == [{"id": "n1", "family": "A"}, {"family": "B"}]
    assert source.locate("Patient.name[0]") == (2, 3)
    assert source.locate("Patient.name[1].family") == (4, 35)


def test_xml_problems_are_issues_and_nothing_is_dropped(defs: Definitions) -> None:
    source = _read("problems.xml", defs)
    assert source.resource == {
        "resourceType": "Patient",
        "id": "bad",
        "active": "yes",  # not a boolean: kept as text for the validator to report
        "name": [{"family": "Nordmann", "nickname": "Kaja"}],  # unknown element kept under its name
        "birthDate": "1981-01-02",
        "favouriteColour": {"value": "green", "shade": "dark"},
    }
    found = [(i.expression, i.line, i.args["detail"]) for i in source.issues]
    assert found == [
        ("Patient", 1, "the attribute xsi:schemaLocation is not allowed in FHIR XML"),
        ("Patient", 5, "the element <x:note> is in the namespace 'urn:example:other', not FHIR"),
        ("Patient.name[0]", 6, "use must be an element, not an attribute"),
        ("Patient.name[0]", 6, "text content 'Nordmann' is not allowed here (FHIR uses value attributes)"),
        ("Patient.gender", 10, "text content 'female' is not allowed here (FHIR uses value attributes)"),
    ]
    assert all(i.code == "ADP-1007" and i.severity == "error" for i in source.issues)
    assert source.duplicates == [("Patient.birthDate", 12, 3)]
    assert source.locate("Patient.name[0].nickname") == (8, 5)
    assert source.locate("Patient.favouriteColour") == (13, 3)


def test_xml_unknown_attributes_of_primitives_go_to_the_twin(defs: Definitions) -> None:
    data = b'<Observation xmlns="http://hl7.org/fhir"><status id="this" something="that" value="final"/></Observation>'
    resource = read_fhir(data, defs).resource
    assert resource == {
        "resourceType": "Observation",
        "status": "final",
        "_status": {"id": "this", "something": "that"},
    }


def test_xml_element_where_an_attribute_belongs(defs: Definitions) -> None:
    data = b'<Observation xmlns="http://hl7.org/fhir"><valueInteger><value value="0"/></valueInteger></Observation>'
    source = read_fhir(data, defs)
    assert [i.args["detail"] for i in source.issues] == [
        "value must be an attribute, not an element",
        "valueInteger has no value attribute, id or extension",
    ]


def test_xml_contained_resource_of_unknown_type(defs: Definitions) -> None:
    data = b'<Patient xmlns="http://hl7.org/fhir"><contained><Gizmo><id value="g"/></Gizmo></contained></Patient>'
    source = read_fhir(data, defs)
    assert source.resource["contained"] == [{"resourceType": "Gizmo", "id": "g"}]
    assert [i.expression for i in source.issues] == ["Patient.contained[0]"]


def test_xml_narrative_div_is_serialized_with_its_namespace(defs: Definitions) -> None:
    data = (
        b'<Patient xmlns="http://hl7.org/fhir" xmlns:other="urn:other"><text><status value="generated"/>'
        b'<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b</p></div></text></Patient>'
    )
    div = read_fhir(data, defs).resource["text"]["div"]
    assert div == '<div xmlns="http://www.w3.org/1999/xhtml"><p>a &amp; b</p></div>'


@pytest.mark.parametrize(
    ("data", "detail"),
    [
        (b'<Patient xmlns="http://hl7.org/fhir/other"/>', "namespace"),
        (b"<Patient/>", "no namespace"),
        (b'<Gizmo xmlns="http://hl7.org/fhir"/>', "not a FHIR R4 resource type"),
        (b'<DomainResource xmlns="http://hl7.org/fhir"/>', "not a FHIR R4 resource type"),
        (b'<name xmlns="http://hl7.org/fhir"/>', "not a FHIR R4 resource type"),
    ],
)
def test_xml_root_must_be_a_fhir_resource(defs: Definitions, data: bytes, detail: str) -> None:
    issue = _fails(data, defs)
    assert issue.code == "ADP-1007"
    assert detail in issue.args["detail"]


def test_xml_refusals_come_from_the_safe_parser(defs: Definitions) -> None:
    assert (
        _fails(b'<!DOCTYPE Patient [<!ENTITY x "y">]><Patient xmlns="http://hl7.org/fhir"/>', defs).code == "ADP-1005"
    )
    assert _fails(b'<Patient xmlns="http://hl7.org/fhir">', defs).code == "ADP-1004"
    with pytest.raises(AdapterError) as caught:
        read_fhir(b'<Patient xmlns="http://hl7.org/fhir"/>', defs, max_bytes=10)
    assert caught.value.issues[0].code == "ADP-1006"


# --- against the standards ------------------------------------------------------------------------------------


def _normal(value: Any) -> Any:
    """Numbers compared by decimal value (XML "1.50" and JSON 1.5 are equal); narrative divs left out."""
    if isinstance(value, dict):
        return {key: _normal(item) for key, item in value.items() if key != "div"}
    if isinstance(value, list):
        return [_normal(item) for item in value]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    return value


def _divs(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [item for key, item in value.items() if key == "div"] + [d for v in value.values() for d in _divs(v)]
    if isinstance(value, list):
        return [d for item in value for d in _divs(item)]
    return []


def test_official_examples_xml_equals_json(settings: Settings, defs: Definitions) -> None:
    """Every R4 example that HL7 publishes in both formats converts to its JSON twin (about 0.3 s for 212 pairs).

    Narrative divs are left out of the comparison: the XML copies come from another build of the spec site, whose
    generated narratives differ in wording (dates, attribute order; see r4-examples/README.md). Each div must still
    be serialized XHTML with its namespace.
    """
    folder = settings.standards / "fhir" / "r4-examples"
    if not (folder / "index.json").is_file():
        pytest.skip(f"no R4 examples in {folder}")
    pairs = [row for row in json.loads((folder / "index.json").read_text()) if row.get("xml") and row.get("json")]
    assert len(pairs) >= 200
    started = time.perf_counter()
    differing = []
    for row in pairs:
        source = read_fhir((folder / row["xml"]).read_bytes(), defs)
        twin = json.loads((folder / row["json"]).read_text())
        if source.issues or source.duplicates or _normal(source.resource) != _normal(twin):
            differing.append(row["xml"])
        assert all(div.startswith('<div xmlns="http://www.w3.org/1999/xhtml"') for div in _divs(source.resource))
    assert differing == []
    assert time.perf_counter() - started < 10


def test_validator_cases_are_readable(settings: Settings, defs: Definitions) -> None:
    """All validator test inputs read; only the deliberately broken ones raise, with the expected code."""
    folder = settings.standards / "fhir" / "validator-tests" / "cases"
    if not folder.is_dir():
        pytest.skip(f"no validator test cases in {folder}")
    raised = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".json", ".xml"):
            try:
                read_fhir(path.read_bytes(), defs)
            except AdapterError as exc:
                raised[path.name] = exc.issues[0].code
    assert raised == {
        "bad-json-close-1.json": "ADP-1001",
        "bad-json-close-2.json": "ADP-1001",
        "bad-json-close-3.json": "ADP-1001",
        "xml-bad-entities.xml": "ADP-1005",
    }
    source = read_fhir((folder / "bundle-dual-subject.xml").read_bytes(), defs)
    assert [path for path, _, _ in source.duplicates] == ["Bundle.entry[0].resource.subject"]
    source = read_fhir((folder / "xml-fail.xml").read_bytes(), defs)
    assert [(i.expression, i.line) for i in source.issues][:2] == [("Bundle", 2), ("Bundle", 2)]
