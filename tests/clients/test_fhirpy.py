"""fhirpy (beda-software, PyPI) against a real ``samhandling serve --demo``, through its documented API: resources
saved and read, searches paged with ``fetch_all`` and iteration, ``_include``/``_revinclude`` with
``fetch_raw``, conditional create, ``execute`` for vread, history and transactions. Each test asserts what fhirpy
documents, so a server that answers otherwise fails it; where fhirpy itself cannot do what R4 asks (it sends no
``If-Match``, its conditional create and ``count()`` use Aidbox's forms), the test says so and shows what happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from client_helpers import (
    PATIENT,
    RunningService,
    issue_codes,
    new_goal,
    new_plan,
    transaction,
    transaction_ids,
)
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, OperationOutcome

SYSTEM = "urn:samhandling-test:fhirpy"


@pytest.fixture(scope="module")
def client(service: RunningService) -> SyncFHIRClient:
    """Scope: module. Type: fhirpy's SyncFHIRClient with the DPS's token (plans.read, plans.write)."""
    return SyncFHIRClient(service.base_url, authorization=f"Bearer {service.token()}")


def with_headers(service: RunningService, **headers: str) -> SyncFHIRClient:
    """A client that sends ``headers`` with every request: fhirpy's only way to send a header it has no API for
    (``extra_headers``, a documented argument of the client)."""
    return SyncFHIRClient(service.base_url, authorization=f"Bearer {service.token()}", extra_headers=headers)


def created(client: SyncFHIRClient, value: str, **changes: Any) -> Any:
    """A new plan with the identifier ``SYSTEM|value``, saved with fhirpy (a POST)."""
    plan = client.resource("CarePlan", **new_plan(SYSTEM, value, **changes))
    plan.save()
    return plan


def pages(client: SyncFHIRClient, path: str) -> Iterator[Any]:
    """Every Bundle of a history, following its next links with ``execute`` (fhirpy has no history API)."""
    url: str | None = path
    while url:
        bundle = client.execute(url, method="get")
        yield bundle
        url = next((link["url"] for link in bundle.get("link", []) if link["relation"] == "next"), None)


def test_create_read_vread_and_instance_history(client: SyncFHIRClient) -> None:
    plan = created(client, "crud")
    assert plan.id and plan.meta.versionId == "1"

    read = client.reference("CarePlan", plan.id).to_resource()
    assert read.id == plan.id and read.identifier == [{"system": SYSTEM, "value": "crud"}]
    assert client.get("CarePlan", plan.id)["meta"]["versionId"] == "1"

    version = client.reference("CarePlan", plan.id).execute("_history/1", method="get")
    assert version["resourceType"] == "CarePlan" and version["id"] == plan.id and version["meta"]["versionId"] == "1"

    history = client.reference("CarePlan", plan.id).execute("_history", method="get")
    assert history["resourceType"] == "Bundle" and history["type"] == "history" and history["total"] == 1
    assert [e["resource"]["id"] for e in history["entry"]] == [plan.id]


def test_update_needs_if_match_which_fhirpy_sends_only_as_a_client_header(
    client: SyncFHIRClient, service: RunningService
) -> None:
    """fhirpy's ``save()`` of a resource with an id is a PUT without ``If-Match``: the server requires it (428,
    ADP-5042; R4 lets a server require it). fhirpy has no argument for it, so the update goes through a client
    whose ``extra_headers`` carry the version read. A stale one is a 412, which fhirpy reports as
    ``MultipleResourcesFound`` (it takes every 412 for that)."""
    plan = created(client, "update")
    plan.description = "Endret med fhirpy"
    with pytest.raises(OperationOutcome) as refused:
        plan.save()
    assert issue_codes(refused.value.resource) == ["ADP-5042"]

    current = with_headers(service, **{"If-Match": f'W/"{plan.meta.versionId}"'})
    updated = current.resource("CarePlan", **plan.serialize())
    updated.save()
    assert updated.id == plan.id and updated.meta.versionId == "2"
    assert client.reference("CarePlan", plan.id).to_resource().description == "Endret med fhirpy"

    stale = current.resource("CarePlan", **{**updated.serialize(), "description": "Basert på versjon 1"})
    with pytest.raises(MultipleResourcesFound):
        stale.save()
    assert client.get("CarePlan", plan.id)["meta"]["versionId"] == "2"


def test_refresh_reloads_a_changed_resource_and_keeps_a_current_one(
    client: SyncFHIRClient, service: RunningService
) -> None:
    """fhirpy's ``refresh()`` is a conditional read: ``If-None-Match`` with the bare versionId (not the ETag's
    ``W/"n"``); the server answers 304 when it is current, which fhirpy takes as "keep what you have"."""
    plan = created(client, "refresh")
    stale = client.reference("CarePlan", plan.id).to_resource()
    current = with_headers(service, **{"If-Match": 'W/"1"'})
    current.resource("CarePlan", **{**plan.serialize(), "description": "Andre versjon"}).save()

    stale.refresh()
    assert stale.meta.versionId == "2" and stale.description == "Andre versjon"
    stale.refresh()  # current now: 304, nothing changes
    assert stale.meta.versionId == "2" and stale.description == "Andre versjon"


def test_fetch_all_and_iteration_follow_the_next_links_across_pages(client: SyncFHIRClient) -> None:
    values = [f"paged-{n}" for n in range(5)]
    ids = {created(client, value).id for value in values}
    search = client.resources("CarePlan").search(identifier=",".join(f"{SYSTEM}|{v}" for v in values)).limit(2)

    first = search.fetch_raw()
    assert first["total"] == 5 and len(first["entry"]) == 2
    assert any(link["relation"] == "next" for link in first["link"])
    assert len(search.fetch()) == 2  # one page, as fhirpy documents

    everything = search.fetch_all()  # three pages: 2 + 2 + 1
    assert len(everything) == 5 and {plan.id for plan in everything} == ids
    assert [plan.id for plan in search] == [plan.id for plan in everything]


def test_include_and_revinclude_with_fetch_raw(client: SyncFHIRClient) -> None:
    goal = client.resource("Goal", **new_goal(SYSTEM, "include"))
    goal.save()
    plan = created(client, "include", goal=[{"reference": f"Goal/{goal.id}"}])

    search = client.resources("CarePlan").search(_id=plan.id).include("CarePlan", "goal")
    bundle = search.fetch_raw()
    found = {(e.resource.resourceType, e.resource.id): e.search.mode for e in bundle.entry}
    assert found == {("CarePlan", plan.id): "match", ("Goal", goal.id): "include"}
    assert [p.id for p in search.fetch()] == [plan.id]  # fetch() leaves the included out, as documented

    patients = client.resources("Patient").search(_id=PATIENT).revinclude("CarePlan", "patient").fetch_raw()
    matches = [e.resource.id for e in patients.entry if e.search.mode == "match"]
    included = {e.resource.id for e in patients.entry if e.resource.resourceType == "CarePlan"}
    assert matches == [PATIENT] and plan.id in included


def test_conditional_create_with_if_none_exist_creates_once(client: SyncFHIRClient, service: RunningService) -> None:
    """R4's conditional create is a POST with ``If-None-Exist``; fhirpy sends it only as a client header."""
    conditional = with_headers(service, **{"If-None-Exist": f"identifier={SYSTEM}|conditional"})
    first = conditional.resource("CarePlan", **new_plan(SYSTEM, "conditional"))
    first.save()
    again = conditional.resource("CarePlan", **new_plan(SYSTEM, "conditional"))
    again.save()
    assert again.id == first.id
    assert len(client.resources("CarePlan").search(identifier=f"{SYSTEM}|conditional").fetch_all()) == 1


def test_get_or_create_sends_its_search_in_the_url_which_is_refused_not_ignored(client: SyncFHIRClient) -> None:
    """fhirpy's ``get_or_create`` (and ``resource.create(**search)``) is ``POST /CarePlan?identifier=...``,
    Aidbox's form: R4 defines no search on a create (its conditional create is ``If-None-Exist``, tested above).
    Ignored, the search would make a duplicate; the server refuses it (400, ADP-5057) and creates
    nothing, so fhirpy raises instead of returning "created"."""
    search = client.resources("CarePlan").search(identifier=f"{SYSTEM}|get-or-create")
    for _ in range(2):
        with pytest.raises(OperationOutcome) as refused:
            search.get_or_create(client.resource("CarePlan", **new_plan(SYSTEM, "get-or-create")))
        assert issue_codes(refused.value.resource) == ["ADP-5057"]
    assert search.fetch_all() == []


def test_count_sends_a_parameter_the_server_refuses_and_r4s_total_works(client: SyncFHIRClient) -> None:
    """fhirpy's ``count()`` asks ``_count=0&_totalMethod=count``; ``_totalMethod`` is Aidbox's, and the server
    answers any parameter it does not know with a 400 (ADP-5023) rather than ignoring it. R4's way to the
    total, ``_count=0`` (``limit(0)``), works."""
    values = [f"counted-{n}" for n in range(3)]
    for value in values:
        created(client, value)
    search = client.resources("CarePlan").search(identifier=",".join(f"{SYSTEM}|{v}" for v in values))
    with pytest.raises(OperationOutcome) as refused:
        search.count()
    assert issue_codes(refused.value.resource) == ["ADP-5023"] and "_totalMethod" in str(refused.value)
    assert search.limit(0).fetch_raw()["total"] == 3


def test_search_by_the_identifier_system_alone_finds_every_value_of_it(client: SyncFHIRClient) -> None:
    system = f"{SYSTEM}:system-only"
    ids = set()
    for n in range(2):
        plan = client.resource("CarePlan", **new_plan(system, f"v{n}"))
        plan.save()
        ids.add(plan.id)
    assert {plan.id for plan in client.resources("CarePlan").search(identifier=f"{system}|").fetch_all()} == ids


def test_transaction_creates_all_and_resolves_the_urn_uuid_references(client: SyncFHIRClient) -> None:
    """fhirpy has no transaction API: ``execute`` posts the Bundle to the base."""
    answer = client.execute("", method="post", data=transaction(SYSTEM, "transaction"))
    goal_id, plan_id = transaction_ids(answer)
    plan = client.reference("CarePlan", plan_id).to_resource()
    assert plan.identifier == [{"system": SYSTEM, "value": "transaction"}]
    assert plan.serialize()["goal"] == [{"reference": f"Goal/{goal_id}"}]
    assert client.reference("Goal", goal_id).to_resource().identifier == [{"system": SYSTEM, "value": "transaction"}]


def test_a_transaction_with_an_invalid_entry_stores_nothing(client: SyncFHIRClient) -> None:
    bundle = transaction(SYSTEM, "transaction-refused")
    bundle["entry"][1]["resource"]["status"] = "ikke-en-status"  # not of the required binding: the plan fails
    with pytest.raises(OperationOutcome):
        client.execute("", method="post", data=bundle)
    for rtype in ("Goal", "CarePlan"):
        assert client.resources(rtype).search(identifier=f"{SYSTEM}|transaction-refused").fetch_all() == []


def test_type_history_lists_every_version_newest_first(client: SyncFHIRClient, service: RunningService) -> None:
    plan = created(client, "type-history")
    current = with_headers(service, **{"If-Match": 'W/"1"'})
    current.resource("CarePlan", **{**plan.serialize(), "description": "Andre versjon"}).save()

    bundles = list(pages(client, "CarePlan/_history"))
    assert {bundle["type"] for bundle in bundles} == {"history"}
    entries = [entry for bundle in bundles for entry in bundle.get("entry", [])]
    ours = [
        (e["resource"]["meta"]["versionId"], e["request"]["method"])
        for e in entries
        if e.get("resource", {}).get("id") == plan.id
    ]
    assert ours == [("2", "PUT"), ("1", "POST")]
    assert {e["resource"]["resourceType"] for e in entries if "resource" in e} == {"CarePlan"}
