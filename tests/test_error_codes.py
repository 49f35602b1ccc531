"""The table of stable issue codes (adapter/errors.yaml): checked when loaded, never renumbered or shrunk, every code
raised somewhere (or kept with the reason why not), and the checks themselves shown to fail on a bad table."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

from adapter.errors import CODE_PATTERN, CODES, CodeInfo, CodeTableError, Issue, codes_markdown, load_codes
from adapter.receipt.apprec import ERROR_CODES
from adapter.reply import Reply, operation_outcome

ROOT = Path(__file__).resolve().parent.parent
TABLE = ROOT / "adapter" / "errors.yaml"
ISSUED = Path(__file__).parent / "data" / "issued_codes.txt"
#: Where codes are defined rather than used.
DEFINITIONS = {ROOT / "adapter" / "errors.py"}


def issued(text: str) -> list[str]:
    """The codes of an issued-codes list (one a line; ``#`` comments and blank lines are skipped)."""
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def issued_problems(codes: dict[str, CodeInfo], listed: list[str]) -> list[str]:
    """What is wrong between the table and the list of every code ever issued."""
    problems = [f"{code} is listed twice in issued_codes.txt" for code in sorted(set(listed)) if listed.count(code) > 1]
    problems += [
        f"{code} was issued but is gone from the table (codes are never removed)"
        for code in listed
        if code not in codes
    ]
    problems += [f"{code} is new: add it to tests/data/issued_codes.txt" for code in codes if code not in listed]
    return problems


def usage_problems(codes: dict[str, CodeInfo], source: str) -> list[str]:
    """Codes that no source raises but say nothing of it, and codes said to be unused that are raised."""
    used = set(re.findall(r"ADP-[0-9]{4}", source))
    unexplained = [code for code, info in codes.items() if code not in used and not info.unused]
    problems = [
        f"{code} is raised nowhere in adapter/: remove it or say why it stays (unused: <why>)" for code in unexplained
    ]
    problems += [
        f"{code} is raised in adapter/ but marked unused"
        for code, info in codes.items()
        if code in used and info.unused
    ]
    return problems


def _source() -> str:
    files = sorted(p for p in (ROOT / "adapter").rglob("*.py") if p not in DEFINITIONS)
    return "\n".join(p.read_text(encoding="utf-8") for p in files)


# -- the real table -----------------------------------------------------------------------------------------------


def test_every_code_has_both_texts_and_a_fhir_type() -> None:
    for code, info in CODES.items():
        assert CODE_PATTERN.fullmatch(code), code
        assert info.en.strip() and info.nb.strip() and info.type, code


def test_codes_are_unique_in_the_file() -> None:
    rows = yaml.safe_load(TABLE.read_text(encoding="utf-8"))
    codes = [row["code"] for row in rows]
    assert len(codes) == len(set(codes)) == len(CODES)


def test_no_code_is_renumbered_or_removed_and_new_ones_are_listed() -> None:
    assert issued_problems(CODES, issued(ISSUED.read_text(encoding="utf-8"))) == []


def test_every_code_is_raised_somewhere_or_says_why_not() -> None:
    assert usage_problems(CODES, _source()) == []


def test_apprec_codes_come_from_the_table_and_exist_in_list_8221() -> None:
    assert dict(ERROR_CODES) == {
        "ADP-1004": "T01",  # not well-formed XML
        "ADP-1005": "T01",  # a refused construct (DTD, entity): unreadable for us
        "ADP-1006": "T01",  # too large to read
        "ADP-1010": "T01",  # too many elements to read
        "ADP-2001": "T02",  # breaks its XML Schema
        "ADP-2002": "T10",  # a namespace (message format) we have no schema for
        "ADP-3002": "T10",  # a payload format we do not support
    }
    system = json.loads((ROOT / "profiles" / "resources" / "CodeSystem-kith-8221.json").read_text(encoding="utf-8"))
    known = {concept["code"] for concept in system["concept"]}
    assert set(ERROR_CODES.values()) <= known


def test_authentication_codes_give_their_http_status() -> None:
    assert {c: CODES[c].http for c in ("ADP-7001", "ADP-7002", "ADP-7003", "ADP-7004", "ADP-7005", "ADP-7006")} == {
        "ADP-7001": 401,
        "ADP-7002": 401,
        "ADP-7003": 401,
        "ADP-7004": 401,
        "ADP-7005": 401,
        "ADP-7006": 403,
    }


def test_every_http_status_in_the_table_is_an_error_status() -> None:
    statuses = {code: info.http for code, info in CODES.items() if info.http is not None}
    assert statuses, "no code has an HTTP status"
    wrong = {code: status for code, status in statuses.items() if not (type(status) is int and 400 <= status <= 599)}
    assert wrong == {}


# -- the status of a refusal comes from the table -----------------------------------------------------------------


def literal_error_statuses(source: str, filename: str = "<source>") -> list[str]:
    """Where ``source`` picks an HTTP error status by hand: ``Reply(4xx, ...)``, ``Reply(status=5xx)``, or
    ``status=4xx`` given to any call (``replace(reply, status=409)``). ``default=`` (an interaction's own status
    for codes without one) is allowed."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
        given = [node.args[0]] if name == "Reply" and node.args else []
        given += [k.value for k in node.keywords if k.arg == "status"]
        for value in given:
            if isinstance(value, ast.Constant) and isinstance(value.value, int) and value.value >= 400:
                found.append(f"{filename}:{node.lineno}: status {value.value} chosen by hand")
    return found


def test_no_call_site_picks_an_error_status_by_hand() -> None:
    """A refusal names its code (and arguments); Reply.refused takes the status from the code table."""
    found = []
    for path in sorted((ROOT / "adapter").rglob("*.py")):
        found += literal_error_statuses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    assert found == []


def test_the_scan_finds_a_status_picked_by_hand() -> None:
    source = """
Reply(404, operation_outcome([Issue("ADP-5020", "error")]))
Reply(status=500)
replace(reply, status=409)
Reply(200, ok)
resource_reply(found, status=201)
Reply.refused(issues, default=422)
"""
    assert literal_error_statuses(source) == [
        "<source>:2: status 404 chosen by hand",
        "<source>:3: status 500 chosen by hand",
        "<source>:4: status 409 chosen by hand",
    ]


def test_a_refusal_takes_its_status_from_the_first_blocking_issue_with_one() -> None:
    found = Issue("ADP-5020", "error", args={"ref": "CarePlan/1"})  # 404
    other = Issue("ADP-7013", "error", args={"ref": "CarePlan/1", "org": "1"})  # 403
    plain = Issue("ADP-5023", "error", args={"param": "x", "detail": "y"})  # no status of its own
    told = Issue("ADP-5024", "warning", args={"ref": "CarePlan/1"})  # 410, but only a warning
    assert (CODES["ADP-5020"].http, CODES["ADP-7013"].http, CODES["ADP-5024"].http) == (404, 403, 410)
    assert CODES["ADP-5023"].http is None
    assert Reply.refused([found]).status == 404
    assert Reply.refused([plain, told, other, found]).status == 403
    assert Reply.refused([found, other]).status == 404
    assert Reply.refused([plain]).status == 400
    assert Reply.refused([plain, told], default=422).status == 422
    assert Reply.refused([found], default=422).status == 404
    assert Reply.refused([]).status == 400


def test_a_refusal_is_the_operation_outcome_of_its_issues() -> None:
    issues = [Issue("ADP-5040", "error", args={"ref": "CarePlan/1", "type": "CarePlan"})]
    headers = {"Allow": "GET"}
    reply = Reply.refused(issues, headers=headers)
    assert reply == Reply(405, operation_outcome(issues), headers={"Allow": "GET"})
    assert reply.headers is not headers


def test_the_operation_outcome_names_code_type_texts_and_place_of_each_issue() -> None:
    issues = [
        Issue("ADP-5020", "error", expression="CarePlan.id", line=3, column=7, args={"ref": "CarePlan/1"}),
        Issue("ADP-7015", "information", args={"ref": "Organization/1", "org": "2"}),
    ]
    first, second = operation_outcome(issues)["issue"]
    assert first["severity"] == "error" and first["code"] == CODES["ADP-5020"].type
    assert first["details"]["coding"] == [
        {"system": "http://samhandling.no/fhir/CodeSystem/issue-code", "code": "ADP-5020"}
    ]
    assert "CarePlan/1" in first["diagnostics"] and "CarePlan/1" in first["details"]["text"]
    assert first["expression"] == ["CarePlan.id"]
    assert [e["valueInteger"] for e in first["extension"]] == [3, 7]
    assert second["severity"] == "information" and "expression" not in second and "extension" not in second
    assert operation_outcome([])["issue"][0]["code"] == "informational"


# -- the checks fail when they should -----------------------------------------------------------------------------

GOOD = """
- code: ADP-9001
  type: invalid
  http: 404
  apprec: T01
  en: '{element}: {what_en} is wrong ({detail})'
  nb: '{element}: {what_nb} er feil ({detail_nb})'
"""


def test_a_good_table_loads() -> None:
    codes = load_codes(GOOD)
    assert codes == {
        "ADP-9001": CodeInfo(
            "invalid",
            "{element}: {what_en} is wrong ({detail})",
            "{element}: {what_nb} er feil ({detail_nb})",
            http=404,
            apprec="T01",
        )
    }


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("code: ADP-9001", "must be a list"),
        ("- [1, 2]", "must be a mapping"),
        ("- {code: ADP-9001, type: invalid, en: x, nb: x, colour: red}", "unknown key 'colour'"),
        ("- {code: ADP-9001, type: invalid, en: x}", "the nb text is missing"),
        ("- {code: ADP-9001, type: invalid, en: '', nb: x}", "the en text is missing"),
        ("- {code: ADP-9001, type: invalid, en: '{a} {b}', nb: '{a}'}", "placeholders differ between en and nb: b"),
        ("- {code: ADP-9001, type: invalid, en: '{a', nb: '{a}'}", "not a valid format string"),
        ("- {code: ADP-9001, type: invalid, en: x, nb: y}\n- {code: ADP-9001, type: value, en: z, nb: w}", "duplicate"),
        ("- {code: ADP-91, type: invalid, en: x, nb: y}", "not of the form ADP-xyyy"),
        ("- {code: ADP-9001, type: wrong, en: x, nb: y}", "not a FHIR issue type"),
        ("- {code: ADP-9001, type: invalid, http: 200, en: x, nb: y}", "not an HTTP error status"),
        ("- {code: ADP-9001, type: invalid, apprec: 'Annen feil', en: x, nb: y}", "not a code of list 8221"),
        ("- {code: ADP-9001, type: invalid, unused: '', en: x, nb: y}", "unused must say why"),
        ("- {code: ADP-9001, type: invalid, en: x, nb: [y", "not valid YAML"),
    ],
)
def test_a_broken_table_is_refused_with_the_reason(table: str, message: str) -> None:
    with pytest.raises(CodeTableError, match=re.escape(message)):
        load_codes(table, "bad.yaml")


def test_a_removed_or_unlisted_code_is_caught() -> None:
    codes = load_codes(GOOD)
    assert issued_problems(codes, ["ADP-9001"]) == []
    assert issued_problems(codes, ["ADP-9001", "ADP-9002"]) == [
        "ADP-9002 was issued but is gone from the table (codes are never removed)"
    ]
    assert issued_problems(codes, []) == ["ADP-9001 is new: add it to tests/data/issued_codes.txt"]
    assert issued_problems(codes, ["ADP-9001", "ADP-9001"]) == ["ADP-9001 is listed twice in issued_codes.txt"]


def test_an_unused_code_is_caught_unless_it_says_why() -> None:
    codes = load_codes(GOOD)
    assert usage_problems(codes, 'Issue("ADP-9001", "error")') == []
    assert usage_problems(codes, "") == [
        "ADP-9001 is raised nowhere in adapter/: remove it or say why it stays (unused: <why>)"
    ]
    kept = load_codes(GOOD.replace("  http: 404\n", "  unused: kept for old clients\n"))
    assert usage_problems(kept, "") == []
    assert usage_problems(kept, "ADP-9001") == ["ADP-9001 is raised in adapter/ but marked unused"]


def test_every_code_is_documented_in_the_guide() -> None:
    """docs/error-codes.md is the code table as the implementation guide gives it: every code, with its texts."""
    page = (Path(__file__).resolve().parents[1] / "docs" / "error-codes.md").read_text(encoding="utf-8")
    assert page == codes_markdown(), (
        "docs/error-codes.md is out of date: run `samhandling errors > docs/error-codes.md`"
    )
    for code, info in CODES.items():
        assert f"| {code} | {info.type} |" in page


def test_the_guide_page_escapes_what_would_break_its_table() -> None:
    info = CodeInfo(type="invalid", en="a | b\nc", nb="d")
    page = codes_markdown({"ADP-3999": info})
    assert "| ADP-3999 | invalid |  |  | a \\| b c | d |" in page
