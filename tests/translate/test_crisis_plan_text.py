"""A crisis plan that arrives only as text or as a PDF is findable: a Dialogmelding (1.0 or 1.1) whose topic (Tema,
or TemaKodet 9602 A01-2) or attachment (RefDoc/Description) says it carries a crisis plan gives a DocumentReference
of type 9602 A01-2 "Kriseplan" for the patient (urn:oid:2.16.578.1.12.4.1.1.9602), next to structured plans. The
attachment's own DocumentReference is typed (mappings/kith-msghead-1.2.to-fhir.yaml); a note without attachment
becomes one, its text as a text/plain attachment (mappings/kith-dialogmelding-1.x.to-fhir.yaml). The Bundle has no
validator error and the way back gives the same KITH. Our own small messages, written here.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from lxml import etree
from test_translate import canonical, check_rules

from adapter.config import Settings
from adapter.translate import Translation, Translator
from adapter.validate import Validator

KITH_9602 = "urn:oid:2.16.578.1.12.4.1.1.9602"
KRISEPLAN = {"system": KITH_9602, "code": "A01-2", "display": "Kriseplan"}
DIALOG = {"1.1": "http://www.kith.no/xmlstds/dialog/2013-01-23", "1.0": "http://www.kith.no/xmlstds/dialog/2006-10-11"}
#: A tiny PDF (an empty document), the attachment of the first message.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n%%EOF\n"
NOTE = (
    "Varselsignaler: sover dårlig, trekker seg unna Kari.\n"
    "Dette hjelper: ring koordinator Liv Berg, tlf. 55 00 01 01.\n"
    "Ved akutt forverring: legevakt 116 117, ved fare for liv 113."
)
_BLOCKING = ("error", "fatal")


def message(
    topic: str,
    text: str = NOTE,
    *,
    coded: str = '<TemaKodet V="6" S="2.16.578.1.12.4.1.1.7322" DN="Henvendelse om pasient"/>',
    attachment: str | None = None,
    version: str = "1.1",
    msg_id: str = "c1a0d7e2-3b4f-4a61-9d2e-7f8a9b0c1d2e",
) -> bytes:
    """A MsgHead 1.2 from the municipality to the GP's office about Ola, with a Dialogmelding note (its topic,
    coded topic and text) and, when ``attachment`` names one (its description), a PDF attachment."""
    document = (
        '<Document><RefDoc><IssueDate V="2026-03-02T10:00:00"/><MsgType V="A" DN="Vedlegg"/>'
        f"<MimeType>application/pdf</MimeType><Description>{attachment}</Description>"
        f"<Content><b64:Base64Container>{base64.b64encode(PDF).decode()}</b64:Base64Container></Content>"
        "</RefDoc></Document>"
        if attachment is not None
        else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24" xmlns:b64="http://www.kith.no/xmlstds/base64container">
  <MsgInfo>
    <Type V="DIALOG_HELSEFAGLIG" DN="Helsefaglig dialog"/>
    <MIGversion>v1.2 2006-05-24</MIGversion>
    <GenDate>2026-03-02T10:15:00</GenDate>
    <MsgId>{msg_id}</MsgId>
    <Sender><Organisation><OrganisationName>Bergen kommune, psykisk helse og rus</OrganisationName>
      <Ident><Id>8100001</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident></Organisation></Sender>
    <Receiver><Organisation><OrganisationName>Storgata legekontor</OrganisationName>
      <Ident><Id>8100003</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
    </Organisation></Receiver>
    <Patient><FamilyName>Nordmann</FamilyName><GivenName>Ola</GivenName>
      <Ident><Id>15838510075</Id><TypeId V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer"/></Ident></Patient>
  </MsgInfo>
  <Document><RefDoc><MsgType V="XML" DN="XML-instans"/><Content>
    <Dialogmelding xmlns="{DIALOG[version]}">
      <Notat>{coded}<Tema>{topic}</Tema><TekstNotatInnhold>{text}</TekstNotatInnhold></Notat>
    </Dialogmelding>
  </Content></RefDoc></Document>{document}
</MsgHead>
""".encode()


@pytest.fixture(scope="module")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings and the standards directory's XSDs."""
    return Translator(settings, validator)


def translated(translator: Translator, data: bytes) -> dict[str, Any]:
    """The Bundle for ``data``: no error (schema, mapping, profiles), the rule checks pass, and the way back gives
    the same KITH, XSD-valid."""
    result: Translation = translator.kith_to_fhir(data)
    assert not [str(i) for i in result.issues if i.severity in _BLOCKING]
    assert result.bundle is not None and result.kith_root is not None
    check_rules(result.bundle)
    back = translator.fhir_to_kith(result.bundle)
    assert back.ok and back.xml is not None, [str(i) for i in back.issues if i.severity in _BLOCKING]
    assert canonical(back.xml) == canonical(etree.tostring(result.kith_root, encoding="unicode"))
    return result.bundle


def crisis_plans(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    """The DocumentReferences of type 9602 Kriseplan."""
    return [
        e["resource"]
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "DocumentReference" and KRISEPLAN in e["resource"]["type"]["coding"]
    ]


def patient_url(bundle: dict[str, Any]) -> str:
    """The fullUrl of the message's patient."""
    return str(next(e["fullUrl"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"))


def test_a_pdf_described_as_kriseplan_is_a_crisis_plan_document(translator: Translator) -> None:
    bundle = translated(translator, message("Oppdatert plan", attachment="Kriseplan for Ola Nordmann"))
    [plan] = crisis_plans(bundle)
    assert plan["subject"] == {"reference": patient_url(bundle)}
    assert plan["status"] == "current"
    assert plan["type"]["coding"][0]["code"] == "A"  # still the KITH attachment (8114), read back as MsgType
    attachment = plan["content"][0]["attachment"]
    assert attachment["contentType"] == "application/pdf" and base64.b64decode(attachment["data"]) == PDF


@pytest.mark.parametrize(
    ("topic", "coded", "description"),
    [
        pytest.param("Oppdatert plan", None, "KRISE- OG MESTRINGSPLAN, revidert", id="description-upper-case"),
        pytest.param("Oppdatert plan", None, "krise og mestringsplan.pdf", id="description-without-hyphen"),
        pytest.param(
            "Plan",
            f'<TemaKodet V="A01-2" S="{KITH_9602.removeprefix("urn:oid:")}" DN="Kriseplan"/>',
            "skann0001.pdf",
            id="coded-topic-9602",
        ),
    ],
)
def test_an_attachment_is_a_crisis_plan_by_its_description_or_the_coded_topic(
    translator: Translator, topic: str, coded: str | None, description: str
) -> None:
    data = message(topic, attachment=description, **({"coded": coded} if coded else {}))
    bundle = translated(translator, data)
    [plan] = crisis_plans(bundle)
    assert plan["content"][0]["attachment"]["contentType"] == "application/pdf"
    assert plan["subject"] == {"reference": patient_url(bundle)}


def test_a_note_with_topic_kriseplan_and_no_attachment_is_a_crisis_plan_document(translator: Translator) -> None:
    bundle = translated(translator, message("Kriseplan"))
    [plan] = crisis_plans(bundle)
    assert plan["type"]["coding"] == [KRISEPLAN]
    assert plan["status"] == "current"
    assert plan["subject"] == {"reference": patient_url(bundle)}
    assert plan["date"] == "2026-03-02T10:15:00+01:00"  # the message's GenDate
    attachment = plan["content"][0]["attachment"]
    assert attachment["contentType"] == "text/plain; charset=utf-8" and attachment["title"] == "Kriseplan"
    assert base64.b64decode(attachment["data"]).decode("utf-8") == NOTE
    note = next(e for e in bundle["entry"] if e["resource"]["resourceType"] == "Communication")
    assert plan["context"]["related"] == [{"reference": note["fullUrl"]}]  # made from that note
    assert note["resource"]["payload"] == [{"contentString": NOTE}]  # the note itself is as before


def test_a_note_in_dialogmelding_1_0_with_markup(translator: Translator) -> None:
    """Dialogmelding 1.0, topic "Krise- og mestringsplan", the text in XHTML: the document holds the text as read;
    the note's markup comes back as it was."""
    text = '<div xmlns="http://www.w3.org/1999/xhtml"><p>Varselsignaler: sover dårlig.</p><p>Ring Liv Berg.</p></div>'
    bundle = translated(translator, message("Krise- og mestringsplan", text, version="1.0"))
    [plan] = crisis_plans(bundle)
    data = base64.b64decode(plan["content"][0]["attachment"]["data"]).decode("utf-8")
    assert data == "Varselsignaler: sover dårlig.\nRing Liv Berg."


def test_a_note_about_a_crisis_plan_with_an_attachment_types_the_attachment_only(translator: Translator) -> None:
    bundle = translated(translator, message("Kriseplan", "Se vedlegg.", attachment="Kriseplan"))
    [plan] = crisis_plans(bundle)
    assert plan["content"][0]["attachment"]["contentType"] == "application/pdf"


@pytest.mark.parametrize(
    ("topic", "description"),
    [
        pytest.param("Samtykke registrert", None, id="other-topic"),
        pytest.param("Mestringsplan for søvn", None, id="coping-plan-only"),
        pytest.param("Oppdatert plan", "Individuell plan", id="other-attachment"),
    ],
)
def test_other_notes_and_attachments_are_no_crisis_plan(
    translator: Translator, topic: str, description: str | None
) -> None:
    assert crisis_plans(translated(translator, message(topic, attachment=description))) == []
