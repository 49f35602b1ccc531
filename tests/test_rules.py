"""Profile rules, one family per data file in tests/cases/rules/ (desc, resource, expected errors, and optional
``definitions``: conformance resources to load first). A case may give ``xml`` (the resource as FHIR XML text)
instead of ``resource``, for rules that only XML can break, and ``policy`` (fields of
:class:`adapter.validate.state.Policy`) for rules that depend on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter.validate import Validator
from adapter.validate.state import Policy

CASES = Path(__file__).parent / "cases" / "rules"


def _cases() -> list[Any]:
    found = []
    for path in sorted(CASES.glob("*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8")):
            found.append(pytest.param(case, id=f"{path.stem}: {case['desc']}"))
    return found


@pytest.mark.parametrize("case", _cases())
def test_rule_case(case: dict[str, Any], validator: Validator) -> None:
    if case.get("policy"):
        validator = validator.with_policy(Policy(**case["policy"]))
    if case.get("definitions"):  # conformance resources the case needs (extension definitions, profiles...)
        validator = validator.with_resources(case["definitions"])
    if "xml" in case:
        issues = validator.validate_bytes(case["xml"].encode("utf-8"), "xml")
    else:
        issues = validator.validate(case["resource"])
    errors = sorted((i.severity, i.code, i.expression) for i in issues if i.severity in ("error", "fatal"))
    assert errors == sorted(tuple(e) for e in case["expect"]), [str(i) for i in issues]
    for warning in case.get("warnings", []):
        assert tuple(warning) in {(i.severity, i.code, i.expression) for i in issues}, [str(i) for i in issues]


def test_every_issue_has_texts_in_both_languages_and_an_expression(validator: Validator) -> None:
    issues = validator.validate({"resourceType": "CarePlan", "status": "bogus", "intent": "plan"})
    assert issues
    for issue in issues:
        assert issue.expression and issue.expression.startswith("CarePlan")
        assert issue.text_en and issue.text_nb and issue.text_en != issue.text_nb
