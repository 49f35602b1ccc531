"""The published model: one profile or resource per guideline entity, with the guideline's content as structure.

These tests read the committed JSON (profiles/resources), i.e. what vendors get.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter import standards
from adapter.config import Settings
from adapter.validate.packages import Definitions
from adapter.validate.registry import load_definitions
from adapter.validate.terminology import Terminology

BASE = "http://samhandling.no/fhir"
RESOURCES = Path(__file__).resolve().parent.parent / "profiles" / "resources"
KITH_OIDS = {"8279", "9034", "7322", "8258", "8221", "7309"}

#: guideline entity -> the profiles / resources that carry it
ENTITIES = {
    "assessment": [
        "Questionnaire/kartlegging",
        "StructureDefinition/kartlegging-svar",
        "StructureDefinition/kartlegging-vurdering",
    ],
    "pathway": ["StructureDefinition/hovedforlop-episode", "CodeSystem/hovedforlop"],
    "individual plan": ["StructureDefinition/individuell-plan", "StructureDefinition/hva-er-viktig"],
    "crisis plan": ["StructureDefinition/krise-og-mestringsplan", "StructureDefinition/sone", "CodeSystem/sone"],
    "referral": [
        "StructureDefinition/henvisning",
        "StructureDefinition/henvisningsstatus",
        "CodeSystem/henvisningsstatus",
    ],
    "coordinator": ["StructureDefinition/koordinatorteam", "CodeSystem/samhandlingsrolle"],
    "risk": [
        "StructureDefinition/risikovurdering",
        "StructureDefinition/voldsrisikohandteringsplan",
        "CodeSystem/risikotype",
    ],
    "consent": ["StructureDefinition/samtykke"],
    "exchange": [
        "StructureDefinition/samhandlingsmelding",
        "StructureDefinition/samhandlingsmelding-bundle",
        "CodeSystem/meldingshendelse",
        "MessageDefinition/md-crisisplan-shared",
    ],
}
PEOPLE_AND_ORGANISATIONS = {"Patient", "Practitioner", "PractitionerRole", "Organization", "RelatedPerson"}


def _all() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RESOURCES.glob("*.json"))]


def _by_type(resource_type: str) -> list[dict[str, Any]]:
    return [r for r in _all() if r["resourceType"] == resource_type]


def _local(resource: dict[str, Any]) -> bool:
    return str(resource.get("url", "")).startswith(BASE + "/")


@pytest.fixture(scope="module")
def defs(settings: Settings) -> Definitions:
    """Scope: module. Type: Definitions over ours, no-basis and core."""
    return load_definitions(settings)


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_every_guideline_entity_is_published(entity: str) -> None:
    urls = {r.get("url") for r in _all()}
    missing = [u for u in ENTITIES[entity] if f"{BASE}/{u}" not in urls]
    assert missing == []


def test_everything_is_fhir_401_under_our_canonical_or_a_kith_oid() -> None:
    for resource in _all():
        url = resource["url"]
        assert _local(resource) or url.rsplit(".", 1)[-1] in KITH_OIDS, url
        if resource["resourceType"] == "StructureDefinition":
            assert resource["fhirVersion"] == "4.0.1"


@pytest.mark.parametrize("kind", ["StructureDefinition", "CodeSystem", "ValueSet"])
def test_definitions_are_given_in_norwegian_and_english(kind: str) -> None:
    for resource in filter(_local, _by_type(kind)):
        description = resource.get("description", "")
        assert " / " in description, f"{resource['url']}: description is not 'norsk / English'"


def test_profiles_flag_must_support() -> None:
    for sd in _by_type("StructureDefinition"):
        if sd["kind"] == "resource":
            assert any(e.get("mustSupport") for e in sd["differential"]["element"]), sd["url"]


def test_local_code_systems_have_norwegian_displays_english_designations_and_a_valueset() -> None:
    valuesets = {v["url"]: v for v in _by_type("ValueSet")}
    for cs in filter(_local, _by_type("CodeSystem")):
        assert cs["content"] == "complete"
        for concept in cs["concept"]:
            assert concept.get("display"), (cs["url"], concept["code"])
            english = [d for d in concept.get("designation", []) if d.get("language") == "en"]
            assert english, f"{cs['url']}#{concept['code']} has no English designation"
        same_id = cs["url"].replace("/CodeSystem/", "/ValueSet/")
        assert same_id in valuesets, f"no ValueSet for {cs['url']}"


def test_references_to_people_and_organisations_use_no_basis(defs: Definitions) -> None:
    for sd in _by_type("StructureDefinition"):
        for element in sd["differential"]["element"]:
            for type_ref in element.get("type", []):
                for target in type_ref.get("targetProfile", []):
                    name = target.rsplit("/", 1)[-1]
                    assert name not in PEOPLE_AND_ORGANISATIONS, f"{element['id']} targets core {name}, not no-basis"


def test_pathway_codesystem_documents_the_severity_duration_rule() -> None:
    (cs,) = [c for c in _by_type("CodeSystem") if c["url"] == f"{BASE}/CodeSystem/hovedforlop"]
    assert [c["code"] for c in cs["concept"]] == ["1", "2", "3"]
    text = cs["description"].lower()
    for word in ("mild", "alvorlig", "kortvarig", "langvarig"):
        assert word in text


def test_questionnaire_asks_about_every_assessment_domain() -> None:
    (questionnaire,) = _by_type("Questionnaire")
    (domains,) = [c for c in _by_type("CodeSystem") if c["url"] == f"{BASE}/CodeSystem/kartleggingsomrade"]
    asked = {c["code"] for item in questionnaire["item"] for c in item.get("code", [])}
    assert {c["code"] for c in domains["concept"]} <= asked
    assert len(domains["concept"]) >= 19
    assert any("Hva er viktig for deg" in item.get("text", "") for item in questionnaire["item"])


def test_crisis_plan_has_every_part_as_a_slice_with_a_zone(defs: Definitions) -> None:
    sd = defs.snapshot(f"{BASE}/StructureDefinition/krise-og-mestringsplan")
    elements = {e["id"]: e for e in sd["snapshot"]["element"]}
    (parts,) = [c for c in _by_type("CodeSystem") if c["url"] == f"{BASE}/CodeSystem/kriseplan-del"]
    for part in (c["code"] for c in parts["concept"]):
        assert f"CarePlan.activity:{part}" in elements, part
        zone = elements[f"CarePlan.activity:{part}.extension:sone"]
        assert zone["min"] == 1
    (zones,) = [c for c in _by_type("CodeSystem") if c["url"] == f"{BASE}/CodeSystem/sone"]
    assert [c["code"] for c in zones["concept"]] == ["gronn", "gul", "rod"]


def test_every_profile_snapshot_can_be_generated(defs: Definitions) -> None:
    for sd in _by_type("StructureDefinition"):
        snapshot = defs.snapshot(sd["url"])["snapshot"]["element"]
        assert len(snapshot) > len(sd["differential"]["element"]), sd["url"]


def test_message_definitions_point_to_existing_profiles() -> None:
    profiles = {sd["url"] for sd in _by_type("StructureDefinition")}
    events = {
        c["code"]
        for c in [cs for cs in _by_type("CodeSystem") if cs["url"].endswith("/meldingshendelse")][0]["concept"]
    }
    defined = set()
    for definition in _by_type("MessageDefinition"):
        defined.add(definition["eventCoding"]["code"])
        for focus in definition["focus"]:
            assert focus["profile"] in profiles, (definition["url"], focus["profile"])
    assert defined == events


def test_concept_maps_use_codes_that_exist_on_both_sides(settings: Settings, defs: Definitions) -> None:
    kith = json.loads((standards.kith_codes(settings) / "key_codelists.json").read_text(encoding="utf-8"))
    kith_codes = {f"urn:oid:{entry['oid']}": {c["code"] for c in entry["codes"]} for entry in kith["lists"].values()}
    fhir_codes = {
        "http://hl7.org/fhir/response-code": {"ok", "transient-error", "fatal-error"},
    }
    maps = _by_type("ConceptMap")
    assert {m["id"] for m in maps} >= {
        "meldingshendelse-til-kith-8279",
        "meldingshendelse-til-kith-7322",
        "samhandlingsrolle-til-kith-9034",
        "kith-8258-til-response-code",
        "kith-8221-til-issue-type",
    }
    for concept_map in maps:
        for group in concept_map["group"]:
            source = _codes(group["source"], kith_codes, fhir_codes, defs)
            target = _codes(group["target"], kith_codes, fhir_codes, defs)
            for element in group["element"]:
                assert element["code"] in source, (concept_map["id"], element["code"])
                for mapped in element.get("target", []):
                    if mapped["equivalence"] != "unmatched":
                        assert mapped["code"] in target, (concept_map["id"], mapped["code"])


def _codes(system: str, kith: dict[str, set[str]], fixed: dict[str, set[str]], defs: Definitions) -> set[str]:
    if system in kith:
        return kith[system]
    if system in fixed:
        return fixed[system]
    codes = Terminology(defs).codesystem_codes(system)
    assert codes is not None, f"code system {system} is not available"
    return codes


def test_the_canonical_bases_we_hold_come_from_the_profiles_themselves(defs: Definitions) -> None:
    import yaml

    config = yaml.safe_load((Path(__file__).parent.parent / "profiles" / "sushi-config.yaml").read_text("utf-8"))
    assert config["canonical"].rstrip("/") + "/" in defs.held_canonicals
    assert "http://hl7.no/fhir/" in defs.held_canonicals
    assert "http://hl7.org/fhir/" not in defs.held_canonicals  # core is searched, but not held as ours
