"""FHIR REST and the HTTP surface: CapabilityStatement, tokens and scopes, $validate, $convert, read / vread /
search / create / update with ETag and If-Match, _history, access and consent, AuditEvents, content negotiation,
and errors that are always OperationOutcomes."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, STRANGER, example, example_json, issue_codes

from adapter.config import Settings
from adapter.parse.xml_safe import parse_xml
from adapter.parse.xsd import SchemaRegistry
from adapter.service import Service
from adapter.validate.catalogue import SERVED_TYPES

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
READ, WRITE = "samhandling/plans.read", "samhandling/plans.write"


def test_metadata_needs_no_token_and_tells_the_truth(client: FlaskClient) -> None:
    statement = client.get("/metadata").get_json()
    assert statement["fhirVersion"] == "4.0.1"
    types = {r["type"] for r in statement["rest"][0]["resource"]}
    assert {
        "CarePlan",
        "EpisodeOfCare",
        "CareTeam",
        "ServiceRequest",
        "Task",
        "RiskAssessment",
        "Consent",
        "QuestionnaireResponse",
        "ClinicalImpression",
        "DocumentReference",
        "Goal",
        "Patient",
        "Subscription",
        "AuditEvent",
        *SERVED_TYPES,  # the conformance resources, read-only (adapter.api.terminology)
    } == types
    careplan = next(r for r in statement["rest"][0]["resource"] if r["type"] == "CarePlan")
    assert "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan" in careplan["supportedProfile"]
    assert statement["messaging"][0]["supportedMessage"]
    xml = client.get("/metadata?_format=xml")
    assert xml.content_type.startswith("application/fhir+xml")
    assert parse_xml(xml.data).getroot().tag == "{http://hl7.org/fhir}CapabilityStatement"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/CarePlan"),
        ("POST", "/$process-message"),
        ("POST", "/$validate"),
        ("POST", "/kith/messages"),
        ("GET", "/Patient/pasient-ola"),
        ("GET", "/kith/receipts/x"),
        ("POST", "/$convert"),
    ],
)
def test_every_endpoint_but_metadata_needs_a_bearer_token(client: FlaskClient, method: str, path: str) -> None:
    response = client.open(path, method=method, data=b"{}")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert issue_codes(response.get_json()) == ["ADP-7001"]
    forged = client.open(path, method=method, headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401


def test_a_missing_scope_is_a_403(client: FlaskClient, auth: Auth) -> None:
    response = client.get("/CarePlan", headers=auth(DPS, WRITE))
    assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-7006"]
    assert client.get("/AuditEvent", headers=auth(DPS, READ)).status_code == 403


def test_validate_reports_every_problem_with_location(client: FlaskClient, auth: Auth) -> None:
    good = client.post(
        "/CarePlan/$validate",
        data=example("fhir/CarePlan-krise-og-mestringsplan-ola.json"),
        headers=auth(DPS, "samhandling/validate"),
    )
    assert good.status_code == 200 and issue_codes(good.get_json()) == []
    bad = client.post(
        "/$validate",
        data=example("negative/kriseplan-feil-intent/input.json"),
        headers=auth(DPS, "samhandling/validate"),
    )
    issues = [i for i in bad.get_json()["issue"] if i["severity"] == "error"]
    assert issues and all(i.get("expression") and i.get("extension") for i in issues)
    assert all(i["details"]["text"] != i["diagnostics"] for i in issues)  # Norwegian and English
    xml_body = client.post(
        "/Patient/$validate",
        data=b"<Patient xmlns='http://hl7.org/fhir'><active value='x'/></Patient>",
        headers={**auth(DPS), "Content-Type": "application/fhir+xml"},
    )
    assert "ADP-1002" in issue_codes(xml_body.get_json())


def test_convert_both_ways(client: FlaskClient, auth: Auth) -> None:
    kith = example("kith/dialogmelding-kriseplan-ola.xml")
    to_fhir = client.post("/$convert", data=kith, headers={**auth(DPS), "Content-Type": "application/xml"})
    assert to_fhir.status_code == 200 and to_fhir.get_json()["type"] == "message"
    back = client.post("/$convert", data=example("fhir/Bundle-melding-kriseplan-ola.json"), headers=auth(DPS))
    assert back.status_code == 200 and back.content_type.startswith("application/xml")
    assert parse_xml(back.data).getroot().tag.endswith("MsgHead")


def test_convert_a_fhir_referral_to_henvisning_2_0(client: FlaskClient, auth: Auth, settings: Settings) -> None:
    converted = client.post("/$convert", data=example("fhir/Bundle-melding-henvisning-ola.json"), headers=auth(DPS))
    assert converted.status_code == 200 and converted.content_type.startswith("application/xml")
    assert converted.headers["X-Issues"] == "0 error(s), 3 other"  # what travels only or also in the attachment
    tree = parse_xml(converted.data)
    assert SchemaRegistry.from_settings(settings).validate(tree) == []
    assert tree.getroot().find(".//{http://ehelse.no/xmlstds/henvisning/2017-11-30}Henvisning") is not None


def test_create_read_update_history_with_etags(client: FlaskClient, auth: Auth) -> None:
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    created = client.post("/CarePlan", json=plan, headers=auth(DPS))
    assert created.status_code == 201, created.get_json()
    rid = created.get_json()["id"]
    assert created.headers["Location"] == f"http://localhost/CarePlan/{rid}/_history/1"  # absolute (R4 http)
    assert created.headers["ETag"] == 'W/"1"'
    read = client.get(f"/CarePlan/{rid}", headers=auth(DPS))
    body = read.get_json()
    body["description"] = "Oppdatert etter samtale"
    updated = client.put(f"/CarePlan/{rid}", json=body, headers={**auth(DPS), "If-Match": 'W/"1"'})
    assert updated.status_code == 200 and updated.headers["ETag"] == 'W/"2"'
    stale = client.put(f"/CarePlan/{rid}", json=body, headers={**auth(DPS), "If-Match": 'W/"1"'})
    assert stale.status_code == 412 and issue_codes(stale.get_json()) == ["ADP-5021"]
    history = client.get(f"/CarePlan/{rid}/_history", headers=auth(DPS)).get_json()
    assert [e["response"]["etag"] for e in history["entry"]] == ['W/"2"', 'W/"1"']
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "POST"]  # updated, created
    first = client.get(f"/CarePlan/{rid}/_history/1", headers=auth(DPS)).get_json()
    assert "description" not in first or first["description"] != "Oppdatert etter samtale"
    later = client.get(f"/CarePlan/{rid}/_history/9", headers=auth(DPS))
    assert later.status_code == 404 and f"CarePlan/{rid}/_history/9" in later.get_json()["issue"][0]["diagnostics"]
    audit = client.get("/AuditEvent/audit-1", headers=auth(DPS, "samhandling/audit"))
    assert audit.status_code == 405 and issue_codes(audit.get_json()) == ["ADP-5028"]


def test_writes_are_validated_against_the_profile(client: FlaskClient, auth: Auth) -> None:
    broken = example_json("negative/kriseplan-feil-intent/input.json")
    response = client.put(f"/CarePlan/{broken['id']}", json=broken, headers=auth(DPS))
    assert response.status_code == 422 and issue_codes(response.get_json())
    mismatch = client.put(
        "/CarePlan/other-id", json=example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json"), headers=auth(DPS)
    )
    assert mismatch.status_code == 400 and issue_codes(mismatch.get_json()) == ["ADP-5026"]
    wrong_type = client.post("/Task", json=example_json("fhir/Patient-pasient-ola.json"), headers=auth(DPS))
    assert wrong_type.status_code == 400 and issue_codes(wrong_type.get_json()) == ["ADP-5027"]


def test_search_by_identifier_category_status_and_last_updated(shared: FlaskClient, auth: Auth) -> None:
    def ids(query: str, org: str = DPS) -> list[str]:
        response = shared.get(f"/CarePlan?{query}", headers=auth(org))
        assert response.status_code == 200, response.get_json()
        return [e["resource"]["id"] for e in response.get_json()["entry"]]

    plan = ["krise-og-mestringsplan-ola"]
    assert ids("patient:identifier=urn:oid:2.16.578.1.12.4.1.4.1|15838510075") == plan
    assert ids("subject=Patient/pasient-ola&status=active") == plan
    assert ids("category=http://samhandling.no/fhir/CodeSystem/plantype|krise-og-mestringsplan") == plan
    assert ids("_lastUpdated=ge2020-01-01") == plan
    assert ids("_lastUpdated=lt2020-01-01") == []
    assert ids("status=revoked") == []
    assert ids("patient:identifier=15838510075", org=STRANGER) == []  # not party, no consent: not found
    patients = shared.get("/Patient?identifier=15838510075", headers=auth(DPS)).get_json()
    assert [e["resource"]["id"] for e in patients["entry"]] == ["pasient-ola"]
    bad = shared.get("/CarePlan?colour=blue", headers=auth(DPS))
    assert bad.status_code == 400 and issue_codes(bad.get_json()) == ["ADP-5023"]


def test_search_pages_through_every_match_with_links(shared: FlaskClient, auth: Auth) -> None:
    shared.post("/$process-message", data=example("fhir/Bundle-melding-voldsrisikoplan-ola.json"), headers=auth(DPS))
    everything = shared.get("/CarePlan?patient:identifier=15838510075", headers=auth(DPS)).get_json()
    assert everything["total"] == len(everything["entry"]) >= 2
    seen, url, pages = [], "/CarePlan?patient:identifier=15838510075&_count=1", 0
    while url:
        page = shared.get(url, headers=auth(DPS)).get_json()
        assert page["total"] == everything["total"] and len(page["entry"]) == 1
        seen += [e["resource"]["id"] for e in page["entry"]]
        links = {link["relation"]: link["url"] for link in page["link"]}
        assert {"self", "first", "last"} <= set(links) and ("previous" in links) == (pages > 0)
        url = links.get("next", "").removeprefix("http://localhost")
        pages += 1
    assert seen == [e["resource"]["id"] for e in everything["entry"]] and pages == everything["total"]
    counted = shared.get("/CarePlan?patient:identifier=15838510075&_count=0", headers=auth(DPS)).get_json()
    assert counted["total"] == everything["total"] and not counted.get("entry")
    audit = auth(DPS, "samhandling/audit")
    events = shared.get("/AuditEvent?_count=2", headers=audit).get_json()
    assert len(events["entry"]) == 2 and events["total"] > 2  # the total is of all matches, not of the page
    following = next(link["url"] for link in events["link"] if link["relation"] == "next")
    second = shared.get(following.removeprefix("http://localhost"), headers=audit).get_json()
    assert {e["resource"]["id"] for e in second["entry"]}.isdisjoint(e["resource"]["id"] for e in events["entry"])


def test_search_parameters_are_those_of_the_type(client: FlaskClient, auth: Auth) -> None:
    statement = client.get("/metadata").get_json()
    params = {r["type"]: {p["name"] for p in r["searchParam"]} for r in statement["rest"][0]["resource"]}
    assert "intent" not in params["Patient"] and "identifier" in params["Patient"]
    assert "type" in params["EpisodeOfCare"] and "category" not in params["EpisodeOfCare"]
    for rtype, names in params.items():  # every advertised parameter is taken, every other refused
        if rtype == "AuditEvent":
            continue
        for name in names - {"_lastUpdated"}:
            answer = client.get(f"/{rtype}?{name}=x", headers=auth(DPS))
            assert answer.status_code == 200, (rtype, name, answer.get_json())
        refused = client.get(f"/{rtype}?colour=x", headers=auth(DPS))
        assert refused.status_code == 400 and issue_codes(refused.get_json()) == ["ADP-5023"]
    assert client.get("/Patient?intent=plan", headers=auth(DPS)).status_code == 400
    operations = {o["name"] for o in statement["rest"][0]["operation"]}
    assert operations == {"validate", "process-message", "convert"}


def test_an_organisation_sees_only_what_it_is_party_to_or_has_consent_for(
    shared: FlaskClient, auth: Auth, service: Service
) -> None:
    refused = shared.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(STRANGER))
    assert refused.status_code == 403 and issue_codes(refused.get_json()) == ["ADP-7008"]
    # the legekontor is not party to the plan, but the patient's consent names it: the read is a disclosure
    assert "Organization/org-legekontor" in json.dumps(example_json("fhir/Consent-samtykke-ola-deling.json"))
    allowed = shared.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(LEGEKONTOR))
    assert allowed.status_code == 200
    events = shared.get("/AuditEvent?patient=Patient/pasient-ola", headers=auth(DPS, "samhandling/audit")).get_json()
    outcomes = {(e["resource"]["action"], e["resource"]["outcome"]) for e in events["entry"]}
    assert ("R", "4") in outcomes  # the refused read is audited
    disclosures = [e["resource"] for e in events["entry"] if e["resource"]["type"]["code"] == "110106"]
    assert any(a["who"]["identifier"]["value"] == LEGEKONTOR for d in disclosures for a in d["agent"])


def _consent_recorded_by(org: str, naming: str) -> dict[str, Any]:
    """The example Consent of the patient, rewritten as if ``org`` recorded it and it named ``naming``."""
    consent = example_json("fhir/Consent-samtykke-ola-deling.json")
    consent.pop("id")
    consent.pop("meta", None)
    her = {"system": "urn:oid:2.16.578.1.12.4.1.2", "value": org}
    consent["organization"] = [{"identifier": her}]
    consent["provision"]["actor"] = [
        {**consent["provision"]["actor"][0], "reference": {"identifier": {**her, "value": naming}}}
    ]
    return consent


def test_an_organisation_cannot_open_a_plan_to_itself_with_a_consent_it_writes(shared: FlaskClient, auth: Auth) -> None:
    headers = {**auth(STRANGER, READ, WRITE), "Content-Type": "application/fhir+json"}
    # a Consent claiming that the kommune recorded it: refused
    claimed = _consent_recorded_by(KOMMUNE, STRANGER)
    forged = shared.post("/Consent", data=json.dumps(claimed), headers=headers)
    assert forged.status_code == 403 and issue_codes(forged.get_json()) == ["ADP-7012"]
    # its own Consent is refused too: only a party to the patient's care records one
    own = shared.post("/Consent", data=json.dumps(_consent_recorded_by(STRANGER, STRANGER)), headers=headers)
    assert own.status_code == 403 and issue_codes(own.get_json()) == ["ADP-7016"]
    read = shared.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(STRANGER))
    assert read.status_code == 403 and issue_codes(read.get_json()) == ["ADP-7008"]
    found = shared.get("/CarePlan?patient:identifier=15838510075", headers=auth(STRANGER)).get_json()
    assert found["total"] == 0
    # the same Consent recorded by a party to the patient's care (the kommune) opens it
    kommune = {**auth(KOMMUNE, READ, WRITE), "Content-Type": "application/fhir+json"}
    recorded = shared.post("/Consent", data=json.dumps(_consent_recorded_by(KOMMUNE, STRANGER)), headers=kommune)
    assert recorded.status_code == 201, recorded.get_json()
    assert shared.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(STRANGER)).status_code == 200


def test_every_read_and_write_is_audited(shared: FlaskClient, auth: Auth) -> None:
    audit = auth(DPS, "samhandling/audit")
    before = shared.get("/AuditEvent?_count=0", headers=audit).get_json()["total"]  # this search is audited too
    shared.get("/CarePlan/krise-og-mestringsplan-ola", headers=auth(DPS))
    shared.get("/CarePlan?status=active", headers=auth(DPS))  # one plan found: one event
    events = shared.get(f"/AuditEvent?_offset={before}", headers=audit).get_json()
    assert events["total"] == before + 3  # the read, the search, and this search of the trail
    read: dict[str, Any] = events["entry"][0]["resource"]
    assert read["action"] == "R" and read["agent"][0]["who"]["identifier"]["value"] == DPS
    assert any(e.get("what", {}).get("reference") == "Patient/pasient-ola" for e in read["entity"])


def test_xml_in_and_out(client: FlaskClient, auth: Auth) -> None:
    client.post("/$process-message", data=example("fhir/Bundle-melding-samtykke-ola.json"), headers=auth(KOMMUNE))
    read = client.get("/Consent/samtykke-ola-deling", headers={**auth(KOMMUNE), "Accept": "application/fhir+xml"})
    assert read.status_code == 200 and read.content_type.startswith("application/fhir+xml")
    assert parse_xml(read.data).getroot().tag == "{http://hl7.org/fhir}Consent"


def test_errors_are_operation_outcomes_never_html(
    client: FlaskClient, auth: Auth, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = client.get("/no/such/path/here", headers=auth(DPS))
    assert unknown.status_code == 404 and issue_codes(unknown.get_json()) == ["ADP-5014"]
    not_allowed = client.delete("/metadata")
    assert not_allowed.status_code == 405 and not_allowed.get_json()["resourceType"] == "OperationOutcome"
    # a wrong method is 405 with Allow, never taken for a resource type or id (once: a 500 on POST /metadata)
    for method, path, allowed in (
        ("POST", "/metadata", "GET"),
        ("PUT", "/.well-known/jwks.json", "GET"),
        ("GET", "/$process-message", "POST"),
        ("GET", "/$validate", "POST"),
        ("GET", "/$convert", "POST"),
        ("GET", "/kith/messages", "POST"),
        ("GET", "/CarePlan/$validate", "POST"),
        ("DELETE", "/CarePlan/krise-og-mestringsplan-ola", "GET, PUT"),
    ):
        wrong = client.open(path, method=method, data=b"{}", headers=auth(DPS))
        assert wrong.status_code == 405, (method, path, wrong.get_json())
        expected = "ADP-5048" if method == "DELETE" else "ADP-5028"  # a DELETE is told the status change instead
        assert issue_codes(wrong.get_json()) == [expected] and wrong.headers["Allow"] == allowed
        assert wrong.get_json()["issue"][0]["code"] == "not-supported"
    unserved = client.get("/Observation", headers=auth(DPS))
    assert unserved.status_code == 404 and issue_codes(unserved.get_json()) == ["ADP-5022"]
    big = b"{" + b" " * (service.settings.max_request_bytes + 10) + b"}"
    too_large = client.post("/$validate", data=big, headers=auth(DPS))
    assert too_large.status_code == 413 and issue_codes(too_large.get_json()) == ["ADP-5016"]
    for path in ("/$validate", "/kith/messages", "/CarePlan"):  # chunked, no Content-Length: refused, not cut off
        chunked = client.post(
            path,
            input_stream=io.BytesIO(big),
            headers={**auth(DPS), "Transfer-Encoding": "chunked", "Content-Type": "application/fhir+json"},
            environ_overrides={"wsgi.input_terminated": True},  # what gunicorn says of a chunked body
        )
        assert chunked.status_code == 413 and issue_codes(chunked.get_json()) == ["ADP-5016"], path

    def explode(*_: Any, **__: Any) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(service.pipeline, "process_message", explode)
    crashed = client.post("/$process-message", data=b"{}", headers=auth(DPS))
    assert crashed.status_code == 500 and issue_codes(crashed.get_json()) == ["ADP-5015"]
    assert b"secret internal detail" not in crashed.data and b"Traceback" not in crashed.data


def test_concurrent_updates_with_the_same_if_match_one_wins(app: Any, auth: Auth) -> None:
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    first = app.test_client().post("/CarePlan", json=plan, headers=auth(DPS))  # ids are the server's
    assert first.status_code == 201
    plan["id"] = first.get_json()["id"]
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def update(text: str) -> None:
        body = {**plan, "description": text}
        barrier.wait()
        response = app.test_client().put(
            f"/CarePlan/{plan['id']}", json=body, headers={**auth(DPS), "If-Match": 'W/"1"'}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=update, args=(f"versjon {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [200, 412, 412, 412]


def test_search_finds_the_callers_own_however_many_it_may_not_see(client: FlaskClient, auth: Auth) -> None:
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id")
    own = client.post("/CarePlan", json=plan, headers=auth(DPS)).get_json()["id"]
    for _ in range(5):  # newer plans of another organisation, which the DPS may not see
        assert client.post("/CarePlan", json=plan, headers=auth(STRANGER)).status_code == 201
    found = client.get("/CarePlan?_count=1", headers=auth(DPS)).get_json()
    assert found["total"] == 1 and [e["resource"]["id"] for e in found["entry"]] == [own]
    assert client.get("/CarePlan?_count=2", headers=auth(STRANGER)).get_json()["total"] == 5


def test_audit_search_honours_every_date_comparison(shared: FlaskClient, auth: Auth) -> None:
    headers = auth(DPS, "samhandling/audit")
    everything = shared.get("/AuditEvent", headers=headers).get_json()["total"]
    assert everything > 0
    assert shared.get("/AuditEvent?date=lt2000-01-01", headers=headers).get_json()["total"] == 0
    # each search of the trail is audited too: two more since everything was counted
    assert shared.get("/AuditEvent?date=ge2000-01-01", headers=headers).get_json()["total"] == everything + 2
    first_page = shared.get("/AuditEvent?_count=1", headers=headers).get_json()["entry"]
    second_page = shared.get("/AuditEvent?_count=1&_offset=1", headers=headers).get_json()["entry"]
    assert first_page[0]["resource"]["id"] != second_page[0]["resource"]["id"]
    unknown = shared.get("/AuditEvent?_lastUpdated=ge2000", headers=headers)
    assert unknown.status_code == 400 and issue_codes(unknown.get_json()) == ["ADP-5023"]
