"""Helpers of the service tests: the example organisations, example files and reading acknowledgements."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
KOMMUNE, DPS, LEGEKONTOR, STRANGER = "8100001", "8100002", "8100003", "8199999"


def example(name: str) -> bytes:
    """An example file's bytes (``fhir/...`` or ``kith/...``)."""
    return (EXAMPLES / name).read_bytes()


def example_json(name: str) -> dict[str, Any]:
    """An example FHIR file, parsed."""
    loaded: dict[str, Any] = json.loads(example(name))
    return loaded


def ack_code(body: dict[str, Any]) -> str:
    """MessageHeader.response.code of an acknowledgement Bundle."""
    return str(body["entry"][0]["resource"]["response"]["code"])


def issue_codes(outcome: dict[str, Any], severities: tuple[str, ...] = ("error", "fatal")) -> list[str]:
    """Our stable codes of an OperationOutcome's issues of these severities."""
    return [
        coding["code"]
        for issue in outcome.get("issue", [])
        if issue["severity"] in severities
        for coding in issue.get("details", {}).get("coding", [])
    ]


def ack_issue_codes(ack: dict[str, Any]) -> list[str]:
    """The error codes in the OperationOutcome of an acknowledgement Bundle."""
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    return issue_codes(outcome)
