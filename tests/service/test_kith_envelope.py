"""The envelope as data, as real senders meet it at /kith/messages: the sender found by its HER-id whatever the order
of its identifiers, standalone messages (no MsgHead) answered with correct and distinct AppRecs, a reused MsgId
with other content refused, and a message without MsgId answered alike by the service and the command line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner
from flask.testing import FlaskClient
from lxml import etree
from service_helpers import DPS, KOMMUNE, example

from adapter.cli import main
from adapter.config import Settings
from adapter.parse.xml_safe import parse_xml

MH = "{http://www.kith.no/xmlstds/msghead/2006-05-24}"
SAMPLES = Settings.from_env().standards / "kith" / "samples"
HENVISNING_11 = SAMPLES / "henvisning" / "v1.1" / "sarepta"
XML = {"Content-Type": "application/xml"}


def _apprec(data: bytes) -> etree._Element:
    return parse_xml(data).getroot()


def _status(root: etree._Element) -> tuple[str, list[str]]:
    status = root.find("{*}Status")
    return (status.get("V") if status is not None else ""), [e.get("V", "") for e in root.iterfind("{*}Error")]


def _with_enh_first(data: bytes) -> bytes:
    """The sender's organisation number (ENH) listed before its HER-id, as some municipalities write it."""
    root = parse_xml(data).getroot()
    organisation = root.find(f"{MH}MsgInfo/{MH}Sender/{MH}Organisation")
    assert organisation is not None
    her = organisation.find(f"{MH}Ident")
    assert her is not None
    ident = etree.Element(f"{MH}Ident")
    etree.SubElement(ident, f"{MH}Id").text = "964338531"
    etree.SubElement(ident, f"{MH}TypeId", V="ENH", S="2.16.578.1.12.4.1.1.9051", DN="Organisasjonsnummeret")
    her.addprevious(ident)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_sender_that_lists_its_organisation_number_first_is_known_by_its_her_id(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    data = _with_enh_first(example("kith/dialogmelding-samtykke-ola.xml"))
    answer = client.post("/kith/messages", data=data, headers={**auth(KOMMUNE, "samhandling/messages"), **XML})
    assert answer.status_code == 200, answer.data
    assert _status(_apprec(answer.data)) == ("1", [])
    receiver = _apprec(answer.data).find("{*}Receiver/{*}HCP/{*}Inst")
    assert receiver is not None and receiver.findtext("{*}Id") == KOMMUNE  # the HER-id is the AppRec's Id
    assert "964338531" in [a.findtext("{*}Id") for a in receiver.iterfind("{*}AdditionalId")]
    other = client.post("/kith/messages", data=data, headers={**auth(DPS, "samhandling/messages"), **XML})
    assert other.status_code == 403  # and another organisation still cannot send it


def test_standalone_referrals_come_in_with_distinct_apprecs(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    """Henvisning 1.1 has no MsgHead: its envelope (MsgId, GenDate, Requester, ServProvider) is declared in its
    mapping file. Two referrals, two AppRecs, each naming its own referral and mirroring its parties."""
    samples = sorted(HENVISNING_11.glob("*.xml"))[:2]
    assert len(samples) == 2
    ids = []
    for sample in samples:
        data = sample.read_bytes()
        sent = parse_xml(data).getroot()
        msg_id = sent.findtext("{*}MsgId")
        answer = client.post("/kith/messages", data=data, headers={**auth(DPS), **XML})  # every scope: a relay
        assert answer.status_code == 200, answer.data
        root = _apprec(answer.data)
        # taken: a referral goes to the service it is addressed to on helsepersonelloven § 45, as its mapping says
        assert _status(root)[0] == "1", answer.data
        assert root.findtext("{*}OriginalMsgId/{*}Id") == msg_id
        assert root.find("{*}OriginalMsgId/{*}MsgType").get("V") == sent.find("{*}Type").get("V")
        requester = sent.find("{*}ServReq/{*}Requester/{*}HCP/{*}Inst/{*}Name")
        assert requester is not None
        assert root.findtext("{*}Receiver/{*}HCP/{*}Inst/{*}Name") == requester.text
        ids.append(root.findtext("{*}Id"))
    assert len(set(ids)) == 2


def test_a_reused_msgid_with_other_content_is_refused_and_the_first_stands(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    headers = {**auth(KOMMUNE, "samhandling/messages"), **XML}
    first = example("kith/dialogmelding-samtykke-ola.xml")
    answered = client.post("/kith/messages", data=first, headers=headers)
    assert _status(_apprec(answered.data)) == ("1", [])
    rewritten = first.replace(b'"/>', b'" />')  # written out afresh: the same XML in other bytes
    assert rewritten != first
    resent = client.post("/kith/messages", data=rewritten, headers=headers)
    assert resent.data == answered.data  # the same message written out afresh: a resend, the stored AppRec
    other = first.replace(b"Ola", b"Kari", 1)
    assert other != first
    refused = client.post("/kith/messages", data=other, headers=headers)
    assert refused.status_code == 409
    status, errors = _status(_apprec(refused.data))
    assert (status, errors) == ("2", ["E10"])
    again = client.post("/kith/messages", data=first, headers=headers)
    assert again.data == answered.data  # the first message and its receipt stand


def _without_msgid(data: bytes) -> bytes:
    root = parse_xml(data).getroot()
    msg_id = root.find(f"{MH}MsgInfo/{MH}MsgId")
    assert msg_id is not None
    msg_id.text = ""
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_message_without_msgid_gets_the_same_answer_from_the_service_and_the_cli(
    client: FlaskClient, auth: Callable[..., dict[str, str]], tmp_path: Path
) -> None:
    data = _without_msgid(example("kith/dialogmelding-samtykke-ola.xml"))
    answer = client.post("/kith/messages", data=data, headers={**auth(KOMMUNE, "samhandling/messages"), **XML})
    assert answer.status_code == 400
    assert _status(_apprec(answer.data))[0] == "2" and "E10" in _status(_apprec(answer.data))[1]
    source = tmp_path / "no-msgid.xml"
    source.write_bytes(data)
    result = CliRunner().invoke(main, ["convert", str(source), "--to", "apprec"])
    assert result.exit_code == 0, result.output
    assert _status(_apprec(result.stdout.encode()))[0] == "2" and "E10" in _status(_apprec(result.stdout.encode()))[1]


def _sender_idents(data: bytes, *, own: list[str], unit: str | None = None) -> bytes:
    """The message with the sending organisation's HER Idents replaced by ``own`` (in that order), and a unit
    (sub-organisation) with the HER-id ``unit`` when given."""
    root = parse_xml(data).getroot()
    organisation = root.find(f"{MH}MsgInfo/{MH}Sender/{MH}Organisation")
    assert organisation is not None
    idents = organisation.findall(f"{MH}Ident")
    anchor = idents[0]
    for her in own:
        ident = etree.Element(f"{MH}Ident")
        etree.SubElement(ident, f"{MH}Id").text = her
        etree.SubElement(ident, f"{MH}TypeId", V="HER", S="2.16.578.1.12.4.1.1.9051", DN="HER-id")
        anchor.addprevious(ident)
    for ident in idents:
        organisation.remove(ident)
    if unit is not None:
        sub = etree.SubElement(organisation, f"{MH}Organisation")
        etree.SubElement(sub, f"{MH}OrganisationName").text = "Psykisk helse og rus, team sentrum"
        ident = etree.SubElement(sub, f"{MH}Ident")
        etree.SubElement(ident, f"{MH}Id").text = unit
        etree.SubElement(ident, f"{MH}TypeId", V="HER", S="2.16.578.1.12.4.1.1.9051", DN="HER-id")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def test_a_sender_listing_two_her_ids_is_refused(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    """An attacker (the legekontor) lists its own HER-id and the kommune's: it could pass as either. Refused, in
    either order, and nothing is stored."""
    for own in (["8100003", KOMMUNE], [KOMMUNE, "8100003"]):
        data = _sender_idents(example("kith/dialogmelding-samtykke-ola.xml"), own=own)
        answer = client.post("/kith/messages", data=data, headers={**auth("8100003", "samhandling/messages"), **XML})
        assert answer.status_code == 403, answer.data
        assert "ADP-7022" in answer.get_data(as_text=True)
    found = client.get("/Consent?patient:identifier=15838510075", headers=auth(KOMMUNE, "samhandling/plans.read"))
    assert found.get_json().get("total") == 0


def test_a_unit_cannot_carry_its_parents_fhir_message(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    """The legekontor claims to be a unit of the kommune: the FHIR message attached names the kommune as sender,
    which the caller is not. Refused (ADP-7011)."""
    data = _sender_idents(example("kith/dialogmelding-samtykke-ola.xml"), own=[KOMMUNE], unit="8100003")
    answer = client.post("/kith/messages", data=data, headers={**auth("8100003", "samhandling/messages"), **XML})
    assert answer.status_code == 403 and "ADP-7011" in answer.get_data(as_text=True), answer.data


def test_a_unit_sends_as_itself(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    """A unit of the kommune with a HER-id of its own sends a note with its own token: accepted, and the note
    names the unit (not the kommune) as its sender."""
    from test_crisis_plan_document import _text_plan

    data = _sender_idents(_text_plan(), own=[KOMMUNE], unit="8100011")
    answer = client.post("/kith/messages", data=data, headers={**auth("8100011", "samhandling/messages"), **XML})
    assert answer.status_code == 200, answer.data
    receipt = _apprec(answer.data)
    assert receipt.findtext("{*}Receiver/{*}HCP/{*}Inst/{*}Dept/{*}Id") == "8100011"
    assert "ADP-7011" not in answer.get_data(as_text=True)
    audit = client.get("/AuditEvent", headers=auth(KOMMUNE, "samhandling/audit")).get_json()
    assert any(
        agent.get("who", {}).get("identifier", {}).get("value") == "8100011"
        for entry in audit.get("entry", [])
        for agent in entry["resource"].get("agent", [])
    )


def test_a_comment_is_no_other_content(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    headers = {**auth(KOMMUNE, "samhandling/messages"), **XML}
    first = example("kith/dialogmelding-samtykke-ola.xml")
    answered = client.post("/kith/messages", data=first, headers=headers)
    commented = first.replace(b"<MsgInfo>", "<MsgInfo><!--sendt på nytt-->".encode(), 1)
    assert commented != first
    again = client.post("/kith/messages", data=commented, headers=headers)
    assert again.status_code == 200 and again.data == answered.data
