"""Helpers of the client tests: the running service (its URL and its demo tokens), the resources the clients
create (the examples made over as new records, each with an identifier of its own) and our codes in an
OperationOutcome."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "fhir"
#: Vestbyen DPS (examples/fhir/Organization-org-dps.json): the author of Ola's crisis plan in the examples.
DPS = "8100002"
PATIENT = "pasient-ola"
READ_WRITE = ("samhandling/plans.read", "samhandling/plans.write")
OUR_CODES = "http://samhandling.no/fhir/CodeSystem/issue-code"


@dataclass
class RunningService:
    """``samhandling serve --demo`` in a process of its own: its base URL, and the environment (data folder)
    that ``samhandling token`` needs to sign with the same demo key."""

    base_url: str
    env: dict[str, str]
    _tokens: dict[tuple[str, tuple[str, ...]], str] = field(default_factory=dict)

    def token(self, org: str = DPS, scopes: tuple[str, ...] = READ_WRITE) -> str:
        """A bearer token of ``org`` with ``scopes``, from ``samhandling token`` (the demo issuer's key in the
        service's data folder), made once per organisation and scopes."""
        key = (org, scopes)
        if key not in self._tokens:
            done = subprocess.run(
                [sys.executable, "-m", "adapter.cli", "token", "--org", org, "--scope", " ".join(scopes)],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                check=False,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr
            self._tokens[key] = done.stdout.strip()
        return self._tokens[key]


@cache
def _example(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return loaded


def new_plan(system: str, value: str, **changes: Any) -> dict[str, Any]:
    """Ola's crisis plan (it conforms to our profile) as a new record: no id, the identifier ``system|value``
    (one plan per identifier and patient: a second is refused, ADP-5041), and ``changes``."""
    plan = copy.deepcopy(_example("CarePlan-krise-og-mestringsplan-ola.json"))
    plan.pop("id")
    plan["identifier"] = [{"system": system, "value": value}]
    plan.update(changes)
    return plan


def new_goal(system: str, value: str) -> dict[str, Any]:
    """Ola's goal ("Hva er viktig for deg?") as a new record with the identifier ``system|value``."""
    goal = copy.deepcopy(_example("Goal-hva-er-viktig-ola.json"))
    goal.pop("id")
    goal["identifier"] = [{"system": system, "value": value}]
    return goal


def issue_codes(outcome: dict[str, Any]) -> list[str]:
    """Our stable codes (ADP-...) in an OperationOutcome's issues of severity error or fatal."""
    return [
        coding["code"]
        for issue in outcome.get("issue", [])
        if issue.get("severity") in ("error", "fatal")
        for coding in issue.get("details", {}).get("coding", [])
        if coding.get("system") == OUR_CODES
    ]


def status_code(status: str) -> int:
    """The number of a Bundle entry's ``response.status`` (R4: it starts with the 3-digit HTTP code)."""
    return int(status.split()[0])


def transaction(system: str, value: str) -> dict[str, Any]:
    """An R4 transaction: a new goal and a new plan that names it by the goal's ``urn:uuid`` fullUrl (which the
    server replaces with the goal's new id), both with the identifier ``system|value``."""
    goal_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{system}|{value}|goal')}"
    plan_url = f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{system}|{value}|plan')}"
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": goal_url, "resource": new_goal(system, value), "request": {"method": "POST", "url": "Goal"}},
            {
                "fullUrl": plan_url,
                "resource": new_plan(system, value, goal=[{"reference": goal_url}]),
                "request": {"method": "POST", "url": "CarePlan"},
            },
        ],
    }


def transaction_ids(answer: dict[str, Any]) -> tuple[str, str]:
    """The new (goal id, plan id) of the answer to :func:`transaction`, after checking it is what R4 says a
    transaction answers: a ``transaction-response`` Bundle, one entry per entry in the same order, each with a
    status starting 201 and the location of what it created."""
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response", answer
    entries = answer.get("entry", [])
    assert len(entries) == 2, answer
    ids = []
    for entry, rtype in zip(entries, ("Goal", "CarePlan"), strict=True):
        assert status_code(entry["response"]["status"]) == 201, entry
        found = re.search(rf"(?:^|/){rtype}/([A-Za-z0-9\-.]{{1,64}})(?:/_history/|$)", entry["response"]["location"])
        assert found, entry
        ids.append(found.group(1))
    return ids[0], ids[1]
