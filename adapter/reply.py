"""The answer every operation of the service gives, whatever the path (messages or REST).

Its own module so that the message path and the REST operations share it without importing each other. A request
refused for issues is answered with :meth:`Reply.refused`: the OperationOutcome of the issues, with the HTTP status
the code table (``adapter/errors.yaml``) gives their codes, so a call site names the code and its arguments only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import Issue, http_status

ISSUE_CODE_SYSTEM = "http://samhandling.no/fhir/CodeSystem/issue-code"
LINE_EXT = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-line"
COLUMN_EXT = "http://hl7.org/fhir/StructureDefinition/operationoutcome-issue-col"


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status and either a FHIR resource (``resource``) or raw bytes with their content type."""

    status: int
    resource: dict[str, Any] | None = None
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def refused(cls, issues: list[Issue], *, headers: Mapping[str, str] | None = None, default: int = 400) -> Reply:
        """The answer that refuses a request for ``issues``: their OperationOutcome, with the code table's ``http``
        of the first issue of severity fatal or error whose code has one, else ``default`` (the interaction's own
        status, like 422 for the profile findings of a create)."""
        return cls(http_status(issues, default), operation_outcome(issues), headers=dict(headers or {}))


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
            "coding": [{"system": ISSUE_CODE_SYSTEM, "code": issue.code}],
            "text": issue.text_nb,
        },
        "diagnostics": issue.text_en,
    }
    if issue.expression:
        entry["expression"] = [issue.expression]
    extensions = []
    if issue.line is not None:
        extensions.append({"url": LINE_EXT, "valueInteger": issue.line})
    if issue.column is not None:
        extensions.append({"url": COLUMN_EXT, "valueInteger": issue.column})
    if extensions:
        entry["extension"] = extensions
    return entry
