"""REST as R4 defines it (issue 17, point 1), written as a client and as an attacker would use it: 406 and 415 for
formats the server cannot give or read, conditional create (``If-None-Exist``), ``Prefer: return=``, history
Bundles (a create's entry, links, ``_count``), ``_id``, and ``POST [type]/_search`` with a form body. Every new
path keeps the rules of access and audit: what a caller may not read is never found, counted or given, and each
search is audited as a search."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from service_helpers import (
    DPS,
    KOMMUNE,
    STRANGER,
    audit_trail,
    created_plan,
    example,
    issue_codes,
    new_plan,
)

from adapter.parse.xml_safe import parse_xml
from adapter.validate.catalogue import SERVED_TYPES

Auth = Callable[..., dict[str, str]]
READ, WRITE, AUDIT = "samhandling/plans.read", "samhandling/plans.write", "samhandling/audit"
FNR = "15838510075"  # Ola's (synthetic) fødselsnummer in the examples
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
ACTIVE_OLA = "patient=pasient-ola&status=active"


def total(client: FlaskClient, headers: dict[str, str], query: str = "") -> int:
    response = client.get(f"/CarePlan?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


def queries(events: list[dict[str, Any]]) -> list[str]:
    """The queries the events record (a search's)."""
    return [e["description"] for event in events for e in event.get("entity", []) if e.get("description")]


# --- 406 and 415 -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["foo", "image/png", "text/plain", "application/pdf", "jsonx", "\u00e6\u00f8\u00e5"])
def test_a_format_the_server_cannot_give_is_406(client: FlaskClient, auth: Auth, fmt: str) -> None:
    for path, headers in (("/metadata", {}), ("/CarePlan", auth(DPS)), ("/CarePlan/x", auth(DPS))):
        response = client.get(path, query_string={"_format": fmt}, headers=headers)
        assert response.status_code == 406, (path, fmt)
        assert response.content_type.startswith("application/fhir+json")
        assert issue_codes(response.get_json()) == ["ADP-5046"]


@pytest.mark.parametrize(
    "raw", ["application/fhir+xml", "application%2Ffhir%2Bxml", "xml", "text/xml", "application/xml+fhir"]
)
def test_xml_by_format_also_with_its_plus_unencoded(client: FlaskClient, raw: str) -> None:
    # "+" typed into a URL reaches the server as a space: taken as the "+" it was, as HAPI does
    response = client.get(f"/metadata?_format={raw}")
    assert response.status_code == 200 and response.content_type.startswith("application/fhir+xml")
    assert parse_xml(response.data).getroot().tag == "{http://hl7.org/fhir}CapabilityStatement"


@pytest.mark.parametrize(
    "accept", ["image/png", "text/plain", "application/pdf, image/*", "application/fhir+json;q=0", "garbage"]
)
def test_an_accept_naming_only_what_the_server_cannot_give_is_406(client: FlaskClient, auth: Auth, accept: str) -> None:
    response = client.get("/CarePlan", headers={**auth(DPS), "Accept": accept})
    assert response.status_code == 406 and issue_codes(response.get_json()) == ["ADP-5046"]


def test_accept_as_clients_and_browsers_send_it(shared: FlaskClient, auth: Auth) -> None:
    path = "/CarePlan/krise-og-mestringsplan-ola"
    for accept, kind in (
        ("application/fhir+xml; fhirVersion=4.0", "application/fhir+xml"),  # a parameter does not hide the type
        ("application/fhir+json; fhirVersion=4.0", "application/fhir+json"),
        ("application/json+fhir", "application/fhir+json"),  # the DSTU2 name older clients send
        ("*/*", "application/fhir+json"),
        ("", "application/fhir+json"),
        ("image/png, application/fhir+xml;q=0.1", "application/fhir+xml"),
        (BROWSER, "text/html"),  # a browser gets the plan's page, as before
    ):
        response = shared.get(path, headers={**auth(DPS), "Accept": accept})
        assert response.status_code == 200 and response.content_type.startswith(kind), (accept, response.data[:200])
    # a browser on an endpoint without a page gets FHIR (XML, its application/xml;q=0.9), not a 406
    search = shared.get("/CarePlan?status=active", headers={**auth(DPS), "Accept": BROWSER})
    assert search.status_code == 200 and search.content_type.startswith("application/fhir+xml")
    assert shared.get("/metadata", headers={"Accept": BROWSER}).status_code == 200


def test_406_needs_the_token_first(client: FlaskClient) -> None:
    response = client.get("/CarePlan", headers={"Accept": "image/png"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "image/png"]
)
def test_a_body_the_server_cannot_read_is_415_and_nothing_is_stored(
    client: FlaskClient, auth: Auth, content_type: str
) -> None:
    body = json.dumps(new_plan()).encode()
    headers = {**auth(DPS), "Content-Type": content_type}
    for path in ("/CarePlan", "/$validate", "/CarePlan/$validate", "/$process-message", "/$convert"):
        response = client.post(path, data=body, headers=headers)
        assert response.status_code == 415, (path, response.get_json())
        assert issue_codes(response.get_json()) == ["ADP-5013"]
    own = created_plan(client, auth(DPS))
    update = client.put(f"/CarePlan/{own}", data=body, headers={**headers, "If-Match": 'W/"1"'})
    assert update.status_code == 415
    assert total(client, auth(DPS)) == 1
    assert client.get(f"/CarePlan/{own}/_history", headers=auth(DPS)).get_json()["total"] == 1


def test_bodies_of_fhir_types_or_none_are_read_as_before(client: FlaskClient, auth: Auth) -> None:
    body = json.dumps(new_plan()).encode()
    for content_type in (None, "application/fhir+json", "application/json; charset=utf-8", "application/json+fhir"):
        headers = auth(DPS) if content_type is None else {**auth(DPS), "Content-Type": content_type}
        assert client.post("/CarePlan", data=body, headers=headers).status_code == 201, content_type
    kith = example("kith/dialogmelding-kriseplan-ola.xml")  # the KITH endpoint takes what it took (base64 too)
    answer = client.post("/kith/messages", data=kith, headers={**auth(DPS), "Content-Type": "application/octet-stream"})
    assert answer.status_code == 200


# --- conditional create -------------------------------------------------------------------------------------------


def test_conditional_create_creates_once_then_finds_and_refuses_several(client: FlaskClient, auth: Auth) -> None:
    condition = {**auth(DPS), "If-None-Exist": ACTIVE_OLA}
    first = client.post("/CarePlan", json=new_plan(), headers=condition)
    assert first.status_code == 201
    rid = first.get_json()["id"]
    for form in (ACTIVE_OLA, f"CarePlan?{ACTIVE_OLA}", f"?{ACTIVE_OLA}", f"http://localhost/CarePlan?{ACTIVE_OLA}"):
        again = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": form})
        assert again.status_code == 200, (form, again.get_json())
        assert again.get_json()["id"] == rid and again.headers["ETag"] == 'W/"1"'
        assert again.headers["Location"] == f"http://localhost/CarePlan/{rid}/_history/1"
    assert total(client, auth(DPS)) == 1  # no duplicate
    created_plan(client, auth(DPS))  # a second active plan, made without the header
    several = client.post("/CarePlan", json=new_plan(), headers=condition)
    assert several.status_code == 412 and issue_codes(several.get_json()) == ["ADP-5047"]
    assert total(client, auth(DPS)) == 2
    none = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": f"_id={rid}&status=draft"})
    assert none.status_code == 201 and total(client, auth(DPS)) == 3


@pytest.mark.parametrize(
    "condition",
    ["", "   ", "_count=1", "Goal?patient=pasient-ola", "nosuch=1", "status", "a=1&&b", "_lastUpdated=gt2026-13"],
)
def test_a_conditional_create_without_a_usable_search_is_400(client: FlaskClient, auth: Auth, condition: str) -> None:
    # an empty search would match every plan: never taken as "create" or "the one that exists"
    response = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": condition})
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"], condition
    assert total(client, auth(DPS)) == 0


def test_a_match_the_caller_may_not_see_is_no_match_and_never_shown(client: FlaskClient, auth: Auth) -> None:
    theirs = created_plan(client, auth(DPS))
    condition = {**auth(STRANGER), "If-None-Exist": f"{ACTIVE_OLA}&_id={theirs}"}
    response = client.post("/CarePlan", json=new_plan(description="fra en fremmed"), headers=condition)
    # answered as if nothing matched: the stranger's own new plan, not the DPS's, and no 412 or 403 telling it
    assert response.status_code == 201 and response.get_json()["id"] != theirs
    assert response.get_json()["description"] == "fra en fremmed"
    # with the DPS's plan and a plan of the stranger's own, one match is visible to the stranger: its own
    mine = response.get_json()["id"]
    again = client.post("/CarePlan", json=new_plan(), headers={**auth(STRANGER), "If-None-Exist": ACTIVE_OLA})
    assert again.status_code == 200 and again.get_json()["id"] == mine
    # the DPS sees only its own
    dps = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": ACTIVE_OLA})
    assert dps.status_code == 200 and dps.get_json()["id"] == theirs


def test_a_conditional_create_tells_nothing_a_plain_create_does_not(client: FlaskClient, auth: Auth) -> None:
    identifier = [{"system": "urn:oid:2.16.578.1.12.4.1.2.8100002", "value": "plan-1"}]
    created_plan(client, auth(DPS), identifier=identifier)
    plain = client.post("/CarePlan", json=new_plan(identifier=identifier), headers=auth(STRANGER))
    conditional = client.post(
        "/CarePlan",
        json=new_plan(identifier=identifier),
        headers={**auth(STRANGER), "If-None-Exist": "identifier=urn:oid:2.16.578.1.12.4.1.2.8100002|plan-1"},
    )
    assert (conditional.status_code, issue_codes(conditional.get_json())) == (
        plain.status_code,
        issue_codes(plain.get_json()),
    )
    assert conditional.status_code >= 400  # the plain create's own rule (one record per business identifier)


def test_a_match_of_anothers_plan_is_given_and_audited_as_the_same_search_would_be(
    shared: FlaskClient, auth: Auth
) -> None:
    before = len(audit_trail(shared, auth))  # that search of the trail included
    response = shared.post("/CarePlan", json=new_plan(), headers={**auth(KOMMUNE), "If-None-Exist": ACTIVE_OLA})
    assert response.status_code == 200 and response.get_json()["id"] == "krise-og-mestringsplan-ola"
    assert shared.get(f"/CarePlan?{ACTIVE_OLA}", headers=auth(KOMMUNE)).get_json()["total"] == 1
    events = audit_trail(shared, auth)[before:-1]
    assert queries(events) == [f"CarePlan?{ACTIVE_OLA}"] * 2
    conditional, search = events
    assert conditional["action"] == search["action"] == "E"
    for key in ("type", "agent", "entity", "outcome"):  # the same hit, the same basis (party or disclosure)
        assert conditional[key] == search[key], key


def test_a_conditional_create_is_audited_as_a_search_and_a_create(client: FlaskClient, auth: Auth) -> None:
    before = len(audit_trail(client, auth))
    condition = {**auth(DPS), "If-None-Exist": ACTIVE_OLA}
    assert client.post("/CarePlan", json=new_plan(), headers=condition).status_code == 201
    events = audit_trail(client, auth)[before:-1]
    assert [e["action"] for e in events] == ["E", "C"]
    assert queries(events) == [f"CarePlan?{ACTIVE_OLA}"]
    refused = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": "nosuch=1"})
    assert refused.status_code == 400
    refusal = audit_trail(client, auth)[-2]  # the refusal is audited too
    assert refusal["action"] == "C" and refusal["outcomeDesc"].startswith("HTTP 400")


def test_a_conditional_create_needs_the_read_scope(client: FlaskClient, auth: Auth) -> None:
    response = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS, WRITE), "If-None-Exist": ACTIVE_OLA})
    assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-7006"]
    assert client.post("/CarePlan", json=new_plan(), headers=auth(DPS, WRITE)).status_code == 201  # a plain create


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_concurrent_conditional_creates_make_one_record(app: Any, auth: Auth) -> None:
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def create() -> None:
        barrier.wait()
        response = app.test_client().post(
            "/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": ACTIVE_OLA}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [200, 200, 200, 201]
    assert total(app.test_client(), auth(DPS)) == 1


# --- Prefer: return= ----------------------------------------------------------------------------------------------


def test_prefer_return_on_create_and_update(client: FlaskClient, auth: Auth) -> None:
    minimal = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "Prefer": "return=minimal"})
    assert minimal.status_code == 201 and minimal.data == b""
    assert minimal.headers["ETag"] == 'W/"1"' and minimal.headers["Location"].startswith("http://localhost/CarePlan/")
    rid = minimal.headers["Location"].split("/")[4]
    outcome = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "Prefer": "return=OperationOutcome"})
    assert outcome.status_code == 201 and outcome.get_json()["resourceType"] == "OperationOutcome"
    assert not issue_codes(outcome.get_json()) and outcome.headers["Location"]
    for prefer in ("return=representation", "", "return=nonsense", "handling=strict", 'return="minimal"x'):
        full = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "Prefer": prefer})
        assert full.status_code == 201 and full.get_json()["resourceType"] == "CarePlan", prefer
    body = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    body["description"] = "Oppdatert"
    headers = {**auth(DPS), "If-Match": 'W/"1"', "Prefer": "respond-async, return=minimal"}
    updated = client.put(f"/CarePlan/{rid}", json=body, headers=headers)
    assert updated.status_code == 200 and updated.data == b"" and updated.headers["ETag"] == 'W/"2"'
    assert updated.headers["Location"] == f"http://localhost/CarePlan/{rid}/_history/2"
    headers = {**auth(DPS), "If-Match": 'W/"2"', "Prefer": "return=OperationOutcome"}
    same = client.put(f"/CarePlan/{rid}?_format=xml", json=body, headers=headers)  # unchanged: no new version
    assert same.status_code == 200 and parse_xml(same.data).getroot().tag == "{http://hl7.org/fhir}OperationOutcome"
    # a refusal is its OperationOutcome whatever was preferred
    stale = client.put(
        f"/CarePlan/{rid}", json=body, headers={**auth(DPS), "If-Match": 'W/"1"', "Prefer": "return=minimal"}
    )
    assert stale.status_code == 412 and issue_codes(stale.get_json()) == ["ADP-5021"]
    broken = client.post(
        "/CarePlan", json=new_plan(intent="nonsense"), headers={**auth(DPS), "Prefer": "return=minimal"}
    )
    assert broken.status_code in (400, 422) and issue_codes(broken.get_json())


def test_prefer_on_a_conditional_create_that_finds_one(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    headers = {**auth(DPS), "If-None-Exist": f"_id={rid}", "Prefer": "return=minimal"}
    found = client.post("/CarePlan", json=new_plan(), headers=headers)
    assert found.status_code == 200 and found.data == b""
    assert found.headers["Location"] == f"http://localhost/CarePlan/{rid}/_history/1"


# --- history ------------------------------------------------------------------------------------------------------


def test_history_bundle_reports_the_create_as_201_has_links_and_pages(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    body = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    for version in (1, 2):
        body["description"] = f"Versjon {version + 1}"
        headers = {**auth(DPS), "If-Match": f'W/"{version}"'}
        assert client.put(f"/CarePlan/{rid}", json=body, headers=headers).status_code == 200
    history = client.get(f"/CarePlan/{rid}/_history", headers=auth(DPS)).get_json()
    assert history["type"] == "history" and history["total"] == 3
    assert [e["response"]["status"] for e in history["entry"]] == ["200", "200", "201"]
    assert [e["request"]["method"] for e in history["entry"]] == ["PUT", "PUT", "POST"]
    assert [e["request"]["url"] for e in history["entry"]] == [f"CarePlan/{rid}", f"CarePlan/{rid}", "CarePlan"]
    links = {link["relation"]: link["url"] for link in history["link"]}
    assert links["self"].startswith(f"http://localhost/CarePlan/{rid}/_history")
    page = client.get(f"/CarePlan/{rid}/_history?_count=1", headers=auth(DPS)).get_json()
    assert page["total"] == 3 and [e["response"]["etag"] for e in page["entry"]] == ['W/"3"']
    links = {link["relation"]: link["url"] for link in page["link"]}
    assert "_count=1" in links["self"] and "_offset=1" in links["next"]
    following = client.get(links["next"].removeprefix("http://localhost"), headers=auth(DPS)).get_json()
    assert [e["response"]["etag"] for e in following["entry"]] == ['W/"2"']
    counted = client.get(f"/CarePlan/{rid}/_history?_count=0", headers=auth(DPS)).get_json()
    assert counted["total"] == 3 and counted["entry"] == []
    for bad in ("_count=x", "_since=2026-02-30", "status=active"):
        refused = client.get(f"/CarePlan/{rid}/_history?{bad}", headers=auth(DPS))
        assert refused.status_code == 400 and issue_codes(refused.get_json()) == ["ADP-5023"], bad


def test_history_of_what_the_caller_may_not_read_stays_refused(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    response = client.get(f"/CarePlan/{rid}/_history?_count=1", headers=auth(STRANGER))
    assert response.status_code == 403 and rid not in json.dumps(response.get_json().get("entry", []))


# --- _id ----------------------------------------------------------------------------------------------------------


def test_id_is_a_search_parameter_of_every_served_type(client: FlaskClient, auth: Auth) -> None:
    first, second = created_plan(client, auth(DPS)), created_plan(client, auth(DPS))
    theirs = created_plan(client, auth(STRANGER))

    def ids(query: str, org: str = DPS) -> set[str]:
        response = client.get(f"/CarePlan?{query}", headers=auth(org))
        assert response.status_code == 200, response.get_json()
        return {e["resource"]["id"] for e in response.get_json()["entry"]}

    assert ids(f"_id={first}") == {first}
    assert ids(f"_id={first},{second}") == {first, second}
    assert ids(f"_id={first}&status=draft") == set()
    assert ids(f"_id={theirs}") == set()  # another's record: not found, as any search
    assert ids("_id=no-such-id") == set()
    statement = client.get("/metadata").get_json()
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] == "AuditEvent":
            continue
        assert {"name": "_id", "type": "token"} in resource["searchParam"], resource["type"]
        response = client.get(f"/{resource['type']}?_id=x", headers=auth(DPS))
        assert response.status_code == 200, (resource["type"], response.get_json())


# --- POST [type]/_search ------------------------------------------------------------------------------------------


def test_post_search_with_a_form_is_the_same_search(shared: FlaskClient, auth: Auth) -> None:
    form = {"patient:identifier": FNR, "status": "active"}
    by_get = shared.get("/CarePlan", query_string=form, headers=auth(KOMMUNE)).get_json()
    before = len(audit_trail(shared, auth))
    by_post = shared.post("/CarePlan/_search", data=form, headers=auth(KOMMUNE))
    assert by_post.status_code == 200, by_post.get_json()
    assert by_post.get_json()["total"] == by_get["total"] == 1
    assert [e["resource"]["id"] for e in by_post.get_json()["entry"]] == [e["resource"]["id"] for e in by_get["entry"]]
    events = audit_trail(shared, auth)[before:-1]
    assert [e["action"] for e in events] == ["E"] and FNR in queries(events)[0]  # audited as the GET search
    # parameters in the URL and the body together; paging as in a GET
    mixed = shared.post("/CarePlan/_search?_count=0", data={"patient:identifier": FNR}, headers=auth(KOMMUNE))
    assert mixed.status_code == 200 and mixed.get_json()["total"] == 1 and mixed.get_json()["entry"] == []
    # the stranger finds nothing, as by GET
    stranger = shared.post("/CarePlan/_search", data=form, headers=auth(STRANGER))
    assert stranger.status_code == 200 and stranger.get_json()["total"] == 0
    xml = shared.post("/CarePlan/_search?_format=xml", data=form, headers=auth(KOMMUNE))
    assert parse_xml(xml.data).getroot().tag == "{http://hl7.org/fhir}Bundle"


def test_post_search_is_refused_as_a_get_search_is(client: FlaskClient, auth: Auth) -> None:
    assert client.post("/CarePlan/_search", data={"status": "active"}).status_code == 401
    unknown = client.post("/CarePlan/_search", data={"nosuch": "1"}, headers=auth(DPS))
    assert unknown.status_code == 400 and issue_codes(unknown.get_json()) == ["ADP-5023"]
    unserved = client.post("/Observation/_search", data={"status": "x"}, headers=auth(DPS))
    assert unserved.status_code == 404
    as_json = client.post("/CarePlan/_search", json={"status": "active"}, headers=auth(DPS))
    assert as_json.status_code == 415 and issue_codes(as_json.get_json()) == ["ADP-5013"]
    form = {**auth(DPS), "Content-Type": "application/x-www-form-urlencoded"}
    for body in (b"\xff\xfe=1", b"status=active&&", b"=x"):
        broken = client.post("/CarePlan/_search", data=body, headers=form)
        assert broken.status_code == 400 and issue_codes(broken.get_json()) == ["ADP-5023"], body
    empty = client.post("/CarePlan/_search", data=b"", headers=form)
    assert empty.status_code == 200 and empty.get_json()["total"] == 0
    no_scope = client.post("/CarePlan/_search", data={"status": "active"}, headers=auth(DPS, WRITE))
    assert no_scope.status_code == 403
    assert client.get("/CarePlan/_search", headers=auth(DPS)).status_code in (404, 405)


def test_capability_statement_says_what_was_added(client: FlaskClient) -> None:
    statement = client.get("/metadata").get_json()
    for resource in statement["rest"][0]["resource"]:
        if resource["type"] not in ("AuditEvent", *SERVED_TYPES):  # SERVED_TYPES: read-only conformance resources
            assert resource["conditionalCreate"] is True
            assert {"search-type", "create", "update", "history-instance"} <= {
                i["code"] for i in resource["interaction"]
            }
    documentation = statement["rest"][0]["documentation"]
    for words in ("406", "415", "_search", "return=minimal", "If-None-Exist", "_count"):
        assert words in documentation
