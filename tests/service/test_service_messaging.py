"""$process-message and /kith/messages: stored before acknowledged, duplicates answered from the store, consent,
the shared plan, routing in the receiver's format, asynchronous mode. Run on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from lxml import etree
from pytest_httpserver import HTTPServer
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, ack_code, ack_issue_codes, example, example_json, issue_codes

from adapter.api import create_app
from adapter.config import Settings
from adapter.parse.xml_safe import parse_xml
from adapter.parse.xsd import SchemaRegistry
from adapter.service import Service

pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
CONSENT = "fhir/Bundle-melding-samtykke-ola.json"
CRISIS_PLAN = "fhir/Bundle-melding-kriseplan-ola.json"
APPREC = "{http://www.kith.no/xmlstds/apprec/2004-11-21}"
MSGHEAD = "{http://www.kith.no/xmlstds/msghead/2006-05-24}"
HENVISNING = "{http://ehelse.no/xmlstds/henvisning/2017-11-30}"
REFERRAL = "fhir/Bundle-melding-henvisning-ola.json"


def post_message(client: FlaskClient, headers: dict[str, str], name: str, **query: str) -> tuple[int, dict]:
    response = client.post(
        "/$process-message",
        data=example(name),
        headers={**headers, "Content-Type": "application/fhir+json"},
        query_string=query,
    )
    return response.status_code, response.get_json()


def test_acknowledgements_and_audit_events_conform_to_their_profiles(
    client: FlaskClient, auth: Callable[..., dict[str, str]], service: Service
) -> None:
    acks = [post_message(client, auth(KOMMUNE), CONSENT)[1], post_message(client, auth(DPS), CRISIS_PLAN)[1]]
    acks.append(post_message(client, auth(DPS), "fhir/Bundle-melding-voldsrisikoplan-ola.json")[1])
    assert [ack_code(a) for a in acks] == ["ok", "ok", "ok"]
    events = service.store.run(lambda tx: tx.audits(limit=50)[1])
    assert events
    for resource in [*acks, *events]:
        errors = [str(i) for i in service.validator.validate(resource) if i.severity in ("error", "fatal")]
        assert errors == [], resource["resourceType"]


def test_a_plan_is_shared_under_consent_and_both_parties_read_it(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    assert post_message(client, auth(KOMMUNE), CONSENT)[0] == 200
    status, ack = post_message(client, auth(DPS), CRISIS_PLAN)
    assert status == 200 and ack_code(ack) == "ok"
    assert ack["entry"][0]["resource"]["response"]["identifier"] == "samhandlingsmelding-kriseplan-ola"
    for org in (DPS, KOMMUNE):  # the sender and the receiver are party to the plan
        read = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(org))
        assert read.status_code == 200, read.get_json()
        assert read.headers["ETag"] == 'W/"1"'
    found = client.get(
        "/CarePlan?patient:identifier=15838510075&category=krise-og-mestringsplan", headers=auth(KOMMUNE)
    )
    assert [e["resource"]["id"] for e in found.get_json()["entry"]] == ["krise-og-mestringsplan-ola"]


def test_a_consent_in_a_message_must_be_recorded_by_its_sender(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    bundle = json.loads(example(CONSENT))
    consent = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Consent")
    consent["organization"] = [{"reference": "Organization/org-dps"}]  # the kommune sends what the DPS recorded
    headers = {**auth(KOMMUNE), "Content-Type": "application/fhir+json"}
    response = client.post("/$process-message", data=json.dumps(bundle), headers=headers)
    ack = response.get_json()
    assert response.status_code == 200 and ack_code(ack) == "fatal-error"
    assert ack_issue_codes(ack) == ["ADP-7012"]
    assert client.get("/Consent?patient:identifier=15838510075", headers=auth(KOMMUNE)).get_json()["total"] == 0


def test_a_plan_without_consent_is_refused_and_nothing_is_stored(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    status, ack = post_message(client, auth(DPS), CRISIS_PLAN)
    assert status == 200 and ack_code(ack) == "fatal-error"
    assert ack_issue_codes(ack) == ["ADP-7010"]
    assert "8100001" in json.dumps(ack)  # the refusal names the organisation
    assert client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(DPS)).status_code == 404
    audits = client.get("/AuditEvent", headers=auth(DPS, "samhandling/audit")).get_json()
    assert any(e["resource"]["outcome"] == "4" for e in audits["entry"])  # the refused disclosure is audited


def test_a_duplicate_gets_the_original_acknowledgement_and_is_not_processed_twice(
    client: FlaskClient, auth: Callable[..., dict[str, str]], service: Service
) -> None:
    post_message(client, auth(KOMMUNE), CONSENT)
    first = post_message(client, auth(DPS), CRISIS_PLAN)
    second = post_message(client, auth(DPS), CRISIS_PLAN)
    assert first == second
    versions = client.get("/CarePlan/krise-og-mestringsplan-ola/_history", headers=auth(DPS)).get_json()
    assert versions["total"] == 1


def test_a_sender_cannot_send_as_another_organisation(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    scopes = ("samhandling/messages",)
    status, outcome = post_message(client, auth(DPS, *scopes), CONSENT)  # the consent message is the kommune's
    assert status == 403 and issue_codes(outcome) == ["ADP-7011"]


def test_an_invalid_message_gets_a_fatal_error_acknowledgement(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    bundle = example_json(CRISIS_PLAN)
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    plan["status"] = "bogus"
    response = client.post("/$process-message", json=bundle, headers=auth(DPS))
    ack = response.get_json()
    assert response.status_code == 200 and ack_code(ack) == "fatal-error"
    assert "ADP-4004" in ack_issue_codes(ack)
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    located = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert located[0]["expression"][0].endswith(".status")
    assert {x["url"].rsplit("-", 1)[1] for x in located[0]["extension"]} == {"line", "col"}


def test_not_a_message_is_a_400_operation_outcome(client: FlaskClient, auth: Callable[..., dict[str, str]]) -> None:
    for body in (b"{not json", json.dumps(example_json("fhir/Patient-pasient-ola.json")).encode()):
        response = client.post("/$process-message", data=body, headers=auth(DPS))
        assert response.status_code == 400
        assert response.get_json()["resourceType"] == "OperationOutcome"


def test_asynchronous_mode_stores_first_and_the_worker_processes(
    client: FlaskClient, auth: Callable[..., dict[str, str]], service: Service
) -> None:
    response = client.post(
        "/$process-message?async=true",
        data=example(CONSENT),
        headers={**auth(KOMMUNE), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 202 and issue_codes(response.get_json(), ("information",)) == ["ADP-5012"]
    assert response.headers["Content-Location"] == "/kith/receipts/samhandlingsmelding-samtykke-ola"
    pending = client.get(response.headers["Content-Location"], headers=auth(KOMMUNE))
    assert pending.status_code == 202
    assert service.pipeline.process_pending() == 1
    done = client.get("/kith/receipts/samhandlingsmelding-samtykke-ola", headers=auth(KOMMUNE))
    assert done.status_code == 200 and ack_code(done.get_json()) == "ok"


def test_kith_message_raw_and_base64_get_the_same_apprec(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    client.post("/kith/messages", data=example("kith/dialogmelding-samtykke-ola.xml"), headers=auth(KOMMUNE))
    raw = example("kith/dialogmelding-kriseplan-ola.xml")
    first = client.post("/kith/messages", data=raw, headers={**auth(DPS), "Content-Type": "application/xml"})
    assert first.status_code == 200
    root = parse_xml(first.data).getroot()
    assert root.find(f"{APPREC}Status").get("V") == "1"
    again = client.post("/kith/messages", data=base64.b64encode(raw), headers=auth(DPS))
    assert again.data == first.data  # a duplicate: the stored AppRec, byte for byte
    for content_type in ("application/xml", "application/octet-stream"):  # raw XML after a byte-order mark
        with_bom = client.post(
            "/kith/messages", data=b"\xef\xbb\xbf" + raw, headers={**auth(DPS), "Content-Type": content_type}
        )
        assert with_bom.data == first.data, with_bom.data[:300]
    msg_id = "urn:uuid:6f1c2a4e-8b3d-4c1a-9e57-2d0b7a93c1f4"
    stored = client.get(f"/kith/receipts/{msg_id}", headers=auth(DPS))
    assert stored.status_code == 200 and stored.data == first.data
    plan = client.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(KOMMUNE))
    assert plan.status_code == 200  # the plan carried as an attachment updated the shared record


def test_a_kith_message_that_breaks_its_schema_gets_a_rejecting_apprec(
    client: FlaskClient, auth: Callable[..., dict[str, str]]
) -> None:
    response = client.post(
        "/kith/messages", data=example("kith/dialogmelding-kriseplan-feil-skjema.xml"), headers=auth(DPS)
    )
    root = parse_xml(response.data).getroot()
    assert root.find(f"{APPREC}Status").get("V") == "2"
    assert [e.get("V") for e in root.findall(f"{APPREC}Error")] == ["T02"]


def routed(
    make_service: Callable[..., Service], settings: Settings, tmp_path: Path, routes: dict[str, tuple[str, str]]
) -> tuple[Service, FlaskClient]:
    """A service whose routing table sends each receiver (HER-id -> (destination URL, format)) there, and its
    client."""
    table = tmp_path / "routes.yaml"
    table.write_text(
        "routes:\n"
        + "".join(
            f"  - receiver: '{her}'\n    destination: {url}\n    format: {fmt}\n    transport: http\n"
            for her, (url, fmt) in routes.items()
        )
    )
    service = make_service(settings, routes_file=str(table))
    assert service.issuer is not None
    return service, create_app(service=service).test_client()


def deliver_all(service: Service) -> None:
    """Run the outbox worker until it has nothing left to do."""
    worker = service.worker()
    while worker.run_once():
        pass


def test_messages_reach_receivers_in_their_own_format(
    service_settings: Settings,
    make_service: Callable[..., Service],
    httpserver: HTTPServer,
    tmp_path: Path,
    settings: Settings,
) -> None:
    routes = {KOMMUNE: (httpserver.url_for("/kith"), "kith"), DPS: (httpserver.url_for("/fhir"), "fhir")}
    service, client = routed(make_service, service_settings, tmp_path, routes)

    def headers(org: str) -> dict[str, str]:
        assert service.issuer is not None
        return {"Authorization": "Bearer " + service.issuer.issue(org, ["samhandling/messages"])}

    httpserver.expect_oneshot_request("/fhir", method="POST").respond_with_data("ok")
    httpserver.expect_oneshot_request("/kith", method="POST").respond_with_data("ok")
    client.post("/$process-message", data=example(CONSENT), headers=headers(KOMMUNE))  # kommune -> DPS (FHIR)
    client.post("/$process-message", data=example(CRISIS_PLAN), headers=headers(DPS))  # DPS -> kommune (KITH)
    deliver_all(service)
    kith = [r for r, _ in httpserver.log if r.path == "/kith"]
    fhir = [r for r, _ in httpserver.log if r.path == "/fhir"]
    assert len(kith) == 1 and len(fhir) == 1
    assert json.loads(fhir[0].get_data())["entry"][0]["resource"]["id"] == "samhandlingsmelding-samtykke-ola"
    delivered = parse_xml(kith[0].get_data())
    assert etree.QName(delivered.getroot()).localname == "MsgHead"
    assert SchemaRegistry.from_settings(settings).validate(delivered) == []
    assert kith[0].headers["X-Message-Id"] == "samhandlingsmelding-kriseplan-ola"
    assert {d.state for d in service.store.run(lambda tx: tx.deliveries())} == {"delivered"}


def test_a_fhir_referral_reaches_a_kith_receiver_as_henvisning_2_0(
    service_settings: Settings,
    make_service: Callable[..., Service],
    httpserver: HTTPServer,
    tmp_path: Path,
    settings: Settings,
) -> None:
    """The GP's office sends its referral as FHIR; the DPS speaks KITH: it gets a MsgHead with a Henvisning 2.0
    (Henvisning ny tilstand) that passes the XSDs, with the FHIR Bundle attached."""
    service, client = routed(make_service, service_settings, tmp_path, {DPS: (httpserver.url_for("/kith"), "kith")})
    assert service.issuer is not None
    token = service.issuer.issue(LEGEKONTOR, ["samhandling/messages"])
    httpserver.expect_oneshot_request("/kith", method="POST").respond_with_data("ok")
    referral = example_json(REFERRAL)  # no consent is stored: the GP's office states its legal basis
    referral["entry"][0]["resource"]["reason"] = {
        "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}],
        "text": "Henvisning til utredning i DPS: nødvendig for forsvarlig helsehjelp",
    }
    response = client.post(
        "/$process-message",
        data=json.dumps(referral),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/fhir+json"},
    )
    ack = response.get_json()
    assert response.status_code == 200 and ack_code(ack) == "ok", ack
    outcome = next(e["resource"] for e in ack["entry"] if e["resource"]["resourceType"] == "OperationOutcome")
    told = [(i["details"]["coding"][0]["code"], i["expression"][0]) for i in outcome["issue"] if "expression" in i]
    assert ("ADP-3012", "ServiceRequest.category") in told  # the sender learns what went only in the attachment
    deliver_all(service)
    httpserver.check_assertions()
    (request, _), *others = httpserver.log
    assert others == []
    assert request.headers["X-Message-Id"] == "samhandlingsmelding-henvisning-ola"
    delivered = parse_xml(request.get_data())
    assert SchemaRegistry.from_settings(settings).validate(delivered) == []
    root = delivered.getroot()
    assert root.find(f"{MSGHEAD}MsgInfo/{MSGHEAD}Type").get("V") == "HENVISNING_NYTILSTAND"
    assert root.findtext(f"{MSGHEAD}MsgInfo/{MSGHEAD}Receiver/{MSGHEAD}Organisation/{MSGHEAD}Ident/{MSGHEAD}Id") == DPS
    assert root.find(f"{MSGHEAD}Document/{MSGHEAD}RefDoc/{MSGHEAD}Content/{HENVISNING}Henvisning") is not None
    assert {d.state for d in service.store.run(lambda tx: tx.deliveries())} == {"delivered"}


def test_a_stored_message_that_cannot_be_processed_does_not_hold_up_the_others(
    client: FlaskClient, auth: Callable[..., dict[str, str]], service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = example_json(CONSENT)
    second = example_json(CONSENT)
    second["entry"][0]["resource"]["id"] = "samhandlingsmelding-samtykke-andre"
    second["entry"][0]["fullUrl"] = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-samtykke-andre"
    for bundle in (first, second):
        response = client.post("/$process-message?async=true", json=bundle, headers=auth(KOMMUNE))
        assert response.status_code == 202
    outgoing = service.pipeline._outgoing

    def fail_first(message: Any) -> Any:
        if message.msg_id == "samhandlingsmelding-samtykke-ola":
            raise RuntimeError("a bug met by one message")
        return outgoing(message)

    monkeypatch.setattr(service.pipeline, "_outgoing", fail_first)
    assert service.pipeline.process_pending() == 2
    failed = client.get("/kith/receipts/samhandlingsmelding-samtykke-ola", headers=auth(KOMMUNE)).get_json()
    assert ack_code(failed) == "fatal-error" and ack_issue_codes(failed) == ["ADP-5015"]
    done = client.get("/kith/receipts/samhandlingsmelding-samtykke-andre", headers=auth(KOMMUNE)).get_json()
    assert ack_code(done) == "ok"
