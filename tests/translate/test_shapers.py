"""The shapers of messages written in FHIR are declared per KITH message type in the to-KITH mapping files
(``shape:``, adapter/mapping/shapers.py): a bad block is refused when the mappings are loaded (ADP-3003, naming the
file and the problem), the referral's content (what is sent, what is required, the target's name, the KITH types) is
read from the YAML and not from Python, and a KITH type that no file declares has no shaper (ADP-3004).

Each test works on a copy of the mappings folder in tmp_path (the profiles linked), changed as the test says.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.mapping.shapers import Shapes
from adapter.translate import Translation, Translator
from adapter.validate import Validator

REFERRAL_FILE = "fhir.to-kith-henvisning-2.0.yaml"
DIALOG_FILE = "fhir.to-kith-dialogmelding-1.1.yaml"
Edit = Callable[[dict[str, Any]], None]


def mappings_copy(tmp_path: Path, settings: Settings, edits: dict[str, Edit]) -> Settings:
    """Settings whose home is ``tmp_path``: a copy of the mappings with the ``shape:`` blocks of the files in
    ``edits`` changed by them (the files are read as YAML, changed and written back), and the profiles linked."""
    folder = tmp_path / "mappings"
    shutil.copytree(settings.home / "mappings", folder)
    (tmp_path / "profiles").symlink_to(settings.profiles_dir)
    for name, edit in edits.items():
        data = yaml.safe_load((folder / name).read_text(encoding="utf-8"))
        edit(data["shape"])
        (folder / name).write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return dataclasses.replace(settings, home=tmp_path)


def example(settings: Settings, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((settings.examples_dir / "fhir" / name).read_text(encoding="utf-8"))
    return loaded


def request(bundle: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "ServiceRequest"
    )
    return found


def reported(result: Translation) -> set[tuple[str, str | None]]:
    return {(issue.code, issue.expression) for issue in result.issues}


@pytest.fixture(scope="module")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings."""
    return Translator(settings, validator)


@pytest.fixture
def referral(settings: Settings) -> dict[str, Any]:
    """Scope: function. Type: the example referral message (a fresh copy). Default: Ola's."""
    return example(settings, "Bundle-melding-henvisning-ola.json")


# --- the blocks are checked when they are loaded --------------------------------------------------------------------


def _set(key: str, value: Any) -> Edit:
    return lambda shape: shape.update({key: value})


def _profiles(change: Callable[[dict[str, str]], Any]) -> Edit:
    return lambda shape: change(shape["profiles"])


def _sent(rtype: str, elements: list[str]) -> Edit:
    return lambda shape: shape["sent"].update({rtype: elements})


def _first_requirement(key: str, value: Any) -> Edit:
    return lambda shape: shape["requires"][0].update({key: value})


#: A bad ``shape:`` in the referral's file -> what the refusal says.
BAD = {
    "an unknown key": (_set("colour", "blue"), "unknown keys ['colour']"),
    "an unknown shaper": (_set("shaper", "telepathy"), "unknown shaper 'telepathy'"),
    "a profile missing": (_profiles(lambda p: p.pop("ServiceRequest")), "no profile for ['ServiceRequest']"),
    "no types": (_set("types", []), "types must be a list"),
    "a type that is no KITH code": (_set("types", ["henvisning"]), "types must be a list"),
    "an unknown resource type in profiles": (
        _profiles(lambda p: p.update(Henvisning="http://example.org/p")),
        "'Henvisning' is not a FHIR resource type",
    ),
    "a data type in profiles": (
        _profiles(lambda p: p.update(HumanName="http://example.org/p")),
        "'HumanName' is not a FHIR resource type",
    ),
    "a resource type the shaper does not make": (
        _profiles(lambda p: p.update(CarePlan="http://example.org/p")),
        "the shaper uses no CarePlan",
    ),
    "an unknown resource type in sent": (_sent("Pasient", ["id"]), "'Pasient' is not a FHIR resource type"),
    "an unknown element in sent": (
        _sent("ServiceRequest", ["id", "notes"]),
        "ServiceRequest has no elements ['notes']",
    ),
    "a requirement at an unknown element": (
        _first_requirement("at", "ServiceRequest.authoredAt"),
        "ServiceRequest has no element 'authoredAt'",
    ),
    "a requirement at an unknown root": (_first_requirement("at", "Patient.name"), "does not start at one of"),
    "a requirement with an unknown test": (_first_requirement("is", "soon"), "give one of is"),
    "a requirement without its text": (_first_requirement("what", {"en": "x"}), "what must give en and nb"),
    "a requirement in an unknown table": (
        lambda s: s["requires"][-1].update({"in": "henvisning-ukjent"}),
        "the table 'henvisning-ukjent' is not in _tables.yaml",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_shape_block_is_refused_when_loaded(
    tmp_path: Path, settings: Settings, validator: Validator, case: str
) -> None:
    edit, problem = BAD[case]
    changed = mappings_copy(tmp_path, settings, {REFERRAL_FILE: edit})
    with pytest.raises(AdapterError) as raised:
        Translator(changed, validator)
    assert [i.code for i in raised.value.issues] == ["ADP-3003"]
    assert REFERRAL_FILE in raised.value.issues[0].text_en
    assert "shape: " in raised.value.issues[0].text_en and problem in raised.value.issues[0].text_en


def test_a_key_of_another_shaper_is_refused(tmp_path: Path, settings: Settings) -> None:
    """What is sent belongs to the referral: the Dialogmelding's shaper takes no ``sent``."""
    changed = mappings_copy(tmp_path, settings, {DIALOG_FILE: _set("sent", {"Communication": ["id"]})})
    with pytest.raises(AdapterError, match="unknown keys \\['sent'\\] for the shaper 'plan-as-dialog'") as raised:
        Shapes.load(changed.home / "mappings", {})
    assert DIALOG_FILE in raised.value.issues[0].text_en


def test_two_files_that_claim_the_same_kith_type_are_refused(
    tmp_path: Path, settings: Settings, translator: Translator
) -> None:
    changed = mappings_copy(tmp_path, settings, {DIALOG_FILE: _set("types", ["DIALOG*", "HENVISNING_VIDERE"])})
    with pytest.raises(AdapterError, match=f"HENVISNING\\* is also declared by {DIALOG_FILE}") as raised:
        Shapes.load(changed.home / "mappings", translator.mappings.tables)
    assert [i.code for i in raised.value.issues] == ["ADP-3003"]
    assert REFERRAL_FILE in raised.value.issues[0].text_en


def test_the_project_declares_a_shaper_for_every_kith_type_its_events_travel_as(
    translator: Translator, settings: Settings
) -> None:
    """Every target of the ConceptMap meldingshendelse-til-kith-8279 has a shaper, and the right one."""
    path = settings.profiles_dir / "resources" / "ConceptMap-meldingshendelse-til-kith-8279.json"
    conceptmap = json.loads(path.read_text(encoding="utf-8"))
    targets = {t["code"] for g in conceptmap["group"] for e in g["element"] for t in e.get("target", [])}
    found = {code: translator.mappings.shapes.for_type(code) for code in targets}
    assert {code: shape.shaper if shape else None for code, shape in found.items()} == {
        code: "referral" if code.startswith("HENVISNING") else "plan-as-dialog" for code in targets
    }
    assert translator.mappings.shapes.for_type("APPREC") is None


# --- the referral's content is the YAML's ---------------------------------------------------------------------------


def test_an_element_the_shape_does_not_send_is_reported(
    tmp_path: Path, settings: Settings, validator: Validator, translator: Translator, referral: dict[str, Any]
) -> None:
    """With the project's mappings a note goes in ReqComment; in a copy whose ServiceRequest may not carry a note
    (and whose target has another name), the note is reported as travelling only in the attachment (ADP-3012)."""
    assert ("ADP-3012", "ServiceRequest.note") not in reported(translator.fhir_to_kith(copy.deepcopy(referral)))

    def without_note(shape: dict[str, Any]) -> None:
        shape["sent"]["ServiceRequest"].remove("note")
        shape["target"] = "Henvisning 2.0 (uten merknad)"

    changed = Translator(mappings_copy(tmp_path, settings, {REFERRAL_FILE: without_note}), validator)
    result = changed.fhir_to_kith(referral)
    assert result.ok and result.xml is not None
    issue = next(i for i in result.issues if (i.code, i.expression) == ("ADP-3012", "ServiceRequest.note"))
    assert issue.severity == "information" and "Henvisning 2.0 (uten merknad)" in issue.text_en


def test_a_requirement_the_shape_declares_is_checked(
    tmp_path: Path, settings: Settings, validator: Validator, translator: Translator, referral: dict[str, Any]
) -> None:
    """A referral without a wished date is sent with the project's mappings; a copy that requires one refuses it
        (ADP-3014 with the text of the requirement), and a copy without the requirement of a status writes a draft
    (which then fails the XSD: the requirement is what stops it before)."""
    request(referral).pop("occurrenceDateTime", None)
    assert translator.fhir_to_kith(copy.deepcopy(referral)).ok
    wish = {
        "at": "ServiceRequest.occurrenceDateTime",
        "is": "date",
        "what": {"en": "the date the service is wished for", "nb": "ønsket dato"},
    }

    def require_date(shape: dict[str, Any]) -> None:
        shape["requires"].append(wish)
        shape["requires"] = [r for r in shape["requires"] if r["at"] != "ServiceRequest.status"]

    changed = Translator(mappings_copy(tmp_path, settings, {REFERRAL_FILE: require_date}), validator)
    result = changed.fhir_to_kith(copy.deepcopy(referral))
    assert result.xml is None
    errors = [i for i in result.issues if i.severity == "error"]
    assert [(i.code, i.expression) for i in errors] == [("ADP-3014", "ServiceRequest.occurrenceDateTime")]
    assert "the date the service is wished for" in errors[0].text_en and "ønsket dato" in errors[0].text_nb
    request(referral)["status"] = "draft"
    request(referral)["occurrenceDateTime"] = "2026-02-01"
    assert ("ADP-3014", "ServiceRequest.status") in reported(translator.fhir_to_kith(copy.deepcopy(referral)))
    unchecked = changed.fhir_to_kith(referral)  # written, and then refused by the Henvisning XSD (no ServType)
    assert unchecked.xml is not None and ("ADP-3014", "ServiceRequest.status") not in reported(unchecked)


# --- a KITH type that no file declares --------------------------------------------------------------------------------


def test_a_kith_type_with_no_declared_shaper_cannot_be_sent(
    tmp_path: Path, settings: Settings, validator: Validator, translator: Translator, referral: dict[str, Any]
) -> None:
    """A copy whose Dialogmelding file declares no shaper sends no plan, and one whose Henvisning file declares
    only Viderehenvisning sends no new referral (the event's KITH type, HENVISNING_NYTILSTAND, has no shaper):
    ADP-3004, the same as for an event without a KITH counterpart."""
    plan = example(settings, "Bundle-melding-kriseplan-ola.json")
    assert translator.fhir_to_kith(copy.deepcopy(plan)).ok
    assert translator.fhir_to_kith(copy.deepcopy(referral)).ok

    def only_videre(shape: dict[str, Any]) -> None:
        shape["types"] = ["HENVISNING_VIDERE"]

    changed_settings = mappings_copy(tmp_path, settings, {REFERRAL_FILE: only_videre})
    dialog = changed_settings.home / "mappings" / DIALOG_FILE
    data = yaml.safe_load(dialog.read_text(encoding="utf-8"))
    del data["shape"]  # a to-KITH file without shape: is skipped
    dialog.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    changed = Translator(changed_settings, validator)
    for message in (plan, referral):
        result = changed.fhir_to_kith(message)
        assert result.xml is None
        assert [i.code for i in result.issues] == ["ADP-3004"]
        assert "has no KITH counterpart" in result.issues[0].text_en
