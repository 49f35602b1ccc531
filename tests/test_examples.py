"""Every example gives its stated outcome; every profile has a valid example; the scenario is complete."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter import examples as catalogue
from adapter.config import Settings
from adapter.validate import Validator

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
CANONICAL = "http://samhandling.no/fhir/"

#: The scenario: a person in hovedforløp 3 with co-occurring substance use, step by step, as message events.
SCENARIO_EVENTS = [
    "assessment-shared",
    "referral-sent",
    "coordinator-assigned",
    "careplan-shared",
    "consent-registered",
    "crisisplan-shared",
    "risk-assessed",
    "riskplan-shared",
]


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _all_examples() -> list[Any]:
    return [pytest.param(e, id=e.name) for e in catalogue.discover(EXAMPLES)]


@pytest.mark.parametrize("example", _all_examples())
def test_example_gives_its_stated_outcome(example: catalogue.Example, validator: Validator) -> None:
    outcome = catalogue.check(example, validator)
    assert outcome.passed, outcome.detail


def test_every_negative_example_breaks_exactly_one_rule() -> None:
    negatives = [e for e in catalogue.discover(EXAMPLES) if e.negative]
    assert len(negatives) >= 5
    for example in negatives:
        assert len(example.expected) == 1, example.name
        assert (example.path.parent / "README.md").exists(), f"{example.name} does not say what it breaks"


def test_every_profile_has_a_valid_example(settings: Settings) -> None:
    claimed = set()
    for path in (EXAMPLES / "fhir").glob("*.json"):
        resource = _load(path)
        resources = [resource] + [e["resource"] for e in resource.get("entry", []) if "resource" in e]
        for item in resources:
            claimed.update(item.get("meta", {}).get("profile", []))
    profiles = [
        _load(p)["url"]
        for p in (settings.profiles_dir / "resources").glob("StructureDefinition-*.json")
        if _load(p)["kind"] == "resource"
    ]
    assert profiles
    assert sorted(set(profiles) - claimed) == []


def _message_bundles() -> list[dict[str, Any]]:
    bundles = [_load(p) for p in (EXAMPLES / "fhir").glob("Bundle-*.json")]
    return [b for b in bundles if b.get("type") == "message"]


def test_scenario_covers_every_step_as_a_message_bundle() -> None:
    events = set()
    for bundle in _message_bundles():
        header = bundle["entry"][0]["resource"]
        assert header["resourceType"] == "MessageHeader"
        events.add(header["eventCoding"]["code"])
    assert [e for e in SCENARIO_EVENTS if e not in events] == []


def test_scenario_bundles_are_about_one_patient_in_pathway_three() -> None:
    patients = set()
    for bundle in _message_bundles():
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] == "Patient":
                patients.add(entry["fullUrl"])
    assert len(patients) == 1
    episodes = [_load(p) for p in (EXAMPLES / "fhir").glob("EpisodeOfCare-*.json")]
    levels = {c["code"] for e in episodes for t in e.get("type", []) for c in t.get("coding", [])}
    assert "3" in levels


def test_every_reference_in_a_message_bundle_resolves_within_it() -> None:
    for bundle in _message_bundles():
        full_urls = {e["fullUrl"] for e in bundle["entry"]}
        for entry in bundle["entry"]:
            for reference in _references(entry["resource"]):
                if reference.startswith("#"):
                    continue
                absolute = reference if "://" in reference or reference.startswith("urn:") else CANONICAL + reference
                assert absolute in full_urls, f"{bundle['id']}: {reference} does not resolve"


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            found.append(node["reference"])
        for value in node.values():
            found.extend(_references(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_references(value))
    return found


#: The KITH examples our translator writes from a FHIR example (epikrise-ola.xml is written by hand: it has none).
KITH_EXAMPLES = sorted(p for p in (Path(__file__).parent.parent / "examples" / "kith").glob("dialogmelding-*-ola.xml"))


@pytest.mark.parametrize("path", KITH_EXAMPLES, ids=lambda p: p.name)
def test_kith_examples_are_what_the_translator_writes(path: Path, settings: Settings, validator: Validator) -> None:
    """examples/kith/dialogmelding-<name>-ola.xml is `samhandling convert` of the FHIR example
    Bundle-melding-<name>-ola.json: regenerate it when the translation changes."""
    from adapter.translate import Translator

    name = path.name.removeprefix("dialogmelding-")
    bundle = json.loads((settings.examples_dir / "fhir" / f"Bundle-melding-{name}").with_suffix(".json").read_bytes())
    result = Translator(settings, validator).fhir_to_kith(bundle)
    assert result.ok and result.xml is not None
    assert result.xml.decode().strip() == path.read_text(encoding="utf-8").strip()


def test_every_kith_example_has_a_stated_outcome(settings: Settings) -> None:
    stated = catalogue.trials(settings.examples_dir)
    kith = [t for t in stated if t.name.startswith("kith/")]
    assert len(kith) == len(list((settings.examples_dir / "kith").glob("*.xml"))) >= 4
