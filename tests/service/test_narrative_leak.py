"""The narrative a write gets shows nothing its writer may not read (found by an outsider attacking the service).

The service writes the readable text (``text.div``) of a created or updated record, naming what it references:
the patient's name and fødselsnummer, a goal's words, a condition's name, a care team's members. A stranger
organisation that references another patient's records from a record of its own must not read them in that text,
in the 201 answer, in a transaction's answer or in a later read. What the writer may not read is shown as its bare
reference."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, STRANGER, exchange

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
#: What Ola's records hold that only his carers may read.
SECRETS = ("Ola Nordmann", "15838510075", "+4790000001", "+4790000002", "schizofreni", "sted å bo", "Kari Nordmann")


@pytest.fixture
def shared(client: FlaskClient, auth: Auth) -> FlaskClient:
    """Scope: function. Type: the client after the consent, the DPS's crisis plan and individual plan of Ola were
    exchanged (his Patient, goals, conditions, care team and next of kin are stored)."""
    exchange(client, auth, (KOMMUNE, "samtykke"), (DPS, "kriseplan"), (KOMMUNE, "individuell-plan"))
    return client


def stranger_patient(client: FlaskClient, auth: Auth) -> str:
    """The stranger's own patient (Kari), so that its records are about someone it cares for."""
    patient = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:oid:2.16.578.1.12.4.1.4.1", "value": "01829000039"}],
        "name": [{"family": "Fremmed", "given": ["Kari"]}],
    }
    response = client.post("/Patient", json=patient, headers=auth(STRANGER))
    assert response.status_code == 201, response.get_json()
    return f"Patient/{response.get_json()['id']}"


def leaked(body: Any) -> list[str]:
    text = json.dumps(body, ensure_ascii=False)
    return [secret for secret in SECRETS if secret in text]


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Goal", "lifecycleStatus": "active", "description": {"text": "g"}, "subject": "OLA"},
        {
            "resourceType": "ServiceRequest",
            "status": "active",
            "intent": "order",
            "subject": "OWN",
            "reasonReference": [{"reference": "Condition/individuell-plan-ola-psykose"}],
        },
        {
            "resourceType": "CareTeam",
            "status": "active",
            "subject": "OWN",
            "participant": [
                {"member": {"reference": "RelatedPerson/parorende-kari"}},
                {"member": {"reference": "Patient/pasient-ola"}},
            ],
        },
        {
            "resourceType": "CarePlan",
            "status": "active",
            "intent": "plan",
            "subject": "OWN",
            "goal": [{"reference": "Goal/hva-er-viktig-ola"}],
        },
    ],
    ids=["goal-about-ola", "reason-ola-condition", "team-ola-next-of-kin", "plan-ola-goal"],
)
def test_a_strangers_record_shows_nothing_of_what_it_references_and_may_not_read(
    shared: FlaskClient, auth: Auth, resource: dict[str, Any]
) -> None:
    own = stranger_patient(shared, auth)
    subject = {"OLA": "Patient/pasient-ola", "OWN": own}[resource["subject"]]
    body = {**resource, "subject": {"reference": subject}}
    response = shared.post(f"/{body['resourceType']}", json=body, headers=auth(STRANGER))
    assert response.status_code == 201, response.get_json()  # written, with a narrative: else nothing is tested
    assert response.get_json()["text"]["status"] == "generated"
    assert leaked(response.get_json()) == []
    rid = response.get_json()["id"]
    assert leaked(shared.get(f"/{body['resourceType']}/{rid}", headers=auth(STRANGER)).get_json()) == []


def test_a_strangers_transaction_shows_nothing_of_what_it_references(shared: FlaskClient, auth: Auth) -> None:
    own = stranger_patient(shared, auth)
    plan = {
        "resourceType": "CarePlan",
        "status": "active",
        "intent": "plan",
        "subject": {"reference": own},
        "goal": [{"reference": "Goal/hva-er-viktig-ola"}],
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": plan, "request": {"method": "POST", "url": "CarePlan"}}],
    }
    response = shared.post("/", json=bundle, headers=auth(STRANGER), query_string={"_format": "json"})
    assert response.status_code == 200, response.get_json()
    (entry,) = response.get_json()["entry"]
    assert entry["response"]["status"].startswith("201") and entry["resource"]["text"]["status"] == "generated"
    assert leaked(response.get_json()) == []


def test_a_carers_record_still_names_what_it_references(shared: FlaskClient, auth: Auth) -> None:
    """The guard is not a blindfold: the DPS, Ola's carer, gets his name in the text of its own new goal."""
    goal = {
        "resourceType": "Goal",
        "lifecycleStatus": "active",
        "description": {"text": "Sove bedre"},
        "subject": {"reference": "Patient/pasient-ola"},
    }
    response = shared.post("/Goal", json=goal, headers=auth(DPS))
    assert response.status_code == 201, response.get_json()
    assert "Ola Nordmann" in response.get_json()["text"]["div"]


def test_a_strangers_refused_read_in_a_transaction_is_in_the_patients_audit_trail(
    shared: FlaskClient, auth: Auth
) -> None:
    """The read refused inside a transaction is rolled back with it; its AuditEvent is written again with the
    refusal, so that the patient's parties see the probe as they see the same read on its own."""
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"request": {"method": "GET", "url": "CarePlan/krise-og-mestringsplan-ola"}}],
    }
    response = shared.post("/", json=bundle, headers=auth(STRANGER))
    assert response.status_code == 403
    trail = shared.get(
        "/AuditEvent?patient=Patient/pasient-ola&_count=500", headers=auth(DPS, "samhandling/audit")
    ).get_json()
    probes = [
        e["resource"]
        for e in trail.get("entry", [])
        if any(a.get("who", {}).get("identifier", {}).get("value") == STRANGER for a in e["resource"]["agent"])
    ]
    assert probes and all(p["outcome"] != "0" for p in probes)
    assert any("krise-og-mestringsplan-ola" in json.dumps(p) for p in probes)
