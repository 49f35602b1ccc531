"""AppRec: the receipt we build for an inbound message (adapter/receipt/apprec.py), valid against the AppRec XSDs,
and the AppRec 1.0 / 1.1 mappings (mappings/kith-apprec-*.yaml) over every AppRec sample, KITH -> FHIR -> KITH."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from xml.etree.ElementTree import canonicalize

import pytest
from lxml import etree

from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.mapping import Mappings
from adapter.parse.xml_safe import parse_xml
from adapter.parse.xsd import SchemaRegistry
from adapter.receipt.apprec import APPREC_NS, ReceiptImpossible, build_apprec, error_code

KITH = Settings.from_env().standards / "kith"
DIALOG = KITH / "samples/dialogmelding/v1.1/helsenorge-messaging/MetadataTestsDialogmelding11.xml"
APPREC_SAMPLES = sorted((KITH / "samples/apprec").rglob("*.xml"))
GEN_DATE = "2024-03-01T10:15:00"
APPREC_ID = "3f0e9a52-8c1d-4b7e-9d2a-5e6f7a8b9c0d"

pytestmark = pytest.mark.skipif(not DIALOG.is_file(), reason=f"needs the standards directory ({KITH})")


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    """Scope: module. Type: SchemaRegistry. Default: from ``Settings.from_env()``."""
    return SchemaRegistry.from_settings(Settings.from_env())


@pytest.fixture(scope="module")
def mappings() -> Mappings:
    """Scope: module. Type: Mappings. Default: loaded from ``Settings.from_env()``."""
    return Mappings.load(Settings.from_env())


def _header(data: bytes | None = None) -> etree._Element:
    return parse_xml(data if data is not None else DIALOG.read_bytes()).getroot()


def _build(header: etree._Element | None, issues: list[Issue], version: str = "1.0") -> etree._Element:
    envelope = Mappings.load(Settings.from_env()).envelope(header)
    return build_apprec(envelope, issues, version=version, gen_date=GEN_DATE, apprec_id=APPREC_ID)


def _valid(registry: SchemaRegistry, root: etree._Element) -> None:
    assert registry.validate(etree.ElementTree(root)) == []


def _find(root: etree._Element, path: str) -> list[etree._Element]:
    return root.findall(path, namespaces={"ar": etree.QName(root).namespace or ""})


def _c14n(root: etree._Element) -> str:
    return canonicalize(etree.tostring(root, encoding="unicode"), strip_text=True, rewrite_prefixes=True)


# --- build_apprec ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_ok_receipt_mirrors_the_addressing(registry: SchemaRegistry, version: str) -> None:
    root = _build(_header(), [Issue("ADP-3001", "information", args={"element": "x", "resource": "y"})], version)
    _valid(registry, root)
    assert root.tag == f"{{{APPREC_NS[version]}}}AppRec"
    assert [e.get("V") for e in _find(root, "ar:Status")] == ["1"]
    # OK, with what travels only verbatim named as information (the one Error, X99, "Til informasjon")
    [note] = _find(root, "ar:Error")
    assert (
        note.get("V") == "X99"
        and note.get("OT", "").startswith("Til informasjon, ikke en feil")
        and "x" in note.get("OT", "")
    )
    # The receiver of the Dialogmelding (St. Olavs, HER 59, with its department) answers its sender.
    assert [e.text for e in _find(root, "ar:Sender/ar:HCP/ar:Inst/ar:Id")] == ["59"]
    assert [e.text for e in _find(root, "ar:Sender/ar:HCP/ar:Inst/ar:Dept/ar:Id")] == ["90998"]
    assert [e.text for e in _find(root, "ar:Receiver/ar:HCP/ar:Inst/ar:Id")] == ["56704"]
    # The HER-id is the main Id; the other Ident is returned as AdditionalId (HIS 80415 3.5).
    assert [e.text for e in _find(root, "ar:Receiver/ar:HCP/ar:Inst/ar:AdditionalId/ar:Id")] == ["9999"]
    assert [e.text for e in _find(root, "ar:Receiver/ar:HCP/ar:Inst/ar:HCPerson/ar:Name")] == ["Rita Lin"]
    assert [e.get("V") for e in _find(root, "ar:OriginalMsgId/ar:MsgType")] == ["DIALOG_HELSEFAGLIG"]
    assert [e.text for e in _find(root, "ar:OriginalMsgId/ar:IssueDate")] == ["2017-06-12T09:35:22"]
    assert [e.text for e in _find(root, "ar:OriginalMsgId/ar:Id")] == ["de1a95c0-4d0c-11e7-9598-0800200c9a66"]
    roles = [e.get("V") for e in _find(root, "ar:*/ar:Role")]
    assert roles == (["PRIM", "AVS"] if version == "1.1" else [])


def test_the_receipt_is_byte_stable() -> None:
    first = etree.tostring(_build(_header(), []), encoding="utf-8")
    assert first == etree.tostring(_build(_header(), []), encoding="utf-8")


def test_unreadable_message_cannot_be_answered() -> None:
    # Nothing to mirror: AppRec needs OriginalMsgId/IssueDate and the parties (HITS 1168 5.3: no AppRec then).
    with pytest.raises(AdapterError) as caught:
        parse_xml(b"<MsgHead><MsgInfo></MsgHead>")
    assert caught.value.issues[0].code == "ADP-1004"
    with pytest.raises(ReceiptImpossible, match="IssueDate"):
        _build(None, caught.value.issues)


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_t01_receipt_when_the_header_was_read_but_a_part_was_not_well_formed(
    registry: SchemaRegistry, version: str
) -> None:
    # For example a MsgHead whose base64 attachment holds XML that is not well-formed.
    with pytest.raises(AdapterError) as caught:
        parse_xml(b"<Dialogmelding><Notat></Dialogmelding>")
    root = _build(_header(), caught.value.issues, version)
    _valid(registry, root)
    assert [e.get("V") for e in _find(root, "ar:Status")] == ["2"]
    (error,) = _find(root, "ar:Error")
    assert (error.get("V"), error.get("S")) == ("T01", "2.16.578.1.12.4.1.1.8221")
    assert error.get("DN") == "Ikke XML / ikke 'well formed' / uleselig"
    assert "velformet" in (error.get("OT") or "") and "linje 1" in (error.get("OT") or "")


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_t02_receipt_names_the_failing_element(registry: SchemaRegistry, version: str) -> None:
    data = DIALOG.read_bytes().replace(b"<MsgId>", b"<Unexpected/><MsgId>")
    header = _header(data)
    issues = registry.validate(header.getroottree())
    assert issues and all(issue.code == "ADP-2001" for issue in issues)
    root = _build(header, issues, version)
    _valid(registry, root)
    errors = _find(root, "ar:Error")
    assert [e.get("V") for e in errors] == ["T02"] * len(issues)
    assert errors[0].get("DN") == "XML validerer ikke"
    assert "/MsgHead/MsgInfo/Unexpected" in (errors[0].get("OT") or "")


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_e31_receipt_for_a_wrong_patient_fnr(registry: SchemaRegistry, version: str) -> None:
    # As the FHIR validator reports it for the translated Bundle: the expression does not name Patient, the value
    # is the patient's Ident in MsgHead.
    wrong = Issue(
        "ADP-4020",
        "error",
        "Bundle.entry[6].resource.identifier[0].value",
        args={
            "path": "Bundle.entry[6].resource.identifier[0].value",
            "value": "13116900216",
            "kind": "fødselsnummer (national identity number)",
            "kind_nb": "fødselsnummer",
            "detail": "the second check digit (digit 11) is wrong",
            "detail_nb": "det andre kontrollsifferet (siffer 11) er feil",
        },
    )
    root = _build(_header(), [wrong], version)
    _valid(registry, root)
    (error,) = _find(root, "ar:Error")
    assert (error.get("V"), error.get("DN")) == ("E31", "Pasientens fødselsnummer er feil")
    assert "kontrollsifferet" in (error.get("OT") or "")


@pytest.mark.parametrize(
    ("issue", "code"),
    [
        (Issue("ADP-1005", "fatal", args={"detail": "DTD"}), "T01"),
        (Issue("ADP-1006", "fatal", args={"size": 9, "limit": 1}), "T01"),
        (Issue("ADP-2002", "fatal", args={"element": "X", "namespace": "urn:x"}), "T10"),
        (Issue("ADP-3002", "error", args={"element": "X", "namespace": "urn:x", "supported": "MsgHead"}), "T10"),
        (Issue("ADP-4001", "error", "Patient.identifier", args={"path": "Patient.identifier", "min": 1}), "E30"),
        (Issue("ADP-4001", "error", "Patient.name[0].family", args={"path": "Patient.name.family"}), "E33"),
        (Issue("ADP-4001", "error", "CarePlan.subject", args={"path": "CarePlan.subject", "min": 1}), "X99"),
        (Issue("ADP-4020", "error", "Practitioner.identifier[0].value", args={"kind": "HPR-nummer"}), "X99"),
        (Issue("ADP-4004", "error", "x", args={"apprec_code": "E21"}), "E21"),
    ],
)
def test_error_codes(issue: Issue, code: str) -> None:
    assert error_code(issue) == code


def test_warnings_do_not_reject(registry: SchemaRegistry) -> None:
    root = _build(_header(), [Issue("ADP-4012", "warning", "x", args={"path": "x", "code": "c", "valueset": "v"})])
    _valid(registry, root)
    assert [e.get("V") for e in _find(root, "ar:Status")] == ["1"]


def test_our_receipt_round_trips_through_the_mapping(mappings: Mappings) -> None:
    root = _build(_header(), [Issue("ADP-2001", "error", "/MsgHead", 3, None, {"detail": "d"})], "1.1")
    bundle, _ = mappings.to_fhir(root)
    assert _c14n(mappings.to_kith(bundle, root=root.tag)) == _c14n(root)


# --- the AppRec mappings -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", APPREC_SAMPLES, ids=lambda p: str(p.relative_to(KITH / "samples/apprec")))
def test_apprec_sample_round_trips(mappings: Mappings, path: Path) -> None:
    root = parse_xml(path.read_bytes()).getroot()
    bundle, _ = mappings.to_fhir(root)
    back = mappings.to_kith(bundle, root=root.tag)
    assert _c14n(back) == _c14n(root)


def _header_of(bundle: dict[str, Any]) -> dict[str, Any]:
    resource: dict[str, Any] = bundle["entry"][0]["resource"]
    assert resource["resourceType"] == "MessageHeader"
    return resource


def test_rejected_apprec_to_fhir(mappings: Mappings) -> None:
    root = parse_xml((KITH / "samples/apprec/v1.1/fiks-nhn-client/example-avvist.xml").read_bytes()).getroot()
    bundle, _ = mappings.to_fhir(root)
    header = _header_of(bundle)
    assert header["eventCoding"]["code"] == "APPREC"
    assert header["response"]["code"] == "fatal-error"
    assert header["response"]["identifier"] == "e0e21a90-5ec8-11e1-b86c-0800200c9a66"
    assert header["source"]["endpoint"] == "urn:oid:2.16.578.1.12.4.1.2.56704"
    assert header["destination"][0]["endpoint"] == "urn:oid:2.16.578.1.12.4.1.2.69"
    assert bundle["identifier"]["value"] == "8d018d60-336b-11de-8bd7-0002a5d5c51b"
    outcome = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == header["response"]["details"]["reference"])
    (issue,) = outcome["issue"]
    assert (issue["severity"], issue["code"]) == ("error", "not-found")
    assert issue["details"]["coding"][0]["code"] == "E21"


def test_status_3_keeps_its_code(mappings: Mappings) -> None:
    sample = KITH / "samples/apprec/v1.0/fiks-nhn-client/example-ok-feil-i-delmelding.xml"
    bundle, _ = mappings.to_fhir(parse_xml(sample.read_bytes()).getroot())
    response = _header_of(bundle)["response"]
    assert response["code"] == "ok"
    assert response["_code"]["extension"][0]["valueString"] == "3"
    assert "details" in response  # smh-2 holds: the errors of the part messages are in the OperationOutcome


# --- status 3 and standalone referrals -------------------------------------------------------------------------


def _partial(kind: str, resource: str) -> Issue:
    return Issue(
        "ADP-3010",
        "warning",
        expression=f"{resource}.identifier[0]",
        args={
            "value": "15720255178",
            "kind": kind,
            "kind_en": kind,
            "kind_nb": kind,
            "detail_en": "bad",
            "detail_nb": "feil",
            "element": f"/MsgHead/MsgInfo/{resource}/Ident",
            "resource": resource,
        },
    )


@pytest.mark.parametrize(("kind", "resource", "code"), [("fnr", "Patient", "E31"), ("her", "Organization", "X99")])
def test_identifier_without_its_system_gives_status_3(
    registry: SchemaRegistry, kind: str, resource: str, code: str
) -> None:
    root = _build(_header(), [_partial(kind, resource)])
    _valid(registry, root)
    assert [(e.get("V"), e.get("DN")) for e in _find(root, "ar:Status")] == [("3", "OK, feil i delmelding")]
    assert [e.get("V") for e in _find(root, "ar:Error")] == [code]
    assert "/MsgHead/MsgInfo/" in (_find(root, "ar:Error")[0].get("OT") or "")


def test_an_error_outranks_status_3(registry: SchemaRegistry) -> None:
    root = _build(_header(), [_partial("fnr", "Patient"), Issue("ADP-2001", "error", args={"detail": "x"})])
    assert [e.get("V") for e in _find(root, "ar:Status")] == ["2"]
    assert [e.get("V") for e in _find(root, "ar:Error")] == ["T02"]


@pytest.mark.parametrize("version", ["1.0", "1.1"])
def test_standalone_henvisning_is_answered_from_its_own_header(registry: SchemaRegistry, version: str) -> None:
    referral = parse_xml((KITH / "samples/testcases/henvisning-v1.0-mottak/Case1.xml").read_bytes()).getroot()
    root = _build(referral, [], version)
    _valid(registry, root)
    # The service provider answers the referrer (mirrored), with the referral's MsgId and GenDate.
    assert [e.text for e in _find(root, "ar:OriginalMsgId/ar:Id")] == ["cef6ac80-5f27-11df-a08a-0800200c9a66"]
    assert [e.text for e in _find(root, "ar:OriginalMsgId/ar:IssueDate")] == ["2002-11-07T09:30:47"]
    assert _find(root, "ar:Sender/ar:HCP/ar:Inst/ar:Name") and _find(root, "ar:Receiver/ar:HCP/ar:Inst/ar:Name")
