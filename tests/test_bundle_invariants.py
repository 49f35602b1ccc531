"""The Bundle rules computed natively (bdl-3, bdl-4, bdl-7) give fhirpathpy's answer on every Bundle they take,
and leave the shapes they were not written for to fhirpathpy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapter.validate.invariants import _NATIVE, Env, Invariants

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
KEYS = ("bdl-3", "bdl-4", "bdl-7")
TYPES = (
    "document",
    "message",
    "transaction",
    "transaction-response",
    "batch",
    "batch-response",
    "history",
    "searchset",
    "collection",
)


def both(key: str, bundle: dict[str, Any]) -> tuple[bool | None, bool | str]:
    """(the native answer, fhirpathpy's answer) for the rule ``key`` on ``bundle``."""
    expression, rule = _NATIVE[key]
    env = Env(bundle, bundle, lambda reference: None)
    invariants = Invariants()
    compiled = invariants._compile(expression)
    assert not isinstance(compiled, str)
    return rule(bundle, env), invariants._evaluate(compiled, bundle, "Bundle", env)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("Bundle-*.json")), ids=lambda p: p.stem)
def test_examples_get_the_same_answer(key: str, path: Path) -> None:
    native, reference = both(key, json.loads(path.read_text(encoding="utf-8")))
    assert native is not None and native == reference


parts = st.one_of(
    st.none(), st.just({"method": "GET", "url": "Patient/1"}), st.just({"status": "200"}), st.just({}), st.just("x")
)
entries = st.fixed_dictionaries(
    {},
    optional={
        "fullUrl": st.sampled_from(["urn:uuid:1", "urn:uuid:2", "", 7]),
        "resource": st.one_of(
            st.just({"resourceType": "Patient"}),
            st.builds(lambda v: {"resourceType": "Patient", "meta": {"versionId": v}}, st.sampled_from(["1", "2", 3])),
            st.just("not a resource"),
        ),
        "request": parts,
        "response": parts,
    },
)
bundles = st.fixed_dictionaries(
    {"resourceType": st.just("Bundle")},
    optional={
        "type": st.one_of(st.sampled_from(TYPES), st.just(5), st.just(["batch"])),
        "entry": st.one_of(st.lists(entries, max_size=4), st.just("entries")),
    },
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(bundle=bundles, key=st.sampled_from(KEYS))
def test_any_bundle_gets_fhirpathpys_answer_or_is_left_to_it(bundle: dict[str, Any], key: str) -> None:
    native, reference = both(key, bundle)
    if native is not None:
        assert native == reference, (key, bundle)
