"""Transaction and batch Bundles (``POST [base]``; issue 17, point 1), written as a client and as an attacker would
use them. A transaction is all or nothing on both stores: when its Nth entry fails, nothing of the first N-1 is
stored, queued for delivery or audited as written, and the answer is that entry's OperationOutcome. Every entry
keeps the rules of the same request on its own: validated, checked as the caller, audited; a PUT never creates and
a DELETE is refused."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask.testing import FlaskClient
from service_helpers import (
    DPS,
    KOMMUNE,
    STRANGER,
    audit_trail,
    example,
    issue_codes,
    new_goal,
    new_plan,
)

from adapter.api import create_app
from adapter.config import Settings
from adapter.records.bundle import MAX_ENTRIES
from adapter.security import SCOPES
from adapter.service import Service

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
AUDIT = "samhandling/audit"
GOAL_URL = "urn:uuid:5f1a0c1e-0000-4000-8000-000000000001"
PLAN_URL = "urn:uuid:5f1a0c1e-0000-4000-8000-000000000002"


def post(resource: dict[str, Any], full_url: str | None = None, **request: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}
    entry["request"].update(request)
    return {**({"fullUrl": full_url} if full_url else {}), **entry}


def bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def statuses(answer: dict[str, Any]) -> list[str]:
    return [e["response"]["status"] for e in answer["entry"]]


def count(client: FlaskClient, headers: dict[str, str], rtype: str = "CarePlan") -> int:
    response = client.get(f"/{rtype}/_history?_count=0", headers=headers)
    assert response.status_code == 200, response.get_json()
    return int(response.get_json()["total"])


# --- transaction -------------------------------------------------------------------------------------------------


def test_a_transaction_creates_its_entries_and_resolves_their_references(client: FlaskClient, auth: Auth) -> None:
    sent = bundle(
        "transaction",
        post(new_plan(goal=[{"reference": GOAL_URL}]), PLAN_URL),  # refers to an entry after it: order does not matter
        post(new_goal(), GOAL_URL),
    )
    response = client.post("/", json=sent, headers=auth(DPS))
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["resourceType"] == "Bundle" and answer["type"] == "transaction-response"
    assert statuses(answer) == ["201", "201"]
    made_plan, made_goal = (e["resource"] for e in answer["entry"])
    assert made_plan["goal"] == [{"reference": f"Goal/{made_goal['id']}"}]
    for entry in answer["entry"]:
        rtype, rid = entry["resource"]["resourceType"], entry["resource"]["id"]
        assert entry["fullUrl"] == f"http://localhost/{rtype}/{rid}"
        assert entry["response"]["location"] == f"http://localhost/{rtype}/{rid}/_history/1"
        assert entry["response"]["etag"] == 'W/"1"' and entry["response"]["lastModified"]
    stored = client.get(f"/CarePlan/{made_plan['id']}", headers=auth(DPS)).get_json()
    assert stored["goal"] == [{"reference": f"Goal/{made_goal['id']}"}]
    assert client.get(f"/Goal/{made_goal['id']}", headers=auth(DPS)).status_code == 200


def test_a_transaction_updates_reads_and_searches_in_rs_order(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    current = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    changed = {**current, "description": "Endret i en transaksjon"}
    sent = bundle(
        "transaction",
        {"request": {"method": "GET", "url": f"CarePlan/{rid}"}},  # R4: reads after the writes
        {"request": {"method": "GET", "url": f"CarePlan?_id={rid}"}},
        {"resource": changed, "request": {"method": "PUT", "url": f"CarePlan/{rid}", "ifMatch": 'W/"1"'}},
    )
    answer = client.post("/", json=sent, headers=auth(DPS)).get_json()
    assert statuses(answer) == ["200", "200", "200"]
    read, search, update = answer["entry"]
    assert read["resource"]["description"] == "Endret i en transaksjon"
    assert search["resource"]["type"] == "searchset" and search["resource"]["total"] == 1
    assert update["response"]["etag"] == 'W/"2"'


def test_prefer_return_shapes_each_written_entry(client: FlaskClient, auth: Auth) -> None:
    sent = bundle("transaction", post(new_plan()))
    minimal = client.post("/", json=sent, headers={**auth(DPS), "Prefer": "return=minimal"}).get_json()
    assert "resource" not in minimal["entry"][0] and minimal["entry"][0]["response"]["location"]
    assert minimal["entry"][0]["response"]["lastModified"]
    outcome = client.post("/", json=sent, headers={**auth(DPS), "Prefer": "return=OperationOutcome"}).get_json()
    assert outcome["entry"][0]["response"]["outcome"]["resourceType"] == "OperationOutcome"


def test_a_conditional_create_in_a_transaction_finds_and_its_references_follow(client: FlaskClient, auth: Auth) -> None:
    existing = client.post("/Goal", json=new_goal(), headers=auth(DPS)).get_json()["id"]
    sent = bundle(
        "transaction",
        post(new_goal(), GOAL_URL, ifNoneExist=f"_id={existing}"),
        post(new_plan(goal=[{"reference": GOAL_URL}])),
    )
    answer = client.post("/", json=sent, headers=auth(DPS)).get_json()
    assert statuses(answer) == ["200", "201"]
    assert answer["entry"][1]["resource"]["goal"] == [{"reference": f"Goal/{existing}"}]
    assert count(client, auth(DPS), "Goal") == 1


@pytest.mark.parametrize(
    ("failing", "status", "code"),
    [
        ({"resource": new_plan(intent="nonsense"), "request": {"method": "POST", "url": "CarePlan"}}, 422, None),
        (
            {"resource": {**new_plan(), "id": "ukjent"}, "request": {"method": "PUT", "url": "CarePlan/ukjent"}},
            405,
            "ADP-5040",
        ),
        ({"request": {"method": "DELETE", "url": "CarePlan/x"}}, 405, "ADP-5048"),
        ({"request": {"method": "GET", "url": "CarePlan/finnes-ikke"}}, 404, "ADP-5020"),
        ({"request": {"method": "GET", "url": "CarePlan?nosuch=1"}}, 400, "ADP-5023"),
        ({"request": {"method": "PATCH", "url": "CarePlan/x"}}, 400, "ADP-5052"),
        (
            {
                "resource": new_goal(),
                "request": {"method": "POST", "url": "CarePlan"},
            },
            400,
            "ADP-5027",
        ),
        (post(new_plan(goal=[{"reference": "urn:uuid:ingen-slik"}])), 400, "ADP-5053"),
        (post(new_plan(), ifNoneExist="nosuch=1"), 400, "ADP-5023"),
        ({"request": {"method": "GET", "url": "http://example.org/CarePlan/x"}}, 400, "ADP-5052"),
        (
            {"request": {"method": "POST", "url": "Observation"}, "resource": {"resourceType": "Observation"}},
            404,
            "ADP-5022",
        ),
    ],
)
def test_the_nth_entry_failing_stores_nothing_of_the_first(
    client: FlaskClient, auth: Auth, failing: dict[str, Any], status: int, code: str | None
) -> None:
    before = len(audit_trail(client, auth))
    sent = bundle(
        "transaction",
        post(new_goal(), GOAL_URL),
        post(new_plan(goal=[{"reference": GOAL_URL}])),
        failing,
    )
    response = client.post("/", json=sent, headers=auth(DPS))
    assert response.status_code == status, response.get_json()
    outcome = response.get_json()
    assert outcome["resourceType"] == "OperationOutcome"
    if code:
        assert issue_codes(outcome) == [code]
    told = [i for i in outcome["issue"] if i["details"]["coding"][0]["code"] == "ADP-5054"]
    assert len(told) == 1 and "Bundle.entry[2]" in told[0]["diagnostics"]
    assert count(client, auth(DPS), "CarePlan") == count(client, auth(DPS), "Goal") == 0
    events = audit_trail(client, auth)[before:]
    assert not [e for e in events if e["action"] in ("C", "U") and e["outcome"] == "0"]  # no write audited
    refusals = [e for e in events if e["outcome"] == "4" and "transaction" in json.dumps(e["entity"])]
    assert len(refusals) == 1 and refusals[0]["outcomeDesc"].startswith(f"HTTP {status}")


def test_a_stale_if_match_in_a_transaction_undoes_its_creates(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    current = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    sent = bundle(
        "transaction",
        post(new_goal()),
        {
            "resource": {**current, "description": "x"},
            "request": {"method": "PUT", "url": f"CarePlan/{rid}", "ifMatch": 'W/"7"'},
        },
    )
    response = client.post("/", json=sent, headers=auth(DPS))
    assert response.status_code == 412 and "ADP-5021" in issue_codes(response.get_json())
    assert count(client, auth(DPS), "Goal") == 0 and count(client, auth(DPS), "CarePlan") == 1
    missing = bundle("transaction", {"resource": current, "request": {"method": "PUT", "url": f"CarePlan/{rid}"}})
    assert client.post("/", json=missing, headers=auth(DPS)).status_code == 428


def test_two_updates_of_one_resource_or_one_fullurl_twice_fail(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    current = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    put = {"resource": current, "request": {"method": "PUT", "url": f"CarePlan/{rid}", "ifMatch": 'W/"1"'}}
    response = client.post("/", json=bundle("transaction", put, put), headers=auth(DPS))
    assert response.status_code == 400 and "ADP-5053" in issue_codes(response.get_json())
    twice = bundle(
        "transaction",
        post(new_goal(), GOAL_URL),
        post(new_goal(), GOAL_URL),
    )
    response = client.post("/", json=twice, headers=auth(DPS))
    assert response.status_code == 400 and "ADP-5053" in issue_codes(response.get_json())
    assert count(client, auth(DPS), "Goal") == 0


# --- as an attacker ----------------------------------------------------------------------------------------------


def test_a_transaction_is_checked_as_the_caller_entry_by_entry(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    current = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    hijack = {
        "resource": {**current, "description": "overtatt"},
        "request": {"method": "PUT", "url": f"CarePlan/{rid}", "ifMatch": 'W/"1"'},
    }
    response = client.post(
        "/",
        json=bundle("transaction", post(new_goal()), hijack),
        headers=auth(STRANGER),
    )
    assert response.status_code == 403 and "ADP-7013" in issue_codes(response.get_json())
    assert count(client, auth(STRANGER), "Goal") == 0
    peek = {"request": {"method": "GET", "url": f"CarePlan/{rid}"}}
    response = client.post(
        "/",
        json=bundle("transaction", post(new_goal()), peek),
        headers=auth(STRANGER),
    )
    assert response.status_code == 403 and rid not in json.dumps(response.get_json().get("entry", []))
    assert count(client, auth(STRANGER), "Goal") == 0
    searched = client.post(
        "/",
        json=bundle("transaction", {"request": {"method": "GET", "url": "CarePlan?status=active"}}),
        headers=auth(STRANGER),
    ).get_json()
    assert searched["entry"][0]["resource"]["total"] == 0  # the search finds only what it may see
    no_write = client.post(
        "/",
        json=bundle("transaction", post(new_goal())),
        headers=auth(DPS, "samhandling/plans.read"),
    )
    assert no_write.status_code == 403 and issue_codes(no_write.get_json()) == ["ADP-7006"]
    assert client.post("/", json=bundle("transaction", post(new_goal()))).status_code == 401


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"resourceType": "Bundle", "type": "collection", "entry": []}, "ADP-5050"),
        ({"resourceType": "Bundle", "type": "message", "entry": []}, "ADP-5050"),
        ({"resourceType": "CarePlan"}, "ADP-5050"),
        ({"resourceType": "Bundle", "type": "transaction", "entry": [{"resource": {}}]}, "ADP-5053"),
    ],
)
def test_what_is_no_transaction_or_batch_is_refused(client: FlaskClient, auth: Auth, body: Any, code: str) -> None:
    response = client.post("/", json=body, headers=auth(DPS))
    assert response.status_code == 400 and code in issue_codes(response.get_json())


def test_too_many_entries_are_refused_before_any_is_looked_at(client: FlaskClient, auth: Auth) -> None:
    many = bundle("transaction", *[post(new_goal()) for _ in range(MAX_ENTRIES + 1)])
    response = client.post("/", json=many, headers=auth(DPS))
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5051"]
    assert str(MAX_ENTRIES) in response.get_json()["issue"][0]["diagnostics"]
    assert count(client, auth(DPS), "Goal") == 0
    broken = client.post("/", data=b'{"resourceType": "Bundle", "type": "transaction", "entry": [', headers=auth(DPS))
    assert broken.status_code == 400
    wrong_type = client.post("/", data=b"x", headers={**auth(DPS), "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415


# --- batch -------------------------------------------------------------------------------------------------------


def test_a_batch_runs_each_entry_on_its_own(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    sent = bundle(
        "batch",
        post(new_goal()),
        post(new_plan(intent="nonsense")),
        {"request": {"method": "DELETE", "url": f"CarePlan/{rid}"}},
        {"request": {"method": "GET", "url": f"CarePlan/{rid}"}},
        {"request": {"method": "GET", "url": "CarePlan/finnes-ikke"}},
        {"request": {"method": "GET", "url": "Goal?_count=0"}},
    )
    response = client.post("/", json=sent, headers=auth(DPS))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["type"] == "batch-response"
    codes = statuses(answer)
    assert codes[0] == "201" and codes[1] in ("400", "422") and codes[2:] == ["405", "200", "404", "200"]
    assert answer["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert issue_codes(answer["entry"][2]["response"]["outcome"]) == ["ADP-5048"]
    assert answer["entry"][5]["resource"]["total"] == 1  # the goal of the first entry stayed
    assert count(client, auth(DPS), "Goal") == 1 and count(client, auth(DPS), "CarePlan") == 1


def test_a_batch_entry_the_caller_may_not_do_is_that_entrys_refusal(client: FlaskClient, auth: Auth) -> None:
    rid = client.post("/CarePlan", json=new_plan(), headers=auth(DPS)).get_json()["id"]
    sent = bundle(
        "batch",
        {"request": {"method": "GET", "url": f"CarePlan/{rid}"}},
        post(new_goal()),
    )
    answer = client.post("/", json=sent, headers=auth(STRANGER, "samhandling/plans.read")).get_json()
    assert statuses(answer) == ["403", "403"]
    assert issue_codes(answer["entry"][0]["response"]["outcome"]) == ["ADP-7008"]
    assert issue_codes(answer["entry"][1]["response"]["outcome"]) == ["ADP-7006"]
    assert "resource" not in answer["entry"][0]


# --- nothing queued when nothing is stored -----------------------------------------------------------------------


def routed(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path
) -> tuple[Service, FlaskClient]:
    """A service that routes the kommune's messages (so a change the kommune may see is queued for it), after the
    example consent and crisis plan were exchanged."""
    routes = tmp_path / "routes.yaml"
    rows = [{"receiver": KOMMUNE, "destination": "http://127.0.0.1:9/fhir", "format": "fhir"}]
    routes.write_text(yaml.safe_dump({"routes": rows}), encoding="utf-8")
    service = make_service(dataclasses.replace(service_settings, routes_file=str(routes)))
    client = create_app(service=service).test_client()
    for org, name in ((KOMMUNE, "samtykke"), (DPS, "kriseplan")):
        response = client.post(
            "/$process-message", data=example(f"fhir/Bundle-melding-{name}-ola.json"), headers=token(service, org)
        )
        assert response.status_code == 200
    return service, client


def token(service: Service, org: str) -> dict[str, str]:
    assert service.issuer is not None
    return {"Authorization": f"Bearer {service.issuer.issue(org, SCOPES, ttl_seconds=600)}"}


def test_a_failed_transaction_queues_nothing_and_a_committed_one_does(
    make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path
) -> None:
    service, client = routed(make_service, service_settings, tmp_path)
    queued = len(service.store.run(lambda tx: tx.deliveries()))
    failing = bundle(
        "transaction", post(new_plan(description="ny")), {"request": {"method": "GET", "url": "CarePlan/finnes-ikke"}}
    )
    assert client.post("/", json=failing, headers=token(service, DPS)).status_code == 404
    assert len(service.store.run(lambda tx: tx.deliveries())) == queued
    committed = bundle("transaction", post(new_plan(description="ny")))
    assert client.post("/", json=committed, headers=token(service, DPS)).status_code == 200
    after = service.store.run(lambda tx: tx.deliveries())
    assert len(after) == queued + 1 and {d.recipient for d in after} == {KOMMUNE}


@pytest.mark.parametrize(
    "entry",
    [
        {
            "fullUrl": {"x": 1},
            "resource": new_goal(),
            "request": {"method": "POST", "url": "Goal"},
        },
        {
            "fullUrl": ["a"],
            "resource": new_goal(),
            "request": {"method": "POST", "url": "Goal"},
        },
        {"resource": new_goal(), "request": {"method": 7, "url": "Goal"}},
        {"resource": new_goal(), "request": {"method": "POST", "url": ["Goal"]}},
        {
            "resource": new_goal(),
            "request": {"method": "PUT", "url": "Goal/x", "ifMatch": {"W": 1}},
        },
        {
            "resource": new_goal(),
            "request": {"method": "POST", "url": "Goal", "ifNoneExist": 5},
        },
        {"resource": "Goal", "request": {"method": "POST", "url": "Goal"}},
        {"resource": new_goal(), "request": "POST Goal"},
        "entry",
        {"request": {"method": "GET", "url": "Goal/x/_history/abc"}},
        {"request": {"method": "GET", "url": "Goal/../../etc/passwd"}},
        {"request": {"method": "GET", "url": "_history"}},
        {"request": {"method": "POST", "url": "Goal?x=1"}, "resource": new_goal()},
    ],
)
def test_a_malformed_entry_is_a_clear_refusal_never_a_500(client: FlaskClient, auth: Auth, entry: Any) -> None:
    for kind in ("transaction", "batch"):
        response = client.post("/", json=bundle(kind, entry), headers=auth(DPS))
        assert response.status_code < 500, (kind, response.get_json())
        answer = response.get_json()
        if kind == "transaction":
            assert 400 <= response.status_code < 500 and issue_codes(answer), answer
        else:
            assert statuses(answer)[0][0] == "4", answer
    assert count(client, auth(DPS), "Goal") == 0


# --- a fullUrl reference where there is no Bundle to find it in ----------------------------------------------------

GOAL_URL = "urn:uuid:11111111-2222-4333-8444-555555555555"


def test_a_resource_on_its_own_referring_to_a_fullurl_is_refused(client: FlaskClient, auth: Auth) -> None:
    before = count(client, auth(DPS))
    dangling = new_plan(goal=[{"reference": GOAL_URL}])
    response = client.post("/CarePlan", json=dangling, headers=auth(DPS))
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5096"]
    assert response.get_json()["issue"][0]["expression"] == ["CarePlan.goal[0]"]
    assert count(client, auth(DPS)) == before


def test_a_batch_entry_referring_to_another_entrys_fullurl_is_refused(client: FlaskClient, auth: Auth) -> None:
    """R4: a batch has no interdependencies; the Goal is stored, the plan that leans on its fullUrl is not."""
    before = count(client, auth(DPS))
    answer = client.post(
        "/",
        json=bundle(
            "batch",
            post(new_goal(), GOAL_URL),
            post(new_plan(goal=[{"reference": GOAL_URL}])),
        ),
        headers=auth(DPS),
    )
    assert answer.status_code == 200, answer.get_json()
    assert [s.split()[0] for s in statuses(answer.get_json())] == ["201", "400"]
    assert count(client, auth(DPS)) == before


def test_the_same_reference_in_a_transaction_is_resolved(client: FlaskClient, auth: Auth) -> None:
    answer = client.post(
        "/",
        json=bundle(
            "transaction",
            post(new_goal(), GOAL_URL),
            post(new_plan(goal=[{"reference": GOAL_URL}])),
        ),
        headers=auth(DPS),
    )
    assert answer.status_code == 200, answer.get_json()
    assert [s.split()[0] for s in statuses(answer.get_json())] == ["201", "201"]
