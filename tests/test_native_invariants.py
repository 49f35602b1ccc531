"""The element rules computed natively (ctm-1 on CareTeam participants, per-1 on Periods) give fhirpathpy's answer
on every value they take, and leave the shapes they were not written for to fhirpathpy."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.config import Settings
from adapter.validate.invariants import _NATIVE, Env, Invariants

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
#: where each rule is evaluated (the FHIRPath type of its value)
PATHS = {"ctm-1": "CareTeam.participant", "per-1": "Period"}
#: what references resolve to in the generated cases
TARGETS = {
    "Practitioner/p": {"resourceType": "Practitioner", "id": "p"},
    "Organization/o": {"resourceType": "Organization", "id": "o"},
    "urn:uuid:r": {"resourceType": "PractitionerRole", "id": "r"},
    "urn:uuid:odd": {"resourceType": 7},
}


def both(key: str, value: Any, targets: dict[str, Any]) -> tuple[bool | None, bool | str]:
    """(the native answer, fhirpathpy's answer) for the rule ``key`` on ``value``."""
    expression, rule = _NATIVE[key]

    def resolve(reference: Any) -> Any:
        reference = reference.get("reference") if isinstance(reference, dict) else reference
        return targets.get(reference) if isinstance(reference, str) else None

    env = Env({"resourceType": "CareTeam"}, {"resourceType": "CareTeam"}, resolve)
    invariants = Invariants()
    compiled = invariants._compile(expression)
    assert not isinstance(compiled, str)
    return rule(value, env), invariants._evaluate(compiled, value, PATHS[key], env)


def _values(found: Any, key: str, into: list[Any]) -> list[Any]:
    """Objects in ``found`` that the rule ``key`` is evaluated on: Periods (an object with start or end) and
    CareTeam participants."""
    if isinstance(found, dict):
        if key == "per-1" and ("start" in found or "end" in found) and "resourceType" not in found:
            into.append(found)
        if key == "ctm-1" and found.get("resourceType") == "CareTeam":
            into.extend(p for p in found.get("participant", []) if isinstance(p, dict))
        for child in found.values():
            _values(child, key, into)
    elif isinstance(found, list):
        for child in found:
            _values(child, key, into)
    return into


@pytest.mark.parametrize("key", sorted(PATHS))
def test_examples_get_the_same_answer(key: str, settings: Settings) -> None:
    folder = settings.standards / "fhir" / "r4-examples" / "json"
    compared = 0
    for path in [*sorted(EXAMPLES.glob("*.json")), *sorted(folder.glob("*.json"))]:
        resource = json.loads(path.read_text(encoding="utf-8"))
        targets = {
            str(e["fullUrl"]): e["resource"]
            for e in resource.get("entry", [])
            if isinstance(e, dict) and "fullUrl" in e and isinstance(e.get("resource"), dict)
        }
        targets.update({f"{r['resourceType']}/{r['id']}": r for r in targets.values() if "id" in r})
        for value in _values(resource, key, []):
            native, reference = both(key, value, targets)
            if native is not None:
                assert native == reference, (path.name, value)
                compared += 1
    assert compared >= 5


references = st.one_of(
    st.builds(lambda r: {"reference": r}, st.sampled_from([*TARGETS, "Patient/missing", "#c"])),
    st.just({"display": "no reference"}),
    st.just({}),
    st.just("Practitioner/p"),
    st.just([{"reference": "Practitioner/p"}]),
    st.none(),
)
participants = st.one_of(
    st.fixed_dictionaries({"member": references, "onBehalfOf": references}),
    st.fixed_dictionaries(
        {},
        optional={
            "member": references,
            "onBehalfOf": references,
            "_member": st.just({"id": "x"}),
            "memberX": st.just(1),
            "role": st.just([{"text": "koordinator"}]),
        },
    ),
)
dates = st.one_of(
    st.sampled_from(["2026", "2025", "2026-03", "2026-12", "2026-02-28", "2026-03-01", "2024-02-29", "2025-02-29"]),
    st.sampled_from(["2026-02-30", "2026-13", "0000", "2026-03-01T10:00:00Z", "2026-03-01T10:00:00+01:00", ""]),
    st.dates().map(lambda d: d.isoformat()),
    st.dates().map(lambda d: d.isoformat()[:7]),
    st.integers(0, 3000).map(lambda year: f"{year:04d}"),
    st.just(2026),
    st.none(),
)
periods = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={"start": dates, "end": dates, "_start": st.just({"extension": []}), "id": st.just("p1")},
    ),
    # two dates of one precision, near each other (the shape the rule computes)
    st.builds(
        lambda start, days, size: {"start": start.isoformat()[:size], "end": (start + days).isoformat()[:size]},
        st.dates(),
        st.timedeltas(min_value=-datetime.timedelta(days=800), max_value=datetime.timedelta(days=800)),
        st.sampled_from([4, 7, 10]),
    ).filter(lambda period: period["end"][:4] > "0000"),
)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(value=participants)
def test_any_participant_gets_fhirpathpys_answer_or_is_left_to_it(value: dict[str, Any]) -> None:
    native, reference = both("ctm-1", value, TARGETS)
    if native is not None:
        assert native == reference, value


@settings(max_examples=600, deadline=None, derandomize=True, database=None)
@given(value=periods)
def test_any_period_gets_fhirpathpys_answer_or_is_left_to_it(value: dict[str, Any]) -> None:
    native, reference = both("per-1", value, TARGETS)
    if native is not None:
        assert native == reference, value


def test_the_usual_shapes_are_computed_natively() -> None:
    assert both("per-1", {"start": "2026-03-01", "end": "2026-02-28"}, {}) == (False, False)
    assert both("per-1", {"start": "2026-03", "end": "2026-03"}, {}) == (True, True)
    assert both("ctm-1", {"member": {"reference": "Organization/o"}, "onBehalfOf": {"reference": "x"}}, TARGETS) == (
        False,
        False,
    )
    assert both("ctm-1", {"member": {"reference": "Practitioner/p"}, "onBehalfOf": {"reference": "x"}}, TARGETS)[0]
