"""The terminology operations (adapter.validate.operations) and the served catalogue (adapter.validate.catalogue):
``$validate-code`` gives the validator's verdict, ``$translate`` the mapping engine's translation, ``$expand`` the
validator's expansion; what cannot be answered offline is refused, never guessed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.mapping.conceptmaps import ConceptMaps
from adapter.validate import Validator
from adapter.validate.catalogue import SERVED_TYPES, Catalogue
from adapter.validate.operations import codes, expand, translate
from adapter.validate.operations.params import Params

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = ROOT / "profiles" / "resources"
OUR_VALUESETS = sorted(RESOURCES.glob("ValueSet-*.json"))
BOUND = "http://test.example/StructureDefinition/bound-"
#: What the validator reports on a bound Coding, and what $validate-code reports: membership and display.
VERDICT_CODES = ("ADP-4004", "ADP-4005", "ADP-4021")


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def catalogue(validator: Validator, settings: Settings) -> Catalogue:
    """Scope: module. Type: Catalogue over the session validator's definitions. Default: with the guide."""
    return Catalogue(validator.definitions, settings.profiles_dir)


def _bound_profile(valueset: str) -> dict[str, Any]:
    """A profile of Basic whose code is bound (required) to ``valueset``: the validator's own binding check."""
    name = valueset.rsplit("/", 1)[1]
    return {
        "resourceType": "StructureDefinition",
        "url": BOUND + name,
        "name": "Bound",
        "status": "draft",
        "kind": "resource",
        "abstract": False,
        "type": "Basic",
        "baseDefinition": "http://hl7.org/fhir/StructureDefinition/Basic",
        "derivation": "constraint",
        "differential": {
            "element": [
                {
                    "id": "Basic.code",
                    "path": "Basic.code",
                    "binding": {"strength": "required", "valueSet": valueset},
                }
            ]
        },
    }


def _samples(valueset: dict[str, Any], validator: Validator) -> list[dict[str, Any]]:
    """Codings to judge: each code of the ValueSet with its display, one with a wrong display, a code of another
    system, a code the system lacks and a code without a system."""
    found = sorted(validator.engine.terminology.expand(valueset["url"]).codes)
    if not found:  # a code list we hold only in part (content fragment): its first codes
        system = valueset["compose"]["include"][0]["system"]
        concepts = validator.definitions.require(system)["concept"][:3]
        found = [(system, c["code"]) for c in concepts]
    system, code = found[0]
    samples: list[dict[str, Any]] = [{"system": s, "code": c} for s, c in found]
    display = validator.engine.terminology.displays(system, code)
    samples.append({"system": system, "code": code, "display": "Ikke en visningstekst"})
    if display:
        samples.append({"system": system, "code": code, "display": sorted(display)[0].upper()})
    samples.append({"system": "http://samhandling.no/fhir/CodeSystem/sone", "code": "gul"})
    samples.append({"system": system, "code": "finnes-ikke"})
    samples.append({"code": code})
    return samples


@pytest.mark.parametrize("path", OUR_VALUESETS, ids=lambda p: p.stem)
def test_validate_code_gives_the_validators_verdict(path: Path, validator: Validator) -> None:
    """For every ValueSet of ours and codes valid and invalid (a wrong display too), $validate-code answers as
    the validator judges a Coding bound to it: its result is false exactly when the validator finds an error, and
    its issues carry the validator's codes."""
    valueset = _read(path)
    profile = _bound_profile(valueset["url"])
    bound = validator.with_resources([profile])
    for coding in _samples(valueset, validator):
        resource = {"resourceType": "Basic", "meta": {"profile": [profile["url"]]}, "code": {"coding": [coding]}}
        found = [i for i in bound.validate(resource) if i.code in VERDICT_CODES]
        params = Params("$validate-code", codes.VALUESET_VALIDATE_PARAMS, {"coding": [coding]})
        if any(i.code == "ADP-4005" for i in found):  # "not checked": no verdict either
            with pytest.raises(AdapterError) as error:
                codes.validate_in_valueset(validator.engine.terminology, valueset["url"], params)
            assert error.value.issues[0].code == "ADP-5063"
            continue
        answer = codes.validate_in_valueset(
            validator.engine.terminology, valueset["url"], params, validator.policy.display_issues_are_warnings
        )
        result = _parameter(answer, "result")["valueBoolean"]
        issues = _parameter(answer, "issues")
        reported = [i["details"]["coding"][0]["code"] for i in issues["resource"]["issue"]] if issues else []
        assert result == (not any(i.severity == "error" for i in found)), (coding, found, answer)
        assert sorted(reported) == sorted(i.code for i in found), (coding, found, answer)


def test_a_wrong_display_is_a_warning_where_the_validators_policy_says_so(validator: Validator) -> None:
    """With ``display_warns`` (the validator's policy of display issues as warnings) the result stays true and
    the message says what is wrong."""
    coding = {"system": "http://samhandling.no/fhir/CodeSystem/sone", "code": "gul", "display": "Blå"}
    params = Params("$validate-code", codes.VALUESET_VALIDATE_PARAMS, {"coding": [coding]})
    url = "http://samhandling.no/fhir/ValueSet/sone"
    answer = codes.validate_in_valueset(validator.engine.terminology, url, params, display_warns=True)
    assert _parameter(answer, "result")["valueBoolean"] is True
    assert "Blå" in _parameter(answer, "message")["valueString"]
    strict = codes.validate_in_valueset(validator.engine.terminology, url, params, display_warns=False)
    assert _parameter(strict, "result")["valueBoolean"] is False


def test_a_code_the_validator_cannot_check_is_refused(validator: Validator) -> None:
    """A ValueSet with SNOMED CT (not held offline): the validator says "not checked" (ADP-4005), and
    $validate-code refuses to give a verdict (ADP-5063) instead of guessing."""
    url = "http://hl7.org/fhir/ValueSet/condition-code"
    profile = _bound_profile(url)
    coding = {"system": "http://snomed.info/sct", "code": "35489007"}
    resource = {"resourceType": "Basic", "meta": {"profile": [profile["url"]]}, "code": {"coding": [coding]}}
    assert "ADP-4005" in [i.code for i in validator.with_resources([profile]).validate(resource)]
    params = Params("$validate-code", codes.VALUESET_VALIDATE_PARAMS, {"coding": [coding]})
    with pytest.raises(AdapterError) as error:
        codes.validate_in_valueset(validator.engine.terminology, url, params)
    assert error.value.issues[0].code == "ADP-5063"


def _conceptmap_rows() -> list[tuple[str, str, str]]:
    """(map id, source code, target code) of every row of our ConceptMaps."""
    rows = []
    for path in sorted(RESOURCES.glob("ConceptMap-*.json")):
        conceptmap = _read(path)
        for group in conceptmap["group"]:
            for element in group["element"]:
                rows.extend((conceptmap["id"], element["code"], t.get("code", "")) for t in element["target"])
    return rows


@pytest.mark.parametrize(("map_id", "source", "target"), _conceptmap_rows())
def test_translate_gives_the_mapping_engines_translation(
    map_id: str, source: str, target: str, catalogue: Catalogue, settings: Settings
) -> None:
    """For every row of our ConceptMaps, both ways: the first match $translate gives (not unmatched) is the code
    the mapping engine (ConceptMaps, as the KITH translation uses it) translates to, and back."""
    engine = ConceptMaps.load(settings.profiles_dir / "resources")
    conceptmap = catalogue.read("ConceptMap", map_id)
    assert conceptmap is not None
    from_system, to_system = engine.systems(map_id)
    forward = Params("$translate", translate.TRANSLATE_PARAMS, {"system": [from_system], "code": [source]})
    assert _first_code(translate.translate([conceptmap], forward)) == engine.translate(map_id, source)
    if target:
        back = {"system": [to_system], "code": [target], "reverse": ["true"]}
        answer = translate.translate([conceptmap], Params("$translate", translate.TRANSLATE_PARAMS, back))
        assert _first_code(answer) == engine.translate_back(map_id, target)


def test_translate_without_a_match_says_so(catalogue: Catalogue) -> None:
    maps = catalogue.search("ConceptMap", [])
    params = Params(
        "$translate", translate.TRANSLATE_PARAMS, {"system": ["urn:oid:2.16.578.1.12.4.1.1.8258"], "code": ["9"]}
    )
    answer = translate.translate(maps, params)
    assert _parameter(answer, "result")["valueBoolean"] is False
    assert _parameter(answer, "match") is None


@pytest.mark.parametrize("path", OUR_VALUESETS, ids=lambda p: p.stem)
def test_expand_gives_the_validators_expansion(path: Path, validator: Validator) -> None:
    """Every code the validator's expansion has is in $expand's answer, each with its code system's display."""
    valueset = _read(path)
    terminology = validator.engine.terminology
    if not terminology.expand(valueset["url"]).complete:  # a code list we hold in part (fragment): never in part
        with pytest.raises(AdapterError) as error:
            expand.expand(terminology, valueset, Params("$expand", (), {}), "2026-01-01T00:00:00Z")
        assert error.value.issues[0].code == "ADP-5062"
        return
    answer = expand.expand(terminology, valueset, Params("$expand", expand.EXPAND_PARAMS, {}), "2026-01-01T00:00:00Z")
    contains = answer["expansion"]["contains"]
    assert {(c["system"], c["code"]) for c in contains} == terminology.expand(valueset["url"]).codes
    assert answer["expansion"]["total"] == len(contains)
    assert all(c.get("display") for c in contains)


def test_expand_filters_pages_and_picks_the_language(validator: Validator) -> None:
    valueset = _read(RESOURCES / "ValueSet-sone.json")
    terminology = validator.engine.terminology

    def expanded(**given: str) -> dict[str, Any]:
        params = Params("$expand", expand.EXPAND_PARAMS, {k: [v] for k, v in given.items()})
        found: dict[str, Any] = expand.expand(terminology, valueset, params, "2026-01-01T00:00:00Z")["expansion"]
        return found

    assert [c["code"] for c in expanded(filter="RØD")["contains"]] == ["rod"]
    assert [c["code"] for c in expanded(filter="yellow")["contains"]] == ["gul"]  # a designation matches too
    assert expanded(filter=".*")["total"] == 0  # text, never a pattern
    page = expanded(count="1", offset="1")
    assert (page["total"], page["offset"], [c["code"] for c in page["contains"]]) == (3, 1, ["gul"])
    assert [c["display"] for c in expanded(displayLanguage="en-GB")["contains"]] == ["Green", "Yellow", "Red"]
    assert {"name": "count", "valueInteger": 1} in page["parameter"]


def test_expand_of_what_is_not_held_offline_is_too_costly(validator: Validator) -> None:
    """SNOMED CT, or a filter we cannot evaluate: ADP-5062 (too-costly), never a part of the codes."""
    for url in ("http://hl7.org/fhir/ValueSet/condition-code", "http://hl7.org/fhir/ValueSet/ucum-units"):
        valueset = validator.definitions.get(url)
        assert valueset is not None
        with pytest.raises(AdapterError) as error:
            expand.expand(validator.engine.terminology, valueset, Params("$expand", (), {}), "2026-01-01T00:00:00Z")
        assert error.value.issues[0].code == "ADP-5062"
        assert error.value.issues[0].info.type == "too-costly"


def test_lookup_gives_display_designations_and_version(validator: Validator) -> None:
    system = "http://samhandling.no/fhir/CodeSystem/sone"
    params = Params("$lookup", codes.LOOKUP_PARAMS, {"system": [system], "code": ["rod"]})
    answer = codes.lookup(validator.engine.terminology, params)
    assert _parameter(answer, "name")["valueString"] == "SoneCS"
    assert _parameter(answer, "display")["valueString"] == "Rød"
    assert _parameter(answer, "version")["valueString"] == "0.1.0"
    designation = _parameter(answer, "designation")["part"]
    assert {"name": "language", "valueCode": "en"} in designation
    for missing, code in (
        ({"system": [system], "code": ["lilla"]}, "ADP-5080"),  # not in the code system
        ({"system": ["http://snomed.info/sct"], "code": ["1"]}, "ADP-5081"),  # not among the codes held
        ({"system": ["http://example.org/cs"], "code": ["1"]}, "ADP-5060"),  # no such code system
    ):
        with pytest.raises(AdapterError) as error:
            codes.lookup(validator.engine.terminology, Params("$lookup", codes.LOOKUP_PARAMS, missing))
        assert error.value.issues[0].code == code


def test_parameters_are_checked() -> None:
    """Unknown, repeated, non-numeric and overlong parameters are refused (ADP-5061); a body that is no
    Parameters is ADP-5065."""
    with pytest.raises(AdapterError, match="ADP-5061|not a parameter") as error:
        Params.read("$expand", expand.EXPAND_PARAMS, [("exclude", "x")], None)
    assert error.value.issues[0].code == "ADP-5061"
    params = Params.read("$expand", expand.EXPAND_PARAMS, [("count", "-1"), ("filter", "a"), ("filter", "b")], None)
    for name, call in (("count", params.integer), ("filter", params.text)):
        with pytest.raises(AdapterError) as error:
            call(name)
        assert error.value.issues[0].code == "ADP-5061"
    with pytest.raises(AdapterError):
        Params.read("$expand", expand.EXPAND_PARAMS, [("url", "x" * 1001)], None).text("url")
    with pytest.raises(AdapterError) as error:
        Params.read("$expand", expand.EXPAND_PARAMS, [], {"resourceType": "ValueSet"})
    assert error.value.issues[0].code == "ADP-5065"


def test_the_catalogue_serves_our_package_and_the_terminology_it_uses(catalogue: Catalogue) -> None:
    """Every resource of profiles/resources, the guide listing them all, and the core ValueSet a profile binds to
    (risk-probability) with its CodeSystem; nothing of another type."""
    ours = [_read(p) for p in sorted(RESOURCES.glob("*.json"))]
    for resource in ours:
        assert catalogue.read(resource["resourceType"], resource["id"]) is not None, resource["id"]
    assert catalogue.read("ValueSet", "risk-probability") is not None
    assert catalogue.read("CodeSystem", "risk-probability") is not None
    guide = catalogue.search("ImplementationGuide", [])
    assert len(guide) == 1
    listed = {e["reference"]["reference"] for e in guide[0]["definition"]["resource"]}
    assert listed >= {f"{r['resourceType']}/{r['id']}" for r in ours}
    assert guide[0]["packageId"] == "no.samhandling.psykiskhelse"
    assert catalogue.read("Patient", "x") is None and "Patient" not in SERVED_TYPES
    sd = catalogue.read("StructureDefinition", "krise-og-mestringsplan")
    assert sd is not None and "snapshot" in sd  # as the package ships them


def test_the_catalogue_searches_by_url_version_and_name(catalogue: Catalogue) -> None:
    url = "http://samhandling.no/fhir/ValueSet/sone"
    assert [r["id"] for r in catalogue.search("ValueSet", [("url", url)])] == ["sone"]
    assert [r["id"] for r in catalogue.search("ValueSet", [("url", url + "|0.1.0")])] == ["sone"]
    assert catalogue.search("ValueSet", [("url", url), ("version", "9.9")]) == []
    assert [r["id"] for r in catalogue.search("ValueSet", [("name", "sonevs")])] == ["sone"]
    assert len(catalogue.search("ValueSet", [("_id", "sone,plantype")])) == 2


def _parameter(parameters: dict[str, Any], name: str) -> dict[str, Any] | None:
    return next((p for p in parameters["parameter"] if p["name"] == name), None)


def _first_code(answer: dict[str, Any]) -> str | None:
    """The code of the first match that is a mapping (not unmatched or disjoint)."""
    for match in (p for p in answer["parameter"] if p["name"] == "match"):
        parts = {p["name"]: p for p in match["part"]}
        if parts["equivalence"]["valueCode"] not in ("unmatched", "disjoint") and "concept" in parts:
            return str(parts["concept"]["valueCoding"]["code"])
    return None


def test_one_owner_per_type() -> None:
    """The records serve the types of adapter.search (patient data, through the access rules); the conformance
    types are served read-only by the terminology blueprint alone: no type is both."""
    from adapter.search import SEARCH_PARAMS

    assert set(SERVED_TYPES).isdisjoint({*SEARCH_PARAMS, "AuditEvent"})


# Issue 17, the outsider's findings on the terminology: each test failed before its fix.

KITH_8279 = "urn:oid:2.16.578.1.12.4.1.1.8279"
SONE_CS = "http://samhandling.no/fhir/CodeSystem/sone"


def _lookup_issue(validator: Validator, system: str, code: str) -> Any:
    params = Params("$lookup", codes.LOOKUP_PARAMS, {"system": [system], "code": [code]})
    with pytest.raises(AdapterError) as error:
        codes.lookup(validator.engine.terminology, params)
    return error.value.issues[0]


def test_lookup_in_a_fragment_answers_the_codes_it_holds(validator: Validator) -> None:
    """KITH 8279 is held as a fragment: a code it has is looked up like any other; one it lacks is "not among the
    codes held" (ADP-5081), never "no such code system"; an unknown code of a complete system is ADP-5080, which
    says the code is not in it."""
    params = Params("$lookup", codes.LOOKUP_PARAMS, {"system": [KITH_8279], "code": ["DIALOG_HELSEFAGLIG"]})
    answer = codes.lookup(validator.engine.terminology, params)
    assert _parameter(answer, "display") is not None
    assert _parameter(answer, "name")["valueString"] == "Kith8279"
    lacking = _lookup_issue(validator, KITH_8279, "RESEPT")
    assert (lacking.code, lacking.info.http) == ("ADP-5081", 404)
    assert "fragment" in lacking.text_en and "There is no CodeSystem" not in lacking.text_en
    unknown = _lookup_issue(validator, SONE_CS, "nope")
    assert unknown.code == "ADP-5080" and "nope" in unknown.text_en
    assert "There is no CodeSystem" not in unknown.text_en
    assert _lookup_issue(validator, "http://snomed.info/sct", "1").code == "ADP-5081"  # held as not-present
    assert _lookup_issue(validator, "http://example.org/none", "1").code == "ADP-5060"


def _snapshot_bindings(validator: Validator) -> set[str]:
    """The ValueSets every element of every snapshot of our profiles binds to, any strength."""
    found = set()
    for path in sorted(RESOURCES.glob("StructureDefinition-*.json")):
        snapshot = validator.definitions.snapshot(_read(path)["url"])
        for element in snapshot["snapshot"]["element"]:
            if isinstance((element.get("binding") or {}).get("valueSet"), str):
                found.add(element["binding"]["valueSet"].split("|")[0])
    return found


def test_the_catalogue_serves_every_valueset_a_binding_names(catalogue: Catalogue, validator: Validator) -> None:
    """Each ValueSet a binding of our profiles' snapshots names (core's request-status included), and each
    CodeSystem those include, is served by its id in the package and found by its url; what no package holds
    (LOINC, BCP 47) is not."""
    bound = _snapshot_bindings(validator)
    assert "http://hl7.org/fhir/ValueSet/request-status" in bound
    held = [url for url in bound if validator.definitions.get(url) is not None]
    assert len(held) > 50
    for url in held:
        resource = validator.definitions.get(url)
        assert resource is not None
        assert catalogue.read("ValueSet", resource["id"]) is not None, url
        assert catalogue.by_url("ValueSet", url) is not None, url
        for part in resource.get("compose", {}).get("include", []):
            system = validator.definitions.get(part.get("system", ""))
            if system is not None:
                assert catalogue.by_url("CodeSystem", system["url"]) is not None, (url, system["url"])
    assert catalogue.read("ValueSet", "request-status") is not None
    assert catalogue.read("CodeSystem", "request-status") is not None
    assert catalogue.by_url("CodeSystem", "http://loinc.org") is None


def test_an_id_two_packages_give_is_served_under_a_second_id(validator: Validator) -> None:
    """The first holder of an id (ours, then the order the validator looks in) keeps it; a later resource of the
    same type and id is served under ``<id>-<8 hex of its url>``: both found by url, none lost."""
    from adapter.validate.catalogue import clash_id
    from adapter.validate.packages import MemoryPackage

    ours = {"resourceType": "ValueSet", "id": "request-status", "url": "http://test.example/ValueSet/rs"}
    binding = {"id": "Basic.code", "path": "Basic.code", "binding": {"strength": "example", "valueSet": ours["url"]}}
    profile = {**_bound_profile(ours["url"]), "differential": {"element": [binding]}}
    profile.update(id="clash", url="http://test.example/StructureDefinition/clash")
    core_url = "http://hl7.org/fhir/ValueSet/request-status"
    core_binding = {**binding, "binding": {"strength": "required", "valueSet": core_url}}
    other = {
        **profile,
        "id": "clash2",
        "url": "http://test.example/StructureDefinition/clash2",
        "differential": {"element": [core_binding]},
    }
    own = MemoryPackage("own", [ours, profile, other])
    definitions = validator.definitions.with_packages([own])
    definitions.own = own
    catalogue = Catalogue(definitions)
    assert catalogue.read("ValueSet", "request-status")["url"] == ours["url"]  # type: ignore[index]
    moved = catalogue.by_url("ValueSet", core_url)
    assert moved is not None and moved["id"] == clash_id("request-status", core_url)
    assert catalogue.read("ValueSet", moved["id"]) == moved
    assert validator.definitions.get(core_url)["id"] == "request-status"  # type: ignore[index]  # not changed


def test_translate_of_a_code_needs_its_system(catalogue: Catalogue) -> None:
    """R4 ConceptMap/$translate: a code is given with its system; a bare code is refused (ADP-5061)."""
    maps = catalogue.search("ConceptMap", [])
    with pytest.raises(AdapterError) as error:
        translate.translate(maps, Params("$translate", translate.TRANSLATE_PARAMS, {"code": ["2"]}))
    assert error.value.issues[0].code == "ADP-5061" and error.value.issues[0].args["param"] == "system"


def test_a_wrong_display_names_the_coding_and_the_displays_as_written(validator: Validator) -> None:
    """In a codeableConcept the issue names the Coding (``CodeableConcept.coding[1].display``, as R4's
    $validate-code issues do), and the displays are shown as the code system has them, not lower-cased."""
    concept = {"coding": [{"system": SONE_CS, "code": "x"}, {"system": SONE_CS, "code": "rod", "display": "Blå"}]}
    params = Params("$validate-code", codes.VALUESET_VALIDATE_PARAMS, {"codeableConcept": [concept]})
    url = "http://samhandling.no/fhir/ValueSet/sone"
    answer = codes.validate_in_valueset(validator.engine.terminology, url, params)
    issue = _parameter(answer, "issues")["resource"]["issue"][0]  # type: ignore[index]
    assert issue["expression"] == ["CodeableConcept.coding[1].display"]
    message = _parameter(answer, "message")["valueString"]  # type: ignore[index]
    assert "Rød" in message and "rød" not in message
    coding = {"system": SONE_CS, "code": "rod", "display": "Blå"}
    single = Params("$validate-code", codes.VALUESET_VALIDATE_PARAMS, {"coding": [coding]})
    answer = codes.validate_in_valueset(validator.engine.terminology, url, single)
    assert _parameter(answer, "issues")["resource"]["issue"][0]["expression"] == ["Coding.display"]  # type: ignore[index]
