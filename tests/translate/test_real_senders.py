"""Messages as other Norwegian systems write them: what trying real senders found, one test (or a few) per finding.

* Notes written with XHTML or text mixed with elements (Dialogmelding ``TekstNotatInnhold``, and 1.1 ``Sporsmal``,
  both XSD ``anyType``) reach FHIR as readable text (``Communication.payload.contentString``: no tags, a new line per
  paragraph and line break), and the markup comes back as it was on the way to KITH.
* ``xsi:type="xsd:string"`` as .NET systems write it (``xmlns:xsd`` declared on the root): the value and the
  namespace declaration it needs survive KITH -> FHIR -> KITH, and the KITH written passes its schema.
* A professional of the sender (or receiver) directly under its organisation stays there on the way back, one of a
  sub-organisation stays in it.
* The contacts of a Henvisning 2.0 (pårørende/foresatt, contact person in the health service, the professional
  responsible for the referral, extra patient details) become RelatedPerson, PractitionerRole + Practitioner and
  Patient elements, with their telephone numbers, both ways; so do Henvisning 1.x PatRelHCP and (1.1)
  ParorendeForesatt.

Besides small messages written here, the real samples of the standards directory are read (never copied): every
note's text reaches FHIR, every Dialogmelding and Henvisning sample comes back schema-valid and equal (with
``xsi:type`` values compared by the namespace they name), and the Henvisning contacts' telephone numbers are in FHIR.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree.ElementTree import canonicalize

import pytest
from lxml import etree
from test_translate import EXPECTATIONS, SAMPLES, SETTINGS, _samples, check_rules

from adapter.mapping.functions import readable_text
from adapter.translate import Translation, Translator

MH = "http://www.kith.no/xmlstds/msghead/2006-05-24"
DIALOG_10 = "http://www.kith.no/xmlstds/dialog/2006-10-11"
DIALOG_11 = "http://www.kith.no/xmlstds/dialog/2013-01-23"
HENVISNING_20 = "http://ehelse.no/xmlstds/henvisning/2017-11-30"
PO = "http://ehelse.no/xmlstds/po/poKomponent/2017-11-30"
FK1 = "http://www.kith.no/xmlstds/felleskomponent1"
XHTML = "http://www.w3.org/1999/xhtml"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XSI_TYPE = f"{{{XSI}}}type"
ORIGINAL = "http://samhandling.no/fhir/StructureDefinition/kith-original"
KITH_9033 = "urn:oid:2.16.578.1.12.4.1.1.9033"
_BLOCKING = ("error", "fatal")


@pytest.fixture(scope="module")
def translator() -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings, the standards directory's XSDs."""
    return Translator(SETTINGS)


# --- helpers ----------------------------------------------------------------------------------------------------


def canonical(xml: bytes | str) -> str:
    """C14N 2.0 as tests/test_translate.py compares, with ``xsi:type`` values read as the QNames they are: a value
    whose prefix is not declared fails here, and one declared with another prefix compares equal."""
    text = xml.decode("utf-8") if isinstance(xml, bytes) else xml
    return canonicalize(text, strip_text=True, rewrite_prefixes=True, qname_aware_attrs={XSI_TYPE})


def blocking(result: Translation) -> list[str]:
    return [str(i) for i in result.issues if i.severity in _BLOCKING]


def round_trip(translator: Translator, data: bytes) -> tuple[Translation, Translation]:
    """KITH -> FHIR (no error, the rule checks pass) -> KITH (no error: the XSD check passed) -> equal to the input."""
    there = translator.kith_to_fhir(data)
    assert there.ok and there.bundle is not None, blocking(there)
    check_rules(there.bundle)
    back = translator.fhir_to_kith(there.bundle)
    assert back.ok and back.xml is not None, blocking(back)
    assert not [i for i in back.issues if i.code == "ADP-2001"]
    assert canonical(back.xml) == canonical(data)
    return there, back


def resources(bundle: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype]


def by_url(bundle: dict[str, Any], reference: dict[str, Any] | None) -> dict[str, Any]:
    url = (reference or {}).get("reference")
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["fullUrl"] == url)
    return found


def url_of(bundle: dict[str, Any], resource: dict[str, Any]) -> str:
    return str(next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is resource))


def contents(bundle: dict[str, Any], rtype: str = "Communication") -> list[str]:
    return [p["contentString"] for r in resources(bundle, rtype) for p in r.get("payload", []) if "contentString" in p]


def words(text: str) -> str:
    return " ".join(text.split())


# --- small messages written here ----------------------------------------------------------------------------------

_PARTY = """<Organisation>
        <OrganisationName>{name}</OrganisationName>
        <Ident><Id>{her}</Id><TypeId V="HER" DN="HER-id" S="2.16.578.1.12.4.1.1.9051"/></Ident>{inner}
      </Organisation>"""
_UNIT = """
        <Organisation>
          <OrganisationName>{name}</OrganisationName>
          <Ident><Id>{her}</Id><TypeId V="HER" DN="HER-id" S="2.16.578.1.12.4.1.1.9051"/></Ident>{inner}
        </Organisation>"""
_PROFESSIONAL = """
          <HealthcareProfessional>
            <RoleToPatient V="6" DN="Fastlege" S="2.16.578.1.12.4.1.1.9034"/>
            <FamilyName>{family}</FamilyName>
            <GivenName>{given}</GivenName>
            <Ident><Id>{her}</Id><TypeId V="HER" DN="HER-id" S="2.16.578.1.12.4.1.1.9051"/></Ident>
          </HealthcareProfessional>"""
SENDER = _PARTY.format(name="Testlia legekontor", her="8100001", inner="")
RECEIVER = _PARTY.format(
    name="Testdal DPS",
    her="8100011",
    inner=_UNIT.format(name="Allmennpsykiatrisk poliklinikk", her="8100012", inner=""),
)


def msghead(
    payload: str,
    *,
    kind: str = '<Type V="DIALOG_HELSEFAGLIG" DN="Helsefaglig dialog"/>',
    sender: str = SENDER,
    receiver: str = RECEIVER,
    declarations: str = "",
    msg_id: str = "7f0b1c2e-5a4d-4c3b-9e2f-000000000001",
    msg_id_attributes: str = "",
) -> bytes:
    """A MsgHead 1.2 around ``payload`` (written by hand; the parties and patient are fictitious)."""
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<MsgHead xmlns="{MH}"{declarations}>
  <MsgInfo>
    {kind}
    <MIGversion>v1.2 2006-05-24</MIGversion>
    <GenDate>2024-03-01T10:00:00</GenDate>
    <MsgId{msg_id_attributes}>{msg_id}</MsgId>
    <Sender>
      {sender}
    </Sender>
    <Receiver>
      {receiver}
    </Receiver>
    <Patient>
      <FamilyName>Danser</FamilyName>
      <GivenName>Line</GivenName>
      <Ident><Id>13116900216</Id><TypeId V="FNR" DN="Fødselsnummer" S="2.16.578.1.12.4.1.1.8116"/></Ident>
    </Patient>
  </MsgInfo>
  <Document>
    <RefDoc>
      <IssueDate V="2024-03-01T10:00:00"/>
      <MsgType V="XML" DN="XML-instans"/>
      <Content>
{payload}
      </Content>
    </RefDoc>
  </Document>
</MsgHead>
"""
    return text.encode("utf-8")


def note(content: str, *, namespace: str = DIALOG_11, attributes: str = "", tema: str = "Oppfølging") -> str:
    """A Dialogmelding (1.0 or 1.1 by ``namespace``) with one Notat whose TekstNotatInnhold holds ``content``."""
    return f"""<Dialogmelding xmlns="{namespace}">
  <Notat>
    <TemaKodet V="6" DN="Henvendelse om pasient" S="2.16.578.1.12.4.1.1.7322"/>
    <Tema>{tema}</Tema>
    <TekstNotatInnhold{attributes}>{content}</TekstNotatInnhold>
  </Notat>
</Dialogmelding>"""


NET_ROOT = f' xmlns:xsi="{XSI}" xmlns:xsd="{XSD}"'  # as .NET's XmlSerializer writes them on the root


# --- 1. notes written with markup ---------------------------------------------------------------------------------

XHTML_NOTE = f"""<div xmlns="{XHTML}">
      <p>Pasienten har hatt økende   angst siste uke.</p>
      <p>Plan:<br/>Samtale hos DPS<br/>Ny time om to uker</p>
    </div>"""
XHTML_TEXT = "Pasienten har hatt økende angst siste uke.\nPlan:\nSamtale hos DPS\nNy time om to uker"


@pytest.mark.parametrize("namespace", [DIALOG_10, DIALOG_11], ids=["dialogmelding-1.0", "dialogmelding-1.1"])
def test_xhtml_note_reaches_fhir_as_text_and_comes_back(translator: Translator, namespace: str) -> None:
    data = msghead(note(XHTML_NOTE, namespace=namespace, attributes=' xsi:type="xsd:anyType"'), declarations=NET_ROOT)
    there, back = round_trip(translator, data)
    assert there.bundle is not None
    [notat] = resources(there.bundle, "Communication")
    [payload] = notat["payload"]
    assert payload["contentString"] == XHTML_TEXT
    # the markup as written, for the way back (and for a reader who wants it)
    [original] = payload["_contentString"]["extension"]
    assert original["url"] == ORIGINAL and f'<div xmlns="{XHTML}">' in original["valueString"]
    # only the attribute (and the declaration its value needs) travels as residue, reported once
    residue = [
        part["valueString"]
        for extension in notat.get("extension", [])
        for part in extension["extension"]
        if part["url"] == "path" and "TekstNotatInnhold" in part["valueString"]
    ]
    assert [path.rpartition(" ")[2] for path in residue] == [f"@{XSI_TYPE}", "@xmlns:xsd"]
    reported = [i for i in there.issues if i.code == "ADP-3001" and "TekstNotatInnhold" in str(i.args)]
    assert len(reported) == 1
    assert back.xml is not None
    written = etree.fromstring(back.xml).find(f".//{{{namespace}}}TekstNotatInnhold")  # our own output
    assert written is not None and written.find(f"{{{XHTML}}}div/{{{XHTML}}}p") is not None


def test_text_mixed_with_elements_reaches_fhir_as_text(translator: Translator) -> None:
    """Mixed content without the XHTML namespace (the elements are in the Dialogmelding namespace, as a sender
    that pastes HTML into the default namespace writes them; the schema's anyType lets them through)."""
    content = "Pasienten har <b>økt</b> angst.<br/>Ring <i>fastlege</i> ved forverring.<!-- intern merknad -->"
    there, _ = round_trip(translator, msghead(note(content)))
    assert there.bundle is not None
    assert contents(there.bundle) == ["Pasienten har økt angst.\nRing fastlege ved forverring."]


def test_plain_text_note_is_read_as_before(translator: Translator) -> None:
    """A note in plain text keeps its own line breaks and gets no kith-original (nothing to restore)."""
    there, _ = round_trip(translator, msghead(note("Linje en\n    Linje to")))
    assert there.bundle is not None
    [notat] = resources(there.bundle, "Communication")
    assert notat["payload"] == [{"contentString": "Linje en\n    Linje to"}]


def test_xhtml_question_in_a_foresporsel_reaches_fhir(translator: Translator) -> None:
    """Dialogmelding 1.1 Sporsmal is anyType as well ("for å tillate bruk av xhtml-formatering")."""
    request = f"""<Dialogmelding xmlns="{DIALOG_11}">
  <Foresporsel>
    <TypeForesp V="1" DN="Forespørsel om pasient" S="2.16.578.1.12.4.1.1.7319"/>
    <Sporsmal><div xmlns="{XHTML}"><p>Kan dere sende epikrisen?</p>
      <ul><li>innleggelse mars</li><li>mai</li></ul></div></Sporsmal>
  </Foresporsel>
</Dialogmelding>"""
    there, _ = round_trip(translator, msghead(request, kind='<Type V="DIALOG_FORESPORSEL" DN="Forespørsel"/>'))
    assert there.bundle is not None
    assert contents(there.bundle, "CommunicationRequest") == ["Kan dere sende epikrisen?\ninnleggelse mars\nmai"]


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>a</p><p>b</p>", "a\nb"),
        ("<div><p>a<br/></p><p>b</p></div>", "a\nb"),
        ("a<br/><br/>b", "a\n\nb"),
        ("  mange \t mellomrom \n over linjer  ", "mange mellomrom over linjer"),
        ("<p>a\u00a0b</p>", "a\u00a0b"),
        ("<pre>  kode\n  linje</pre>", "kode\nlinje"),
        ("<ul><li>en</li><li>to</li></ul>etter", "en\nto\netter"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a\nb\nc"),
        ("før<!-- kommentar -->etter", "føretter"),
        ("<span>inne</span> og <em>ute</em>", "inne og ute"),
    ],
)
def test_readable_text(markup: str, text: str) -> None:
    assert readable_text(etree.fromstring(f"<x>{markup}</x>")) == text  # our own test data


# --- 2. xsi:type and the declaration it needs -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "data"),
    [
        # .NET: xsi and xsd declared on the root, xsi:type on a text element the mapping reads
        ("note", msghead(note("Kort notat.", attributes=' xsi:type="xsd:string"'), declarations=NET_ROOT)),
        ("note-markup", msghead(note(XHTML_NOTE, attributes=' xsi:type="xsd:anyType"'), declarations=NET_ROOT)),
        (
            "msghead-element",
            msghead(note("Kort notat."), declarations=NET_ROOT, msg_id_attributes=' xsi:type="xsd:string"'),
        ),
        # another prefix, declared on the payload's root instead
        (
            "payload-root",
            msghead(
                note("Kort notat.", attributes=' xsi:type="xs:string"').replace(
                    f'xmlns="{DIALOG_11}"', f'xmlns="{DIALOG_11}" xmlns:xs="{XSD}" xmlns:xsi="{XSI}"'
                )
            ),
        ),
        # inside an element the mapping carries whole (Dialogmelding 1.1 RollerRelatertNotat)
        (
            "carried-whole",
            msghead(
                note("Kort notat.").replace(
                    "</Notat>",
                    """  <RollerRelatertNotat>
      <RoleToPatient V="6" DN="Fastlege" S="2.16.578.1.12.4.1.1.9034"/>
      <HealthcareProfessional>
        <FamilyName xsi:type="xsd:string">Lin</FamilyName>
        <Ident xmlns:fk1="http://www.kith.no/xmlstds/felleskomponent1">
          <fk1:Id>258521</fk1:Id>
          <fk1:TypeId V="HPR" DN="HPR-nummer" S="2.16.578.1.12.4.1.1.8116"/>
        </Ident>
      </HealthcareProfessional>
    </RollerRelatertNotat>
  </Notat>""",
                ),
                declarations=NET_ROOT,
            ),
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else "",
)
def test_xsi_type_survives_the_round_trip(translator: Translator, case: str, data: bytes) -> None:
    there, back = round_trip(translator, data)
    assert not [i for i in there.issues if i.code == "ADP-2001"], "the message written here must be valid"
    assert back.xml is not None
    typed = [e for e in etree.fromstring(back.xml).iter() if e.get(XSI_TYPE)]  # our own output
    assert typed
    for element in typed:
        prefix, _, _ = str(element.get(XSI_TYPE)).partition(":")
        assert element.nsmap.get(prefix) == XSD, (case, etree.tostring(element))


# --- 3. a professional of the sender or receiver stays where it was --------------------------------------------------

_HCP_LAYOUTS = {
    # where the professional is: directly under the organisation, in its sub-organisation, both
    "organisation": ("", _PROFESSIONAL.format(family="Lin", given="Rita", her="8100003")),
    "unit": (_PROFESSIONAL.format(family="Lin", given="Rita", her="8100003"), ""),
    "both": (
        _PROFESSIONAL.format(family="Enhet", given="Erik", her="8100004"),
        _PROFESSIONAL.format(family="Lin", given="Rita", her="8100003"),
    ),
}


def _party(name: str, her: str, unit_her: str, layout: str) -> str:
    in_unit, in_organisation = _HCP_LAYOUTS[layout]
    unit = _UNIT.format(name="Enhet", her=unit_her, inner=in_unit)
    return _PARTY.format(name=name, her=her, inner=unit + in_organisation.replace("\n  ", "\n"))


@pytest.mark.parametrize("layout", sorted(_HCP_LAYOUTS))
@pytest.mark.parametrize("side", ["Sender", "Receiver"])
def test_professional_stays_under_its_organisation(translator: Translator, side: str, layout: str) -> None:
    party = _party("Testlia kommune", "8100001", "8100002", layout)
    other = _party("Testdal DPS", "8100011", "8100012", "organisation").replace("8100003", "8100013")
    data = msghead(
        note("Kort notat."), sender=party if side == "Sender" else other, receiver=other if side == "Sender" else party
    )
    there, _ = round_trip(translator, data)
    assert there.bundle is not None
    bundle = there.bundle
    header = bundle["entry"][0]["resource"]
    top = by_url(bundle, header["sender"] if side == "Sender" else header["destination"][0]["receiver"])
    unit = next(
        o for o in resources(bundle, "Organization") if o.get("partOf", {}).get("reference") == url_of(bundle, top)
    )
    homes = {
        by_url(bundle, role["practitioner"])["name"][0]["family"]: by_url(bundle, role["organization"])["name"]
        for role in resources(bundle, "PractitionerRole")
        if by_url(bundle, role["organization"]) in (top, unit)
    }
    in_unit, in_organisation = _HCP_LAYOUTS[layout]
    expected = {}
    if in_organisation:
        expected["Lin"] = top["name"]
    if in_unit:
        expected["Enhet" if layout == "both" else "Lin"] = unit["name"]
    assert homes == expected
    if side == "Sender":  # the author: the organisation's own professional, else the unit's
        author = by_url(bundle, header["author"])
        assert by_url(bundle, author["practitioner"])["name"][0]["family"] == "Lin"


# --- 4. the contacts of a Henvisning 2.0 ---------------------------------------------------------------------------

REFERRAL = f"""<Henvisning xmlns="{HENVISNING_20}" xmlns:po="{PO}" xmlns:fk1="{FK1}">
  <ServType V="N" DN="Ny"/>
  <IssueDate>2024-05-02T08:15:00</IssueDate>
  <DocumentId>5b0c7e5e-0d1f-4f5e-9a59-2a1f6c0d0001</DocumentId>
  <po:TilleggsopplysningPasient>
    <po:SivilStatus V="2" DN="Gift"/>
    <po:BorAlene>false</po:BorAlene>
  </po:TilleggsopplysningPasient>
  <po:ParorendeForesatt>
    <po:Slektskap V="EF" DN="Ektefelle"/>
    <po:NarmesteParorende>true</po:NarmesteParorende>
    <po:Referanseperson>
      <fk1:FamilyName>Danser</fk1:FamilyName>
      <fk1:MiddleName>Olav</fk1:MiddleName>
      <fk1:GivenName>Ole</fk1:GivenName>
      <fk1:TeleCom>
        <fk1:TypeTelecom V="MC" DN="Mobiltelefon"/>
        <fk1:TeleAddress V="tel:41234567"/>
      </fk1:TeleCom>
    </po:Referanseperson>
    <po:Merknad>Ønsker å bli kontaktet før innkalling</po:Merknad>
  </po:ParorendeForesatt>
  <po:ParorendeForesatt>
    <po:Slektskap V="DA" DN="Datter"/>
    <po:FodselsarMindrearigParorende>2012</po:FodselsarMindrearigParorende>
    <po:Referanseperson>
      <fk1:FamilyName>Danser</fk1:FamilyName>
      <fk1:GivenName>Mia</fk1:GivenName>
      <fk1:Address>
        <fk1:Type V="H" DN="Bostedsadresse"/>
        <fk1:StreetAdr>Storgata 1</fk1:StreetAdr>
        <fk1:PostalCode>3602</fk1:PostalCode>
        <fk1:City>Kongsberg</fk1:City>
      </fk1:Address>
    </po:Referanseperson>
  </po:ParorendeForesatt>
  <po:KontaktpersonHelsepersonell>
    <po:Kontaktperson>
      <fk1:TypeHealthcareProfessional V="SP" DN="Sykepleier"/>
      <fk1:RoleToPatient V="21" DN="Helsefaglig kontakt" S="2.16.578.1.12.4.1.1.9034"/>
      <fk1:FamilyName>Kontakt</fk1:FamilyName>
      <fk1:GivenName>Kari</fk1:GivenName>
      <fk1:Ident>
        <fk1:Id>9144900</fk1:Id>
        <fk1:TypeId V="HPR" DN="HPR-nummer" S="2.16.578.1.12.4.1.1.8116"/>
      </fk1:Ident>
      <fk1:TeleCom>
        <fk1:TypeTelecom V="AT" DN="Arbeidstelefon"/>
        <fk1:TeleAddress V="tel:32123456"/>
      </fk1:TeleCom>
    </po:Kontaktperson>
    <po:Merknad>Psykiatrisk sykepleier i kommunen</po:Merknad>
  </po:KontaktpersonHelsepersonell>
  <po:AnsvarForRapport>
    <po:AnsvarligRapport>
      <fk1:TypeHealthcareProfessional V="LE" DN="Lege"/>
      <fk1:RoleToPatient V="6" DN="Fastlege" S="2.16.578.1.12.4.1.1.9034"/>
      <fk1:FamilyName>Lin</fk1:FamilyName>
      <fk1:GivenName>Rita</fk1:GivenName>
      <fk1:Ident>
        <fk1:Id>9144897</fk1:Id>
        <fk1:TypeId V="HPR" DN="HPR-nummer" S="2.16.578.1.12.4.1.1.8116"/>
      </fk1:Ident>
      <fk1:TeleCom>
        <fk1:TypeTelecom V="AT" DN="Arbeidstelefon"/>
        <fk1:TeleAddress V="tel:32000000"/>
      </fk1:TeleCom>
    </po:AnsvarligRapport>
    <po:GodkjentDato>2024-05-02</po:GodkjentDato>
    <po:TypeRelasjon V="HHE" S="2.16.578.1.12.4.1.1.8254" DN="Henvisende helsepersonell"/>
  </po:AnsvarForRapport>
  <po:AnsvarForRapport>
    <po:AnsvarligRapport>
      <fk1:TypeHealthcareProfessional V="LE" DN="Lege"/>
      <fk1:RoleToPatient V="16" DN="Turnuslege" S="2.16.578.1.12.4.1.1.9034"/>
      <fk1:FamilyName>Jones</fk1:FamilyName>
      <fk1:GivenName>May</fk1:GivenName>
      <fk1:Ident>
        <fk1:Id>9144919</fk1:Id>
        <fk1:TypeId V="HPR" DN="HPR-nummer" S="2.16.578.1.12.4.1.1.8116"/>
      </fk1:Ident>
    </po:AnsvarligRapport>
    <po:TypeRelasjon V="AHP" S="2.16.578.1.12.4.1.1.8254" DN="Ansvarlig helsepersonell"/>
  </po:AnsvarForRapport>
  <po:TypeInnholdIMelding>
    <po:TypeInnhold V="10" S="2.16.578.1.12.4.1.1.8455" DN="Utredning/behandling"/>
  </po:TypeInnholdIMelding>
  <ReasonAsText>
    <Heading V="PROB" S="2.16.578.1.12.4.1.1.8231" DN="Aktuell problemstilling"/>
    <TextResultValue>Økende angst og søvnvansker; ønsker vurdering ved DPS.</TextResultValue>
  </ReasonAsText>
  <ReqServ>
    <ServType V="N" DN="Ny"/>
    <Priority V="N" DN="Elektiv/Ordinær (elektiv)"/>
  </ReqServ>
</Henvisning>"""
REFERRAL_TYPE = '<Type V="HENVISNING_NYTILSTAND" DN="Henvisning ny tilstand"/>'
SENDER_WITH_PROFESSIONAL = _PARTY.format(
    name="Testlia legekontor", her="8100001", inner=_PROFESSIONAL.format(family="Lin", given="Rita", her="8100003")
)


@pytest.fixture(scope="module")
def referral(translator: Translator) -> dict[str, Any]:
    """Scope: module. Type: the Bundle of the Henvisning 2.0 written above. Default: checked by round_trip."""
    there, _ = round_trip(translator, msghead(REFERRAL, kind=REFERRAL_TYPE, sender=SENDER_WITH_PROFESSIONAL))
    assert there.bundle is not None
    return there.bundle


def test_relatives_become_related_persons(referral: dict[str, Any]) -> None:
    patient_url = url_of(referral, resources(referral, "Patient")[0])
    spouse, daughter = resources(referral, "RelatedPerson")
    for relative in (spouse, daughter):
        assert relative["patient"] == {"reference": patient_url}
        assert relative["meta"]["profile"] == ["http://hl7.no/fhir/StructureDefinition/no-basis-RelatedPerson"]
    assert spouse["relationship"][0]["coding"] == [{"system": KITH_9033, "code": "EF", "display": "Ektefelle"}]
    codes = {(c["system"], c["code"]) for r in spouse["relationship"] for c in r["coding"]}
    assert ("http://hl7.no/fhir/CodeSystem/no-basis-family-relation", "ektefelleEllerPartner") in codes
    assert ("http://terminology.hl7.org/CodeSystem/v2-0131", "N") in codes  # nærmeste pårørende
    assert spouse["name"][0]["family"] == "Danser" and spouse["name"][0]["given"] == ["Ole"]
    assert spouse["telecom"] == [{"value": "tel:41234567", "system": "phone"}]
    assert daughter["address"][0]["line"] == ["Storgata 1"] and daughter["address"][0]["city"] == "Kongsberg"
    codes = {(c["system"], c["code"]) for r in daughter["relationship"] for c in r["coding"]}
    assert ("http://hl7.no/fhir/CodeSystem/no-basis-family-relation", "barn") in codes


def test_contact_person_and_responsible_professionals_become_practitioner_roles(referral: dict[str, Any]) -> None:
    roles = {
        by_url(referral, role["practitioner"])["identifier"][0]["value"]: role
        for role in resources(referral, "PractitionerRole")
    }
    author, contact, referrer, other = roles["8100003"], roles["9144900"], roles["9144897"], roles["9144919"]
    assert contact["telecom"] == [{"value": "tel:32123456", "system": "phone"}]
    assert contact["code"][0]["coding"][0]["code"] == "21"
    person = by_url(referral, contact["practitioner"])
    assert person["name"][0]["family"] == "Kontakt"
    assert person["qualification"][0]["code"]["coding"][0]["code"] == "SP"
    patient = resources(referral, "Patient")[0]
    assert {"reference": url_of(referral, contact)} in patient["generalPractitioner"]
    # the responsible professionals belong to the sending organisation (HIS 80517: henvisende instans)
    header = referral["entry"][0]["resource"]
    sender = by_url(referral, header["sender"])
    for role in (referrer, other):
        assert by_url(referral, role["organization"]) is sender
    assert referrer["telecom"] == [{"value": "tel:32000000", "system": "phone"}]
    assert other["code"][0]["coding"][0]["code"] == "16"
    # the one whose relation is "henvisende helsepersonell" (8254 HHE) is the ServiceRequest's requester; the
    # MsgHead's professional stays the message's author
    [request] = resources(referral, "ServiceRequest")
    assert by_url(referral, request["requester"]) is referrer
    assert by_url(referral, header["author"]) is author


def test_extra_patient_details_reach_the_patient(referral: dict[str, Any]) -> None:
    patient = resources(referral, "Patient")[0]
    codes = {(c["system"], c["code"]) for c in patient["maritalStatus"]["coding"]}
    assert ("urn:oid:2.16.578.1.12.4.1.1.8724", "2") in codes
    assert ("http://terminology.hl7.org/CodeSystem/v3-MaritalStatus", "M") in codes


# --- the real samples ------------------------------------------------------------------------------------------------

_DIALOG_NAMESPACES = (DIALOG_10, DIALOG_11)


def _payloads(data: bytes, namespaces: tuple[str, ...]) -> list[etree._Element]:
    root = etree.fromstring(data)  # a sample of the standards directory, read as the tests of test_translate do
    found = [child for content in root.iter("{*}Content") for child in content.iterchildren(etree.Element)]
    return [child for child in found if etree.QName(child).namespace in namespaces]


def _covered(namespaces: tuple[str, ...]) -> list[str]:
    found = []
    for sample in _samples():
        try:
            payloads = _payloads((SAMPLES / sample).read_bytes(), namespaces)
        except etree.XMLSyntaxError:
            continue
        if payloads and sample not in EXPECTATIONS:
            found.append(sample)
    return found


DIALOG_SAMPLES = _covered(_DIALOG_NAMESPACES)
REFERRAL_SAMPLES = [
    s for s in _samples() if s.startswith(("henvisning/", "testcases/henvisning")) and s not in EXPECTATIONS
]
_NOTES = ("TekstNotatInnhold", "Sporsmal")


def test_the_samples_are_there() -> None:
    assert len(DIALOG_SAMPLES) >= 10 and len(REFERRAL_SAMPLES) >= 20


@pytest.mark.parametrize("sample", DIALOG_SAMPLES)
def test_no_note_text_is_lost(translator: Translator, sample: str) -> None:
    """(a) The text of every TekstNotatInnhold (and Sporsmal) is in a Communication's (CommunicationRequest's)
    payload, also when a sender writes the same note in XHTML."""
    data = (SAMPLES / sample).read_bytes()
    result = translator.kith_to_fhir(data)
    assert result.bundle is not None, blocking(result)
    texts = [words(t) for rtype in ("Communication", "CommunicationRequest") for t in contents(result.bundle, rtype)]
    notes = [n for p in _payloads(data, _DIALOG_NAMESPACES) for n in p.iter(*(f"{{*}}{name}" for name in _NOTES))]
    for element in notes:
        assert words("".join(element.itertext())) in texts


def _as_xhtml(data: bytes) -> bytes:
    """The sample with each note written as an XHTML-writing sender would: a div with a paragraph per line,
    ``xsi:type="xsd:anyType"`` on the element, xsi and xsd declared on the root."""
    root = etree.fromstring(data)  # a sample of the standards directory
    for element in list(root.iter(*(f"{{{ns}}}{name}" for ns in _DIALOG_NAMESPACES for name in _NOTES))):
        if etree.QName(element).localname == "Sporsmal" and etree.QName(element).namespace == DIALOG_10:
            continue  # a string in 1.0
        lines = [line.strip() for line in (element.text or "").splitlines() if line.strip()]
        element.text = None
        element.set(XSI_TYPE, "xsd:anyType")
        div = etree.SubElement(element, f"{{{XHTML}}}div", nsmap={None: XHTML})
        for line in lines:
            etree.SubElement(div, f"{{{XHTML}}}p").text = line
    # the samples declare xsd as "http://www.w3.org/2001/XMLSchema.xsd" (a file name, unused there): declare it once
    text = re.sub(r' xmlns:xsd="[^"]*"', "", etree.tostring(root, encoding="unicode"))
    return text.replace("<MsgHead ", f'<MsgHead xmlns:xsd="{XSD}" ', 1).encode("utf-8")


@pytest.mark.parametrize("sample", DIALOG_SAMPLES)
def test_sample_notes_written_in_xhtml(translator: Translator, sample: str) -> None:
    data = _as_xhtml((SAMPLES / sample).read_bytes())
    there, _ = round_trip(translator, data)
    assert there.bundle is not None
    texts = [t for rtype in ("Communication", "CommunicationRequest") for t in contents(there.bundle, rtype)]
    assert not [t for t in texts if "<" in t]
    for element in (n for p in _payloads(data, _DIALOG_NAMESPACES) for n in p.iter(*(f"{{*}}{m}" for m in _NOTES))):
        lines = [words(p.text or "") for p in element.iter(f"{{{XHTML}}}p")]
        if lines:
            assert "\n".join(lines) in texts


@pytest.mark.parametrize("sample", DIALOG_SAMPLES + REFERRAL_SAMPLES)
def test_sample_round_trip_stays_schema_valid(translator: Translator, sample: str) -> None:
    """(b) KITH -> FHIR -> KITH passes the XSD and gives the message back (xsi:type values read as QNames)."""
    round_trip(translator, (SAMPLES / sample).read_bytes())


#: The contacts of a referral (Henvisning 2.0 and, in Patient, 1.0 / 1.1) and the resource each becomes.
_CONTACTS = {
    "ParorendeForesatt": "RelatedPerson",
    "KontaktpersonHelsepersonell": "PractitionerRole",
    "AnsvarForRapport": "PractitionerRole",
    "PatRelHCP": "PractitionerRole",
}


@pytest.mark.parametrize("sample", REFERRAL_SAMPLES)
def test_henvisning_contacts_reach_fhir_with_their_telephone(translator: Translator, sample: str) -> None:
    """(c) Each relative, contact person and responsible professional is a RelatedPerson or PractitionerRole of the
    Bundle, by name, with the telephone numbers the message gives it."""
    data = (SAMPLES / sample).read_bytes()
    result = translator.kith_to_fhir(data)
    assert result.ok and result.bundle is not None, blocking(result)
    bundle = result.bundle
    root = etree.fromstring(data)  # a sample of the standards directory
    for local, rtype in _CONTACTS.items():
        for element in root.iter(f"{{*}}{local}"):
            names = [n.text for n in element.iter("{*}FamilyName", "{*}Name") if n.text]
            matching = [r for r in resources(bundle, rtype) if not names or names[0] in _names(bundle, r)]
            assert matching, f"{local} {names}: no {rtype}"
            for phone in (t.get("V") for t in element.iter("{*}TeleAddress")):
                assert any(phone in [t.get("value") for t in r.get("telecom", [])] for r in matching), (local, phone)


def _names(bundle: dict[str, Any], resource: dict[str, Any]) -> list[str]:
    person = by_url(bundle, resource["practitioner"]) if "practitioner" in resource else resource
    return [str(n.get("family") or n.get("text")) for n in person.get("name", [])]
