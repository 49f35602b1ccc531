"""A referral written in FHIR (event referral-sent, focus a ServiceRequest with the henvisning profile) sent to a KITH
receiver: a MsgHead 1.2 with a Henvisning 2.0 that passes the XSDs, its clinical content in the Henvisning's own
elements, the FHIR Bundle attached, each loss of structure reported, and the way back to a valid Bundle (with the
attachment, and without it, as a receiver without FHIR reads it). Also: what a referral must have to be sent.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from test_translate import check_rules

from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.mapping.spec import load_mappings
from adapter.parse.fhir_source import read_fhir
from adapter.translate import Translation, Translator
from adapter.validate import Validator

NS = {
    "mh": "http://www.kith.no/xmlstds/msghead/2006-05-24",
    "h": "http://ehelse.no/xmlstds/henvisning/2017-11-30",
    "po": "http://ehelse.no/xmlstds/po/poKomponent/2017-11-30",
    "b64": "http://www.kith.no/xmlstds/base64container",
}
REFERRAL = "Bundle-melding-henvisning-ola.json"
FNR, HPR, HER = "urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.4", "urn:oid:2.16.578.1.12.4.1.2"
ICPC2 = "urn:oid:2.16.578.1.12.4.1.1.7170"
_BLOCKING = ("error", "fatal")


@pytest.fixture(scope="module")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings and the standards directory's XSDs."""
    return Translator(settings, validator)


@pytest.fixture
def referral(settings: Settings) -> dict[str, Any]:
    """Scope: function. Type: the example referral message (a fresh copy a test may change). Default: Ola's."""
    loaded: dict[str, Any] = json.loads((settings.examples_dir / "fhir" / REFERRAL).read_text(encoding="utf-8"))
    return loaded


def resource(bundle: dict[str, Any], rtype: str, rid: str | None = None) -> dict[str, Any]:
    """The (first) entry of that type, or with that id."""
    found: dict[str, Any] = next(
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == rtype and (rid is None or e["resource"].get("id") == rid)
    )
    return found


def sent(translator: Translator, bundle: dict[str, Any]) -> tuple[Translation, etree._Element]:
    """The KITH translation, checked: XML, no error, and the XML passes its XSDs (checked here again)."""
    result = translator.fhir_to_kith(bundle)
    assert result.ok and result.xml is not None, [str(i) for i in result.issues if i.severity in _BLOCKING]
    tree = etree.ElementTree(etree.fromstring(result.xml))  # our own output
    assert translator.schemas.validate(tree) == []
    return result, tree.getroot()


def text(root: etree._Element, path: str) -> str | None:
    found = root.findtext(path, namespaces=NS)
    return found.strip() if found is not None else None


def attribute(root: etree._Element, path: str, name: str) -> str | None:
    found = root.find(path, namespaces=NS)
    return found.get(name) if found is not None else None


def test_a_fhir_referral_goes_as_msghead_with_henvisning_2_0(translator: Translator, referral: dict) -> None:
    _, root = sent(translator, referral)
    assert attribute(root, "mh:MsgInfo/mh:Type", "V") == "HENVISNING_NYTILSTAND"
    assert attribute(root, "mh:MsgInfo/mh:Type", "DN") == "Henvisning ny tilstand"
    documents = root.findall("mh:Document", NS)
    assert len(documents) == 2
    assert [etree.QName(e).localname for e in documents[0].find("mh:RefDoc/mh:Content", NS)] == ["Henvisning"]
    assert text(documents[1], "mh:RefDoc/mh:MimeType") == "application/fhir+xml"
    assert text(root, "mh:MsgInfo/mh:MsgId") == referral["identifier"]["value"]
    assert text(root, "mh:MsgInfo/mh:GenDate") == "2026-01-06T13:25:00"  # Norwegian local time, as KITH writes


def test_the_clinical_content_is_in_the_henvisning_elements(translator: Translator, referral: dict) -> None:
    """Patient, sender, receiver, referrer, reasons, priority, what is asked for, notes, dates and the assessment."""
    _, root = sent(translator, referral)
    info = "mh:MsgInfo/"
    assert text(root, info + "mh:Patient/mh:Ident/mh:Id") == "15838510075"
    assert attribute(root, info + "mh:Patient/mh:Ident/mh:TypeId", "V") == "FNR"
    assert (text(root, info + "mh:Patient/mh:FamilyName"), text(root, info + "mh:Patient/mh:GivenName")) == (
        "Nordmann",
        "Ola",
    )
    assert text(root, info + "mh:Sender/mh:Organisation/mh:Ident/mh:Id") == "8100003"
    assert text(root, info + "mh:Receiver/mh:Organisation/mh:Ident/mh:Id") == "8100002"
    referrer = root.find(info + "mh:Sender/mh:Organisation/mh:HealthcareProfessional", NS)
    assert referrer is not None
    assert (text(referrer, "mh:FamilyName"), text(referrer, "mh:Ident/mh:Id")) == ("Hansen", "8100013")
    henvisning = root.find(".//h:Henvisning", NS)
    assert henvisning is not None
    assert [(c.get("V"), c.get("S"), c.get("OT")) for c in henvisning.iterfind("h:Diagnosis/h:Concept", NS)] == [
        ("P98", "2.16.578.1.12.4.1.1.7170", "Tilbakevendende psykotiske symptomer"),
        ("P19", "2.16.578.1.12.4.1.1.7170", "Periodevis bruk av heroin og cannabis"),
    ]
    request = resource(referral, "ServiceRequest")
    assert attribute(henvisning, "h:ServType", "V") == "N"
    assert (attribute(henvisning, "h:ReqServ/h:ServType", "V"), attribute(henvisning, "h:ReqServ/h:Priority", "V")) == (
        "N",
        "3",  # urgent: Haster
    )
    assert text(henvisning, "h:IssueDate") == "2026-01-06T13:20:00"
    assert text(henvisning, "h:DocumentId") == request["id"]
    assert text(henvisning, "h:ReqComment") == request["note"][0]["text"]
    assert attribute(henvisning, "po:TypeInnholdIMelding/po:TypeInnhold", "V") == "10"
    assert text(henvisning, "po:TypeInnholdIMelding/po:Merknad") == request["code"]["text"]
    items = henvisning.findall("h:InfItem", NS)
    assert [text(i, "h:StartDateTime") for i in items] == ["2026-01-05T10:30:00", "2026-01-06T09:00:00"]
    answers, assessment = (text(i, "h:Observation/h:Description") or "" for i in items)
    assert "Hva er viktig for deg?: Å ha et sted å bo" in answers
    assert resource(referral, "ClinicalImpression")["summary"] in assessment
    assert "Prognose: Hovedforløp 3" in assessment


def test_what_has_no_place_is_attached_and_reported(
    translator: Translator, referral: dict, validator: Validator
) -> None:
    result, root = sent(translator, referral)
    assert sorted((i.code, i.severity, i.expression) for i in result.issues) == [
        ("ADP-3012", "information", "ServiceRequest.category"),
        ("ADP-3013", "information", "ServiceRequest.supportingInfo[0]"),
        ("ADP-3013", "information", "ServiceRequest.supportingInfo[1]"),
    ]
    data = base64.b64decode(text(root, "mh:Document[2]/mh:RefDoc/mh:Content/b64:Base64Container") or "")
    assert read_fhir(data, validator.definitions, "xml").resource == referral


def test_the_henvisning_comes_back_as_a_valid_bundle(
    translator: Translator, referral: dict, validator: Validator
) -> None:
    """With the attachment, the referral comes back whole; without it (a receiver that reads only the Henvisning)
    the Bundle made from the Henvisning alone is valid and has the same patient, parties, reasons and priority."""
    _, root = sent(translator, referral)
    back = translator.kith_to_fhir(etree.tostring(root))
    assert back.ok and back.bundle == referral, [str(i) for i in back.issues if i.severity in _BLOCKING]
    root.remove(root.findall("mh:Document", NS)[1])
    alone = translator.kith_to_fhir(etree.tostring(root))
    assert alone.bundle is not None
    assert [str(i) for i in validator.validate(alone.bundle) if i.severity in _BLOCKING] == []
    check_rules(alone.bundle)
    entries = {e["fullUrl"]: e["resource"] for e in alone.bundle["entry"]}
    request = resource(alone.bundle, "ServiceRequest")
    patient = entries[request["subject"]["reference"]]
    assert [(i["system"], i["value"]) for i in patient["identifier"]] == [(FNR, "15838510075")]
    assert patient["name"] == [{"family": "Nordmann", "given": ["Ola"]}]
    role = entries[request["requester"]["reference"]]
    assert entries[role["organization"]["reference"]]["identifier"][0]["value"] == "8100003"
    assert entries[role["practitioner"]["reference"]]["identifier"][0]["value"] == "8100013"
    assert [entries[p["reference"]]["identifier"][0]["value"] for p in request["performer"]] == ["8100002"]
    codes = [entries[r["reference"]]["code"]["coding"][0] for r in request["reasonReference"]]
    original = [c["coding"][0] for c in resource(referral, "ServiceRequest")["reasonCode"]]
    assert [(c["system"], c["code"]) for c in codes] == [(c["system"], c["code"]) for c in original]
    assert [c["system"] for c in codes] == [ICPC2, ICPC2]
    assert request["priority"] == "urgent" and request["authoredOn"] == "2026-01-06T13:20:00+01:00"
    assert request["code"]["text"] == resource(referral, "ServiceRequest")["code"]["text"]


def test_a_referral_that_replaces_an_earlier_one_goes_as_viderehenvisning(
    translator: Translator, referral: dict
) -> None:
    resource(referral, "ServiceRequest")["replaces"] = [{"reference": "ServiceRequest/henvisning-ola-forste"}]
    result, root = sent(translator, referral)
    assert attribute(root, "mh:MsgInfo/mh:Type", "V") == "HENVISNING_VIDERE"
    assert ("ADP-3013", "ServiceRequest.replaces") in {(i.code, i.expression) for i in result.issues}


@pytest.mark.parametrize(
    ("priority", "status", "expected"),
    [
        ("stat", "active", ("N", "0")),
        ("urgent", "active", ("N", "3")),
        ("asap", "active", ("N", "3")),
        ("routine", "active", ("N", "N")),
        (None, "active", ("N", "N")),  # no priority: routine (the henvisning profile)
        ("routine", "revoked", ("C", "N")),  # a cancelled referral (henv-1: no reason needed)
    ],
)
def test_status_and_priority_become_servtype_and_hastegrad(
    translator: Translator, referral: dict, priority: str | None, status: str, expected: tuple[str, str]
) -> None:
    request = resource(referral, "ServiceRequest")
    request.pop("priority")
    request["status"] = status
    if priority:
        request["priority"] = priority
    _, root = sent(translator, referral)
    henvisning = root.find(".//h:Henvisning", NS)
    assert henvisning is not None
    assert attribute(henvisning, "h:ServType", "V") == expected[0]
    assert attribute(henvisning, "h:ReqServ/h:ServType", "V") == expected[0]
    assert attribute(henvisning, "h:ReqServ/h:Priority", "V") == expected[1]


def test_what_the_msghead_cannot_hold_is_fitted_and_reported(translator: Translator, referral: dict) -> None:
    """Two given names, two address lines, a second address, an identifier of no KITH id type, a referrer with an
    HPR-nummer too, a reason without a KITH diagnosis code, a code that is not a henvisningstype, two notes and a
    wished date: the XML still passes its XSDs, each element in the form the Henvisning can take, and what is left
    out is reported."""
    patient = resource(referral, "Patient")
    patient["name"][0]["given"] = ["Ola", "Johan"]
    patient["address"][0]["line"] = ["Storgata 1", "2. etasje"]
    patient["address"].append({"city": "Oslo"})
    patient["identifier"].append({"system": "urn:ietf:rfc:3986", "value": "urn:uuid:7b0c7e4e-0f51-4a0e-9d55-1"})
    resource(referral, "Practitioner", "lege-fastlege")["identifier"].append({"system": HPR, "value": "9144897"})
    request = resource(referral, "ServiceRequest")
    request["reasonCode"].append(
        {"coding": [{"system": "http://snomed.info/sct", "code": "35489007"}], "text": "Depresjon"}
    )
    request["code"]["coding"] = [{"system": "http://snomed.info/sct", "code": "306206005"}]
    request["note"].append({"text": "Ring før innkalling.", "time": "2026-01-06T13:21:00+01:00"})
    request["occurrenceDateTime"] = "2026-02-01T10:00:00+01:00"
    result, root = sent(translator, referral)
    person = root.find("mh:MsgInfo/mh:Patient", NS)
    assert person is not None
    assert text(person, "mh:GivenName") == "Ola Johan"
    assert text(person, "mh:Address/mh:StreetAdr") == "Storgata 1, 2. etasje"
    assert [text(i, "mh:Id") for i in person.iterfind("mh:Ident", NS)] == ["15838510075"]
    referrer = root.findall("mh:MsgInfo/mh:Sender/mh:Organisation/mh:HealthcareProfessional/mh:Ident", NS)
    assert [(text(i, "mh:Id"), attribute(i, "mh:TypeId", "V")) for i in referrer] == [
        ("8100013", "HER"),
        ("9144897", "HPR"),
    ]
    henvisning = root.find(".//h:Henvisning", NS)
    assert henvisning is not None
    reasons = henvisning.findall("h:ReasonAsText", NS)
    assert [(attribute(r, "h:Heading", "V"), text(r, "h:TextResultValue")) for r in reasons] == [("BG", "Depresjon")]
    assert [c.get("V") for c in henvisning.iterfind("h:Diagnosis/h:Concept", NS)] == ["P98", "P19"]
    assert attribute(henvisning, "po:TypeInnholdIMelding/po:TypeInnhold", "V") == "10"
    assert text(henvisning, "h:ReqComment") == request["note"][0]["text"] + "\n\nRing før innkalling."
    assert text(henvisning, "h:ReqServ/h:ReqDate") == "2026-02-01"
    reported = {(i.code, i.expression) for i in result.issues}
    assert {
        ("ADP-3012", "Patient.identifier[1]"),
        ("ADP-3012", "Patient.address[1]"),
        ("ADP-3013", "ServiceRequest.reasonCode[2]"),
        ("ADP-3012", "ServiceRequest.code.coding[0]"),
        ("ADP-3012", "ServiceRequest.note[1].time"),
        ("ADP-3013", "ServiceRequest.occurrenceDateTime"),
    } <= reported
    assert all(i.severity == "information" for i in result.issues)


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    """A change that removes the element ``Type.element`` (or ``Type.element.element``) of the first such entry."""
    rtype, *steps = path.split(".")

    def change(bundle: dict[str, Any]) -> None:
        target = resource(bundle, rtype)
        for step in steps[:-1]:
            target = target[step]
        target.pop(steps[-1])

    return change


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    rtype, element = path.split(".")
    return lambda bundle: resource(bundle, rtype).update({element: value})


#: What Henvisning 2.0 requires and the referral lacks -> (the issue's expression).
INCOMPLETE = {
    "no authoredOn": (_drop("ServiceRequest.authoredOn"), "ServiceRequest.authoredOn"),
    "a patient without identifier or name": (
        lambda b: [resource(b, "Patient").pop(k) for k in ("identifier", "name")],
        "ServiceRequest.subject",
    ),
    "a receiver without HER-id": (
        lambda b: resource(b, "Organization", "org-dps").pop("identifier"),
        "MessageHeader.destination[0].receiver",
    ),
    "a draft": (_set("ServiceRequest.status", "draft"), "ServiceRequest.status"),
    "an unknown priority": (_set("ServiceRequest.priority", "soon"), "ServiceRequest.priority"),
    "no message id": (lambda b: b.pop("identifier"), "Bundle.identifier"),
    "focus on no ServiceRequest": (
        lambda b: resource(b, "MessageHeader").update(focus=[{"reference": "Patient/pasient-ola"}]),
        "MessageHeader.focus",
    ),
}


@pytest.mark.parametrize("case", sorted(INCOMPLETE))
def test_a_referral_without_what_henvisning_requires_gets_an_error_and_no_xml(
    translator: Translator, referral: dict, case: str
) -> None:
    change, expression = INCOMPLETE[case]
    broken = copy.deepcopy(referral)
    change(broken)
    result = translator.fhir_to_kith(broken)
    assert result.xml is None and not result.ok
    errors = [(i.code, i.expression) for i in result.issues if i.severity in _BLOCKING]
    assert errors == [("ADP-3014", expression)]
    issue = next(i for i in result.issues if i.code == "ADP-3014")
    assert "Henvisning 2.0" in issue.text_en and "Henvisning 2.0" in issue.text_nb


def test_the_message_types_are_targets_of_the_event_conceptmap(translator: Translator, settings: Settings) -> None:
    """The table that picks Henvisning ny tilstand or Viderehenvisning names what the ConceptMap allows."""
    path = settings.profiles_dir / "resources" / "ConceptMap-meldingshendelse-til-kith-8279.json"
    conceptmap = json.loads(path.read_text(encoding="utf-8"))
    rows = [e for g in conceptmap["group"] for e in g["element"] if e["code"] == "referral-sent"]
    targets = {t["code"] for row in rows for t in row["target"]}
    table = translator.mappings.tables["henvisning-meldingstype"]
    assert {row["code"] for row in table.values()} == targets == {"HENVISNING_NYTILSTAND", "HENVISNING_VIDERE"}


@pytest.mark.parametrize(
    ("fallback", "problem"),
    [
        ("{from: id}", None),
        ("{value: '1', table: gender}", None),
        ("{form: id}", "fallback takes"),
        ("{table: gender}", "fallback needs from or value"),
        ("id", "fallback takes"),
    ],
)
def test_a_mapping_with_a_bad_fallback_is_refused_when_loaded(
    tmp_path: Path, fallback: str, problem: str | None
) -> None:
    """``fallback`` takes from, value, table and map, and needs from or value (checked at load time, ADP-3003)."""
    header = "url: u\nname: n\nversion: '1'\nsource: {}\ntarget: {}\n"
    (tmp_path / "x.to-fhir.yaml").write_text(
        header + "direction: to-fhir\nnamespaces: {x: urn:x}\nroot: x:X\nsamples: [examples/kith/x.xml]\nmap:\n"
        f"  - {{path: x:Id, to: id, fn: text, fallback: {fallback}}}\n"
    )
    (tmp_path / "fhir.to-x.yaml").write_text(header + "direction: to-kith\ninverse: x.to-fhir.yaml\n")
    tables = {"gender": {"1": "male"}}
    if problem is None:
        assert list(load_mappings(tmp_path, tables, set())) == ["{urn:x}X"]
        return
    with pytest.raises(AdapterError) as raised:
        load_mappings(tmp_path, tables, set())
    assert [i.code for i in raised.value.issues] == ["ADP-3003"]
    assert problem in raised.value.issues[0].text_en
