"""The shared plan made trustworthy, tested as an attacker would: each hole found in the service is a test here
that failed on the code before the fix (who may write, an organisation's identity, consent as the law has it,
emergency access, every party kept in sync, audit of every disclosure)."""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient
from lxml import etree
from pytest_httpserver import HTTPServer
from service_helpers import (
    DPS,
    KOMMUNE,
    LEGEKONTOR,
    STRANGER,
    ack_code,
    ack_issue_codes,
    example,
    example_json,
    issue_codes,
)
from test_service_messaging import deliver_all, routed

from adapter.config import Settings
from adapter.service import Service

Auth = Callable[..., dict[str, str]]
JSON = {"Content-Type": "application/fhir+json"}
READ, WRITE = "samhandling/plans.read", "samhandling/plans.write"
HER = "urn:oid:2.16.578.1.12.4.1.2"
FNR = "15838510075"
PLAN = "fhir/Bundle-melding-individuell-plan-ola.json"
CRISIS = "fhir/Bundle-melding-kriseplan-ola.json"
RISK = "fhir/Bundle-melding-risikovurdering-ola.json"
CONSENT = "fhir/Bundle-melding-samtykke-ola.json"
LEGEVAKT = "8100009"
FOURTH = "8100004"  # an organisation outside the patient's care team


def tokens(service: Service) -> Auth:
    """``auth(org, *scopes)`` for a service of a test's own: request headers with a token of its demo issuer
    (messages, plans.read, plans.write and audit when no scopes are named)."""

    def auth(org: str, *scopes: str) -> dict[str, str]:
        assert service.issuer is not None
        granted = scopes or ("samhandling/messages", READ, WRITE, "samhandling/audit")
        return {"Authorization": f"Bearer {service.issuer.issue(org, granted)}"}

    return auth


def send(client: FlaskClient, org: str, bundle: dict[str, Any] | bytes, auth: Auth) -> dict[str, Any]:
    data = bundle if isinstance(bundle, bytes) else json.dumps(bundle).encode()
    response = client.post("/$process-message", data=data, headers={**auth(org), **JSON})
    assert response.status_code == 200, response.get_json()
    answer: dict[str, Any] = response.get_json()
    return answer


def as_sender(name: str, org: str, msg_id: str) -> dict[str, Any]:
    """An example message re-sent by ``org`` (HER-id) with its own message id: the sender Organization replaced
    by one of its own."""
    bundle = example_json(name)
    header = bundle["entry"][0]["resource"]
    header["id"] = msg_id
    bundle["entry"][0]["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{msg_id}"
    header["sender"] = {"reference": "Organization/org-angriper"}
    bundle["entry"].append(
        {
            "fullUrl": "http://samhandling.no/fhir/Organization/org-angriper",
            "resource": {
                "resourceType": "Organization",
                "id": "org-angriper",
                "identifier": [{"system": HER, "value": org}],
                "name": "Angriper AS",
            },
        }
    )
    return bundle


def renamed(bundle: dict[str, Any], msg_id: str) -> dict[str, Any]:
    """The message with a new MessageHeader id (and fullUrl): a new message with the same content."""
    bundle["entry"][0]["resource"]["id"] = msg_id
    bundle["entry"][0]["fullUrl"] = f"http://samhandling.no/fhir/MessageHeader/{msg_id}"
    return bundle


def to_org(bundle: dict[str, Any], her: str) -> dict[str, Any]:
    """The message addressed to the organisation ``her`` only (by its HER-id)."""
    destination = bundle["entry"][0]["resource"]["destination"][0]
    destination["receiver"] = {"identifier": {"system": HER, "value": her}}
    return bundle


def entry(bundle: dict[str, Any], rtype: str) -> dict[str, Any]:
    found: dict[str, Any] = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == rtype)
    return found


def shared_world(client: FlaskClient, auth: Auth) -> None:
    """The demo's start: the kommune records the consent, sends the individual plan; the DPS its crisis plan."""
    for org, name in ((KOMMUNE, CONSENT), (KOMMUNE, PLAN), (DPS, CRISIS)):
        assert ack_code(send(client, org, example(name), auth)) == "ok"


def audit_events(client: FlaskClient, auth: Auth, **query: str) -> list[dict[str, Any]]:
    params = "&".join(f"{k}={v}" for k, v in {"_count": "500", **query}.items())
    found = client.get(f"/AuditEvent?{params}", headers=auth(DPS, "samhandling/audit")).get_json()
    return [e["resource"] for e in found.get("entry", [])]


# --- who may write ---------------------------------------------------------------------------------------------


def test_a_non_party_cannot_rewrite_a_plan_by_message(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    attack = as_sender(PLAN, STRANGER, "angrep-1")
    entry(attack, "CarePlan")["title"] = "Overtatt plan"
    entry(attack, "Patient")["name"][0]["family"] = "Angriper"
    ack = send(client, STRANGER, attack, auth)
    assert ack_code(ack) == "fatal-error" and "ADP-7013" in ack_issue_codes(ack)
    plan = client.get("/CarePlan/individuell-plan-ola", headers=auth(KOMMUNE)).get_json()
    assert plan["title"] != "Overtatt plan" and plan["meta"]["versionId"] == "1"
    patient = client.get("/Patient/pasient-ola", headers=auth(KOMMUNE)).get_json()
    assert patient["name"][0]["family"] != "Angriper"
    for path in ("/CarePlan/individuell-plan-ola", "/CarePlan/individuell-plan-ola/_history"):
        assert client.get(path, headers=auth(STRANGER)).status_code == 403
    assert client.get(f"/CarePlan?patient:identifier={FNR}", headers=auth(STRANGER)).get_json()["total"] == 0


def test_a_non_party_cannot_rewrite_a_plan_by_kith(client: FlaskClient, auth: Auth) -> None:
    client.post("/kith/messages", data=example("kith/dialogmelding-samtykke-ola.xml"), headers=auth(KOMMUNE))
    kith = example("kith/dialogmelding-individuell-plan-ola.xml")
    assert client.post("/kith/messages", data=kith, headers=auth(KOMMUNE)).status_code == 200
    root = etree.fromstring(kith)
    container = root.find(".//{http://www.kith.no/xmlstds/base64container}Base64Container")
    assert container is not None and container.text
    # the MsgHead as the stranger's: the attached FHIR message still speaks for the kommune
    msghead = kith.replace(KOMMUNE.encode(), STRANGER.encode()).replace(b"<MsgId>", b"<MsgId>x")
    client.post("/kith/messages", data=msghead, headers=auth(STRANGER))  # the same content: nothing changes
    # the attachment rewritten too: the stranger as sender, a new title
    attached = base64.b64decode(container.text).replace(KOMMUNE.encode(), STRANGER.encode())
    attached = attached.replace(b"Individuell plan for Ola Nordmann", b"Overtatt plan")
    container.text = base64.b64encode(attached).decode()
    forged = etree.tostring(root).replace(KOMMUNE.encode(), STRANGER.encode()).replace(b"<MsgId>", b"<MsgId>y")
    answer = client.post("/kith/messages", data=forged, headers=auth(STRANGER))
    status = etree.fromstring(answer.data).find("{http://www.kith.no/xmlstds/apprec/2004-11-21}Status")
    assert status is not None and status.get("V") == "2", answer.data.decode()[:2000]
    assert b"ADP-7013" in answer.data or b"ADP-7014" in answer.data
    plan = client.get("/CarePlan/individuell-plan-ola", headers=auth(KOMMUNE)).get_json()
    assert plan["meta"]["versionId"] == "1" and plan["title"] != "Overtatt plan"


def test_an_organisation_identity_cannot_be_taken_over(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    attack = as_sender(PLAN, STRANGER, "angrep-2")
    attack["entry"] = [e for e in attack["entry"] if e["resource"]["resourceType"] != "CarePlan"]
    attack["entry"][0]["resource"]["focus"] = [{"reference": "Organization/org-legekontor"}]
    legekontor = entry(attack, "Organization")
    legekontor = next(e["resource"] for e in attack["entry"] if e["resource"].get("id") == "org-legekontor")
    legekontor["identifier"] = [{"system": HER, "value": STRANGER}, *legekontor["identifier"]]
    ack = send(client, STRANGER, attack, auth)
    assert "ADP-7014" in ack_issue_codes(ack)
    # nothing changed: the legekontor is still the legekontor, the attacker reads nothing
    assert client.get("/CarePlan/individuell-plan-ola", headers=auth(LEGEKONTOR)).status_code == 200
    assert client.get("/CarePlan/individuell-plan-ola", headers=auth(STRANGER)).status_code == 403


def test_a_stale_change_is_a_conflict_not_an_overwrite(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    plan = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(DPS)).get_json()
    newer = client.put(
        "/CarePlan/krise-og-mestringsplan-ola",
        json={**plan, "description": "DPS endret"},
        headers={**auth(DPS), "If-Match": 'W/"1"'},
    )
    assert newer.status_code == 200
    stale = client.put("/CarePlan/krise-og-mestringsplan-ola", json=plan, headers={**auth(DPS), "If-Match": 'W/"1"'})
    assert stale.status_code == 412
    blind = client.put("/CarePlan/krise-og-mestringsplan-ola", json=plan, headers=auth(DPS))
    assert blind.status_code == 428 and issue_codes(blind.get_json()) == ["ADP-5042"]
    # by message: based on version 1 while version 2 is current
    message = renamed(example_json(CRISIS), "kriseplan-gammel")
    entry(message, "CarePlan")["meta"]["versionId"] = "1"
    entry(message, "CarePlan")["description"] = "basert på en gammel versjon"
    ack = send(client, DPS, message, auth)
    assert "ADP-7017" in ack_issue_codes(ack)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(DPS)).get_json()["description"] == (
        "DPS endret"
    )


def test_an_id_cannot_be_squatted(client: FlaskClient, auth: Auth) -> None:
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    squat = client.put("/CarePlan/krise-og-mestringsplan-ola", json=plan, headers=auth(STRANGER))
    assert squat.status_code == 405 and issue_codes(squat.get_json()) == ["ADP-5040"]
    assert ack_code(send(client, KOMMUNE, example(CONSENT), auth)) == "ok"
    assert ack_code(send(client, DPS, example(CRISIS), auth)) == "ok"  # the rightful writer is not locked out


def test_only_a_party_to_the_care_records_a_consent_also_in_a_message(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    forged = as_sender(CONSENT, STRANGER, "angrep-3")
    consent = entry(forged, "Consent")
    consent["id"] = "samtykke-forfalsket"
    for item in forged["entry"]:
        if item["resource"] is consent:
            item["fullUrl"] = "http://samhandling.no/fhir/Consent/samtykke-forfalsket"
    consent["organization"] = [{"reference": "Organization/org-angriper"}]
    consent["provision"]["actor"] = [
        {**consent["provision"]["actor"][0], "reference": {"identifier": {"system": HER, "value": STRANGER}}}
    ]
    ack = send(client, STRANGER, forged, auth)
    assert "ADP-7016" in ack_issue_codes(ack)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(STRANGER)).status_code == 403


def test_writing_a_record_of_its_own_does_not_make_an_organisation_a_carer(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    plan.pop("meta")
    assert client.post("/CarePlan", json=plan, headers=auth(STRANGER)).status_code == 201  # its own, stored
    assert client.get("/Patient/pasient-ola", headers=auth(STRANGER)).status_code == 403  # no demographics
    own = client.post("/Consent", json=consent_resource(STRANGER, recorded_by=STRANGER), headers=auth(STRANGER))
    assert own.status_code == 403 and issue_codes(own.get_json()) == ["ADP-7016"]
    # the same in one message: a record of its own and a Consent naming itself
    forged = as_sender(CONSENT, STRANGER, "angrep-omsorg")
    consent = entry(forged, "Consent")
    consent["organization"] = [{"reference": "Organization/org-angriper"}]
    consent["provision"]["actor"][0]["reference"] = {"identifier": {"system": HER, "value": STRANGER}}
    consent["id"] = "samtykke-angriper"
    next(e for e in forged["entry"] if e["resource"] is consent)["fullUrl"] = (
        "urn:uuid:4d7c2b1a-9e8f-4a6b-b5c4-d3e2f1a0b9c8"
    )
    forged["entry"].append(
        {"fullUrl": "urn:uuid:0b6f5a9e-3c1d-4e2f-8a7b-9c0d1e2f3a4b", "resource": {**plan, "id": "egen"}}
    )
    assert "ADP-7016" in ack_issue_codes(send(client, STRANGER, forged, auth))
    assert client.get(f"/CarePlan?patient:identifier={FNR}", headers=auth(STRANGER)).get_json()["total"] == 1


# --- consent as the law has it ---------------------------------------------------------------------------------


def consent_resource(
    org_naming: str, *, deny: bool = False, classes: tuple[str, ...] = (), recorded_by: str = KOMMUNE
) -> dict[str, Any]:
    consent = example_json("fhir/Consent-samtykke-ola-deling.json")
    consent.pop("id")
    consent.pop("meta", None)
    consent["organization"] = [{"identifier": {"system": HER, "value": recorded_by}}]
    consent["provision"]["type"] = "deny" if deny else "permit"
    consent["provision"]["actor"] = [
        {**consent["provision"]["actor"][0], "reference": {"identifier": {"system": HER, "value": org_naming}}}
    ]
    if classes:
        consent["provision"]["class"] = [{"system": "http://hl7.org/fhir/resource-types", "code": c} for c in classes]
    return consent


def test_a_deny_wins_over_a_permit_on_read_and_on_send(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR)).status_code == 200
    deny = client.post("/Consent", json=consent_resource(LEGEKONTOR, deny=True), headers=auth(KOMMUNE))
    assert deny.status_code == 201, deny.get_json()
    read = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR))
    assert read.status_code == 403
    assert client.get(f"/CarePlan?patient:identifier={FNR}", headers=auth(LEGEKONTOR)).get_json()["total"] == 0
    message = to_org(example_json(RISK), LEGEKONTOR)  # the DPS's risk assessment to the legekontor: denied
    ack = send(client, DPS, message, auth)
    assert "ADP-7018" in ack_issue_codes(ack)
    # even on another legal basis
    renamed(message, "risiko-hpl45")
    message["entry"][0]["resource"]["reason"] = {
        "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}],
        "text": "Samarbeidende personell",
    }
    assert "ADP-7018" in ack_issue_codes(send(client, DPS, message, auth))


def test_consent_guards_every_type_and_its_class(client: FlaskClient, auth: Auth) -> None:
    kommune = as_sender(CONSENT, KOMMUNE, "samtykke-bare-planer")
    consent = entry(kommune, "Consent")
    consent["provision"]["class"] = [{"system": "http://hl7.org/fhir/resource-types", "code": "CarePlan"}]
    assert ack_code(send(client, KOMMUNE, example(CONSENT), auth)) == "ok"
    client.put(
        "/Consent/samtykke-ola-deling",
        json={**entry(example_json(CONSENT), "Consent"), "provision": consent["provision"]},
        headers={**auth(KOMMUNE), "If-Match": 'W/"1"'},
    )
    ack = send(client, DPS, example(RISK), auth)  # a RiskAssessment to the kommune: not in the class
    assert ack_code(ack) == "fatal-error" and "ADP-7010" in ack_issue_codes(ack)
    # stated legal basis with a reason lets it go, recorded as such
    message = renamed(example_json(RISK), "risiko-hpl45-ok")
    message["entry"][0]["resource"]["reason"] = {
        "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}]
    }
    assert "ADP-7019" in ack_issue_codes(send(client, DPS, message, auth))  # no reason given
    message["entry"][0]["resource"]["reason"]["text"] = "Nødvendig for forsvarlig helsehjelp i kommunen"
    ack = send(client, DPS, renamed(message, "risiko-hpl45-med-grunn"), auth)  # a new message, not a repeat
    assert ack_code(ack) == "ok", ack_issue_codes(ack)
    disclosures = [e for e in audit_events(client, auth) if "(hpl-45)" in e.get("outcomeDesc", "")]
    assert disclosures and disclosures[-1]["agent"][1]["who"]["identifier"]["value"] == KOMMUNE


def test_withdrawal_wins_for_earlier_recipients_and_queued_deliveries(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    """An organisation outside the care team gets the crisis plan under a consent; the consent is withdrawn while a
    delivery to it waits: the delivery is stopped, its reads end, new messages to it are refused."""
    service, client = routed(make_service, service_settings, tmp_path, {FOURTH: (httpserver.url_for("/k"), "fhir")})

    auth = tokens(service)

    shared_world(client, auth)
    permit = client.post("/Consent", json=consent_resource(FOURTH), headers=auth(KOMMUNE))
    assert permit.status_code == 201, permit.get_json()
    message = to_org(renamed(example_json(CRISIS), "til-fjerde"), FOURTH)
    entry(message, "CarePlan")["meta"]["versionId"] = "1"
    entry(message, "CarePlan")["description"] = "delt med en fjerde virksomhet"
    assert ack_code(send(client, DPS, message, auth)) == "ok"
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(FOURTH)).status_code == 200
    queued = [d for d in service.store.run(lambda tx: tx.deliveries()) if d.recipient == FOURTH]
    assert queued and {d.state for d in queued} == {"pending"}
    consent = permit.get_json()
    withdrawn = client.put(
        f"/Consent/{consent['id']}",
        json={**consent, "status": "inactive"},
        headers={**auth(KOMMUNE), "If-Match": 'W/"1"'},
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    deliveries = [d for d in service.store.run(lambda tx: tx.deliveries()) if d.recipient == FOURTH]
    plans = [d for d in deliveries if any(ref.startswith("CarePlan/") for ref in d.refs)]
    assert plans and {d.state for d in plans} == {"withdrawn"}
    # what still goes is the withdrawn Consent itself: it names the fourth organisation, which learns of it
    assert all(d.refs[0] == f"Consent/{consent['id']}" for d in deliveries if d not in plans)
    httpserver.expect_request("/k").respond_with_data("ok")
    deliver_all(service)
    assert not any(b"krise-og-mestringsplan-ola" in request.get_data() for request, _ in httpserver.log)
    # an operator puts a withdrawn delivery back: it is checked again, and stays withdrawn while the consent is
    assert service.store.run(lambda tx: tx.retry(plans[0].id))
    deliver_all(service)
    assert service.store.run(lambda tx: tx.delivery(plans[0].id)).state == "withdrawn"
    assert not any(b"krise-og-mestringsplan-ola" in request.get_data() for request, _ in httpserver.log)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(FOURTH)).status_code == 403
    again = to_org(renamed(example_json(CRISIS), "etter-tilbaketrekning"), FOURTH)
    entry(again, "CarePlan")["meta"]["versionId"] = "2"
    entry(again, "CarePlan")["description"] = "ny versjon etter tilbaketrekking"
    assert "ADP-7010" in ack_issue_codes(send(client, DPS, again, auth))
    refused = [e for e in audit_events(client, auth) if e["outcome"] == "4" and "withdrawn" in e.get("outcomeDesc", "")]
    assert refused


# --- profiles on every write -----------------------------------------------------------------------------------


def test_a_crisis_plan_without_its_claim_is_checked_and_stored_claiming_it(client: FlaskClient, auth: Auth) -> None:
    assert ack_code(send(client, KOMMUNE, example(CONSENT), auth)) == "ok"
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    plan.pop("meta")
    broken = copy.deepcopy(plan)
    broken["activity"] = broken["activity"][:1]  # one part, no red-zone contact
    refused = client.post("/CarePlan", json=broken, headers=auth(DPS))
    assert refused.status_code == 422 and "kmp-1" in json.dumps(refused.get_json())
    category = "http://samhandling.no/fhir/CodeSystem/plantype|krise-og-mestringsplan"
    assert client.get(f"/CarePlan?category={category}", headers=auth(DPS)).get_json()["total"] == 0
    stored = client.post("/CarePlan", json=plan, headers=auth(DPS))
    assert stored.status_code == 201
    assert stored.get_json()["meta"]["profile"] == [
        "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
    ]
    claimed = f"_profile={stored.get_json()['meta']['profile'][0]}"
    assert client.get(f"/CarePlan?{claimed}", headers=auth(DPS)).get_json()["total"] == 1  # found by the claim
    message = example_json(CRISIS)
    del entry(message, "CarePlan")["meta"]
    entry(message, "CarePlan")["activity"] = entry(message, "CarePlan")["activity"][:1]
    assert ack_code(send(client, DPS, message, auth)) == "fatal-error"


# --- every party in sync ---------------------------------------------------------------------------------------


def test_a_rest_change_reaches_every_other_party(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    service, client = routed(
        make_service,
        service_settings,
        tmp_path,
        {DPS: (httpserver.url_for("/dps"), "fhir"), LEGEKONTOR: (httpserver.url_for("/lege"), "kith")},
    )
    assert service.issuer is not None

    auth = tokens(service)

    httpserver.expect_request("/dps").respond_with_data("ok")
    httpserver.expect_request("/lege").respond_with_data("ok")
    shared_world(client, auth)
    deliver_all(service)
    httpserver.clear_log()
    plan = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(KOMMUNE)).get_json()
    changed = client.put(
        "/CarePlan/krise-og-mestringsplan-ola",
        json={**plan, "description": "Kommunen endret planen"},
        headers={**auth(DPS), "If-Match": 'W/"1"'},
    )
    assert changed.status_code == 200
    deliver_all(service)
    got = {request.path: request.get_data() for request, _ in httpserver.log}
    assert "/dps" not in got  # the writer itself is not sent its own change
    assert b"Kommunen endret planen" in got["/lege"]  # a KITH party: a Dialogmelding with the plan attached
    root = etree.fromstring(got["/lege"])
    assert root.tag == "{http://www.kith.no/xmlstds/msghead/2006-05-24}MsgHead"


def test_a_subscription_is_notified_through_the_outbox(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    service, client = routed(make_service, service_settings, tmp_path, {KOMMUNE: (httpserver.url_for("/k"), "kith")})
    assert service.issuer is not None

    auth = tokens(service)

    shared_world(client, auth)
    subscription = {
        "resourceType": "Subscription",
        "status": "active",
        "reason": "Kommunens journal holder kriseplanen oppdatert",
        "criteria": f"CarePlan?patient:identifier={FNR}",
        "channel": {"type": "rest-hook", "endpoint": httpserver.url_for("/hook"), "payload": "application/fhir+json"},
    }
    assert client.post("/Subscription", json=subscription, headers=auth(KOMMUNE)).status_code == 201
    bad = client.post("/Subscription", json={**subscription, "criteria": "Nonsense"}, headers=auth(KOMMUNE))
    assert bad.status_code == 422 and issue_codes(bad.get_json()) == ["ADP-5043"]
    for elsewhere in ("http://169.254.169.254/latest/meta-data/", "http://127.0.0.1:1/intern"):  # not its own
        channel = {**subscription["channel"], "endpoint": elsewhere}
        ssrf = client.post("/Subscription", json={**subscription, "channel": channel}, headers=auth(KOMMUNE))
        assert ssrf.status_code == 422 and issue_codes(ssrf.get_json()) == ["ADP-5043"]
    httpserver.expect_request("/hook").respond_with_data("ok")
    plan = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(DPS)).get_json()
    client.put(
        "/CarePlan/krise-og-mestringsplan-ola",
        json={**plan, "description": "varslet"},
        headers={**auth(DPS), "If-Match": 'W/"1"'},
    )
    deliver_all(service)
    bodies = [json.loads(request.get_data()) for request, _ in httpserver.log if request.path == "/hook"]
    assert [b["description"] for b in bodies] == ["varslet"]


# --- emergency access ------------------------------------------------------------------------------------------


def test_emergency_read_gives_the_crisis_plan_only_audited_and_blocked_by_a_deny(
    client: FlaskClient, auth: Auth
) -> None:
    shared_world(client, auth)
    legevakt = auth(LEGEVAKT, "samhandling/emergency")
    no_reason = client.get(f"/Patient/$krise?identifier={FNR}", headers=legevakt)
    assert no_reason.status_code == 400 and issue_codes(no_reason.get_json()) == ["ADP-7020"]
    found = client.get(f"/Patient/$krise?identifier={FNR}&reason=Akutt+krise+på+legevakten", headers=legevakt)
    assert found.status_code == 200
    types = [e["resource"]["resourceType"] for e in found.get_json()["entry"]]
    assert types[0] == "CarePlan" and "RiskAssessment" not in types
    assert found.get_json()["entry"][0]["resource"]["id"] == "krise-og-mestringsplan-ola"
    # nothing else: an ordinary read needs plans.read, and a read token is no party to anything
    assert client.get("/CarePlan/individuell-plan-ola", headers=legevakt).status_code == 403
    assert client.get("/CarePlan/individuell-plan-ola", headers=auth(LEGEVAKT, READ)).status_code == 403
    # the parties find the emergency read in the patient's trail, with its purpose and reason
    trail = client.get("/AuditEvent?patient=Patient/pasient-ola&_count=500", headers=auth(DPS, READ)).get_json()
    emergency = [
        e["resource"] for e in trail["entry"] if "ETREAT" in json.dumps(e["resource"].get("purposeOfEvent", []))
    ]
    assert emergency and "Akutt krise" in emergency[-1]["outcomeDesc"]
    # a stranger may not search the trail
    assert client.get("/AuditEvent?patient=Patient/pasient-ola", headers=auth(STRANGER, READ)).status_code == 403
    deny = client.post("/Consent", json=consent_resource(LEGEVAKT, deny=True), headers=auth(KOMMUNE))
    assert deny.status_code == 201
    blocked = client.get(f"/Patient/$krise?identifier={FNR}&reason=Akutt+krise+igjen", headers=legevakt)
    assert blocked.status_code == 403 and issue_codes(blocked.get_json()) == ["ADP-7018"]


# --- audit of every disclosure ---------------------------------------------------------------------------------


def test_every_disclosure_miss_refusal_and_receipt_read_is_audited(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)  # no routes: the receivers get nothing delivered, the data is there to read
    before = audit_events(client, auth)
    no_route = [e for e in before if "no route" in e.get("outcomeDesc", "")]
    assert {e["agent"][1]["who"]["identifier"]["value"] for e in no_route} >= {DPS, KOMMUNE}
    client.get("/CarePlan/finnes-ikke", headers=auth(DPS))
    client.get("/kith/receipts/samhandlingsmelding-kriseplan-ola", headers=auth(DPS))
    attack = as_sender(PLAN, STRANGER, "angrep-audit")
    entry(attack, "CarePlan")["title"] = "x"
    send(client, STRANGER, attack, auth)
    after = audit_events(client, auth, _offset=str(len(before)))
    outcomes = [(e["action"], e["outcome"], e.get("outcomeDesc", "")) for e in after]
    assert ("R", "8", "not found") in outcomes  # the miss
    assert any(d == "receipt read" for _, _, d in outcomes)
    assert any(o == "4" and "ADP-7013" in d for _, o, d in outcomes)  # the refused message
    assert any("AuditEvent?" in json.dumps(e.get("entity", [])) for e in after)  # the search of the trail itself


# --- found by an outside review (each failed before its fix) ------------------------------------------------------


def test_a_legevakt_is_never_shown_a_crisis_plan_a_stranger_made_up(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    fake = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    fake.pop("id")
    fake.pop("meta")
    fake["title"] = "FALSK kriseplan"
    assert client.post("/CarePlan", json=fake, headers=auth(STRANGER)).status_code == 201
    legevakt = auth(LEGEVAKT, "samhandling/emergency")
    found = client.get(f"/Patient/$krise?identifier={FNR}&reason=Akutt+krise+i+natt", headers=legevakt)
    assert found.status_code == 200
    assert found.get_json()["entry"][0]["resource"]["id"] == "krise-og-mestringsplan-ola"
    # a decoy patient under a made-up identifier system is no patient of the emergency read
    decoy = {"resourceType": "Patient", "identifier": [{"system": "urn:ond", "value": "X123"}]}
    decoy_id = client.post("/Patient", json=decoy, headers=auth(STRANGER)).get_json()["id"]
    plan = json.loads(json.dumps(fake).replace("Patient/pasient-ola", f"Patient/{decoy_id}"))
    assert client.post("/CarePlan", json=plan, headers=auth(STRANGER)).status_code == 201
    leak = client.get("/Patient/$krise?identifier=X123&reason=lese+andres+data", headers=legevakt)
    assert leak.status_code == 404
    leak = client.get("/Patient/$krise?identifier=urn:ond|X123&reason=lese+andres+data", headers=legevakt)
    assert leak.status_code == 404
    assert (
        client.get(f"/Patient/$krise?identifier={FNR}&reason=%00%00%00%00%00%00", headers=legevakt).status_code == 400
    )


def test_a_second_patient_with_the_same_fodselsnummer_is_refused(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    twin = {"resourceType": "Patient", "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": FNR}]}
    created = client.post("/Patient", json={**twin, "name": [{"family": "Falsk"}]}, headers=auth(STRANGER))
    assert created.status_code == 403 and issue_codes(created.get_json()) == ["ADP-5095"]
    assert "pasient-ola" not in json.dumps(created.get_json())  # the record's id would lead on to its records
    probes = client.get("/AuditEvent?patient=Patient/pasient-ola&_count=500", headers=auth(DPS, "samhandling/audit"))
    assert any(  # the attempt is in the patient's trail, for the patient's parties to see
        e["resource"]["agent"][0]["who"]["identifier"]["value"] == STRANGER and e["resource"]["outcome"] != "0"
        for e in probes.get_json()["entry"]
    )
    again = client.post("/Patient", json=twin, headers=auth(KOMMUNE))
    assert again.status_code == 409 and issue_codes(again.get_json()) == ["ADP-5041"]
    message = renamed(example_json(CRISIS), "etter-tvilling")
    entry(message, "CarePlan")["meta"]["versionId"] = "1"
    entry(message, "CarePlan")["description"] = "fortsatt én pasient"
    assert ack_code(send(client, DPS, message, auth)) == "ok"  # messaging about the patient still works


def test_odd_values_get_an_outcome_never_a_5xx(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    surrogate = b'{"resourceType":"CarePlan","status":"active","intent":"plan",'
    surrogate += b'"subject":{"reference":"Patient/pasient-ola"},"title":"\\ud800"}'
    stored = client.post("/CarePlan", data=surrogate, headers={**auth(STRANGER), **JSON})
    assert stored.status_code == 400 and issue_codes(stored.get_json()) == ["ADP-1001"]
    assert client.get(f"/CarePlan?patient:identifier={FNR}", headers=auth(DPS)).status_code == 200
    huge = b'{"resourceType":"Patient","multipleBirthInteger":' + b"9" * 5000 + b"}"
    for path in ("/$validate", "/Patient"):
        assert client.post(path, data=huge, headers={**auth(DPS), **JSON}).status_code == 400
    odd = {"resourceType": "Parameters", "parameter": {"name": "resource"}}
    assert client.post("/$validate", json=odd, headers=auth(DPS)).status_code < 500
    nested: dict[str, Any] = {"resourceType": "Bundle", "type": "collection"}
    for _ in range(200):
        nested = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": nested}]}
    deep = client.post("/$validate", data=json.dumps(nested), headers={**auth(DPS), **JSON})
    assert deep.status_code < 500
    for path in ("/AuditEvent?_offset=99999999999999999999", "/CarePlan/x/_history/99999999999999999999"):
        assert client.get(path, headers=auth(DPS, "samhandling/audit", READ)).status_code < 500, path
    assert client.get("/CarePlan?_count=²", headers=auth(DPS)).status_code == 400
    for date in ("ge2026-13-45", "lt2026-05-01T25:00"):
        assert client.get(f"/CarePlan?_lastUpdated={date}", headers=auth(DPS)).status_code == 400
    kith = example("kith/dialogmelding-individuell-plan-ola.xml").replace(b"<MsgId>", b"<MsgId>&#xD800;")
    assert client.post("/kith/messages", data=kith, headers=auth(KOMMUNE)).status_code < 500


def test_a_relay_is_in_the_audit_trail(client: FlaskClient, auth: Auth) -> None:
    gateway = auth(STRANGER, "samhandling/messages", "samhandling/admin")
    assert ack_code(send(client, KOMMUNE, example(CONSENT), lambda org: gateway)) == "ok"
    relayed = [e for e in audit_events(client, auth) if e["type"]["code"] == "110107"]
    assert relayed and relayed[0]["agent"][0]["altId"].startswith(f"relayed by {STRANGER}")


def test_an_id_taken_first_by_a_stranger_does_not_lock_out_its_rightful_writer(client: FlaskClient, auth: Auth) -> None:
    assert ack_code(send(client, KOMMUNE, example(CONSENT), auth)) == "ok"
    for number, patient in enumerate(("decoy", "real")):  # a patient of its own, and the real patient by FNR
        squatter = as_sender(CRISIS, STRANGER, f"ta-id-en-{number}")
        if patient == "decoy":
            decoy = entry(squatter, "Patient")
            decoy["identifier"] = [{"system": "urn:ond", "value": "Y1"}]
            decoy["id"] = "pasient-angriper"
            text = json.dumps(squatter).replace("Patient/pasient-ola", "Patient/pasient-angriper")
            squatter = json.loads(text)
        squatter["entry"][0]["resource"]["destination"] = [
            {"endpoint": "urn:x", "receiver": {"reference": "Organization/org-angriper"}}
        ]
        ack = send(client, STRANGER, squatter, auth)
        assert ack_code(ack) == "ok", ack_issue_codes(ack)  # it took the id krise-og-mestringsplan-ola first
    ack = send(client, DPS, example(CRISIS), auth)  # the DPS's own plan, with the id a stranger took
    assert ack_code(ack) == "ok", ack_issue_codes(ack)
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    told = next(i["diagnostics"] for i in outcome["issue"] if "ADP-7021" in json.dumps(i))  # where it is stored
    stored = re.search(r"stored as (CarePlan/[0-9a-f-]+)", told)
    assert stored is not None
    own = client.get(f"/{stored.group(1)}", headers=auth(DPS)).get_json()
    assert own["meta"]["versionId"] == "1" and own["subject"]["reference"] == "Patient/pasient-ola"
    again = renamed(example_json(CRISIS), "igjen")
    entry(again, "CarePlan")["meta"]["versionId"] = "1"
    entry(again, "CarePlan")["description"] = "DPS endrer sin egen plan"
    assert ack_code(send(client, DPS, again, auth)) == "ok"  # the same own id every time
    assert client.get(f"/{stored.group(1)}", headers=auth(DPS)).get_json()["meta"]["versionId"] == "2"


def test_a_deny_is_named_on_read(client: FlaskClient, auth: Auth) -> None:
    shared_world(client, auth)
    assert (
        client.post("/Consent", json=consent_resource(LEGEKONTOR, deny=True), headers=auth(KOMMUNE)).status_code == 201
    )
    read = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR))
    assert read.status_code == 403 and issue_codes(read.get_json()) == ["ADP-7018"]


def test_an_unchanged_put_writes_no_version_and_the_care_team_may_change_the_plan(
    client: FlaskClient, auth: Auth
) -> None:
    shared_world(client, auth)
    plan = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(KOMMUNE)).get_json()
    same = client.put("/CarePlan/krise-og-mestringsplan-ola", json=plan, headers={**auth(DPS), "If-Match": 'W/"1"'})
    assert same.status_code == 200 and same.headers["ETag"] == 'W/"1"'
    # the kommune's coordinator works on the DPS's crisis plan: the kommune is in its care team, so a party
    changed = client.put(
        "/CarePlan/krise-og-mestringsplan-ola",
        json={**plan, "description": "Kommunen oppdaterte planen"},
        headers={**auth(KOMMUNE), "If-Match": 'W/"1"'},
    )
    assert changed.status_code == 200, changed.get_json()


def test_subscriptions_as_r4_has_them(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path, httpserver: HTTPServer
) -> None:
    service, client = routed(make_service, service_settings, tmp_path, {KOMMUNE: (httpserver.url_for("/k"), "kith")})

    auth = tokens(service)

    base = {
        "resourceType": "Subscription",
        "reason": "Hold planen oppdatert",
        "criteria": f"CarePlan?patient:identifier={FNR}",
        "channel": {"type": "rest-hook", "endpoint": httpserver.url_for("/hook")},
    }
    requested = client.post("/Subscription", json={**base, "status": "requested"}, headers=auth(KOMMUNE))
    assert requested.status_code == 201 and requested.get_json()["status"] == "active"
    channel = {**base["channel"], "header": ["X-Evil: a\r\nInjected: b"]}
    crlf = client.post("/Subscription", json={**base, "status": "active", "channel": channel}, headers=auth(KOMMUNE))
    assert crlf.status_code == 422
    sloppy = {**base, "status": "active", "criteria": f"CarePlan?patient:identifier={FNR}&&&="}
    assert client.post("/Subscription", json=sloppy, headers=auth(KOMMUNE)).status_code == 422  # as a search would
    ended = {**base, "status": "active", "end": "2001-01-01T00:00:00Z"}
    assert client.post("/Subscription", json=ended, headers=auth(KOMMUNE)).status_code == 201
    shared_world(client, auth)
    outbox = [d for d in service.store.run(lambda tx: tx.deliveries()) if d.basis == "subscription"]
    assert outbox and len({d.msg_id.split("-CarePlan")[0] for d in outbox}) == 1  # the ended one sent nothing


def test_two_strangers_naming_each_other_do_not_become_carers(client: FlaskClient, auth: Auth) -> None:
    """Found by a second outside review: two organisations of one attacker write a plan each that names the other;
    neither takes part in the patient's care, since no one who does named them."""
    shared_world(client, auth)
    accomplice = "8199998"
    for writer, named in ((STRANGER, accomplice), (accomplice, STRANGER)):
        plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
        plan.pop("id")
        plan.pop("meta")
        plan["title"] = f"FALSK plan fra {writer}"
        plan["activity"][0]["detail"]["performer"] = [{"identifier": {"system": HER, "value": named}}]
        assert client.post("/CarePlan", json=plan, headers=auth(writer)).status_code == 201
    for org in (STRANGER, accomplice):
        assert client.get("/Patient/pasient-ola", headers=auth(org)).status_code == 403
        own = client.post("/Consent", json=consent_resource(org, recorded_by=org), headers=auth(org))
        assert own.status_code == 403 and issue_codes(own.get_json()) == ["ADP-7016"]
    legevakt = auth(LEGEVAKT, "samhandling/emergency")
    found = client.get(f"/Patient/$krise?identifier={FNR}&reason=Akutt+krise+i+natt", headers=legevakt).get_json()
    assert found["entry"][0]["resource"]["id"] == "krise-og-mestringsplan-ola"
    # the legevakt gets the people and organisations to call, not the care team record itself
    assert "CareTeam" not in {e["resource"]["resourceType"] for e in found["entry"]}
    assert {"Practitioner", "Organization"} <= {e["resource"]["resourceType"] for e in found["entry"]}
