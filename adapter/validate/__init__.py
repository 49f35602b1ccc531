"""Profile validation: structure (fhir.resources), profile rules over snapshots, and the OperationOutcome report.

``Validator(settings).validate(resource)`` returns every issue found; nothing stops at the first problem.
"""

from __future__ import annotations

from typing import Any

from adapter.config import Settings
from adapter.errors import Issue
from adapter.validate.registry import load_definitions
from adapter.validate.rules import RuleChecker
from adapter.validate.structure import check_structure


class Validator:
    """Validates resources against their core type and the profiles they claim. Build once, reuse."""

    def __init__(self, settings: Settings) -> None:
        self.definitions = load_definitions(settings)
        self.rules = RuleChecker(self.definitions)

    def validate(self, resource: dict[str, Any], profiles: tuple[str, ...] = ()) -> list[Issue]:
        """All issues for ``resource`` (plus ``profiles`` it must also conform to)."""
        if not isinstance(resource, dict):
            return [Issue("ADP-1002", "fatal", None, args={"path": "(root)", "detail": "not a JSON object"})]
        found = check_structure(resource)
        if any(issue.severity == "fatal" for issue in found):
            return found  # no type to check the profile rules against
        found += self.rules.check_resource(resource, extra_profiles=profiles)
        unique: dict[tuple[str, str, str | None, str], Issue] = {}
        for issue in found:  # a rule shared by the core type and a profile is reported once
            unique.setdefault((issue.code, issue.severity, issue.expression, issue.text_en), issue)
        return list(unique.values())


def operation_outcome(issues: list[Issue]) -> dict[str, Any]:
    """An R4 OperationOutcome for the issues (an 'all OK' information issue when there are none)."""
    if not issues:
        return {
            "resourceType": "OperationOutcome",
            "issue": [{"severity": "information", "code": "informational", "diagnostics": "No issues / Ingen feil"}],
        }
    return {"resourceType": "OperationOutcome", "issue": [_issue_json(i) for i in issues]}


def _issue_json(issue: Issue) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.info.type,
        "details": {
            "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/issue-code", "code": issue.code}],
            "text": issue.text_nb,
        },
        "diagnostics": issue.text_en,
    }
    if issue.expression:
        entry["expression"] = [issue.expression]
    if issue.line is not None:
        entry["extension"] = [
            {
                "url": "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line",
                "valueInteger": issue.line,
            }
        ]
    return entry
