"""Type and system history (``GET [type]/_history``, ``GET /_history``; issue 17, point 1), with ``_count``,
``_offset`` and ``_since``, written as a client and as an attacker would use them: only versions of records the
caller may read are given or counted (a deny wins), every version given is audited as disclosed, and nothing of
another's history shows through the total, the links or the entries."""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from flask.testing import FlaskClient
from service_helpers import (
    DPS,
    KOMMUNE,
    LEGEKONTOR,
    STRANGER,
    audit_trail,
    created_plan,
    deny_consent,
    example,
    exchange,
    issue_codes,
)

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
AUDIT = "samhandling/audit"
PLAN = "krise-og-mestringsplan-ola"


def updated(client: FlaskClient, headers: dict[str, str], rid: str, text: str) -> dict[str, Any]:
    body = client.get(f"/CarePlan/{rid}", headers=headers).get_json()
    body["description"] = text
    version = body["meta"]["versionId"]
    response = client.put(f"/CarePlan/{rid}", json=body, headers={**headers, "If-Match": f'W/"{version}"'})
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def history(client: FlaskClient, headers: dict[str, str], path: str = "/CarePlan/_history", query: str = "") -> Any:
    response = client.get(f"{path}?{query}", headers=headers)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["resourceType"] == "Bundle" and body["type"] == "history"
    return body


def versions(bundle: dict[str, Any]) -> list[str]:
    """Type/id/version of each entry, in order."""
    return [
        e["request"]["url"].split("/")[0] + "/" + e["fullUrl"].rsplit("/", 1)[1] + "/" + e["response"]["etag"][3:-1]
        for e in bundle.get("entry", [])
    ]


def test_type_history_gives_every_version_newest_first_with_entries_as_r4_says(client: FlaskClient, auth: Auth) -> None:
    first = created_plan(client, auth(DPS))
    second = created_plan(client, auth(DPS))
    updated(client, auth(DPS), first, "Versjon 2")
    body = history(client, auth(DPS))
    assert body["total"] == 3
    assert versions(body) == [f"CarePlan/{first}/2", f"CarePlan/{second}/1", f"CarePlan/{first}/1"]
    newest, _, oldest = body["entry"]
    assert newest["request"] == {"method": "PUT", "url": f"CarePlan/{first}"}
    assert newest["response"]["status"] == "200" and newest["resource"]["description"] == "Versjon 2"
    assert oldest["request"] == {"method": "POST", "url": "CarePlan"} and oldest["response"]["status"] == "201"
    assert oldest["fullUrl"] == f"http://localhost/CarePlan/{first}"
    stamps = [e["response"]["lastModified"] for e in body["entry"]]
    assert stamps == sorted(stamps, reverse=True)
    assert history(client, auth(DPS), "/Goal/_history")["total"] == 0  # another type's history is its own


def test_system_history_spans_the_served_types(client: FlaskClient, auth: Auth) -> None:
    for org, name in ((KOMMUNE, "samtykke"), (DPS, "kriseplan")):
        response = client.post(
            "/$process-message", data=example(f"fhir/Bundle-melding-{name}-ola.json"), headers=auth(org)
        )
        assert response.status_code == 200
    body = history(client, auth(DPS), "/_history", "_count=500")
    types = {v.split("/")[0] for v in versions(body)}
    assert {"CarePlan", "Goal", "Patient", "Consent"} <= types
    assert not types & {"Organization", "Practitioner", "AuditEvent", "MessageHeader"}  # not served by the REST API
    assert body["total"] == len(body["entry"])
    links = {link["relation"]: link["url"] for link in body["link"]}
    assert links["self"].startswith("http://localhost/_history?")


def test_paging_with_count_and_offset_and_its_links(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    for n in range(2, 5):
        updated(client, auth(DPS), rid, f"Versjon {n}")
    first = history(client, auth(DPS), query="_count=3")
    assert first["total"] == 4 and versions(first) == [f"CarePlan/{rid}/{v}" for v in (4, 3, 2)]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_offset=3" in links["next"] and "_offset=3" in links["last"] and "previous" not in links
    following = history(
        client, auth(DPS), links["next"].split("?")[0].removeprefix("http://localhost"), links["next"].split("?")[1]
    )
    assert versions(following) == [f"CarePlan/{rid}/1"]
    counted = history(client, auth(DPS), query="_count=0")
    assert counted["total"] == 4 and counted["entry"] == []


def test_since_keeps_the_versions_made_at_or_after_it(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    second = updated(client, auth(DPS), rid, "Versjon 2")
    since = second["meta"]["lastUpdated"]
    updated(client, auth(DPS), rid, "Versjon 3")
    assert versions(history(client, auth(DPS), query=f"_since={quote(since)}")) == [
        f"CarePlan/{rid}/3",
        f"CarePlan/{rid}/2",
    ]
    # the same instant in another zone is the same instant
    moment = datetime.datetime.fromisoformat(since.replace("Z", "+00:00")).astimezone(
        datetime.timezone(datetime.timedelta(hours=2))
    )
    shifted = moment.isoformat(timespec="milliseconds")
    assert history(client, auth(DPS), query=f"_since={quote(shifted)}")["total"] == 2
    assert history(client, auth(DPS), f"/CarePlan/{rid}/_history", f"_since={quote(since)}")["total"] == 2
    assert history(client, auth(DPS), "/_history", f"_since={quote(since)}")["total"] == 2
    future = (datetime.datetime.fromisoformat(since.replace("Z", "+00:00")) + datetime.timedelta(days=3650)).date()
    assert history(client, auth(DPS), query=f"_since={future.isoformat()}")["total"] == 0


@pytest.mark.parametrize(
    "query",
    [
        "_since=yesterday",
        "_since=2026-02-30",
        "_since=2026-01-01T10:00",
        "_count=x",
        "status=active",
        "_since=2026-01-01&_since=2026-02-01",
        "_offset=-1",
    ],
)
def test_what_a_history_does_not_take_is_a_400_and_audited(client: FlaskClient, auth: Auth, query: str) -> None:
    for path in ("/CarePlan/_history", "/_history"):
        before = len(audit_trail(client, auth))
        response = client.get(f"{path}?{query}", headers=auth(DPS))
        assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"], (path, query)
        events = audit_trail(client, auth)[before:-1]
        assert [(e["action"], e["outcome"]) for e in events] == [("R", "4")]


def test_a_type_not_served_has_no_history(client: FlaskClient, auth: Auth) -> None:
    for rtype in ("Observation", "AuditEvent", "Organization"):
        response = client.get(f"/{rtype}/_history", headers=auth(DPS))
        assert response.status_code == 404 and issue_codes(response.get_json()) == ["ADP-5022"], rtype
    assert client.get("/_history").status_code == 401
    assert client.get("/CarePlan/_history").status_code == 401
    no_scope = client.get("/_history", headers=auth(DPS, "samhandling/plans.write"))
    assert no_scope.status_code == 403 and issue_codes(no_scope.get_json()) == ["ADP-7006"]


# --- as an attacker ----------------------------------------------------------------------------------------------


def test_a_stranger_finds_nothing_of_anothers_history_not_even_a_count(client: FlaskClient, auth: Auth) -> None:
    theirs = created_plan(client, auth(DPS))
    updated(client, auth(DPS), theirs, "Hemmelig endring")
    mine = created_plan(client, auth(STRANGER), description="min egen")
    for path in ("/CarePlan/_history", "/_history"):
        for query in ("", "_count=500", "_since=2000-01-01", "_offset=0&_count=1"):
            body = history(client, auth(STRANGER), path, query)
            assert versions(body) == [f"CarePlan/{mine}/1"][: len(body["entry"])], (path, query)
            assert body["total"] == 1  # its own plan only: the DPS's two versions are not counted
            assert theirs not in json.dumps(body)
    # paging past its own gives nothing and no link to more
    beyond = history(client, auth(STRANGER), "/_history", "_offset=1&_count=1")
    assert beyond["entry"] == [] and "next" not in {link["relation"] for link in beyond["link"]}


def test_a_deny_hides_the_history_a_consent_would_show(client: FlaskClient, auth: Auth) -> None:
    exchange(client, auth, (KOMMUNE, "samtykke"), (DPS, "kriseplan"))
    seen = {v.split("/")[1] for v in versions(history(client, auth(LEGEKONTOR), "/_history", "_count=500"))}
    assert PLAN in seen  # the legekontor reads the plan
    # its view equals the search's view: the same records, by type
    by_search = client.get("/CarePlan?_count=500", headers=auth(LEGEKONTOR)).get_json()
    assert {e["resource"]["id"] for e in by_search["entry"]} == {
        v.split("/")[1] for v in versions(history(client, auth(LEGEKONTOR), query="_count=500"))
    }
    # Ola denies the legekontor: the plan is gone from both histories, and from their totals
    denied = client.post("/Consent", json=deny_consent(LEGEKONTOR), headers=auth(KOMMUNE))
    assert denied.status_code == 201, denied.get_json()
    for where in ("/_history", "/CarePlan/_history"):
        after = history(client, auth(LEGEKONTOR), where, "_count=500")
        assert PLAN not in json.dumps(after)
        assert after["total"] == len(after["entry"])
    stranger = history(client, auth(STRANGER), "/_history", "_count=500")
    assert stranger["total"] == 0 and PLAN not in json.dumps(stranger)


def test_every_version_given_is_audited_and_an_empty_page_as_a_search(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    updated(client, auth(DPS), rid, "Versjon 2")
    before = len(audit_trail(client, auth))
    history(client, auth(DPS), query="_count=5")
    events = audit_trail(client, auth)[before:-1]
    named = sorted(e["entity"][0]["what"]["reference"] for e in events)
    assert named == [f"CarePlan/{rid}/_history/1", f"CarePlan/{rid}/_history/2"]
    assert all(e["action"] == "R" and e["outcome"] == "0" for e in events)
    assert all(any(x.get("description", "").startswith("CarePlan/_history") for x in e["entity"]) for e in events)
    before = len(audit_trail(client, auth))
    history(client, auth(STRANGER), "/_history")
    events = audit_trail(client, auth)[before:-1]
    assert len(events) == 1 and [x.get("description") for x in events[0]["entity"]] == ["_history"]
