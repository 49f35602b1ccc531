"""``samhandling validate``: formats, exit codes, extra definitions, explicit profiles, source positions."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adapter.cli import main

EXAMPLES = Path(__file__).parent.parent / "examples"
VALID = EXAMPLES / "fhir" / "CarePlan-krise-og-mestringsplan-ola.json"
BROKEN = EXAMPLES / "negative" / "kriseplan-sone-blaa" / "input.json"
CRISIS_PLAN = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"


def _run(*args: str) -> tuple[int, str]:
    """Exit code and standard output (the progress bar goes to standard error)."""
    result = CliRunner().invoke(main, ["validate", *args])
    return result.exit_code, result.stdout + result.stderr if result.exit_code == 2 else result.stdout


def test_a_valid_file_exits_0_and_says_pass() -> None:
    code, output = _run(str(VALID))
    assert code == 0, output
    assert "PASS" in output


def test_an_invalid_file_exits_1_with_code_line_and_expression() -> None:
    code, output = _run(str(BROKEN))
    assert code == 1
    assert "ADP-4004 26:11 CarePlan.activity[0].extension[0].value.ofType(CodeableConcept)" in output


def test_norwegian_text_on_request() -> None:
    _, output = _run("--lang", "nb", str(BROKEN))
    assert "er ikke i det påkrevde verdisettet" in output


def test_json_format_gives_one_outcome_per_file_and_a_list_for_several() -> None:
    code, output = _run("--format", "json", str(BROKEN))
    assert code == 1
    outcome = json.loads(output)
    assert outcome["resourceType"] == "OperationOutcome"
    error = next(i for i in outcome["issue"] if i["severity"] == "error")
    assert error["details"]["coding"][0]["code"] == "ADP-4004"
    assert {e["url"].rsplit("-", 1)[1]: e["valueInteger"] for e in error["extension"]} == {"line": 26, "col": 11}
    code, output = _run("--format", "json", str(VALID), str(BROKEN))
    assert [o["resourceType"] for o in json.loads(output)] == ["OperationOutcome", "OperationOutcome"]


def test_missing_file_is_a_usage_error() -> None:
    code, output = _run("no-such-file.json")
    assert code == 2
    assert "ADP-0003" in output


def test_explicit_profile_is_enforced(tmp_path: Path) -> None:
    plain = {"resourceType": "CarePlan", "status": "active", "intent": "plan", "subject": {"reference": "Patient/p"}}
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(plain))
    assert _run(str(path))[0] == 0
    code, output = _run("--profile", CRISIS_PLAN, str(path))
    assert code == 1
    assert "krise-og-mestringsplan" in output or "CarePlan.category" in output
    code, output = _run("--profile", "http://samhandling.no/fhir/StructureDefinition/nope", str(path))
    assert code == 1
    assert "ADP-4006" in output


def test_load_adds_a_profile_from_a_file(tmp_path: Path) -> None:
    profile = {
        "resourceType": "StructureDefinition",
        "url": "http://example.org/StructureDefinition/named-patient",
        "name": "NamedPatient",
        "status": "active",
        "kind": "resource",
        "abstract": False,
        "type": "Patient",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Patient",
        "derivation": "constraint",
        "differential": {"element": [{"id": "Patient.name", "path": "Patient.name", "min": 1}]},
    }
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "named.json").write_text(json.dumps(profile))
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps({"resourceType": "Patient", "meta": {"profile": [profile["url"]]}}))
    code, output = _run("--load", str(tmp_path / "profiles"), str(patient))
    assert code == 1
    assert "Patient.name: minimum required = 1" in output


def test_xml_input_is_read_with_positions(tmp_path: Path) -> None:
    xml = b'<Patient xmlns="http://hl7.org/fhir">\n  <gender value="bogus"/>\n</Patient>\n'
    path = tmp_path / "patient.xml"
    path.write_bytes(xml)
    code, output = _run(str(path))
    assert code == 1
    assert "ADP-4004 2:3 Patient.gender" in output


def test_not_well_formed_input_is_a_fatal_issue_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"resourceType": "Patient", ')
    code, output = _run(str(path))
    assert code == 1
    assert "ADP-1001" in output
