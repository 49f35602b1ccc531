"""The person's own page (``/meg``) with a person's token, attacked first: the token reaches nothing else, names
one person only, and reads and writes only that person's records; their own words reach the organisations that
take part in their care (a deny still wins) and nobody else, are escaped on every page, and every read and write is
audited."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, STRANGER, ack_code, example_json, issue_codes

from adapter.records.person import find_patient
from adapter.service import Service

Auth = Callable[..., dict[str, str]]
FNR = "15838510075"  # Ola Nordmann (synthetic)
OTHER_FNR = "13031353453"  # a valid number of someone the service knows nothing of
HER = "urn:oid:2.16.578.1.12.4.1.2"
FHIR_JSON = {"Content-Type": "application/fhir+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}


def send(client: FlaskClient, org: str, bundle: dict[str, Any], auth: Auth) -> None:
    answer = client.post("/$process-message", data=json.dumps(bundle), headers={**auth(org), **FHIR_JSON})
    assert answer.status_code == 200 and ack_code(answer.get_json()) == "ok", json.dumps(answer.get_json())[-2000:]


def shared(client: FlaskClient, auth: Auth) -> None:
    """Ola's consent and individual plan from the kommune, his crisis plan from the DPS."""
    send(client, KOMMUNE, example_json("fhir/Bundle-melding-samtykke-ola.json"), auth)
    send(client, KOMMUNE, example_json("fhir/Bundle-melding-individuell-plan-ola.json"), auth)
    send(client, DPS, example_json("fhir/Bundle-melding-kriseplan-ola.json"), auth)


def person(service: Service, pid: str = FNR) -> dict[str, str]:
    return {"Authorization": f"Bearer {service.issuer.issue_person(pid, ttl_seconds=600)}"}


def signed(service: Service, **claims: Any) -> dict[str, str]:
    """A token from the demo issuer's own key with exactly these claims (and iss, aud, exp)."""
    now = int(time.time())
    body = {"iss": service.issuer.issuer, "aud": service.issuer.audience, "sub": "x", "iat": now, "exp": now + 600}
    token = jwt.encode(
        {**body, **claims}, service.issuer._private, algorithm="RS256", headers={"kid": service.issuer.kid}
    )
    return {"Authorization": f"Bearer {token}"}


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def audits(client: FlaskClient, auth: Auth) -> list[dict[str, Any]]:
    found = client.get("/AuditEvent?_count=500", headers=auth(DPS, "samhandling/audit")).get_json()
    return [e["resource"] for e in found.get("entry", [])]


def post_words(client: FlaskClient, headers: dict[str, str], important: str = "", helps: str = "") -> Any:
    return client.post("/meg", data={"viktig": important, "hjelper": helps}, headers={**headers, **FORM})


def own_goals(service: Service) -> list[Any]:
    """The Goals Ola wrote himself, as stored."""

    def work(tx: Any) -> list[Any]:
        found = find_patient(tx, FNR)
        assert found is not None
        return [g for g in tx.patient_resources("Goal", f"Patient/{found.id}") if g.creator == f"Patient/{found.id}"]

    return service.store.run(work)


# --- the token -----------------------------------------------------------------------------------------------


def test_a_persons_token_reaches_no_other_endpoint(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    ola = person(service)
    for method, path in (
        ("GET", "/CarePlan/krise-og-mestringsplan-ola"),
        ("GET", "/CarePlan?patient:identifier=" + FNR),
        ("GET", "/Patient?identifier=" + FNR),
        ("GET", "/AuditEvent?patient=Patient/pasient-ola"),
        ("GET", "/AuditEvent/1"),
        ("GET", f"/Patient/$krise?identifier={FNR}&reason=Jeg+vil+lese+planen"),
        ("GET", "/Patient/pasient-ola/kriseplan"),
        ("GET", "/Patient/pasient-ola/oversikt"),
        ("POST", "/$process-message"),
        ("POST", "/$validate"),
        ("POST", "/$convert"),
        ("POST", "/kith/messages"),
        ("GET", "/kith/receipts/x"),
        ("POST", "/Goal"),
        ("POST", "/CarePlan"),
        ("PUT", "/CarePlan/krise-og-mestringsplan-ola"),
        ("POST", "/Subscription"),
    ):
        answer = client.open(path, method=method, data=b"{}", headers={**ola, **FHIR_JSON})
        assert answer.status_code == 403, (method, path, answer.status_code)
        assert b"ADP-7025" in answer.data or "tokenet kan ikke brukes her" in answer.get_data(as_text=True), path
    # the metadata and the stylesheet stay open, as for anyone
    assert client.get("/metadata", headers=ola).status_code == 200


def test_a_forged_or_ambiguous_person_token_is_refused(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    bad_digit = FNR[:-1] + str((int(FNR[-1]) + 1) % 10)
    for headers, code in (
        (signed(service, pid=bad_digit, scope="samhandling/person"), "ADP-7024"),
        (signed(service, pid="1583851007", scope="samhandling/person"), "ADP-7024"),
        (signed(service, pid=15838510075, scope="samhandling/person"), "ADP-7024"),
        (signed(service, pid=FNR, org_her=KOMMUNE, scope="samhandling/person"), "ADP-7023"),
        (signed(service, pid=FNR, org_her=KOMMUNE, scope="samhandling/plans.read"), "ADP-7023"),
        (signed(service, org_her="Patient/pasient-ola", scope="samhandling/plans.read"), "ADP-7001"),
    ):
        for path in ("/meg", "/CarePlan/krise-og-mestringsplan-ola"):
            answer = client.get(path, headers={**headers, "Accept": "application/fhir+json"})
            assert answer.status_code == 401, (code, path)
            if path != "/meg":
                assert issue_codes(answer.get_json()) == [code]
    with pytest.raises(ValueError, match="fødselsnummer"):
        service.issuer.issue_person(bad_digit)
    # a person's token without the person's scope reaches nothing
    no_scope = client.get("/meg", headers=signed(service, pid=FNR, scope="samhandling/plans.read"))
    assert no_scope.status_code == 403


def test_an_organisation_cannot_use_the_persons_page(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    every = ("samhandling/plans.read", "samhandling/plans.write", "samhandling/person", "samhandling/admin")
    for headers in (auth(KOMMUNE), auth(DPS, *every)):
        assert client.get("/meg", headers=headers).status_code == 403
        answer = post_words(client, headers, important="Kommunen later som den er Ola")
        assert answer.status_code == 403 and answer.mimetype == "text/html"
    assert own_goals(service) == []


# --- reading -------------------------------------------------------------------------------------------------


def test_the_person_reads_all_their_own_records_and_nothing_else(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    shared(client, auth)
    answer = client.get("/meg", headers=person(service))
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    assert (
        answer.headers["Cache-Control"] == "no-store"
        and "form-action 'self'" in answer.headers["Content-Security-Policy"]
    )
    page = text(answer.get_data(as_text=True))
    for key in ("Hei, Ola Nordmann", "Hvem du kan kontakte", "Liv Berg", "Vestbyen DPS, ambulant akutteam"):
        assert key in page, key
    assert "Å ha et sted å bo og å komme i arbeid." in page  # the goal of his individual plan
    assert "Stemmene sier hva jeg skal gjøre" in page  # his crisis plan's warning signs
    # someone the service does not know: a 404 page, audited; nobody else's data
    other = client.get("/meg", headers=person(service, OTHER_FNR))
    assert other.status_code == 404 and "Ola" not in other.get_data(as_text=True)
    trail = audits(client, auth)
    read = [e for e in trail if "their own page" in (e.get("outcomeDesc") or "")]
    assert read and read[-1]["outcome"] == "0"
    agent = read[-1]["agent"][0]["who"]
    assert agent["identifier"]["value"] == FNR and agent["reference"] == "Patient/pasient-ola"
    assert any(x["what"]["reference"].startswith("CarePlan/krise-og-mestringsplan-ola") for x in read[-1]["entity"])
    assert any(e.get("outcome") == "8" and e["agent"][0]["who"]["identifier"]["value"] == OTHER_FNR for e in trail)


def test_a_deny_does_not_hide_the_persons_own_records_from_them(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    shared(client, auth)
    deny = client.post("/Consent", json=deny_consent(DPS), headers=auth(KOMMUNE))
    assert deny.status_code == 201, deny.get_json()
    page = text(client.get("/meg", headers=person(service)).get_data(as_text=True))
    assert "Stemmene sier hva jeg skal gjøre" in page and "Å ha et sted å bo" in page


# --- their own words -----------------------------------------------------------------------------------------


def deny_consent(org: str) -> dict[str, Any]:
    consent = example_json("fhir/Consent-samtykke-ola-deling.json")
    consent.pop("id")
    consent.pop("meta", None)
    consent["organization"] = [{"identifier": {"system": HER, "value": KOMMUNE}}]
    consent["provision"]["type"] = "deny"
    consent["provision"]["actor"] = [
        {**consent["provision"]["actor"][0], "reference": {"identifier": {"system": HER, "value": org}}}
    ]
    return consent


def test_the_persons_words_are_stored_as_their_own_goals(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    answer = post_words(client, person(service), important="Å få være hjemme med katten min", helps="Gåturer\r\nMusikk")
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/meg?lagret=1")
    goals = own_goals(service)
    assert len(goals) == 2
    important = next(g.body for g in goals if g.body["category"][0].get("coding"))
    helps = next(g.body for g in goals if not g.body["category"][0].get("coding"))
    assert important["meta"]["profile"] == ["http://samhandling.no/fhir/StructureDefinition/hva-er-viktig"]
    assert important["description"]["text"] == "Å få være hjemme med katten min"
    assert important["subject"] == important["expressedBy"] == {"reference": "Patient/pasient-ola"}
    assert important["lifecycleStatus"] == helps["lifecycleStatus"] == "proposed"
    assert helps["description"]["text"] == "Gåturer\nMusikk"
    for goal in (important, helps):
        assert not [i for i in service.validator.validate(goal) if i.severity in ("error", "fatal")]
    page = text(client.get("/meg?lagret=1", headers=person(service)).get_data(as_text=True))
    assert "Takk! Det du skrev, er lagret." in page and "Å få være hjemme med katten min" in page
    assert "skrevet av deg" in page and "Gåturer" in page
    written = [e for e in audits(client, auth) if "written by the person" in (e.get("outcomeDesc") or "")]
    assert written and written[0]["action"] == "C" and written[0]["agent"][0]["who"]["identifier"]["value"] == FNR


def test_the_persons_words_go_to_their_carers_only_and_a_deny_holds(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    shared(client, auth)
    deny = client.post("/Consent", json=deny_consent(DPS), headers=auth(KOMMUNE))
    assert deny.status_code == 201, deny.get_json()
    carers = service.store.run(lambda tx: tx.carers("Patient/pasient-ola"))
    assert post_words(client, person(service), important="Jobb").status_code == 303
    assert service.store.run(lambda tx: tx.carers("Patient/pasient-ola")) == carers  # it makes nobody a carer
    (goal,) = own_goals(service)

    def decisions(tx: Any) -> dict[str, str]:
        return {org: service.records.sharing.decide(tx, org, goal).basis for org in (KOMMUNE, DPS, STRANGER, "")}

    assert service.store.run(decisions) == {KOMMUNE: "party", DPS: "denied", STRANGER: "none", "": "none"}
    # the change went to the kommune (audited as a disclosure to it), not to the DPS, nor to a stranger
    ref = f"Goal/{goal.id}"
    disclosed = [
        e
        for e in audits(client, auth)
        if e["type"]["code"] == "110106" and any(x["what"]["reference"].startswith(ref) for x in e["entity"])
    ]
    recipients = {a["who"]["identifier"]["value"] for e in disclosed for a in e["agent"][1:]}
    assert KOMMUNE in recipients and DPS not in recipients and STRANGER not in recipients
    # nobody outside the care may change it; a carer may (the care team takes it in)
    assert not service.store.run(lambda tx: service.records.sharing.may_change(tx, STRANGER, goal).allowed)
    assert service.store.run(lambda tx: service.records.sharing.may_change(tx, KOMMUNE, goal).allowed)


def test_the_dps_sees_the_words_without_a_deny(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    assert post_words(client, person(service), helps="Å snakke med søsteren min").status_code == 303
    (goal,) = own_goals(service)
    seen = service.store.run(
        lambda tx: {o: service.records.sharing.decide(tx, o, goal).allowed for o in (KOMMUNE, DPS)}
    )
    assert seen == {KOMMUNE: True, DPS: True}
    entitled = service.store.run(lambda tx: set(service.records.sharing.entitled(tx, goal)))
    carers = service.store.run(lambda tx: tx.carers("Patient/pasient-ola"))
    assert entitled == carers and {KOMMUNE, DPS} <= entitled and STRANGER not in entitled
    assert not any("/" in org for org in entitled)


def test_words_are_text_escaped_on_every_page(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    assert post_words(client, person(service), important=attack, helps=attack).status_code == 303
    stored = own_goals(service)
    assert {g.body["description"]["text"] for g in stored} == {attack}
    html = client.get("/meg", headers=person(service)).get_data(as_text=True)
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
    for org in (KOMMUNE, DPS):  # the pages the carers read: the crisis plan and the overview
        for url in ("/CarePlan/krise-og-mestringsplan-ola", "/Patient/pasient-ola/oversikt"):
            page = client.get(url, headers={**auth(org), "Accept": "text/html"}).get_data(as_text=True)
            assert "<script>" not in page and "<img" not in page, url
    narrative = " ".join(g.body["text"]["div"] for g in stored)
    assert "<script>" not in narrative and "<img" not in narrative


@pytest.mark.parametrize(
    ("important", "helps", "expected"),
    [
        ("", "", "du har ikke skrevet noe"),
        ("   \r\n\t ", "\x00\x07", "du har ikke skrevet noe"),
        ("x" * 2001, "", "2001 tegn"),
        ("ok", "y" * 5000, "høyst 2000"),
    ],
    ids=["empty", "blank", "too long", "too long second"],
)
def test_empty_or_oversize_words_are_a_clear_400(
    client: FlaskClient, auth: Auth, service: Service, important: str, helps: str, expected: str
) -> None:
    shared(client, auth)
    answer = post_words(client, person(service), important=important, helps=helps)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert expected in answer.get_data(as_text=True)
    assert own_goals(service) == []
    refused = [e for e in audits(client, auth) if "words refused" in (e.get("outcomeDesc") or "")]
    assert refused and refused[-1]["outcome"] == "4"


def test_odd_form_posts_are_never_a_500(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    ola = person(service)
    for data, content_type in (
        (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
        (b"viktig=%ZZ%", "application/x-www-form-urlencoded"),
        (b'{"viktig": "json"}', "application/json"),
        (b"--x\r\nnot multipart", "multipart/form-data; boundary=x"),
        (("viktig=" + "a" * 100).encode(), "text/plain"),
    ):
        answer = client.post("/meg", data=data, headers={**ola, "Content-Type": content_type})
        assert answer.status_code < 500, (data[:20], answer.status_code)
    huge = client.post("/meg", data={"viktig": "a" * 30_000_000}, headers={**ola, **FORM})
    assert huge.status_code == 413


def test_a_cross_site_form_post_is_refused(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    forged = client.post(
        "/meg",
        data={"viktig": "Skrevet av et annet nettsted"},
        headers={
            **person(service),
            "Content-Type": "application/x-www-form-urlencoded",
            "Sec-Fetch-Site": "cross-site",
        },
    )
    assert forged.status_code == 403 and "annet nettsted" in forged.get_data(as_text=True)
    # without the token (what a cross-site form can send): 401
    assert client.post("/meg", data={"viktig": "x"}, headers=FORM).status_code == 401
    assert own_goals(service) == []


def test_a_person_writes_only_for_themself(client: FlaskClient, auth: Auth, service: Service) -> None:
    shared(client, auth)
    other = post_words(client, person(service, OTHER_FNR), important="Skrevet inn hos Ola?")
    assert other.status_code == 404
    assert own_goals(service) == []
    # the form takes no patient of its choosing: extra fields are ignored
    answer = client.post(
        "/meg",
        data={"viktig": "Mitt", "subject": "Patient/pasient-per", "pid": OTHER_FNR, "patient": str(uuid.uuid4())},
        headers={**person(service), **FORM},
    )
    assert answer.status_code == 303
    (goal,) = own_goals(service)
    assert goal.body["subject"] == {"reference": "Patient/pasient-ola"}


def test_the_carers_read_the_persons_words_over_rest_and_a_stranger_does_not(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    """Goal is served by REST: the kommune and the DPS, who take part in Ola's care, find his own words by his
    fødselsnummer; a stranger organisation finds nothing and reading one by id is refused."""
    shared(client, auth)
    assert post_words(client, person(service), important="Å bo hjemme").status_code == 303
    [goal] = own_goals(service)
    for org in (KOMMUNE, DPS):
        found = client.get(f"/Goal?patient:identifier={FNR}", headers=auth(org)).get_json()
        texts = [e["resource"].get("description", {}).get("text") for e in found.get("entry", [])]
        assert "Å bo hjemme" in texts, (org, texts)
    stranger = client.get(f"/Goal?patient:identifier={FNR}", headers=auth(STRANGER)).get_json()
    assert "Å bo hjemme" not in json.dumps(stranger)
    assert client.get(f"/Goal/{goal.id}", headers=auth(STRANGER)).status_code in (403, 404)


def test_the_overview_names_the_persons_own_reads_without_their_number(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    shared(client, auth)
    assert client.get("/meg", headers=person(service)).status_code == 200
    browser = {"Accept": "text/html"}
    page = client.get(
        "/Patient/pasient-ola/oversikt",
        headers={**auth(KOMMUNE, "samhandling/plans.read", "samhandling/audit"), **browser},
    )
    seen = text(page.get_data(as_text=True))
    assert page.status_code == 200 and "Personen selv" in seen
    trail = seen[seen.index("Hvem har sett") :]
    assert FNR not in trail.replace(" ", "")


def test_a_strangers_plan_is_never_shown_as_the_persons_crisis_plan(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    """An organisation outside Ola's care writes a newer crisis plan for him with a false number (the outside test
    of issue 14): Ola's page keeps showing the plan of those who take part in his care."""
    shared(client, auth)
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    for key in ("id", "text", "identifier"):
        plan.pop(key, None)
    for activity in plan.get("activity", []):
        for performer in activity.get("detail", {}).get("performer", []):
            performer["display"] = "Falsk akutteam, tlf. 820 00 666"
    headers = {**auth(STRANGER, "samhandling/plans.read", "samhandling/plans.write"), **FHIR_JSON}
    assert client.post("/CarePlan", data=json.dumps(plan), headers=headers).status_code == 201
    page = text(client.get("/meg", headers=person(service)).get_data(as_text=True))
    assert "Falsk akutteam" not in page and "820 00 666" not in page
    assert "Liv Berg" in page


def test_a_form_post_from_another_origin_is_refused_without_sec_fetch_site(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    """A browser that sends no Sec-Fetch-Site still sends Origin on a form post: another site's is refused."""
    shared(client, auth)
    headers = {**person(service), "Content-Type": "application/x-www-form-urlencoded", "Origin": "http://evil.example"}
    answer = client.post("/meg", data={"viktig": "fra en annen side"}, headers=headers)
    assert answer.status_code == 403 and "fra en annen side" not in json.dumps([g.body for g in own_goals(service)])
    same = {**headers, "Origin": "http://localhost"}
    assert client.post("/meg", data={"viktig": "fra siden selv"}, headers=same).status_code == 303


def test_the_care_team_sees_the_persons_words_on_the_overview(
    client: FlaskClient, auth: Auth, service: Service
) -> None:
    shared(client, auth)
    assert post_words(client, person(service), important="Å få være med å bestemme").status_code == 303
    page = client.get("/Patient/pasient-ola/oversikt", headers={**auth(KOMMUNE), "Accept": "text/html"})
    assert "Å få være med å bestemme" in text(page.get_data(as_text=True))
