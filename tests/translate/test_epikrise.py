"""Epikrise 1.2 (HIS 80226:2014), added as data only: its two mapping files (mappings/kith-epikrise-1.x.*.yaml) with
the envelope its to-FHIR file declares. Every Epikrise 1.2 sample of the standards directory and our own example
(examples/kith/epikrise-ola.xml) maps to a Bundle without errors, comes back from it XSD-valid and equal in canonical
form, and is answered with a correct AppRec built from the envelope declaration alone (no Python names the
standard). Also: the FHIR model of the example, a summary with two stays, and the known limit of the way back
(clinical information comes back grouped by kind).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from test_translate import RECEIPT_DATE, canonical, check_rules

from adapter.config import Settings
from adapter.parse.xml_safe import parse_xml
from adapter.receipt import receipt_for
from adapter.translate import Translation, Translator
from adapter.validate import Validator

SETTINGS = Settings.from_env()
SAMPLES = SETTINGS.standards / "kith" / "samples" / "epikrise" / "v1.2"
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kith" / "epikrise-ola.xml"
E = "{http://www.kith.no/xmlstds/epikrise/2012-02-15}"
APPREC = "{http://www.kith.no/xmlstds/apprec/2004-11-21}"
DEFINITION = "http://samhandling.no/fhir/MessageDefinition/kith-epikrise-1.2"
KITH_9602 = "urn:oid:2.16.578.1.12.4.1.1.9602"
_BLOCKING = ("error", "fatal")


def _messages() -> list[Path]:
    found = sorted(SAMPLES.rglob("*.xml"))
    assert found, f"no Epikrise 1.2 samples under {SAMPLES}"
    return [*found, EXAMPLE]


MESSAGES = [pytest.param(path, id=path.name) for path in _messages()]


@pytest.fixture(scope="module")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings and the standards directory's XSDs."""
    return Translator(settings, validator)


def translated(translator: Translator, data: bytes) -> Translation:
    """The translation of ``data``, which must have no error and a Bundle that passes the rule checks."""
    result = translator.kith_to_fhir(data)
    assert not [str(i) for i in result.issues if i.severity in _BLOCKING]
    assert result.bundle is not None
    check_rules(result.bundle)
    return result


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    """The resources of that type in the Bundle, in entry order."""
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def resolve(bundle: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The resource a reference in the Bundle points at."""
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == reference["reference"])
    return found


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path.replace("e:", E)) or "").strip()


@pytest.mark.parametrize("path", MESSAGES)
def test_maps_to_a_valid_message_bundle(translator: Translator, path: Path) -> None:
    """No error (XSD, mapping, profiles); the header says what it is and its focus is the summary, a Composition
    of type 9602 A03-2 about the patient, written by the sender."""
    bundle = translated(translator, path.read_bytes()).bundle
    assert bundle is not None
    header = bundle["entry"][0]["resource"]
    assert header["eventCoding"]["code"] == "EPIKRISE"
    assert header["definition"] == DEFINITION
    summary = resolve(bundle, header["focus"][0])
    assert summary["resourceType"] == "Composition"
    assert summary["type"]["coding"][0] == {"system": KITH_9602, "code": "A03-2", "display": "Epikrise"}
    assert resolve(bundle, summary["subject"])["resourceType"] == "Patient"
    assert header["sender"] in summary["author"]


@pytest.mark.parametrize("path", MESSAGES)
def test_round_trip_is_xsd_valid_and_equal_in_canonical_form(translator: Translator, path: Path) -> None:
    result = translated(translator, path.read_bytes())
    assert result.bundle is not None and result.kith_root is not None
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None, [str(i) for i in back.issues if i.severity in _BLOCKING]
    assert canonical(back.xml) == canonical(etree.tostring(result.kith_root, encoding="unicode"))


@pytest.mark.parametrize("path", MESSAGES)
def test_apprec_comes_from_the_envelope_declaration(translator: Translator, path: Path) -> None:
    """Valid against the AppRec XSD; it answers the MsgId and the type EPIKRISE; its Sender is the epikrise's
    receiver (the requester) and its Receiver the epikrise's sender (the service provider); OK, or OK with an error
    in a part (an identifier carried without the national system whose check it fails)."""
    data = path.read_bytes()
    result = translated(translator, data)
    apprec = parse_xml(receipt_for(result, gen_date=RECEIPT_DATE)).getroot()
    assert translator.schemas.validate(etree.ElementTree(apprec)) == []
    sent = parse_xml(data).getroot()
    assert apprec.findtext(f"{APPREC}OriginalMsgId/{APPREC}Id") == _text(sent, "e:MsgId")
    original_type = apprec.find(f"{APPREC}OriginalMsgId/{APPREC}MsgType")
    assert original_type is not None and original_type.get("V") == "EPIKRISE"
    inst = f"{APPREC}HCP/{APPREC}Inst/{APPREC}Id"
    assert apprec.findtext(f"{APPREC}Sender/{inst}") == _text(sent, "e:ServRprt/e:Requester/e:HCP/e:Inst/e:Id")
    assert apprec.findtext(f"{APPREC}Receiver/{inst}") == _text(sent, "e:ServRprt/e:ServProvider/e:HCP/e:Inst/e:Id")
    status = apprec.find(f"{APPREC}Status")
    assert status is not None and status.get("V") in ("1", "3")


def test_different_messages_get_different_apprec_ids(translator: Translator) -> None:
    ids = []
    for path in _messages():
        result = translated(translator, path.read_bytes())
        apprec = parse_xml(receipt_for(result, gen_date=RECEIPT_DATE)).getroot()
        ids.append(apprec.findtext(f"{APPREC}Id"))
        again = parse_xml(receipt_for(result, gen_date=RECEIPT_DATE)).getroot()
        assert again.findtext(f"{APPREC}Id") == ids[-1]  # the same message and GenDate: the same AppRec
    assert len(set(ids)) == len(ids) >= 4


def test_no_python_names_the_standard() -> None:
    """A new message type is one mapping: no module of the adapter knows Epikrise's namespace."""
    adapter = Path(__file__).resolve().parents[2] / "adapter"
    assert [str(p) for p in adapter.rglob("*.py") if "xmlstds/epikrise" in p.read_text(encoding="utf-8")] == []


def test_the_example_in_fhir(translator: Translator) -> None:
    """Ola's discharge summary: one stay (Encounter) based on the GP's referral, the main diagnosis ranked first,
    the medication with its dose, each heading's text as a Communication to the GP and a section of the summary,
    the responsible psychologist an author."""
    bundle = translated(translator, EXAMPLE.read_bytes()).bundle
    assert bundle is not None
    header = bundle["entry"][0]["resource"]
    assert header["source"]["endpoint"] == "urn:oid:2.16.578.1.12.4.1.2.8100002"
    assert header["destination"][0]["endpoint"] == "urn:oid:2.16.578.1.12.4.1.2.8100003"
    summary = resolve(bundle, header["focus"][0])
    assert summary["status"] == "final" and summary["title"] == "Epikrise fra psykisk helsevern"
    assert summary["attester"] == [{"mode": "legal", "time": "2026-02-25T15:00:00+01:00"}]
    [stay] = resources(bundle, "Encounter")
    assert summary["encounter"] == summary["event"][0]["detail"][0]
    assert resolve(bundle, summary["encounter"]) is stay
    assert stay["status"] == "finished" and stay["class"]["code"] == "IMP"
    assert stay["period"] == {"start": "2026-02-20T14:30:00+01:00", "end": "2026-02-25T11:00:00+01:00"}
    referral = resolve(bundle, stay["basedOn"][0])
    assert resolve(bundle, referral["requester"])["name"] == "Storgata legekontor"
    main, other = (resolve(bundle, d["condition"]) for d in stay["diagnosis"])
    assert stay["diagnosis"][0]["rank"] == 1 and "rank" not in stay["diagnosis"][1]
    assert main["code"]["coding"][0]["code"] == "F200" and other["code"]["coding"][0]["code"] == "F112"
    [medication] = resources(bundle, "MedicationStatement")
    assert medication["status"] == "active"
    assert medication["dosage"][0]["doseAndRate"][0]["doseQuantity"]["unit"] == "mg"
    assert medication["dosage"][0]["text"] == "1 tablett om kvelden"
    texts = resources(bundle, "Communication")
    assert [t["topic"]["coding"][0]["code"] for t in texts] == ["AI", "FO", "VU", "OP"]
    assert texts[1]["payload"][0]["contentString"].startswith("Rolig forløp i skjermet enhet.")  # XHTML, read
    assert all(resolve(bundle, t["recipient"][0])["name"] == "Storgata legekontor" for t in texts)
    assert [s["title"] for s in summary["section"]] == [
        "Årsak til innleggelse",
        "Forløp og behandling",
        "Vurdering",
        "Planer for videre oppfølging",
    ]
    authors = [resolve(bundle, a) for a in summary["author"]]
    roles = [a for a in authors if a["resourceType"] == "PractitionerRole"]
    assert [resolve(bundle, r["practitioner"])["name"][0]["text"] for r in roles] == ["Anders Lie"]


def _two_stays(data: bytes) -> bytes:
    """The example with a second stay (another department, its own diagnosis and text), as HIS 80226 allows."""
    root = parse_xml(data).getroot()
    first = root.find(f"{E}ServRprt/{E}Event")
    assert first is not None
    second = copy.deepcopy(first)
    start, end = second.find(f"{E}ReportedEvent/{E}StartDateTime"), second.find(f"{E}ReportedEvent/{E}EndDateTime")
    assert start is not None and end is not None
    start.set("V", "2026-02-25T11:00:00")
    end.set("V", "2026-02-27T10:00:00")
    for item in second.findall(f"{E}InfItem")[1:] + second.findall(f"{E}Comment")[1:]:
        second.remove(item)
    comment = second.find(f"{E}Comment/{E}TextResultValue")
    assert comment is not None
    comment.text = "Overflyttet til rehabiliteringsenheten for to døgn før utskrivning."
    first.addnext(second)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_two_stays_come_back_each_with_its_own_content(translator: Translator) -> None:
    data = _two_stays(EXAMPLE.read_bytes())
    result = translated(translator, data)
    assert result.bundle is not None and result.kith_root is not None
    stays = resources(result.bundle, "Encounter")
    assert len(stays) == 2
    urls = {e["fullUrl"]: e["resource"]["id"] for e in result.bundle["entry"]}
    per_stay = [
        [t for t in resources(result.bundle, "Communication") if urls[t["encounter"]["reference"]] == stay["id"]]
        for stay in stays
    ]
    assert [len(texts) for texts in per_stay] == [4, 1]
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None
    assert canonical(back.xml) == canonical(etree.tostring(result.kith_root, encoding="unicode"))


def test_clinical_information_comes_back_grouped_by_kind(translator: Translator) -> None:
    """The known limit of the way back (mappings/unmapped.yaml): InfItems of one Event come back as diagnoses,
    other clinical information, structured medication, in that order. A message that interleaves them comes back
    XSD-valid with the same InfItems, reordered."""
    root = parse_xml(EXAMPLE.read_bytes()).getroot()
    event = root.find(f"{E}ServRprt/{E}Event")
    assert event is not None
    items = event.findall(f"{E}InfItem")
    medication = items[-1]
    items[0].addprevious(medication)  # the medication first
    data = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    result = translated(translator, data)
    assert result.bundle is not None
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None
    returned = parse_xml(back.xml).getroot().findall(f"{E}ServRprt/{E}Event/{E}InfItem")
    assert [i.find(f"{E}Type").get("V") for i in returned] == ["H", "B", "CAVE", "MEDB"]  # type: ignore[union-attr]
    assert sorted(canonical(etree.tostring(i, encoding="unicode")) for i in returned) == sorted(
        canonical(etree.tostring(i, encoding="unicode")) for i in items
    )


def _with_attachment(data: bytes, description: str) -> bytes:
    """The example with a PDF attached to the summary (RefDoc, HIS 1036)."""
    root = parse_xml(data).getroot()
    summary = root.find(f"{E}ServRprt")
    assert summary is not None
    refdoc = etree.SubElement(summary, f"{E}RefDoc")
    etree.SubElement(refdoc, f"{E}IssueDate", V="2026-02-25T14:00:00")
    etree.SubElement(refdoc, f"{E}MsgType", V="A", DN="Vedlegg")
    etree.SubElement(refdoc, f"{E}MimeType").text = "application/pdf"
    etree.SubElement(refdoc, f"{E}Description").text = description
    container = "{http://www.kith.no/xmlstds/base64container}Base64Container"
    etree.SubElement(etree.SubElement(refdoc, f"{E}Content"), container).text = "JVBERi0xLjQKJSVFT0YK"
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize(("description", "crisis_plan"), [("Kriseplan, revidert 24.02.", True), ("Timeliste", False)])
def test_an_attachment_is_a_document_of_the_message(
    translator: Translator, description: str, crisis_plan: bool
) -> None:
    """An attachment (RefDoc) is a DocumentReference in the message's focus, for the patient; a crisis plan is
    also of type 9602 A01-2 Kriseplan."""
    result = translated(translator, _with_attachment(EXAMPLE.read_bytes(), description))
    assert result.bundle is not None and result.kith_root is not None
    [document] = resources(result.bundle, "DocumentReference")
    header = result.bundle["entry"][0]["resource"]
    assert resolve(result.bundle, header["focus"][-1]) is document
    assert resolve(result.bundle, document["subject"])["resourceType"] == "Patient"
    assert document["content"][0]["attachment"]["title"] == description
    kriseplan = {"system": KITH_9602, "code": "A01-2", "display": "Kriseplan"}
    assert (kriseplan in document["type"]["coding"]) is crisis_plan
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None
    assert canonical(back.xml) == canonical(etree.tostring(result.kith_root, encoding="unicode"))
