"""fhirclient (SMART on FHIR's Python client, PyPI) against a real ``samhandling serve --demo``, through its
documented API: its R4 models (strict: an element R4 does not define, or a required one missing, raises),
``create``/``read``/``read_from``, ``FHIRSearch`` with ``include`` and ``perform_iter`` (which follows the next
links), and a transaction Bundle's ``create``. Each test asserts what fhirclient documents, so a server that
answers otherwise fails it.

What fhirclient cannot do, whatever the server: send a header of the caller's (its ``put_json`` and
``post_json`` take none), so no ``If-Match`` on an update (the test shows the 428) and no conditional create
(``If-None-Exist``; not tested, nothing to call). It has no vread or history calls: ``read_from`` reads those
paths. The token goes in as a saved state (``FHIRClient(state=...)``, an ``oauth2`` auth with its access
token); reading the CapabilityStatement through that client would replace it (fhirclient picks its auth
anew from ``rest.security``, which names no SMART endpoints here: the token comes from HelseID, not from a
SMART launch), so the CapabilityStatement is read by a client of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from client_helpers import PATIENT, RunningService, new_goal, new_plan, transaction, transaction_ids
from fhirclient.client import FHIRClient
from fhirclient.models.bundle import Bundle
from fhirclient.models.careplan import CarePlan
from fhirclient.models.goal import Goal
from fhirclient.models.patient import Patient
from fhirclient.server import FHIRServer

SYSTEM = "urn:samhandling-test:fhirclient"
APP = "samhandling-client-tests"


@pytest.fixture(scope="module")
def server(service: RunningService) -> Iterator[FHIRServer]:
    """Scope: module. Type: fhirclient's FHIRServer of a client restored from a state holding the DPS's token;
    its HTTP session is closed at the end (an open keep-alive connection holds up gunicorn's graceful stop)."""
    auth = {"app_id": APP, "access_token": service.token()}
    state = {"app_id": APP, "server": {"base_uri": service.base_url, "auth_type": "oauth2", "auth": auth}}
    client = FHIRClient(state=state)
    assert client.ready
    yield client.server
    client.server.session.close()


def created(server: FHIRServer, value: str, **changes: Any) -> CarePlan:
    """A new plan with the identifier ``SYSTEM|value``, created with fhirclient and read back (strictly)."""
    answer = CarePlan(new_plan(SYSTEM, value, **changes)).create(server)
    assert answer is not None and answer["resourceType"] == "CarePlan"
    return CarePlan.read(answer["id"], server)


def test_the_capability_statement_reads_as_an_r4_model(service: RunningService) -> None:
    client = FHIRClient(settings={"app_id": APP, "api_base": service.base_url})
    statement = client.server.capabilityStatement
    client.server.session.close()
    assert statement.fhirVersion == "4.0.1" and statement.kind == "instance"
    served = {resource.type: {i.code for i in resource.interaction} for resource in statement.rest[0].resource}
    assert {"read", "vread", "search-type", "create", "update", "history-instance"} <= served["CarePlan"]


def test_create_read_vread_and_instance_history(server: FHIRServer) -> None:
    plan = created(server, "crud")
    assert plan.meta.versionId == "1" and plan.identifier[0].system == SYSTEM
    assert plan.subject.reference == f"Patient/{PATIENT}"

    version = CarePlan.read_from(f"CarePlan/{plan.id}/_history/1", server)
    assert version.id == plan.id and version.meta.versionId == "1"

    history = Bundle.read_from(f"CarePlan/{plan.id}/_history", server)
    assert history.type == "history" and history.total == 1
    assert [entry.resource.id for entry in history.entry] == [plan.id]
    assert isinstance(history.entry[0].resource, CarePlan)


def test_update_is_refused_without_if_match_which_fhirclient_cannot_send(server: FHIRServer) -> None:
    """fhirclient's ``update()`` is a PUT without ``If-Match`` and has no way to add one: the server requires it
    (428, ADP-5042; R4 lets a server require it), so fhirclient cannot update here at all."""
    plan = created(server, "update")
    plan.description = "Endret med fhirclient"
    # requests' HTTPError, an OSError (requests itself is banned outside adapter.transport)
    with pytest.raises(OSError, match="^428 Client Error") as refused:
        plan.update()
    assert type(refused.value).__name__ == "HTTPError" and refused.value.response.status_code == 428
    assert CarePlan.read(plan.id, server).meta.versionId == "1"


def test_perform_iter_follows_the_next_links_across_pages(server: FHIRServer) -> None:
    values = [f"paged-{n}" for n in range(5)]
    ids = {created(server, value).id for value in values}
    search = CarePlan.where({"identifier": ",".join(f"{SYSTEM}|{v}" for v in values), "_count": "2"})

    bundles = list(search.perform_iter(server))
    assert [len(bundle.entry) for bundle in bundles] == [2, 2, 1]
    assert all(bundle.total == 5 for bundle in bundles)
    found = [plan.id for plan in search.perform_resources_iter(server)]
    assert len(found) == 5 and set(found) == ids


def test_include_and_revinclude(server: FHIRServer) -> None:
    goal_answer = Goal(new_goal(SYSTEM, "include")).create(server)
    assert goal_answer is not None
    goal_id = goal_answer["id"]
    plan = created(server, "include", goal=[{"reference": f"Goal/{goal_id}"}])

    search = CarePlan.where({"_id": plan.id}).include("goal")
    bundle = next(search.perform_iter(server))
    found = {(type(e.resource).__name__, e.resource.id): e.search.mode for e in bundle.entry}
    assert found == {("CarePlan", plan.id): "match", ("Goal", goal_id): "include"}

    # fhirclient names the element (CarePlan.subject), so the search parameter is CarePlan:subject
    reverse = Patient.where({"_id": PATIENT}).include("subject", CarePlan, reverse=True)
    assert "_revinclude=CarePlan:subject" in reverse.construct()
    patients = next(reverse.perform_iter(server))
    assert [e.resource.id for e in patients.entry if e.search.mode == "match"] == [PATIENT]
    assert plan.id in {e.resource.id for e in patients.entry if isinstance(e.resource, CarePlan)}


def test_transaction_creates_all_and_resolves_the_urn_uuid_references(server: FHIRServer) -> None:
    """A Bundle of type transaction is created at the base (fhirclient's ``createPath``)."""
    answer = Bundle(transaction(SYSTEM, "transaction")).create(server)
    assert answer is not None
    goal_id, plan_id = transaction_ids(answer)
    plan = CarePlan.read(plan_id, server)
    assert [goal.reference for goal in plan.goal] == [f"Goal/{goal_id}"]
    assert Goal.read(goal_id, server).identifier[0].value == "transaction"


def test_type_history_reads_as_history_bundles(server: FHIRServer) -> None:
    plan = created(server, "type-history")
    history = Bundle.read_from("CarePlan/_history?_count=500", server)
    assert history.type == "history"
    versions = [(e.resource.id, e.resource.meta.versionId, e.request.method) for e in history.entry]
    assert (plan.id, "1", "POST") in versions
    assert all(isinstance(e.resource, CarePlan) for e in history.entry)
