"""The search result parameters of R4 (issue 17, point 1): ``_summary`` (``count``, ``true``), ``_elements``,
``_sort`` and ``_include``/``_revinclude`` (CarePlan -> Goal, CareTeam, Patient, author; Patient <- CarePlan),
written as a client and as an attacker would use them. What is included keeps every rule of a read: nothing of
another patient's, nothing the caller may not read (a deny wins), and each included resource audited as disclosed.
Anything the service does not serve is a 400 (ADP-5023), never silently ignored."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, STRANGER, audit_trail, deny_consent, example_json, issue_codes

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
AUDIT = "samhandling/audit"
HER = "urn:oid:2.16.578.1.12.4.1.2"
PLAN = "krise-og-mestringsplan-ola"
ALL_INCLUDES = "&".join(
    f"_include=CarePlan:{p}" for p in ("goal", "care-team", "patient", "author")
)  # the four a crisis plan's page follows
SUBSETTED = "SUBSETTED"


def entries(response: Any) -> list[tuple[str, str]]:
    """(Type/id, search mode) of a searchset's entries, in order."""
    assert response.status_code == 200, response.get_json()
    found = response.get_json().get("entry", [])
    return [(f"{e['resource']['resourceType']}/{e['resource']['id']}", e["search"]["mode"]) for e in found]


def named(events: list[dict[str, Any]]) -> set[str]:
    """The resources (Type/id) the events name."""
    return {
        x.get("what", {}).get("reference", "").split("/_history")[0] for event in events for x in event["entity"]
    } - {""}


def included_disclosures(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if "included with the search" in (e.get("outcomeDesc") or "")]


def other_patient(bundle: dict[str, Any]) -> dict[str, Any]:
    """Ola's crisis plan message made over for another patient (Per): other ids, another fødselsnummer."""
    text = json.dumps(bundle).replace("-ola", "-per").replace("15838510075", "01019010046")
    made: dict[str, Any] = json.loads(text)
    made["entry"][0]["resource"]["reason"] = {
        "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}],
        "text": "Samarbeidende personell trenger planen",
    }
    return made


def new_plan(client: FlaskClient, auth: Auth, title: str) -> str:
    """The id of a new plan of Ola's the DPS writes over REST."""
    body = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    for name in ("id", "identifier", "text"):
        body.pop(name, None)
    response = client.post("/CarePlan", json={**body, "title": title}, headers=auth(DPS))
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["id"])


# --- _include and _revinclude ------------------------------------------------------------------------------------


def test_include_gives_the_plans_goal_care_team_patient_and_author_each_audited(
    shared: FlaskClient, auth: Auth
) -> None:
    for org in (DPS, KOMMUNE):  # a party, and the kommune under Ola's consent
        before = len(audit_trail(shared, auth))
        found = entries(shared.get(f"/CarePlan?_id={PLAN}&{ALL_INCLUDES}", headers=auth(org)))
        assert found == [
            (f"CarePlan/{PLAN}", "match"),
            ("Goal/hva-er-viktig-ola", "include"),
            ("CareTeam/koordinatorteam-ola", "include"),
            ("Patient/pasient-ola", "include"),
            ("Practitioner/koordinator-kommune", "include"),  # not served by REST: of no patient, as a page has it
        ], org
        disclosed = included_disclosures(audit_trail(shared, auth)[before:-1])
        assert named(disclosed) == {ref for ref, mode in found if mode == "include"}
        for event in disclosed:
            assert [a["who"]["identifier"]["value"] for a in event["agent"]].count(org) >= 1
    # the total counts the matches only; one include alone, and an include by its target type
    response = shared.get(f"/CarePlan?_id={PLAN}&_include=CarePlan:goal", headers=auth(DPS))
    assert response.get_json()["total"] == 1
    assert entries(response) == [(f"CarePlan/{PLAN}", "match"), ("Goal/hva-er-viktig-ola", "include")]
    typed = shared.get(f"/CarePlan?_id={PLAN}&_include=CarePlan:author:Organization", headers=auth(DPS))
    assert entries(typed) == [(f"CarePlan/{PLAN}", "match")]
    # the same by POST _search
    form = {"_id": PLAN, "_include": "CarePlan:goal"}
    assert entries(shared.post("/CarePlan/_search", data=form, headers=auth(KOMMUNE))) == entries(response)


def test_revinclude_gives_the_patients_plans_the_caller_may_read(shared: FlaskClient, auth: Auth) -> None:
    query = "/Patient?_id=pasient-ola&_revinclude=CarePlan:patient"
    before = len(audit_trail(shared, auth))
    assert entries(shared.get(query, headers=auth(KOMMUNE))) == [
        ("Patient/pasient-ola", "match"),
        (f"CarePlan/{PLAN}", "include"),
    ]
    assert f"CarePlan/{PLAN}" in named(included_disclosures(audit_trail(shared, auth)[before:-1]))
    # a stranger finds not the patient, and so nothing along with it
    assert entries(shared.get(query, headers=auth(STRANGER))) == []
    # a plan a stranger wrote about Ola goes along exactly when the caller may read it by itself
    body = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    for name in ("id", "identifier", "text"):
        body.pop(name, None)
    theirs = shared.post("/CarePlan", json=body, headers=auth(STRANGER, "samhandling/plans.write"))
    assert theirs.status_code == 201, theirs.get_json()
    plans = (f"CarePlan/{PLAN}", f"CarePlan/{theirs.get_json()['id']}")
    for org in (DPS, KOMMUNE, LEGEKONTOR, STRANGER):
        given = {ref for ref, mode in entries(shared.get(query, headers=auth(org))) if mode == "include"}
        readable = {ref for ref in plans if shared.get(f"/{ref}", headers=auth(org)).status_code == 200}
        patient = shared.get("/Patient/pasient-ola", headers=auth(org)).status_code == 200
        assert given == (readable if patient else set()), org


def test_a_forged_reference_to_another_patients_goal_is_never_included(shared: FlaskClient, auth: Auth) -> None:
    response = shared.post(
        "/$process-message",
        data=json.dumps(other_patient(example_json("fhir/Bundle-melding-kriseplan-ola.json"))),
        headers={**auth(DPS), "Content-Type": "application/fhir+json"},
    )
    assert response.status_code == 200
    assert shared.get("/Goal/hva-er-viktig-per", headers=auth(DPS)).status_code == 200  # the DPS may read it
    read = shared.get(f"/CarePlan/{PLAN}", headers=auth(DPS))
    plan = read.get_json()
    plan["goal"] = [{"reference": "Goal/hva-er-viktig-per"}]
    plan["careTeam"] = [{"reference": "CareTeam/koordinatorteam-per"}]
    plan.pop("text", None)
    changed = shared.put(f"/CarePlan/{PLAN}", json=plan, headers={**auth(DPS), "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.get_json()
    before = len(audit_trail(shared, auth))
    for org in (DPS, KOMMUNE):
        found = entries(shared.get(f"/CarePlan?_id={PLAN}&{ALL_INCLUDES}", headers=auth(org)))
        refs = {ref for ref, _ in found}
        assert "Goal/hva-er-viktig-per" not in refs and "CareTeam/koordinatorteam-per" not in refs, org
        assert "Patient/pasient-ola" in refs
    assert "-per" not in json.dumps(included_disclosures(audit_trail(shared, auth)[before:-1]))


def test_a_record_the_caller_may_not_read_is_never_included(shared: FlaskClient, auth: Auth) -> None:
    query = f"/CarePlan?_id={PLAN}&{ALL_INCLUDES}"
    assert ("Goal/hva-er-viktig-ola", "include") in entries(shared.get(query, headers=auth(LEGEKONTOR)))
    denied = shared.post("/Consent", json=deny_consent(LEGEKONTOR, "Goal"), headers=auth(KOMMUNE))
    assert denied.status_code == 201, denied.get_json()
    assert shared.get("/Goal/hva-er-viktig-ola", headers=auth(LEGEKONTOR)).status_code == 403
    before = len(audit_trail(shared, auth))
    found = entries(shared.get(query, headers=auth(LEGEKONTOR)))
    assert (f"CarePlan/{PLAN}", "match") in found and "Goal/hva-er-viktig-ola" not in {r for r, _ in found}
    assert "Goal/hva-er-viktig-ola" not in named(included_disclosures(audit_trail(shared, auth)[before:-1]))
    # denied all: nothing found, nothing included
    assert shared.post("/Consent", json=deny_consent(LEGEKONTOR), headers=auth(KOMMUNE)).status_code == 201
    assert entries(shared.get(query, headers=auth(LEGEKONTOR))) == []
    revinclude = shared.get("/Patient?_id=pasient-ola&_revinclude=CarePlan:patient", headers=auth(LEGEKONTOR))
    assert f"CarePlan/{PLAN}" not in {ref for ref, _ in entries(revinclude)}  # (the fastlege still has Ola)
    # a stranger gets nothing along with nothing
    assert entries(shared.get(query, headers=auth(STRANGER))) == []


@pytest.mark.parametrize(
    "query",
    [
        "CarePlan?_include=CarePlan:activity-reference",
        "CarePlan?_include=*",
        "CarePlan?_include=Goal:patient",
        "CarePlan?_include=CarePlan",
        "CarePlan?_include=CarePlan:goal:Goal:x",
        "CarePlan?_include:iterate=CarePlan:goal",
        "CarePlan?_revinclude=Goal:patient",
        "Patient?_revinclude=Goal:patient",
        "Patient?_include=CarePlan:goal",
        "Goal?_include=Goal:patient",
        "CarePlan?_sort=title",
        "CarePlan?_sort=date",
        "CarePlan?_sort=",
        "CarePlan?_summary=text",
        "CarePlan?_summary=data",
        "CarePlan?_summary=count&_summary=true",
        "CarePlan?_summary=true&_elements=status",
        "CarePlan?_elements=1x",
        "CarePlan?_elements=status.coding",
        "AuditEvent?patient=Patient/pasient-ola&_sort=_lastUpdated",
    ],
)
def test_what_is_not_served_is_a_400_and_audited(client: FlaskClient, auth: Auth, query: str) -> None:
    scopes = ("samhandling/plans.read", AUDIT) if query.startswith("AuditEvent") else ("samhandling/plans.read",)
    response = client.get(f"/{query}", headers=auth(DPS, *scopes))
    assert response.status_code == 400, response.get_json()
    assert issue_codes(response.get_json()) == ["ADP-5023"]
    if not query.startswith("AuditEvent"):
        refused = [e for e in audit_trail(client, auth) if e["outcome"] == "4"]
        assert refused, "the refused search is audited"


# --- _sort ---------------------------------------------------------------------------------------------------------


def test_sort_by_last_updated_and_id(shared: FlaskClient, auth: Auth) -> None:
    made = [new_plan(shared, auth, f"Plan {n}") for n in range(3)]
    ids = [PLAN, *made]  # oldest first

    def order(sort: str) -> list[str]:
        return [ref.split("/")[1] for ref, _ in entries(shared.get(f"/CarePlan?_sort={sort}", headers=auth(DPS)))]

    assert order("_lastUpdated") == ids
    assert order("-_lastUpdated") == ids[::-1]
    assert order("_id") == sorted(ids)
    assert order("-_id") == sorted(ids, reverse=True)
    assert order("-_lastUpdated,_id") == ids[::-1]
    # sorted before paging: the second page goes on where the first ended
    first = shared.get("/CarePlan?_sort=_id&_count=2", headers=auth(DPS)).get_json()
    after = shared.get("/CarePlan?_sort=_id&_count=2&_offset=2", headers=auth(DPS)).get_json()
    paged = [e["resource"]["id"] for e in (*first["entry"], *after["entry"])]
    assert paged == sorted(ids)
    assert any("_sort=_id" in link["url"] for link in first["link"] if link["relation"] == "next")


# --- _summary and _elements --------------------------------------------------------------------------------------


def test_summary_count_gives_the_total_only(shared: FlaskClient, auth: Auth) -> None:
    before = len(audit_trail(shared, auth))
    bundle = shared.get("/CarePlan?_summary=count", headers=auth(KOMMUNE)).get_json()
    assert bundle["total"] == 1 and "entry" not in bundle
    events = audit_trail(shared, auth)[before:-1]
    assert [e["action"] for e in events] == ["E"] and not named(events)  # a search, nothing disclosed
    assert shared.get("/CarePlan?_summary=count", headers=auth(STRANGER)).get_json()["total"] == 0
    with_include = shared.get(f"/CarePlan?_summary=count&{ALL_INCLUDES}", headers=auth(KOMMUNE)).get_json()
    assert with_include["total"] == 1 and "entry" not in with_include


def test_summary_true_gives_the_summary_elements_tagged_subsetted(shared: FlaskClient, auth: Auth) -> None:
    full = shared.get(f"/CarePlan/{PLAN}", headers=auth(KOMMUNE)).get_json()
    response = shared.get(f"/CarePlan?_id={PLAN}&_summary=true&_include=CarePlan:goal", headers=auth(KOMMUNE))
    found = [e["resource"] for e in response.get_json()["entry"]]
    plan, goal = found
    assert {"resourceType", "id", "meta", "status", "intent", "subject", "title", "category"} <= set(plan)
    for left_out in ("text", "activity", "goal", "careTeam", "note", "contributor"):
        assert left_out not in plan and left_out in full, left_out
    assert plan["meta"]["versionId"] == full["meta"]["versionId"]
    for resource in found:  # the included ones are summarised too
        assert SUBSETTED in [t.get("code") for t in resource["meta"]["tag"]], resource["resourceType"]
        assert "text" not in resource
    assert "description" in goal and "lifecycleStatus" in goal
    # _summary=false is the whole resource, not tagged
    whole = shared.get(f"/CarePlan?_id={PLAN}&_summary=false", headers=auth(KOMMUNE)).get_json()["entry"][0]
    assert "activity" in whole["resource"] and SUBSETTED not in json.dumps(whole["resource"]["meta"])
    # the stored record is not changed by a summary
    assert shared.get(f"/CarePlan/{PLAN}", headers=auth(KOMMUNE)).get_json()["meta"] == full["meta"]


def test_elements_gives_the_named_and_the_mandatory_elements(shared: FlaskClient, auth: Auth) -> None:
    response = shared.get(f"/CarePlan?_id={PLAN}&_elements=status,title&_include=CarePlan:goal", headers=auth(DPS))
    plan, goal = (e["resource"] for e in response.get_json()["entry"])
    assert set(plan) == {"resourceType", "id", "meta", "status", "title"}
    assert SUBSETTED in [t.get("code") for t in plan["meta"]["tag"]]
    assert "description" in goal  # an included resource is whole
    # an element the type does not have leaves the mandatory ones; a stranger still finds nothing
    bare = shared.get(f"/CarePlan?_id={PLAN}&_elements=nosuch", headers=auth(DPS)).get_json()["entry"][0]
    assert set(bare["resource"]) == {"resourceType", "id", "meta"}
    assert entries(shared.get("/CarePlan?_elements=status", headers=auth(STRANGER))) == []


# --- the CapabilityStatement -----------------------------------------------------------------------------------


def test_capability_statement_lists_the_includes_and_they_work(shared: FlaskClient, auth: Auth) -> None:
    statement = shared.get("/metadata").get_json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    assert set(resources["CarePlan"]["searchInclude"]) >= {
        "CarePlan:goal",
        "CarePlan:care-team",
        "CarePlan:patient",
        "CarePlan:author",
    }
    assert resources["Patient"]["searchRevInclude"] == ["CarePlan:patient", "CarePlan:subject"]
    for rtype, resource in resources.items():
        for value in resource.get("searchInclude", []):
            assert shared.get(f"/{rtype}?_include={value}", headers=auth(DPS)).status_code == 200, value
        for value in resource.get("searchRevInclude", []):
            assert shared.get(f"/{rtype}?_revinclude={value}", headers=auth(DPS)).status_code == 200, value
        if rtype not in ("CarePlan", "AuditEvent"):
            assert "searchInclude" not in resource
            assert shared.get(f"/{rtype}?_include=CarePlan:goal", headers=auth(DPS)).status_code == 400
    documentation = statement["rest"][0]["documentation"]
    for words in ("_sort", "-_lastUpdated", "_summary", "count", "isSummary", "SUBSETTED", "_elements", "_include"):
        assert words in documentation, words
