"""The shared plan made trustworthy, tested as an attacker would: each hole found in the service is a test here
that failed on the code before the fix (who may write, an organisation's identity, consent as the law has it,
emergency access, every party kept in sync, audit of every disclosure)."""

from __future__ import annotations

import base64
import copy
import json
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

from adapter.api import create_app
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
    service, client = routed(make_service, service_settings, tmp_path, {LEGEKONTOR: (httpserver.url_for("/k"), "fhir")})
    assert service.issuer is not None

    def auth(org: str, *scopes: str) -> dict[str, str]:
        assert service.issuer is not None
        granted = scopes or ("samhandling/messages", READ, WRITE, "samhandling/audit")
        return {"Authorization": f"Bearer {service.issuer.issue(org, granted)}"}

    shared_world(client, auth)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR)).status_code == 200
    queued = [d for d in service.store.run(lambda tx: tx.deliveries()) if d.recipient == LEGEKONTOR]
    assert queued and all(d.state == "pending" for d in queued)
    consent = client.get("/Consent/samtykke-ola-deling", headers=auth(KOMMUNE)).get_json()
    withdrawn = client.put(
        "/Consent/samtykke-ola-deling",
        json={**consent, "status": "inactive"},
        headers={**auth(KOMMUNE), "If-Match": f'W/"{consent["meta"]["versionId"]}"'},
    )
    assert withdrawn.status_code == 200, withdrawn.get_json()
    deliveries = [d for d in service.store.run(lambda tx: tx.deliveries()) if d.recipient == LEGEKONTOR]
    plans = [d for d in deliveries if any(ref.startswith("CarePlan/") for ref in d.refs)]
    assert plans and {d.state for d in plans} == {"withdrawn"}  # the Consent itself still goes: it names them
    httpserver.expect_request("/k").respond_with_data("ok")
    deliver_all(service)
    assert not any(b"krise-og-mestringsplan-ola" in request.get_data() for request, _ in httpserver.log)
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR)).status_code == 403
    message = to_org(renamed(example_json(CRISIS), "etter-tilbaketrekning"), LEGEKONTOR)
    entry(message, "CarePlan")["meta"]["versionId"] = "1"
    entry(message, "CarePlan")["description"] = "ny versjon etter tilbaketrekking"
    assert "ADP-7010" in ack_issue_codes(send(client, DPS, message, auth))
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

    def auth(org: str) -> dict[str, str]:
        assert service.issuer is not None
        scopes = ["samhandling/messages", READ, WRITE, "samhandling/audit"]
        return {"Authorization": f"Bearer {service.issuer.issue(org, scopes)}"}

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
    service = make_service(service_settings)
    client = create_app(service=service).test_client()
    assert service.issuer is not None

    def auth(org: str) -> dict[str, str]:
        assert service.issuer is not None
        scopes = ["samhandling/messages", READ, WRITE]
        return {"Authorization": f"Bearer {service.issuer.issue(org, scopes)}"}

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
