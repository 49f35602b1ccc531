"""fhir-kit-client (npm) against a real ``samhandling serve --demo``: tests/clients/fhir_kit_client.mjs drives it
through its documented API (create, read, update with ``If-Match`` and create with ``If-None-Exist`` as per-request
headers, vread, history, search with ``nextPage``, ``_include``/``_revinclude``, transaction, type history, the
CapabilityStatement with its ``CapabilityTool``) and reports what each step saw; each test here asserts one step
against what fhir-kit-client documents and R4 says, so a server that answers otherwise fails it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from client_helpers import PATIENT, RunningService, new_goal, new_plan, status_code, transaction, transaction_ids

SYSTEM = "urn:samhandling-test:fhir-kit-client"
SCRIPT = Path(__file__).resolve().parent / "fhir_kit_client.mjs"


@pytest.fixture(scope="module")
def scenario(service: RunningService, node_modules: Path) -> dict[str, Any]:
    """Scope: module. Type: what each step of fhir_kit_client.mjs saw (step -> {"ok": ...} or {"error": ...}).
    Default: one run of the script with node against the module's service, as the DPS."""
    refused = transaction(SYSTEM, "transaction-refused")
    refused["entry"][1]["resource"]["status"] = "ikke-en-status"  # not of the required binding: the plan fails
    given = {
        "baseUrl": service.base_url,
        "token": service.token(),
        "system": SYSTEM,
        "plan": new_plan(SYSTEM, "template"),
        "goal": new_goal(SYSTEM, "template"),
        "transaction": transaction(SYSTEM, "transaction"),
        "refusedTransaction": refused,
    }
    done = subprocess.run(
        ["node", str(SCRIPT)],
        cwd=SCRIPT.parent,
        input=json.dumps(given),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report: dict[str, Any] = json.loads(done.stdout)
    return report


def step(scenario: dict[str, Any], name: str) -> dict[str, Any]:
    """What step ``name`` saw; fails with the server's answer when fhir-kit-client raised."""
    seen = scenario[name]
    assert "ok" in seen, f"fhir-kit-client's {name} failed: {seen['error']}"
    ok: dict[str, Any] = seen["ok"]
    return ok


def test_capability_statement_through_capability_tool(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "capability")
    assert seen["fhirVersion"] == "4.0.1"
    assert {"read", "vread", "update", "create", "search-type", "history-instance"} <= set(seen["carePlanInteractions"])
    assert {"identifier", "patient", "_id"} <= set(seen["carePlanSearch"])


def test_create_read_update_with_if_match_vread_and_history(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "crud")
    created, read, updated = seen["created"], seen["read"], seen["updated"]
    assert created["status"] == 201 and created["etag"] == 'W/"1"'
    assert created["location"].endswith(f"/CarePlan/{created['id']}/_history/1")
    assert read == {"id": created["id"], "versionId": "1", "etag": 'W/"1"'}
    assert updated == {"status": 200, "etag": 'W/"2"', "versionId": "2", "description": "Endret med fhir-kit-client"}
    assert seen["stale"] == {"status": 412}  # the same If-Match again: version 1 is no longer current
    assert seen["vread"][:2] == ["1", "2"] and seen["vread"][3] == "Endret med fhir-kit-client"
    history = seen["history"]
    assert history["type"] == "history" and history["total"] == 2
    assert history["versions"] == ["2", "1"]  # newest first
    assert [status_code(s) for s in history["statuses"]] == [200, 201]


def test_next_page_walks_every_page(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "paging")
    assert seen["sizes"] == [2, 2, 1] and seen["totals"] == [5, 5, 5]
    assert len(seen["found"]) == 5 and set(seen["found"]) == set(seen["made"])


def test_include_and_revinclude(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "include")
    assert seen["matches"] == [seen["plan"]]
    assert set(seen["included"]) == {seen["goal"], f"Patient/{PATIENT}"}
    assert seen["reverseMatches"] == [f"Patient/{PATIENT}"]
    assert seen["plan"] in seen["reverseIncluded"]


def test_conditional_create_with_if_none_exist(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "conditional")
    assert seen["first"]["status"] == 201 and seen["again"]["status"] == 200  # R4: one match, 200 and no create
    assert seen["again"]["id"] == seen["first"]["id"] and seen["total"] == 1


def test_transaction_creates_all_and_resolves_the_urn_uuid_references(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "transaction")
    goal_id, _ = transaction_ids(seen["answer"])
    assert seen["planGoal"] == [{"reference": f"Goal/{goal_id}"}]


def test_a_transaction_with_an_invalid_entry_stores_nothing(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "refusedTransaction")
    assert 400 <= seen["refused"]["status"] < 500  # R4: the whole transaction fails with the entry's error
    assert seen["totals"] == {"Goal": 0, "CarePlan": 0}


def test_type_history(scenario: dict[str, Any]) -> None:
    seen = step(scenario, "typeHistory")
    assert seen["types"] == ["history"]
    ours = [entry for entry in seen["entries"] if entry["resource"] == seen["made"]]
    assert ours == [{"resource": seen["made"], "method": "POST"}]
    assert all(entry["resource"].startswith("CarePlan/") for entry in seen["entries"])
