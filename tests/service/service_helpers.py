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


def new_example(name: str, **changes: Any) -> dict[str, Any]:
    """An example resource as a new one (no id), with ``changes``."""
    body = example_json(name)
    body.pop("id")
    return {**body, **changes}


def new_plan(**changes: Any) -> dict[str, Any]:
    """Ola's crisis plan as a new resource (no id), with ``changes``."""
    return new_example("fhir/CarePlan-krise-og-mestringsplan-ola.json", **changes)


def new_goal(**changes: Any) -> dict[str, Any]:
    """Ola's goal "what matters to you" as a new resource (no id), with ``changes``."""
    return new_example("fhir/Goal-hva-er-viktig-ola.json", **changes)


def created_plan(client: Any, headers: dict[str, str], **changes: Any) -> str:
    """The id of a crisis plan (:func:`new_plan`) created by the caller of ``headers``."""
    response = client.post("/CarePlan", json=new_plan(**changes), headers=headers)
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


def audit_trail(client: Any, auth: Any) -> list[dict[str, Any]]:
    """Every AuditEvent so far, oldest first, read by the DPS as an auditor (that search is audited after it)."""
    found: dict[str, Any] = client.get("/AuditEvent?_count=500", headers=auth(DPS, "samhandling/audit")).get_json()
    return [entry["resource"] for entry in found["entry"]]


def exchange(client: Any, auth: Any, *messages: tuple[str, str]) -> None:
    """Send the example messages ``(sender HER-id, name)`` (``Bundle-melding-<name>-ola.json``), each accepted."""
    for org, name in messages:
        response = client.post(
            "/$process-message", data=example(f"fhir/Bundle-melding-{name}-ola.json"), headers=auth(org)
        )
        assert response.status_code == 200, response.get_json()


def deny_consent(org: str, *classes: str) -> dict[str, Any]:
    """A Consent the kommune records: Ola denies ``org`` (the ``classes`` of resources only, when given)."""
    consent = new_example("fhir/Consent-samtykke-ola-deling.json")
    consent.pop("meta", None)
    her = "urn:oid:2.16.578.1.12.4.1.2"
    consent["organization"] = [{"identifier": {"system": her, "value": KOMMUNE}}]
    consent["provision"]["type"] = "deny"
    consent["provision"]["actor"] = [
        {**consent["provision"]["actor"][0], "reference": {"identifier": {"system": her, "value": org}}}
    ]
    if classes:
        consent["provision"]["class"] = [{"system": "http://hl7.org/fhir/resource-types", "code": c} for c in classes]
    return consent
