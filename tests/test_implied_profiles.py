"""Profiles on every write: a resource whose category or type identifies one of our profiles is validated against
it whether or not it claims it (adapter/validate/implied.py), and is stored claiming it (``claim_implied``)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter.config import Settings
from adapter.errors import Issue
from adapter.validate import Validator
from adapter.validate.implied import build_table, claim_implied, implied_profiles, implied_table
from adapter.validate.packages import Definitions, MemoryPackage

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "fhir"
SD = "/StructureDefinition/"


def _example(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / name).read_text(encoding="utf-8"))
    return data


def _canonical(settings: Settings) -> str:
    config = yaml.safe_load((settings.profiles_dir / "sushi-config.yaml").read_text(encoding="utf-8"))
    return str(config["canonical"]).rstrip("/")


def _profile_json(settings: Settings, name: str) -> dict[str, Any]:
    path = settings.profiles_dir / "resources" / f"StructureDefinition-{name}.json"
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _errors(issues: list[Issue]) -> set[tuple[str, str, str | None]]:
    return {(i.severity, i.code, i.expression) for i in issues if i.severity in ("error", "fatal")}


def _kmp1(issues: list[Issue]) -> list[str | None]:
    """The expressions where kmp-1 (the red-zone contact of a crisis plan) failed as an error."""
    return [i.expression for i in issues if i.code == "ADP-4010" and i.severity == "error" and i.args["key"] == "kmp-1"]


def _unclaimed(resource: dict[str, Any]) -> dict[str, Any]:
    found = copy.deepcopy(resource)
    found.pop("meta", None)
    return found


def _one_part(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with its first part (warning signs, yellow zone) only: no red-zone contact."""
    plan["activity"] = plan["activity"][:1]
    return plan


@pytest.fixture(scope="module")
def core_only(validator: Validator) -> Validator:
    """Scope: module. Type: Validator over the same definitions without an own package (nothing implied): what
    validation was before profiles were implied."""
    defs = validator.definitions
    return Validator(validator.settings, Definitions(defs.packages, defs.held_canonicals), validator.policy)


# -- the table --------------------------------------------------------------------------------------------------


def test_the_crisis_plan_is_identified_by_the_category_code_its_profile_fixes(
    validator: Validator, settings: Settings
) -> None:
    sd = _profile_json(settings, "krise-og-mestringsplan")
    plantype = next(e for e in sd["differential"]["element"] if e["id"] == "CarePlan.category:plantype")
    coding = plantype["patternCodeableConcept"]["coding"][0]
    table = implied_table(validator.definitions).codes
    assert table[("CarePlan", "category", coding["system"], coding["code"])] == (sd["url"],)


def test_a_required_binding_on_a_required_slice_identifies_its_profile(
    validator: Validator, settings: Settings
) -> None:
    sd = _profile_json(settings, "individuell-plan")
    plantype = next(e for e in sd["differential"]["element"] if e["id"] == "CarePlan.category:plantype")
    valueset = validator.definitions.require(plantype["binding"]["valueSet"])
    codes = {(include["system"], c["code"]) for include in valueset["compose"]["include"] for c in include["concept"]}
    assert codes  # individuell-plan and behandlingsplan
    table = implied_table(validator.definitions).codes
    found = {(system, code) for (rtype, element, system, code), urls in table.items() if sd["url"] in urls}
    assert found == codes


def test_only_our_codes_of_required_elements_identify_a_profile(validator: Validator, settings: Settings) -> None:
    base = _canonical(settings) + "/"
    table = implied_table(validator.definitions).codes
    assert table
    assert all(system.startswith(base) for _, _, system, _ in table)
    assert all(url.startswith(base) for urls in table.values() for url in urls)
    implied = {url.rsplit("/", 1)[1] for urls in table.values() for url in urls}
    assert {"krise-og-mestringsplan", "voldsrisikohandteringsplan", "individuell-plan"} <= implied
    # a pattern with a system and no code: any code of the system (hovedforløp 1, 2, 3)
    assert ("EpisodeOfCare", "type", base + "CodeSystem/hovedforlop", "") in table
    assert "henvisning" not in implied  # its category:hovedforlop slice is optional (0..*)
    assert "samhandlingsmelding-bundle" not in implied  # Bundle.type = message is a core code, not ours


def test_every_identifiable_profile_of_ours_is_in_the_table(validator: Validator, settings: Settings) -> None:
    """Data, not a list: each resource profile whose category/type/code slice fixes one of our codes is found."""
    base = _canonical(settings) + "/"
    table = implied_table(validator.definitions).codes
    implied = {url for urls in table.values() for url in urls}
    for path in sorted((settings.profiles_dir / "resources").glob("StructureDefinition-*.json")):
        sd = json.loads(path.read_text(encoding="utf-8"))
        if sd["kind"] != "resource":
            continue
        fixes_ours = any(
            e["path"].split(".")[1:] in (["category"], ["type"], ["code"])
            and e.get("min", 0) >= 1
            and base in json.dumps(e.get("patternCodeableConcept", {}))
            for e in sd["differential"]["element"]
        )
        if fixes_ours:
            assert sd["url"] in implied, sd["url"]


def _derived(url: str, base: str, system: str, code: str) -> dict[str, Any]:
    """A CarePlan profile on ``base`` whose required category slice fixes ``system#code``."""
    return {
        "resourceType": "StructureDefinition",
        "url": url,
        "name": url.rsplit("/", 1)[1].replace("-", ""),
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "CarePlan",
        "derivation": "constraint",
        "baseDefinition": base,
        "differential": {
            "element": [
                {"id": "CarePlan", "path": "CarePlan"},
                {
                    "id": "CarePlan.category",
                    "path": "CarePlan.category",
                    "slicing": {"discriminator": [{"type": "pattern", "path": "$this"}], "rules": "open"},
                    "min": 1,
                },
                {
                    "id": "CarePlan.category:plantype",
                    "path": "CarePlan.category",
                    "sliceName": "plantype",
                    "min": 1,
                    "patternCodeableConcept": {"coding": [{"system": system, "code": code}]},
                },
            ]
        },
    }


def test_a_new_profile_is_picked_up_and_the_more_specific_one_wins(validator: Validator, settings: Settings) -> None:
    canonical = _canonical(settings)
    plantype = f"{canonical}/CodeSystem/plantype"
    core = "http://hl7.org/fhir/StructureDefinition/CarePlan"
    crisis = f"{canonical}{SD}krise-og-mestringsplan"
    derived = _derived(f"{canonical}{SD}kriseplan-kommune", crisis, plantype, "krise-og-mestringsplan")
    sibling = _derived(f"{canonical}{SD}kriseplan-annen", core, plantype, "krise-og-mestringsplan")
    new = _derived(f"{canonical}{SD}ny-plan", core, plantype, "ny-plan")
    own = MemoryPackage("own", [validator.definitions.require(crisis), derived, sibling, new])
    table = build_table(validator.definitions.with_packages([own]), own).codes
    assert table[("CarePlan", "category", plantype, "ny-plan")] == (new["url"],)  # a new profile's code
    # one code, three profiles: the one deriving from the crisis plan replaces it, the unrelated one applies too
    assert table[("CarePlan", "category", plantype, "krise-og-mestringsplan")] == (derived["url"], sibling["url"])


def test_the_table_is_shared_by_derived_validators(validator: Validator) -> None:
    loaded = validator.with_resources([])
    assert implied_table(loaded.definitions) is implied_table(validator.definitions)


# -- validation -------------------------------------------------------------------------------------------------


def test_the_crisis_plan_without_its_claim_validates_clean(validator: Validator) -> None:
    plan = _unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json"))
    assert implied_profiles(plan, validator.definitions) == (
        "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan",
    )
    assert _errors(validator.validate(plan)) == set()


def test_an_unclaimed_crisis_plan_with_one_part_breaks_kmp1(validator: Validator, core_only: Validator) -> None:
    plan = _one_part(_unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json")))
    issues = validator.validate(plan)
    assert _kmp1(issues) == ["CarePlan"]
    assert ("error", "ADP-4001", "CarePlan") in _errors(issues)  # activity 3.., slices hva-hjelper and kontakt
    assert _errors(core_only.validate(plan)) == set()  # what was accepted before: core CarePlan only


def test_an_unclaimed_crisis_plan_breaks_kmp1_through_validate_bytes(validator: Validator) -> None:
    plan = _one_part(_unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json")))
    issues = validator.validate_bytes(json.dumps(plan).encode(), "json")
    assert _kmp1(issues) == ["CarePlan"]
    assert all(i.line is not None for i in issues if i.severity == "error")


def test_an_unclaimed_crisis_plan_in_a_message_bundle_breaks_kmp1(validator: Validator, core_only: Validator) -> None:
    bundle = _example("Bundle-melding-kriseplan-ola.json")
    position, entry = next((n, e) for n, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "CarePlan")
    entry["resource"] = _unclaimed(entry["resource"])
    assert _errors(validator.validate(bundle)) == set()  # unclaimed but whole: clean
    _one_part(entry["resource"])
    issues = validator.validate(bundle)
    assert _kmp1(issues) == [f"Bundle.entry[{position}].resource"]
    assert not _kmp1(core_only.validate(bundle))


def test_an_unclaimed_contained_crisis_plan_breaks_kmp1(validator: Validator) -> None:
    plan = _one_part(_unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json")))
    plan["id"] = "kp"
    for key in ("subject", "author", "contributor", "careTeam", "goal"):  # references that would not resolve
        plan.pop(key, None)
    for activity in plan["activity"]:
        activity["detail"].pop("performer", None)
    holder = {
        "resourceType": "List",
        "status": "current",
        "mode": "snapshot",
        "contained": [plan],
        "entry": [{"item": {"reference": "#kp"}}],
    }
    assert _kmp1(validator.validate(holder)) == ["List.contained[0]"]


def test_an_unclaimed_individual_plan_is_checked_against_individuell_plan(
    validator: Validator, core_only: Validator
) -> None:
    plan = _unclaimed(_example("CarePlan-individuell-plan-ola.json"))
    assert implied_profiles(plan, validator.definitions) == (
        "http://samhandling.no/fhir/StructureDefinition/individuell-plan",
    )
    assert _errors(validator.validate(plan)) == set()
    plan.pop("goal")  # the profile requires a goal ("hva er viktig for deg?"), core CarePlan does not
    issues = validator.validate(plan)
    assert any(i.code == "ADP-4001" and i.args["path"] == "CarePlan.goal" for i in issues), [str(i) for i in issues]
    assert _errors(core_only.validate(plan)) == set()


def test_a_claimed_profile_is_not_walked_twice(validator: Validator) -> None:
    plan = _one_part(_example("CarePlan-krise-og-mestringsplan-ola.json"))  # claims the profile it implies
    assert _kmp1(validator.validate(plan)) == ["CarePlan"]


def test_a_resource_of_a_foreign_category_is_not_affected(validator: Validator) -> None:
    plan = _one_part(_unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json")))
    plan["category"] = [
        {"coding": [{"system": "http://example.org/fhir/CodeSystem/plantype", "code": "krise-og-mestringsplan"}]},
        {"coding": [{"system": "http://snomed.info/sct", "code": "734163000"}]},
    ]
    assert implied_profiles(plan, validator.definitions) == ()
    assert claim_implied(plan, validator.definitions) is plan
    assert not _kmp1(validator.validate(plan))
    assert implied_profiles({"resourceType": "Patient"}, validator.definitions) == ()
    assert implied_profiles({"resourceType": "CarePlan", "category": "not a list"}, validator.definitions) == ()


# -- claiming ---------------------------------------------------------------------------------------------------


def test_claim_implied_adds_the_claim_to_a_copy(validator: Validator) -> None:
    crisis = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
    plan = _unclaimed(_example("CarePlan-krise-og-mestringsplan-ola.json"))
    original = copy.deepcopy(plan)
    claimed = claim_implied(plan, validator.definitions)
    assert claimed is not plan and plan == original  # the input is left alone
    assert claimed["meta"]["profile"] == [crisis]
    assert {k: v for k, v in claimed.items() if k != "meta"} == plan
    assert claim_implied(claimed, validator.definitions) is claimed  # nothing more to add: the same object
    tagged = {**plan, "meta": {"versionId": "3", "profile": ["http://example.org/StructureDefinition/x"]}}
    assert claim_implied(tagged, validator.definitions)["meta"] == {
        "versionId": "3",
        "profile": ["http://example.org/StructureDefinition/x", crisis],
    }


def test_claim_implied_reaches_bundle_entries_and_uses_the_default_definitions(validator: Validator) -> None:
    bundle = _example("Bundle-melding-kriseplan-ola.json")
    position = next(n for n, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == "CarePlan")
    assert claim_implied(bundle, validator.definitions) is bundle  # everything is claimed already
    bundle["entry"][position]["resource"] = _unclaimed(bundle["entry"][position]["resource"])
    claimed = claim_implied(bundle)  # the definitions of Settings.from_env()
    assert claimed["entry"][position]["resource"]["meta"]["profile"] == [
        "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
    ]
    assert "meta" not in bundle["entry"][position]["resource"]
    assert claimed["entry"][0] is bundle["entry"][0]
