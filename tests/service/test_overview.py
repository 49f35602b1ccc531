"""The patient overview (``GET /Patient/{id}/oversikt``) without a browser: what a party to Ola's care sees (the
hovedforløp, the coordinator, the goals, the crisis plan, the latest risk assessment, the referral with its deadline,
the consents, who has seen the data), a stranger refused with an HTML page and audited, and every text escaped."""

from __future__ import annotations

import json
import re
from typing import Any

from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, LEGEKONTOR, STRANGER, example_json
from test_pages import BROWSER, FHIR_JSON, Auth, audits, page_text, send, shared

URL = "/Patient/pasient-ola/oversikt"


def ola(client: FlaskClient, auth: Auth, attack: str = "") -> None:
    """Everything of Ola's the examples have: consent, individual plan, crisis plan, referral, coordinator and
    pathway, risk assessment, and the referral's status (a Task the DPS posts over REST)."""
    crisis = example_json("fhir/Bundle-melding-kriseplan-ola.json")
    risk = example_json("fhir/Bundle-melding-risikovurdering-ola.json")
    if attack:
        entry = next(e["resource"] for e in risk["entry"] if e["resource"]["resourceType"] == "RiskAssessment")
        entry["mitigation"] = attack
        entry["prediction"][0]["rationale"] = attack
    shared(client, auth, crisis)
    send(client, LEGEKONTOR, example_json("fhir/Bundle-melding-henvisning-ola.json"), auth)
    send(client, KOMMUNE, example_json("fhir/Bundle-melding-koordinator-ola.json"), auth)
    send(client, DPS, risk, auth)
    task = example_json("fhir/Task-henvisningsstatus-ola-rettighetsvurdert.json")
    task.pop("id")
    task.pop("text", None)
    if attack:
        task["note"][0]["text"] = attack
    posted = client.post("/Task", data=json.dumps(task), headers={**auth(DPS), **FHIR_JSON})
    assert posted.status_code == 201, posted.get_json()


def test_the_kommune_sees_olas_overview(client: FlaskClient, auth: Auth) -> None:
    ola(client, auth)
    answer = client.get(URL, headers={**auth(KOMMUNE, "samhandling/plans.read"), **BROWSER})
    assert answer.status_code == 200, answer.data[:800]
    assert answer.mimetype == "text/html" and "script-src" not in answer.headers["Content-Security-Policy"]
    html = answer.get_data(as_text=True)
    text = page_text(html)
    for key in (
        "Ola Nordmann",
        "Hovedforløp 3",  # the pathway level
        "Koordinator i kommunen Liv Berg",  # the coordinator and the team
        "Å ha et sted å bo og å komme i arbeid.",  # what matters to him
        "Siste risikovurdering",
        "Overdose høy",  # the latest risk assessment
        "Rettighetsvurdert: Rett til nødvendig helsehjelp",  # the referral's status
        "Frist 11.02.2026",
        "Deling med navngitte virksomheter : Tillater deling",  # the consent
        "Noe kan være skjult",
    ):
        assert key in text, key
    assert 'href="/Patient/pasient-ola/kriseplan"' in html  # the crisis plan's page
    assert "Du har ikke tilgang til loggen" in text  # no audit scope: the trail is not shown
    with_audit = client.get(URL, headers={**auth(KOMMUNE, "samhandling/plans.read", "samhandling/audit"), **BROWSER})
    trail = page_text(with_audit.get_data(as_text=True))
    assert "Hvem har sett opplysningene" in trail and "Bergen kommune, psykisk helse og rus" in trail
    assert "Du har ikke tilgang til loggen" not in trail


def test_the_deadline_is_marked_when_passed(client: FlaskClient, auth: Auth, service: Any) -> None:
    ola(client, auth)
    text = page_text(client.get(URL, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True))
    passed = service.clock() > 1770800000  # 11.02.2026 in seconds
    assert ("fristen er passert" in text) == passed, text


def test_a_stranger_gets_a_403_page_and_an_audit_event(client: FlaskClient, auth: Auth) -> None:
    ola(client, auth)
    answer = client.get(URL, headers={**auth(STRANGER), **BROWSER})
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert "Du har ikke tilgang til denne pasienten" in page_text(answer.get_data(as_text=True))
    refused = [
        e
        for e in audits(client, auth)
        if any(a.get("who", {}).get("identifier", {}).get("value") == STRANGER for a in e.get("agent", []))
        and e.get("outcome") != "0"
    ]
    assert refused
    missing = client.get("/Patient/finnes-ikke/oversikt", headers={**auth(KOMMUNE), **BROWSER})
    assert missing.status_code == 404 and "Fant ikke pasienten" in missing.get_data(as_text=True)
    assert client.get(URL).status_code == 401


def test_an_attackers_text_is_escaped(client: FlaskClient, auth: Auth) -> None:
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    ola(client, auth, attack)
    html = client.get(URL, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    assert "<script" not in html and "<img" not in html
    assert html.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 3


def test_a_browser_reading_a_patient_gets_the_overview_and_a_fhir_client_the_patient(
    client: FlaskClient, auth: Auth
) -> None:
    shared(client, auth)
    page = client.get("/Patient/pasient-ola", headers={**auth(KOMMUNE), "Accept": "text/html"})
    assert page.status_code == 200 and page.mimetype == "text/html" and "Hovedforløp" in page.get_data(as_text=True)
    fhir = client.get("/Patient/pasient-ola", headers={**auth(KOMMUNE), "Accept": "application/fhir+json"})
    assert fhir.get_json()["resourceType"] == "Patient"
    assert client.get("/Patient/pasient-ola", headers={**auth(STRANGER), "Accept": "text/html"}).status_code == 403


def test_each_goal_is_listed_once(client: FlaskClient, auth: Auth) -> None:
    """A goal the plan names is also found by the search for the patient's goals: listed once."""
    shared(client, auth)
    page = client.get(URL, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    assert page.count("Å ha et sted å bo og å komme i arbeid.") == 1


def test_who_has_seen_lists_no_refused_attempt_and_no_made_up_organisation(client: FlaskClient, auth: Auth) -> None:
    """A stranger's refused reads saw nothing: they are in the audit trail, not in "who has seen" (outside test)."""
    shared(client, auth)
    for _ in range(3):
        assert client.get(URL, headers={**auth(STRANGER), **BROWSER}).status_code == 403
    page = client.get(URL, headers={**auth(DPS), **BROWSER}).get_data(as_text=True)
    seen = " ".join(re.sub(r"<[^>]+>", " ", page).split())
    trail = seen[seen.index("Hvem har sett") :]
    assert STRANGER not in trail and "HER-id Patient/" not in trail
