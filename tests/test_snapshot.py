"""Snapshot generation from differentials, checked on the differential-only HL7 Norway no-basis profiles."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapter import standards
from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.validate.packages import Definitions, Package
from adapter.validate.snapshot import generate_snapshot
from adapter.validate.walker import Engine

NO_BASIS = "http://hl7.no/fhir/StructureDefinition/"


@pytest.fixture(scope="module")
def defs(settings: Settings) -> Definitions:
    """Scope: module. Type: Definitions over core and the no-basis StructureDefinitions."""
    return Definitions(
        [
            Package.open(standards.core_package(settings)),
            Package.open(standards.no_basis_json(settings) / "StructureDefinition"),
        ]
    )


def _profile(type_code: str, *differential: dict) -> dict:
    """A minimal constraint StructureDefinition on a core type with the given differential elements."""
    return {
        "resourceType": "StructureDefinition",
        "url": f"http://example.org/{type_code}",
        "type": type_code,
        "derivation": "constraint",
        "baseDefinition": f"http://hl7.org/fhir/StructureDefinition/{type_code}",
        "differential": {"element": list(differential)},
    }


def _elements(defs: Definitions, url: str) -> dict[str, dict]:
    return {e["id"]: e for e in defs.snapshot(url)["snapshot"]["element"]}


def test_every_no_basis_profile_gets_a_snapshot(defs: Definitions) -> None:
    urls = [u for u in defs.packages[1].files]
    assert len(urls) == 35
    for url in urls:
        snapshot = defs.snapshot(url)["snapshot"]["element"]
        ids = [e["id"] for e in snapshot]
        assert len(ids) == len(set(ids)), url
        for element in snapshot:  # the path is the id without its slice names
            assert element["path"] == ".".join(part.split(":")[0] for part in element["id"].split(".")), url


def test_slices_and_their_children_are_made(defs: Definitions) -> None:
    elements = _elements(defs, NO_BASIS + "no-basis-Patient")
    assert elements["Patient.identifier"]["slicing"]["discriminator"] == [{"type": "value", "path": "system"}]
    fnr = elements["Patient.identifier:FNR"]
    assert fnr["sliceName"] == "FNR"
    assert "slicing" not in fnr
    assert elements["Patient.identifier:FNR.system"]["fixedUri"] == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert elements["Patient.identifier:FNR.system"]["min"] == 1
    assert elements["Patient.identifier:FNR.system"]["path"] == "Patient.identifier.system"


def test_slices_come_after_the_sliced_element_and_its_children(defs: Definitions) -> None:
    ids = [e["id"] for e in defs.snapshot(NO_BASIS + "no-basis-Patient")["snapshot"]["element"]]
    assert ids.index("Patient.identifier") < ids.index("Patient.identifier:FNR") < ids.index("Patient.identifier:DNR")
    assert ids.index("Patient.identifier:FNR.value") < ids.index("Patient.identifier:FHN")
    assert ids.index("Patient.identifier:HNR.assigner") < ids.index("Patient.active")


def test_children_of_nested_complex_types_are_expanded(defs: Definitions) -> None:
    elements = _elements(defs, NO_BASIS + "no-basis-Organization")
    system = elements["Organization.type:organisatoriskNiva.coding.system"]
    assert system["fixedUri"] == "urn:oid:2.16.578.1.12.4.1.1.8628"
    assert system["path"] == "Organization.type.coding.system"


def test_profile_on_profile_inherits_the_base_profile(defs: Definitions) -> None:
    elements = _elements(defs, NO_BASIS + "kommunikasjonspart-Organization")
    assert "Organization.identifier:ENH.system" in elements  # from no-basis-Organization
    assert any(i.startswith("Organization.identifier:HER") for i in elements)  # its own


def test_extension_profile_children_come_from_the_extension_definition(defs: Definitions) -> None:
    elements = _elements(defs, NO_BASIS + "no-basis-Patient")
    url = elements["Patient.extension:citizenship.url"]
    assert url["fixedUri"] == "http://hl7.org/fhir/StructureDefinition/patient-citizenship"


def test_differential_properties_add_constraints_and_replace_the_rest(defs: Definitions) -> None:
    sd = _profile(
        "CarePlan",
        {"id": "CarePlan.status", "path": "CarePlan.status", "short": "new short"},
        {
            "id": "CarePlan.subject",
            "path": "CarePlan.subject",
            "constraint": [{"key": "x-1", "severity": "error", "human": "h", "expression": "true"}],
        },
    )
    elements = {e["id"]: e for e in generate_snapshot(sd, defs)["snapshot"]["element"]}
    assert elements["CarePlan.status"]["short"] == "new short"
    keys = [c["key"] for c in elements["CarePlan.subject"]["constraint"]]
    assert "ele-1" in keys and "x-1" in keys
    # content references: children of a recursive element are copied from the element it refers to
    assert elements["CarePlan.activity.detail.code"]["path"] == "CarePlan.activity.detail.code"


def test_renamed_choice_restricts_the_type(defs: Definitions) -> None:
    sd = _profile("Observation", {"id": "Observation.valueQuantity", "path": "Observation.valueQuantity"})
    elements = {e["id"]: e for e in generate_snapshot(sd, defs)["snapshot"]["element"]}
    assert [t["code"] for t in elements["Observation.value[x]"]["type"]] == ["Quantity"]


def test_unknown_element_is_reported_with_the_profile_url(defs: Definitions) -> None:
    sd = _profile("Patient", {"id": "Patient.nickname", "path": "Patient.nickname"})
    with pytest.raises(AdapterError) as raised:
        generate_snapshot(sd, defs)
    assert raised.value.issues[0].code == "ADP-0006"
    assert "http://example.org/Patient" in raised.value.issues[0].text_en


def test_a_known_profile_whose_snapshot_fails_is_reported_as_such_not_as_unknown(defs: Definitions) -> None:
    broken = _profile("Patient", {"id": "Patient.nickname", "path": "Patient.nickname"})
    engine = Engine(Definitions([_Single(broken), *defs.packages]))
    issues = engine.validate({"resourceType": "Patient", "meta": {"profile": [broken["url"]]}})
    errors = [(i.code, i.severity, i.expression) for i in issues if i.severity == "error"]
    assert errors == [("ADP-0006", "error", "Patient.meta.profile")]


class _Single(Package):
    """A package holding one in-memory resource."""

    def __init__(self, resource: dict) -> None:
        super().__init__("test", "0", Path("."))
        self._loaded[resource["url"]] = resource


def test_children_of_a_renamed_choice_constrain_the_choice(defs: Definitions) -> None:
    sd = _profile(
        "Observation",
        {"id": "Observation.valueQuantity", "path": "Observation.valueQuantity", "type": [{"code": "Quantity"}]},
        {"id": "Observation.valueQuantity.code", "path": "Observation.valueQuantity.code", "min": 1},
    )
    elements = {e["id"]: e for e in generate_snapshot(sd, defs)["snapshot"]["element"]}
    assert [t["code"] for t in elements["Observation.value[x]"]["type"]] == ["Quantity"]
    assert elements["Observation.value[x].code"]["min"] == 1


def test_a_renamed_choice_must_name_one_of_its_types(defs: Definitions) -> None:
    sd = _profile("Observation", {"id": "Observation.valueBla", "path": "Observation.valueBla", "min": 1})
    with pytest.raises(AdapterError, match="valueBla names none of the types"):
        generate_snapshot(sd, defs)
