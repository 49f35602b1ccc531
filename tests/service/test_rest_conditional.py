"""Conditional read (``If-None-Match``, ``If-Modified-Since``: 304 Not Modified), ``If-None-Match`` on a write, and
the refused DELETE (issue 17, point 1), written as a client and as an attacker would use them: a 304 is given only
to a caller who may read the record (it tells that the record is there and unchanged), and every conditional read
is audited as a read."""

from __future__ import annotations

import email.utils
import json
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
    deny_consent,
    example,
    issue_codes,
    new_plan,
)

from adapter.search import TYPES

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
AUDIT = "samhandling/audit"


def updated(client: FlaskClient, auth: Auth, rid: str, version: int) -> None:
    body = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    body["description"] = f"Versjon {version + 1}"
    response = client.put(f"/CarePlan/{rid}", json=body, headers={**auth(DPS), "If-Match": f'W/"{version}"'})
    assert response.status_code == 200, response.get_json()


# --- If-None-Match -----------------------------------------------------------------------------------------------


def test_a_read_has_the_validators_a_conditional_read_sends_back(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    response = client.get(f"/CarePlan/{rid}", headers=auth(DPS))
    assert response.headers["ETag"] == 'W/"1"'
    last_modified = email.utils.parsedate_to_datetime(response.headers["Last-Modified"])
    assert last_modified.tzinfo is not None


@pytest.mark.parametrize("tag", ['W/"1"', '"1"', "1", '"7", W/"1"', "*"])
def test_if_none_match_naming_the_current_version_is_304_without_a_body(
    client: FlaskClient, auth: Auth, tag: str
) -> None:
    rid = created_plan(client, auth(DPS))
    response = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-None-Match": tag})
    assert response.status_code == 304 and response.data == b""
    assert response.headers["ETag"] == 'W/"1"'  # (Werkzeug leaves Last-Modified out of a 304, as RFC 7232 allows)


def test_if_none_match_of_an_older_version_gives_the_current(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    updated(client, auth, rid, 1)
    response = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-None-Match": 'W/"1"'})
    assert response.status_code == 200 and response.get_json()["meta"]["versionId"] == "2"
    assert response.headers["ETag"] == 'W/"2"'
    same = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-None-Match": 'W/"2"'})
    assert same.status_code == 304
    for blank in ("", "  ", '"x"', "W/2"):  # names no version: the read as without the header
        assert client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-None-Match": blank}).status_code == 200


def test_vread_is_conditional_too(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    updated(client, auth, rid, 1)
    assert client.get(f"/CarePlan/{rid}/_history/1", headers={**auth(DPS), "If-None-Match": 'W/"1"'}).status_code == 304
    older = client.get(f"/CarePlan/{rid}/_history/1", headers={**auth(DPS), "If-None-Match": 'W/"2"'})
    assert older.status_code == 200 and older.get_json()["meta"]["versionId"] == "1"


# --- If-Modified-Since -------------------------------------------------------------------------------------------


def test_if_modified_since_the_last_modified_is_304_and_before_it_the_resource(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    last_modified = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).headers["Last-Modified"]
    same = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-Modified-Since": last_modified})
    assert same.status_code == 304 and same.data == b""
    moment = email.utils.parsedate_to_datetime(last_modified)
    later = email.utils.format_datetime(moment.replace(year=moment.year + 1), usegmt=True)
    assert client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-Modified-Since": later}).status_code == 304
    earlier = email.utils.format_datetime(moment.replace(year=moment.year - 1), usegmt=True)
    full = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-Modified-Since": earlier})
    assert full.status_code == 200 and full.get_json()["id"] == rid
    for nonsense in ("yesterday", "Mon, 99 Foo 2026 00:00:00 GMT", "2026-01-01", "Mon, 01 Jan 2026 00:00:00 -0000"):
        # a date that cannot be read (or names no zone) is ignored, as RFC 7232 says: the whole read
        response = client.get(f"/CarePlan/{rid}", headers={**auth(DPS), "If-Modified-Since": nonsense})
        assert response.status_code == 200, nonsense


def test_if_none_match_decides_over_if_modified_since(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    updated(client, auth, rid, 1)
    last_modified = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).headers["Last-Modified"]
    both = {**auth(DPS), "If-None-Match": 'W/"1"', "If-Modified-Since": last_modified}
    assert client.get(f"/CarePlan/{rid}", headers=both).status_code == 200  # the tag is stale: the resource


# --- as an attacker ----------------------------------------------------------------------------------------------


def test_a_conditional_read_by_who_may_not_read_is_refused_as_a_read(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    for header in (
        {"If-None-Match": 'W/"1"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        response = client.get(f"/CarePlan/{rid}", headers={**auth(STRANGER), **header})
        # never a 304 that would tell the stranger the plan is there and which version it is at
        assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-7008"], header
        assert "ETag" not in response.headers and "Last-Modified" not in response.headers
    missing = client.get("/CarePlan/no-such-plan", headers={**auth(DPS), "If-None-Match": "*"})
    assert missing.status_code == 404
    no_scope = client.get(f"/CarePlan/{rid}", headers={**auth(DPS, "samhandling/plans.write"), "If-None-Match": "*"})
    assert no_scope.status_code == 403 and issue_codes(no_scope.get_json()) == ["ADP-7006"]


def test_a_304_is_audited_as_the_same_read_is(client: FlaskClient, auth: Auth) -> None:
    for org, name in ((KOMMUNE, "samtykke"), (DPS, "kriseplan")):
        response = client.post(
            "/$process-message", data=example(f"fhir/Bundle-melding-{name}-ola.json"), headers=auth(org)
        )
        assert response.status_code == 200
    path = "/CarePlan/krise-og-mestringsplan-ola"
    before = len(audit_trail(client, auth))
    assert client.get(path, headers={**auth(KOMMUNE), "If-None-Match": "*"}).status_code == 304
    assert client.get(path, headers=auth(KOMMUNE)).status_code == 200
    events = audit_trail(client, auth)[before:-1]
    assert [e["action"] for e in events] == ["R", "R"] and events[0]["outcome"] == "0"
    assert events[0]["entity"][0]["what"]["reference"].startswith("CarePlan/krise-og-mestringsplan-ola/_history/")
    conditional, plain = events
    for key in ("type", "agent", "entity", "outcome"):  # the same read, the same basis (party or disclosure)
        assert conditional[key] == plain[key], key
    before = len(audit_trail(client, auth))
    assert client.get(path, headers={**auth(STRANGER), "If-None-Match": "*"}).status_code == 403
    events = audit_trail(client, auth)[before:-1]
    assert [(e["action"], e["outcome"]) for e in events] == [("R", "4")]


# --- If-None-Match on a write ------------------------------------------------------------------------------------


def test_if_none_match_star_on_an_update_of_what_exists_is_412_and_nothing_written(
    client: FlaskClient, auth: Auth
) -> None:
    rid = created_plan(client, auth(DPS))
    body = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    body["description"] = "Endret"
    for headers in ({"If-None-Match": "*"}, {"If-None-Match": "*", "If-Match": 'W/"1"'}, {"If-None-Match": 'W/"1"'}):
        response = client.put(f"/CarePlan/{rid}", json=body, headers={**auth(DPS), **headers})
        assert response.status_code == 412 and issue_codes(response.get_json()) == ["ADP-5049"], headers
    assert client.get(f"/CarePlan/{rid}/_history", headers=auth(DPS)).get_json()["total"] == 1
    # naming another version than the current: the update goes on under its If-Match
    other = client.put(
        f"/CarePlan/{rid}", json=body, headers={**auth(DPS), "If-None-Match": 'W/"9"', "If-Match": 'W/"1"'}
    )
    assert other.status_code == 200 and other.headers["ETag"] == 'W/"2"'


def test_if_none_match_star_on_an_unknown_id_never_creates(client: FlaskClient, auth: Auth) -> None:
    body = {**new_plan(), "id": "mitt-eget-id"}
    response = client.put("/CarePlan/mitt-eget-id", json=body, headers={**auth(DPS), "If-None-Match": "*"})
    assert response.status_code == 405 and issue_codes(response.get_json()) == ["ADP-5040"]
    assert client.get("/CarePlan/mitt-eget-id", headers=auth(DPS)).status_code == 404
    # a POST makes a new id, which nothing has: If-None-Match: * holds, and it is a plain create
    made = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Match": "*"})
    assert made.status_code == 201


def test_if_none_match_on_an_update_tells_a_stranger_nothing(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    body = {**new_plan(), "id": rid}
    response = client.put(f"/CarePlan/{rid}", json=body, headers={**auth(STRANGER), "If-None-Match": "*"})
    assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-7013"]


# --- DELETE ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/CarePlan/{rid}", "/CarePlan?_id={rid}", "/CarePlan"])
def test_delete_is_refused_with_what_to_do_instead_and_audited(client: FlaskClient, auth: Auth, path: str) -> None:
    rid = created_plan(client, auth(DPS))
    before = len(audit_trail(client, auth))
    response = client.delete(path.format(rid=rid), headers=auth(DPS))
    assert response.status_code == 405 and issue_codes(response.get_json()) == ["ADP-5048"]
    # what the path supports (RFC 9110 §10.2.1); the type: search, create, conditional update
    assert response.headers["Allow"] == ("GET, PUT" if path == "/CarePlan/{rid}" else "GET, POST, PUT")
    text = response.get_json()["issue"][0]["diagnostics"]
    assert "status = revoked" in text and "entered-in-error" in text
    events = audit_trail(client, auth)[before:-1]
    assert [e["action"] for e in events] == ["D"] and events[0]["outcomeDesc"].startswith("HTTP 405")
    assert client.get(f"/CarePlan/{rid}", headers=auth(DPS)).status_code == 200  # still there


def test_delete_of_every_served_type_names_its_own_status_change(client: FlaskClient, auth: Auth) -> None:
    for rtype in TYPES:
        response = client.delete(f"/{rtype}/x", headers=auth(DPS))
        assert response.status_code == 405 and issue_codes(response.get_json()) == ["ADP-5048"], rtype
        assert rtype + "." in response.get_json()["issue"][0]["diagnostics"]
    assert client.delete("/Observation/x", headers=auth(DPS)).status_code == 404
    assert client.delete("/CarePlan/x").status_code == 401  # the token first


# --- Prefer: handling=strict|lenient -----------------------------------------------------------------------------

LENIENT = {"Prefer": "handling=lenient"}


def outcome_entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]


def test_lenient_ignores_an_unknown_parameter_and_says_so(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    response = client.get("/CarePlan?status=active&nosuch=1&_totalMethod=x", headers={**auth(DPS), **LENIENT})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == 1 and [e["resource"]["id"] for e in body["entry"] if e["search"]["mode"] == "match"] == [
        rid
    ]
    (outcome,) = outcome_entries(body)
    assert outcome["resource"]["resourceType"] == "OperationOutcome" and outcome["fullUrl"].startswith("urn:uuid:")
    issues = outcome["resource"]["issue"]
    assert [i["severity"] for i in issues] == ["warning", "warning"]
    assert issue_codes(outcome["resource"], ("warning",)) == ["ADP-5055", "ADP-5055"]
    assert "nosuch" in issues[0]["diagnostics"] and "_totalMethod" in issues[1]["diagnostics"]
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert "status=active" in links["self"] and "nosuch" not in links["self"] and "_totalMethod" not in links["self"]
    counted = client.get("/CarePlan?nosuch=1&_summary=count", headers={**auth(DPS), **LENIENT}).get_json()
    assert counted["total"] == 1 and len(outcome_entries(counted)) == 1
    posted = client.post("/CarePlan/_search", data={"nosuch": "1"}, headers={**auth(DPS), **LENIENT})
    assert posted.status_code == 200 and len(outcome_entries(posted.get_json())) == 1


@pytest.mark.parametrize("prefer", [None, "handling=strict", "handling=sloppy", "return=minimal"])
def test_strict_is_the_default_and_refuses_an_unknown_parameter(
    client: FlaskClient, auth: Auth, prefer: str | None
) -> None:
    headers = {**auth(DPS), **({"Prefer": prefer} if prefer else {})}
    response = client.get("/CarePlan?status=active&nosuch=1", headers=headers)
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"]


@pytest.mark.parametrize(
    "param",
    [
        "patient:missing=true",
        "patient:Patient=pasient-ola",
        "subject.name=Ola",
        "Patient.identifier=15838510075",
        "_has:CarePlan:patient:status=active",
        "identifier:text=plan",
        "_id:missing=false",
        "beneficiary=Patient/pasient-ola",
        "_list=mine",
        "encounter.subject=Patient/x",
    ],
)
def test_lenient_never_drops_a_patient_or_record_restriction(client: FlaskClient, auth: Auth, param: str) -> None:
    created_plan(client, auth(DPS))
    response = client.get(f"/CarePlan?{param}", headers={**auth(DPS), **LENIENT})
    # dropped, it would give every plan the caller may see to a client that asked for one patient's
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5056"], param


def test_lenient_gives_nothing_strict_would_not_and_is_audited_as_asked(client: FlaskClient, auth: Auth) -> None:
    theirs = created_plan(client, auth(DPS))
    stranger = client.get("/CarePlan?nosuch=1", headers={**auth(STRANGER), **LENIENT}).get_json()
    assert stranger["total"] == 0 and theirs not in str(stranger)
    bad_value = client.get("/CarePlan?_lastUpdated=gt2026-13&nosuch=1", headers={**auth(DPS), **LENIENT})
    assert bad_value.status_code == 400 and issue_codes(bad_value.get_json()) == ["ADP-5023"]  # a known one's value
    before = len(audit_trail(client, auth))
    client.get("/CarePlan?status=active&nosuch=1", headers={**auth(DPS), **LENIENT})
    events = audit_trail(client, auth)[before:-1]
    described = [x.get("description") for e in events for x in e["entity"] if x.get("description")]
    assert described == ["CarePlan?status=active&nosuch=1"]  # what was asked, the ignored part too


# --- a search in a create's URL ----------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["identifier=urn:x|1", "_id=abc", "identifier=urn:x|1&status=active"])
def test_a_search_in_a_creates_url_is_refused_and_nothing_is_created(
    client: FlaskClient, auth: Auth, query: str
) -> None:
    """Some clients (fhirpy's ``get_or_create``) put a conditional create's search in the URL; ignored, it would
    make the duplicate the caller meant to avoid, so it is refused (400) and nothing is stored."""
    before = client.get("/CarePlan?_summary=count", headers=auth(DPS)).get_json()["total"]
    response = client.post(f"/CarePlan?{query}", json=new_plan(), headers=auth(DPS))
    assert response.status_code == 400
    assert issue_codes(response.get_json()) == ["ADP-5057"]
    assert client.get("/CarePlan?_summary=count", headers=auth(DPS)).get_json()["total"] == before


def test_a_creates_format_parameter_is_no_search(client: FlaskClient, auth: Auth) -> None:
    response = client.post("/CarePlan?_format=json&_pretty=true", json=new_plan(), headers=auth(DPS))
    assert response.status_code == 201, response.get_json()


# --- conditional update: PUT [type]?[search] ---------------------------------------------------------------------

SYSTEM = "urn:samhandling-test:conditional-update"


def put_where(client: FlaskClient, headers: dict[str, str], query: str, body: dict[str, Any]) -> Any:
    return client.put(f"/CarePlan?{query}", json=body, headers=headers)


def test_a_conditional_update_without_a_match_creates_with_the_servers_id(client: FlaskClient, auth: Auth) -> None:
    body = new_plan(identifier=[{"system": SYSTEM, "value": "ny"}])
    response = put_where(client, auth(DPS), f"identifier={SYSTEM}|ny", body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["id"] and response.headers["Location"].endswith("/_history/1")
    # its own id in the body is not how a record is made: ids are the server's
    response = put_where(client, auth(DPS), f"identifier={SYSTEM}|egen", {**body, "id": "valgt-av-klienten"})
    assert response.status_code == 405 and issue_codes(response.get_json()) == ["ADP-5040"]
    assert client.get("/CarePlan/valgt-av-klienten", headers=auth(DPS)).status_code == 404


def test_a_conditional_update_of_the_one_match_needs_its_version(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS), identifier=[{"system": SYSTEM, "value": "en"}])
    body = new_plan(identifier=[{"system": SYSTEM, "value": "en"}], description="Endret etter søk")
    blind = put_where(client, auth(DPS), f"identifier={SYSTEM}|en", body)
    assert blind.status_code == 428 and issue_codes(blind.get_json()) == ["ADP-5042"]
    stale = put_where(client, {**auth(DPS), "If-Match": 'W/"7"'}, f"identifier={SYSTEM}|en", body)
    assert stale.status_code == 412
    done = put_where(client, {**auth(DPS), "If-Match": 'W/"1"'}, f"identifier={SYSTEM}|en", body)
    assert done.status_code == 200 and done.get_json()["id"] == rid
    assert client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()["description"] == "Endret etter søk"
    other = put_where(client, {**auth(DPS), "If-Match": 'W/"2"'}, f"identifier={SYSTEM}|en", {**body, "id": "annen"})
    assert other.status_code == 400 and issue_codes(other.get_json()) == ["ADP-5026"]


def test_a_conditional_update_matching_several_writes_nothing(client: FlaskClient, auth: Auth) -> None:
    for value in ("a", "b"):
        created_plan(client, auth(DPS), identifier=[{"system": SYSTEM, "value": value}])
    before = client.get("/CarePlan/_history?_count=500", headers=auth(DPS)).get_json()["total"]
    body = new_plan(identifier=[{"system": SYSTEM, "value": "a"}])
    response = put_where(client, {**auth(DPS), "If-Match": 'W/"1"'}, f"identifier={SYSTEM}|", body)
    assert response.status_code == 412 and issue_codes(response.get_json()) == ["ADP-5059"]
    assert client.get("/CarePlan/_history?_count=500", headers=auth(DPS)).get_json()["total"] == before


@pytest.mark.parametrize("query", ["", "_format=json"])
def test_a_conditional_update_without_a_search_is_refused(client: FlaskClient, auth: Auth, query: str) -> None:
    response = client.put(f"/CarePlan?{query}", json=new_plan(), headers=auth(DPS))
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5058"]


def test_a_strangers_conditional_update_never_changes_what_it_may_not_read(client: FlaskClient, auth: Auth) -> None:
    """The stranger's search finds nothing it may read, so its PUT is a create; the DPS's plan with that
    identifier is not touched (and the second record with its identifier is refused, as a plain create is)."""
    rid = created_plan(client, auth(DPS), identifier=[{"system": SYSTEM, "value": "dps"}])
    body = new_plan(identifier=[{"system": SYSTEM, "value": "dps"}], description="Overskrevet?")
    response = put_where(client, {**auth(STRANGER), "If-Match": 'W/"1"'}, f"identifier={SYSTEM}|dps", body)
    assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-5095"], response.get_json()
    assert client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()["meta"]["versionId"] == "1"
    searches = [e for e in audit_trail(client, auth) if f"identifier={SYSTEM}|dps" in json.dumps(e)]
    assert searches  # the stranger's search is in the audit trail


def test_a_conditional_update_of_a_plan_read_only_under_consent_changes_nothing(
    shared: FlaskClient, auth: Auth
) -> None:
    """The one match is a plan the caller may read under Ola's consent but takes no part in: refused as an update
    of it would be (403), and nothing written; reading is no licence to write."""
    reader, plan_id = "8100055", "krise-og-mestringsplan-ola"
    permit = deny_consent(reader)
    permit["provision"]["type"] = "permit"
    assert shared.post("/Consent", json=permit, headers=auth(KOMMUNE)).status_code == 201
    read = shared.get(f"/CarePlan/{plan_id}", headers=auth(reader))
    assert read.status_code == 200, read.get_json()  # a disclosure under the consent
    body = {k: v for k, v in read.get_json().items() if k != "meta"} | {"description": "Overskrevet?"}
    response = put_where(shared, {**auth(reader), "If-Match": 'W/"1"'}, f"_id={plan_id}", body)
    assert response.status_code == 403 and issue_codes(response.get_json()) == ["ADP-7013"], response.get_json()
    assert shared.get(f"/CarePlan/{plan_id}", headers=auth(DPS)).get_json()["meta"]["versionId"] == "1"
