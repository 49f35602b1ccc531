"""KITH <-> FHIR translation over the real KITH samples of the standards directory (never copied into the repo).

For every sample of a covered standard: the FHIR Bundle has no validator error and passes the rule checks, with an
AppRec of status 1 or 3 (or the sample is deliberately faulty and listed in tests/translate/expectations.yaml with
the receipt it must get and why), and KITH -> FHIR -> KITH gives the original back after canonicalisation (C14N
2.0, prefixes rewritten, insignificant whitespace and comments ignored). Hostile inputs get their AppRec (T01, T02,
T10) through the receipt builder, never an exception. The engine's enveloped Henvisning 1.x and its FHIR-written
PLO logistics are tested at the end; tests/test_golden.py compares every output with its golden file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import canonicalize

import pytest
import yaml
from local_http import LocalHttp
from lxml import etree

from adapter.config import Settings
from adapter.receipt import ReceiptImpossible, error_codes, receipt_for
from adapter.translate import Translation, Translator

SETTINGS = Settings.from_env()
SAMPLES = SETTINGS.standards / "kith" / "samples"
#: The sample folders whose translation is in place: MsgHead 1.2 with Dialogmelding 1.0/1.1 (the PLO test cases
#: carried in Dialogmelding 1.0 included), Henvisning 1.0/1.1/2.0, Epikrise 1.2 and PLO 1.6; AppRec 1.0/1.1; the
#: acceptance test cases of these standards; the deliberately invalid samples (*/invalid).
COVERED = [
    "apprec",
    "dialogmelding",
    "epikrise/v1.1",
    "epikrise/v1.2",
    "henvisning",
    "plo/v1.5",
    "plo/v1.6",
    "testcases/dialogmelding-v1.0-mottak",
    "testcases/epikrise-v1.1-mottak",
    "testcases/henvisning-v1.0-mottak",
    "testcases/henvisning-v1.0-sending-fasit",
    "testcases/plo-v1.5-mottak",
]
#: The deliberately faulty samples with the receipt they must lead to and why (see the file's header).
EXPECTATIONS: dict[str, dict[str, Any]] = (
    yaml.safe_load((Path(__file__).parent / "translate" / "expectations.yaml").read_text(encoding="utf-8")) or {}
)
#: A fixed GenDate for the receipts we build in tests (the AppRec's own timestamp; everything else is the input's).
RECEIPT_DATE = "2024-01-01T12:00:00"
_BLOCKING = ("error", "fatal")


def _samples() -> list[str]:
    found = sorted(str(p.relative_to(SAMPLES)) for folder in COVERED for p in (SAMPLES / folder).rglob("*.xml"))
    assert found, f"no KITH samples under {SAMPLES}"
    return found


@pytest.fixture(scope="module")
def translator() -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings, the standards directory's XSDs."""
    return Translator(SETTINGS)


def canonical(xml: bytes | str) -> str:
    """C14N 2.0 with prefixes rewritten and whitespace-only text dropped (comments are never kept)."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    return canonicalize(text, strip_text=True, rewrite_prefixes=True)


def _receipt_or_why(result: Translation) -> str:
    """The receipt of ``result`` as expectations.yaml writes it, for the message of a failing assertion."""
    try:
        got = receipt(result)
    except Exception as error:  # noqa: BLE001 - only a message text; the assertion itself fails anyway
        return f"none could be made ({error!r})"
    if got is None:
        return "none (an AppRec is never answered)"
    return f'{{status: "{got[0]}", errors: {got[1]}}}'


def receipt(result: Translation) -> tuple[str, list[str]] | None:
    """(status, error codes) of the AppRec we send for ``result``, or None when none can be sent."""
    try:
        root = etree.fromstring(receipt_for(result, gen_date=RECEIPT_DATE))  # our own output
    except ReceiptImpossible:
        return None
    status = root.find("{*}Status")
    return (status.get("V") if status is not None else ""), [e.get("V", "") for e in root.iterfind("{*}Error")]


def test_every_expectation_names_a_covered_sample() -> None:
    assert set(EXPECTATIONS) <= set(_samples())
    for sample, expected in EXPECTATIONS.items():
        assert expected.get("reason"), f"{sample}: no reason"


@pytest.mark.parametrize("sample", _samples())
def test_sample_gives_valid_fhir_or_its_listed_receipt(translator: Translator, sample: str) -> None:
    """A covered sample gives a Bundle with no error that passes the rule checks, and its receipt is OK (1), or
    "OK, feil i delmelding" (3) with one Error per identifier carried without its national system. A listed
    (deliberately faulty) sample gives exactly the receipt listed."""
    result = translator.kith_to_fhir((SAMPLES / sample).read_bytes())
    expected = EXPECTATIONS.get(sample)
    blocking = [i for i in result.issues if i.severity in _BLOCKING]
    if expected is None or expected["apprec"] != "none" and expected["apprec"]["status"] == "3":
        # A deliberately faulty sample goes into tests/translate/expectations.yaml with the receipt it gets:
        assert not blocking, (f"receipt: {_receipt_or_why(result)}", [str(i) for i in blocking])
        assert result.bundle is not None
        check_rules(result.bundle)
    got = receipt(result)
    if expected is None:
        partial = [i for i in result.issues if i.code == "ADP-3010"]
        is_apprec = result.kith_root is not None and etree.QName(result.kith_root).localname == "AppRec"
        assert got == (None if is_apprec else ("3" if partial else "1", got[1] if got else [])), got
    elif expected["apprec"] == "none":
        assert got is None
        assert set(expected["issues"]) <= {i.code for i in blocking}, [str(i) for i in blocking]
    else:
        assert got == (expected["apprec"]["status"], expected["apprec"]["errors"]), got


@pytest.mark.parametrize("sample", _samples())
def test_sample_round_trips_losslessly(translator: Translator, sample: str) -> None:
    """KITH -> FHIR -> KITH gives the original back (C14N), and what we write passes its XSD unless the original
    did not. Only a message that cannot be parsed at all has no Bundle (it is answered with T01)."""
    data = (SAMPLES / sample).read_bytes()
    result = translator.kith_to_fhir(data)
    if result.bundle is None:
        assert error_codes(result.issues) == ["T01"], [str(i) for i in result.issues]
        return
    back = translator.fhir_to_kith(result.bundle)
    assert back.xml is not None, [str(i) for i in back.issues]
    assert result.kith_root is not None
    assert canonical(back.xml) == canonical(etree.tostring(result.kith_root, encoding="unicode"))
    schema_broken = any(i.code == "ADP-2001" for i in result.issues)
    assert schema_broken or back.ok, [str(i) for i in back.issues if i.severity in _BLOCKING]


def check_rules(bundle: dict[str, Any]) -> None:
    """The rule-based checks of every output: MessageHeader first, unique ids and fullUrls, every reference
    resolves in the Bundle, no empty resource, every resource claims a profile (that it passes it is the
    validator's part: a Bundle without errors)."""
    entries = bundle["entry"]
    assert entries[0]["resource"]["resourceType"] == "MessageHeader"
    urls = [e["fullUrl"] for e in entries]
    assert len(set(urls)) == len(urls)
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in entries]
    assert len(set(ids)) == len(ids)
    assert bundle.get("meta", {}).get("profile"), "the Bundle claims no profile"
    for entry in entries:
        resource = entry["resource"]
        assert set(resource) - {"resourceType", "id", "meta"}, f"empty {resource['resourceType']}"
        assert resource.get("meta", {}).get("profile"), f"{resource['resourceType']} claims no profile"
        for reference in _references(resource):
            assert reference in urls, f"{reference} does not resolve in the Bundle"


def _references(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["reference"]] if isinstance(node.get("reference"), str) else []
        return found + [r for value in node.values() for r in _references(value)]
    if isinstance(node, list):
        return [r for value in node for r in _references(value)]
    return []


def test_translation_is_deterministic(translator: Translator) -> None:
    data = (SAMPLES / "dialogmelding/v1.1/sarepta/Helsefaglig_dialog.xml").read_bytes()
    first, second = translator.kith_to_fhir(data), translator.kith_to_fhir(data)
    assert json.dumps(first.bundle, sort_keys=True) == json.dumps(second.bundle, sort_keys=True)


PLANS = [
    "Bundle-melding-kriseplan-ola.json",
    "Bundle-melding-individuell-plan-ola.json",
    "Bundle-melding-voldsrisikoplan-ola.json",
]


@pytest.mark.parametrize("name", PLANS)
def test_plan_travels_over_dialogmelding_and_comes_back(translator: Translator, name: str) -> None:
    bundle = json.loads((SETTINGS.examples_dir / "fhir" / name).read_text(encoding="utf-8"))
    out = translator.fhir_to_kith(bundle)
    assert out.ok, [str(i) for i in out.issues]
    assert out.xml is not None
    root = etree.fromstring(out.xml)  # our own output, already schema-checked
    ns = {"mh": "http://www.kith.no/xmlstds/msghead/2006-05-24", "d": "http://www.kith.no/xmlstds/dialog/2013-01-23"}
    assert root.find("mh:MsgInfo/mh:Type", ns).get("V") == "DIALOG_HELSEFAGLIG"
    mime_types = [m.text for m in root.iterfind("mh:Document/mh:RefDoc/mh:MimeType", ns)]
    assert mime_types == ["application/fhir+xml", "text/plain; charset=utf-8"]
    note = root.findtext(".//d:Notat/d:TekstNotatInnhold", namespaces=ns)
    assert note and "Pasient: Ola Nordmann" in note  # a receiver without FHIR reads the plan
    back = translator.kith_to_fhir(out.xml)
    assert back.ok, [str(i) for i in back.issues if i.severity in ("error", "fatal")]
    assert back.bundle == bundle
    # a KITH-only system answers without the FHIR attachment: what MsgHead carries is read back valid, and the
    # telephone numbers went as TeleAddress URLs (tel:), as KITH writes them, so they come back with their system
    addresses = [a.get("V") for a in root.iterfind(".//mh:TeleAddress", ns)]
    assert addresses and all(a.split(":")[0] in ("tel", "mailto", "fax", "http", "https") for a in addresses)
    for document in root.findall("mh:Document", ns):
        if document.findtext("mh:RefDoc/mh:MimeType", namespaces=ns) == "application/fhir+xml":
            root.remove(document)
    alone = translator.kith_to_fhir(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    assert alone.ok, [str(i) for i in alone.issues if i.severity in ("error", "fatal")]


#: A KITH message the hostile inputs are made from (its MsgHead is what the receipt answers).
_BASE = SAMPLES / "testcases/dialogmelding-v1.0-mottak/Case3.xml"


def _hostile(case: str, base_url: str) -> bytes:
    data = _BASE.read_bytes()
    prolog_end = data.index(b"?>") + 2
    head, body = data[:prolog_end], data[prolog_end:]
    if case == "xxe":
        entity = f'<!DOCTYPE MsgHead [<!ENTITY x SYSTEM "{base_url}/secret">]>'.encode()
        return head + entity + body.replace(b"<MsgId>", b"<MsgId>&x;", 1)
    if case == "billion-laughs":
        entities = b"".join(b'<!ENTITY l%d "%s">' % (n, b"&l%d;" % (n - 1) * 10 if n else b"lol") for n in range(10))
        return head + b"<!DOCTYPE MsgHead [" + entities + b"]>" + body.replace(b"</MsgHead>", b"<x>&l9;</x></MsgHead>")
    if case == "external-dtd":
        return head + f'<!DOCTYPE MsgHead SYSTEM "{base_url}/msghead.dtd">'.encode() + body
    if case == "oversized":  # over the 20 MiB cap, refused before parsing
        return data.replace(b"</MsgHead>", b"<!--" + b"x" * (21 * 1024 * 1024) + b"--></MsgHead>")
    if case == "truncated":
        return data[: data.index(b"<Document>") + 40]
    if case == "wrong-namespace":  # a payload format we have neither schema nor mapping for
        return data.replace(b"http://www.kith.no/xmlstds/dialog/2006-10-11", b"urn:example:not-kith")
    if case == "schema":
        return data.replace(b"<MsgId>", b"<Unexpected/><MsgId>", 1)
    raise AssertionError(case)


#: Hostile input -> (the blocking issue codes, the AppRec's error codes): the MsgHead before the damage is
#: readable, so each gets a rejecting receipt (status 2) through the receipt builder.
HOSTILE = {
    "xxe": (["ADP-1005"], ["T01"]),
    "billion-laughs": (["ADP-1005"], ["T01"]),
    "external-dtd": (["ADP-1005"], ["T01"]),
    "oversized": (["ADP-1006"], ["T01"]),
    "truncated": (["ADP-1004"], ["T01"]),
    "wrong-namespace": (["ADP-2001", "ADP-2002", "ADP-3002"], ["T10"]),
    "schema": (["ADP-2001"], ["T02"]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_gets_its_receipt(translator: Translator, case: str, local_http: LocalHttp) -> None:
    """No exception, no Bundle, no network request; the AppRec names the cause (T01 unreadable, T02 schema, T10
    unsupported format), and it passes its XSD."""
    result = translator.kith_to_fhir(_hostile(case, local_http.url))
    codes, receipt_errors = HOSTILE[case]
    assert [i.code for i in result.issues if i.severity in _BLOCKING] == codes
    assert result.bundle is None or case == "schema"
    assert receipt(result) == ("2", receipt_errors)
    apprec = etree.fromstring(receipt_for(result, gen_date=RECEIPT_DATE))  # our own output
    assert translator.schemas.validate(etree.ElementTree(apprec)) == []
    assert local_http.hits == []


#: Inputs with no MsgHead to answer: issues, never an exception, and no receipt (HITS 1168 5.3).
HEADLESS = {
    "xxe": b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><MsgHead>&x;</MsgHead>',
    "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><l>&b;</l>',
    "truncated": b'<?xml version="1.0"?><MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"><MsgInfo>',
    "wrong-namespace": b'<MsgHead xmlns="urn:not-kith"><MsgInfo/></MsgHead>',
    "not-xml": b"\x00\x01binary",
}


@pytest.mark.parametrize("case", sorted(HEADLESS))
def test_headless_hostile_input_gives_issues_and_no_receipt(translator: Translator, case: str) -> None:
    result = translator.kith_to_fhir(HEADLESS[case])
    assert not result.ok
    assert result.bundle is None
    assert {i.code for i in result.issues} & {"ADP-1004", "ADP-1005", "ADP-2002", "ADP-3002"}
    assert receipt(result) is None


def test_oversized_input_is_refused_before_parsing(translator: Translator) -> None:
    result = translator.kith_to_fhir(b"<a>" + b" " * (21 * 1024 * 1024) + b"</a>")
    assert [i.code for i in result.issues] == ["ADP-1006"]


# --- engine: Henvisning 1.x inside a MsgHead; PLO logistics written in FHIR -----------------------------------

HENVISNING_1X = ["testcases/henvisning-v1.0-mottak/Case1.xml", "henvisning/v1.1/sarepta/henvisning_v1.1_n.xml"]


def _in_msghead(referral: str) -> bytes:
    """A Henvisning 1.x carried as the payload of a MsgHead (the MsgHead of a Henvisning 2.0 sample), built here
    from two samples of the standards directory."""
    head = etree.parse(str(SAMPLES / "henvisning/v2.0/sarepta/Henvisning_ny_tilstand_v2-0_Ny.xml")).getroot()
    content = head.find(".//{*}RefDoc/{*}Content")
    assert content is not None
    for child in list(content):
        content.remove(child)
    content.append(etree.parse(str(SAMPLES / referral)).getroot())
    return etree.tostring(head, xml_declaration=True, encoding="UTF-8")


@pytest.mark.parametrize("referral", HENVISNING_1X)
def test_henvisning_1x_inside_a_msghead(translator: Translator, referral: str) -> None:
    """The MsgHead's header and parties are the message's; the referral's own header nodes are skipped both ways
    (``standalone``), its definition says it travelled enveloped, and the message comes back unchanged."""
    data = _in_msghead(referral)
    result = translator.kith_to_fhir(data)
    assert result.ok, [str(i) for i in result.issues if i.severity in _BLOCKING]
    assert result.bundle is not None
    check_rules(result.bundle)
    header = result.bundle["entry"][0]["resource"]
    assert header["definition"].endswith("-msghead")
    assert sum(e["resource"]["resourceType"] == "MessageHeader" for e in result.bundle["entry"]) == 1
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None, [str(i) for i in back.issues]
    assert canonical(back.xml) == canonical(data)


LOGISTICS = sorted((SAMPLES / "plo/v1.6/sarepta/pasientlogistikk_1_6_mottak").glob("*_Ny.xml"))
_MESSAGE_ELEMENT = {
    "LOG_INNLAGT": "MeldingInnlagtPasient",
    "LOG_UTSKRIVNINGSKLAR": "MeldingUtskrivningsklarPasient",
    "LOG_AVMELDING": "AvmeldingUtskrivningsklarPasient",
    "LOG_UTSKREVET": "MeldingOmUtskrevetPasient",
    "LOG_DOD": "OrienteringOmDod",
}


def _as_if_written_in_fhir(node: Any) -> Any:
    """The Bundle without what only a KITH original gives (kith-residue, kith-original, primitive extensions)."""
    if isinstance(node, dict):
        result = {}
        for key, value in node.items():
            if key.startswith("_"):
                continue
            if key == "extension":
                value = [e for e in value if not str(e.get("url", "")).endswith(("/kith-residue", "/kith-original"))]
                if not value:
                    continue
            result[key] = _as_if_written_in_fhir(value)
        return result
    if isinstance(node, list):
        return [_as_if_written_in_fhir(item) for item in node]
    return node


@pytest.mark.parametrize("sample", LOGISTICS, ids=lambda p: p.name)
def test_plo_logistics_written_in_fhir_gives_the_message_body(translator: Translator, sample: Path) -> None:
    """A logistics message written in FHIR (Encounter, Communication; no KITH text kept) goes to KITH with its
    message element, chosen by the event (``reverse: only`` with ``when``), and passes the XSD."""
    result = translator.kith_to_fhir(sample.read_bytes())
    assert result.bundle is not None
    bundle = _as_if_written_in_fhir(result.bundle)
    event = bundle["entry"][0]["resource"]["eventCoding"]["code"]
    back = translator.fhir_to_kith(bundle)
    assert back.ok and back.xml is not None, [str(i) for i in back.issues]
    body = etree.fromstring(back.xml).find(".//{*}Pasientlogistikk")  # our own output, schema-checked
    assert body is not None
    names = [etree.QName(child).localname for child in body]
    assert names[-1] == _MESSAGE_ELEMENT[event], names
    moments = body.findall(".//{*}TidsfestetHendelse/{*}TidspunktForHendelse")
    assert moments and all(m.get("V") for m in moments)
