"""A crisis plan that arrives only as text is findable in the shared store: the municipality's Dialogmelding about
Ola's crisis plan is stored as a DocumentReference of type Kriseplan (Volven 9602 A01-2); a party finds it by
search, and the legevakt's emergency read gives it when there is no structured plan."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from service_helpers import KOMMUNE, example_json

OLA = "15838510075"
KRISEPLAN = "urn:oid:2.16.578.1.12.4.1.1.9602|A01-2"
LEGEVAKT = "8100009"
NOTE = "Varselsignaler: sover dårlig. Dette hjelper: ring koordinator Liv Berg, tlf. 55 00 01 01."


def _text_plan(receiver: str = "8100002") -> bytes:
    """A MsgHead with a Dialogmelding 1.1 note whose topic is the crisis plan, from the kommune about Ola."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">
  <MsgInfo>
    <Type V="DIALOG_HELSEFAGLIG" DN="Helsefaglig dialog"/>
    <MIGversion>v1.2 2006-05-24</MIGversion>
    <GenDate>2026-05-02T10:15:00</GenDate>
    <MsgId>5d1c7a9e-0b2f-4c3d-8e4f-a1b2c3d4e5f6</MsgId>
    <Sender><Organisation><OrganisationName>Bergen kommune, psykisk helse og rus</OrganisationName>
      <Ident><Id>{KOMMUNE}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident></Organisation>
    </Sender>
    <Receiver><Organisation><OrganisationName>Vestbyen DPS</OrganisationName>
      <Ident><Id>{receiver}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident></Organisation>
    </Receiver>
    <Patient><FamilyName>Nordmann</FamilyName><GivenName>Ola</GivenName>
      <Ident><Id>{OLA}</Id><TypeId V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer"/></Ident></Patient>
  </MsgInfo>
  <Document><RefDoc><MsgType V="XML" DN="XML-instans"/><Content>
    <Dialogmelding xmlns="http://www.kith.no/xmlstds/dialog/2013-01-23">
      <Notat><TemaKodet V="6" S="2.16.578.1.12.4.1.1.7322" DN="Henvendelse om pasient"/><Tema>Kriseplan</Tema>
        <TekstNotatInnhold>{NOTE}</TekstNotatInnhold></Notat>
    </Dialogmelding>
  </Content></RefDoc></Document>
</MsgHead>
""".encode()


def test_a_text_crisis_plan_is_found_by_search_and_by_the_emergency_read(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    xml = {"Content-Type": "application/xml"}
    # Ola's consent, which here also covers documents: the DPS gets the text plan on it
    bundle = example_json("fhir/Bundle-melding-samtykke-ola.json")
    consent = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent")
    consent["provision"]["class"].append({"system": "http://hl7.org/fhir/resource-types", "code": "DocumentReference"})
    fhir = {"Content-Type": "application/fhir+json"}
    answer = client.post("/$process-message", json=bundle, headers={**auth(KOMMUNE), **fhir})
    assert answer.status_code == 200 and answer.get_json()["entry"][0]["resource"]["response"]["code"] == "ok"
    answer = client.post("/kith/messages", data=_text_plan(), headers={**auth(KOMMUNE), **xml})
    assert answer.status_code == 200 and b'<Status V="1"' in answer.data, answer.data
    found = client.get(
        f"/DocumentReference?patient:identifier={OLA}&type={KRISEPLAN}", headers=auth(KOMMUNE, "samhandling/plans.read")
    )
    assert found.status_code == 200, found.data
    [entry] = found.get_json()["entry"]
    assert entry["resource"]["type"]["coding"][0]["code"] == "A01-2"
    emergency = client.get(
        f"/Patient/$krise?identifier={OLA}&reason=Akutt+innlagt+i+krise",
        headers=auth(LEGEVAKT, "samhandling/emergency"),
    )
    assert emergency.status_code == 200, emergency.data
    matches = [e["resource"] for e in emergency.get_json()["entry"] if e["search"]["mode"] == "match"]
    assert [r["resourceType"] for r in matches] == ["DocumentReference"]
