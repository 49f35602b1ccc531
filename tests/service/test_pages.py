"""The crisis plan page without a browser: the HTML answer of ``GET /CarePlan/{id}`` for a browser, FHIR clients
unaffected, the stable page per patient, the PDF, the emergency read's page, refusals as HTML pages with their
status and an audit event, and the plan's text escaped. (tests/browser drives the same pages in Chromium.)"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader
from service_helpers import DPS, KOMMUNE, STRANGER, ack_code, example_json

Auth = Callable[..., dict[str, str]]
FHIR_JSON = {"Content-Type": "application/fhir+json"}
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
PLAN_URL = "/CarePlan/krise-og-mestringsplan-ola"
FNR = "15838510075"
LEGEVAKT = "8100009"
KEY_TEXTS = (
    "Ring først",
    "Vestbyen DPS, ambulant akutteam",
    "Kari Nordmann, søster",
    "900 00 002",
    "Rød sone",
    "Gul sone",
    "Grønn sone",
    "Stemmene sier hva jeg skal gjøre",
    "Faste rutiner",
    "Uniformert politi",
    "Avtale om brukerstyrt plass",
    "inntil 3 døgn per opphold",
)


def send(client: FlaskClient, org: str, bundle: dict[str, Any], auth: Auth) -> None:
    answer = client.post("/$process-message", data=json.dumps(bundle), headers={**auth(org), **FHIR_JSON})
    assert answer.status_code == 200 and ack_code(answer.get_json()) == "ok", json.dumps(answer.get_json())[-3000:]


def shared(client: FlaskClient, auth: Auth, crisis: dict[str, Any] | None = None) -> None:
    """Ola's consent and individual plan from the kommune, his crisis plan from the DPS."""
    send(client, KOMMUNE, example_json("fhir/Bundle-melding-samtykke-ola.json"), auth)
    send(client, KOMMUNE, example_json("fhir/Bundle-melding-individuell-plan-ola.json"), auth)
    send(client, DPS, crisis or example_json("fhir/Bundle-melding-kriseplan-ola.json"), auth)


def page_text(html: str) -> str:
    """The text of a page, tags removed and whitespace folded (what a reader sees)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def audits(client: FlaskClient, auth: Auth) -> list[dict[str, Any]]:
    found = client.get("/AuditEvent?_count=500", headers=auth(DPS, "samhandling/audit")).get_json()
    return [e["resource"] for e in found.get("entry", [])]


def test_a_browser_gets_the_crisis_plan_page(client: FlaskClient, auth: Auth) -> None:
    shared(client, auth)
    answer = client.get(PLAN_URL, headers={**auth(KOMMUNE), **BROWSER})
    assert answer.status_code == 200, answer.data[:500]
    assert answer.mimetype == "text/html"
    assert "script-src" not in answer.headers["Content-Security-Policy"]  # no script may run at all
    assert answer.headers["Cache-Control"] == "no-store"
    text = page_text(answer.get_data(as_text=True))
    for key in KEY_TEXTS:
        assert key in text, key
    # whom to call first: the red zone's contact before the yellow zone's
    assert text.index("Vestbyen DPS, ambulant akutteam") < text.index("Kari Nordmann, søster")
    assert text.index("Rød sone – krise") < text.index("Gul sone – varsel") < text.index("Grønn sone – stabil")
    # who owns, coordinates and holds the plan (the names come with the read for its page)
    for key in ("Planens eier", "Koordinator i kommunen", "Versjon 1", "Planen finnes også hos"):
        assert key in text, text[text.index("Om planen") :]
    # the stable page of the patient's current plan is the same page
    stable = client.get("/Patient/pasient-ola/kriseplan", headers=auth(KOMMUNE))
    assert stable.status_code == 200 and stable.mimetype == "text/html"
    assert "Stemmene sier hva jeg skal gjøre" in page_text(stable.get_data(as_text=True))
    css = client.get("/pages/static/sider.css", headers=auth(KOMMUNE))
    assert css.status_code == 200 and css.mimetype == "text/css" and b"@page" in css.data


@pytest.mark.parametrize(
    "headers",
    [{"Accept": "application/fhir+json"}, {"Accept": "*/*"}, {}, {"Accept": "application/json, text/html"}],
    ids=["fhir+json", "any", "none", "json before html"],
)
def test_fhir_clients_still_get_fhir(client: FlaskClient, auth: Auth, headers: dict[str, str]) -> None:
    shared(client, auth)
    answer = client.get(PLAN_URL, headers={**auth(KOMMUNE), **headers})
    assert answer.status_code == 200 and answer.mimetype == "application/fhir+json"
    assert answer.get_json()["resourceType"] == "CarePlan"
    xml = client.get(PLAN_URL, headers={**auth(KOMMUNE), "Accept": "application/fhir+xml"})
    assert xml.mimetype == "application/fhir+xml"
    # a plan of another kind stays FHIR for a browser too
    other = client.get("/CarePlan/individuell-plan-ola", headers={**auth(KOMMUNE), **BROWSER})
    assert other.status_code == 200 and other.mimetype != "text/html" and b"individuell-plan-ola" in other.data


def test_a_refused_read_is_a_403_page_and_audited(client: FlaskClient, auth: Auth) -> None:
    shared(client, auth)
    answer = client.get(PLAN_URL, headers={**auth(STRANGER), **BROWSER})
    assert answer.status_code == 403 and answer.mimetype == "text/html"
    text = page_text(answer.get_data(as_text=True))
    assert "Du har ikke tilgang til denne planen" in text and STRANGER in text
    refused = [
        e
        for e in audits(client, auth)
        if any(a.get("who", {}).get("identifier", {}).get("value") == STRANGER for a in e.get("agent", []))
        and e.get("outcome") != "0"
    ]
    assert refused, "the refused read is in the audit trail"
    # the stable page of a plan the stranger may not read is refused as the plan itself is (403, audited)
    assert client.get("/Patient/pasient-ola/kriseplan", headers=auth(STRANGER)).status_code == 403
    missing = client.get("/CarePlan/finnes-ikke", headers={**auth(KOMMUNE), **BROWSER})
    assert missing.status_code == 404 and "Fant ingen kriseplan" in missing.get_data(as_text=True)
    no_token = client.get("/Patient/pasient-ola/kriseplan")
    assert no_token.status_code == 401 and no_token.mimetype == "text/html"
    no_scope = client.get(PLAN_URL, headers={**auth(KOMMUNE, "samhandling/messages"), **BROWSER})
    assert no_scope.status_code == 403 and no_scope.mimetype == "text/html"


def test_the_pdf_is_a_pdf(client: FlaskClient, auth: Auth) -> None:
    shared(client, auth)
    for url in (f"{PLAN_URL}?format=pdf", "/Patient/pasient-ola/kriseplan.pdf"):
        answer = client.get(url, headers=auth(KOMMUNE))
        assert answer.status_code == 200, answer.data[:300]
        assert answer.mimetype == "application/pdf" and answer.data.startswith(b"%PDF")
        assert "attachment" in answer.headers["Content-Disposition"]
        assert len(PdfReader(io.BytesIO(answer.data)).pages) == 1  # one A4 page


def test_the_emergency_page_is_audited_with_its_reason(client: FlaskClient, auth: Auth) -> None:
    shared(client, auth)
    legevakt = {**auth(LEGEVAKT, "samhandling/emergency"), **BROWSER}
    form = client.get("/Patient/$krise", headers=legevakt)
    assert form.status_code == 200 and b'name="reason"' in form.data
    no_reason = client.get(f"/Patient/$krise?identifier={FNR}", headers=legevakt)
    assert no_reason.status_code == 400 and no_reason.mimetype == "text/html"
    reason = "Akutt psykose på legevakten kl 03"
    answer = client.get(f"/Patient/$krise?identifier={FNR}&reason={reason}", headers=legevakt)
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    text = page_text(answer.get_data(as_text=True))
    assert "Nødtilgang" in text and reason in text
    for key in KEY_TEXTS:
        assert key in text, key
    assert any(reason in (e.get("outcomeDesc") or "") for e in audits(client, auth))
    pdf = client.get(f"/Patient/$krise?identifier={FNR}&reason={reason}&format=pdf", headers=legevakt)
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # the FHIR emergency read is unchanged
    fhir = client.get(
        f"/Patient/$krise?identifier={FNR}&reason={reason}", headers=auth(LEGEVAKT, "samhandling/emergency")
    )
    assert fhir.get_json()["resourceType"] == "Bundle"


def test_a_plans_text_is_escaped(client: FlaskClient, auth: Auth) -> None:
    bundle = example_json("fhir/Bundle-melding-kriseplan-ola.json")
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    plan["activity"][0]["detail"]["description"] = attack
    plan["title"] = attack
    shared(client, auth, bundle)
    html = client.get(PLAN_URL, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


def test_the_stylesheet_needs_no_token_but_the_plan_does(client: FlaskClient, auth: Auth) -> None:
    """A browser loads the stylesheet without a bearer token (no patient data); the plan itself never."""
    shared(client, auth)
    css = client.get("/pages/static/sider.css")
    assert css.status_code == 200 and b"@media print" in css.data
    assert client.get(PLAN_URL, headers=BROWSER).status_code == 401
    assert client.get("/pages/static/../../CarePlan/krise-og-mestringsplan-ola").status_code in (401, 404)


def other_patient(bundle: dict[str, Any]) -> dict[str, Any]:
    """Ola's crisis plan message made over for another patient (Per): other ids, another fødselsnummer, his own
    next of kin with a name that must never show on Ola's page."""
    text = json.dumps(bundle).replace("-ola", "-per").replace(FNR, "01019010046").replace("Kari", "Hemmelige")
    made: dict[str, Any] = json.loads(text.replace("parorende-kari", "parorende-per"))
    made["entry"][0]["resource"]["reason"] = {
        "coding": [{"system": "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag", "code": "hpl-45"}],
        "text": "Samarbeidende personell trenger planen",
    }
    return made


def test_the_plan_page_shows_the_names_it_references(client: FlaskClient, auth: Auth) -> None:
    """Practitioner, Organization and Location are not served by REST: the page's own read includes them."""
    shared(client, auth)
    for url in (PLAN_URL, "/Patient/pasient-ola/kriseplan"):
        text = page_text(client.get(url, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True))
        assert "navn ikke tilgjengelig her" not in text
        assert "Liv Berg" in text and "Anders Lie" in text  # the coordinators
        assert "Bergen kommune, kommunal akutt døgnenhet for psykisk helse og rus" in text  # the bed's place
        assert "55 00 01 00" in text  # and its phone
        assert "Å ha et sted å bo og å komme i arbeid." in text  # the goal
    disclosed = [e for e in audits(client, auth) if "for its page" in (e.get("outcomeDesc") or "")]
    assert disclosed, "what the page included is audited"
    named = {x.get("what", {}).get("reference", "").split("/_history")[0] for e in disclosed for x in e["entity"]}
    for ref in (
        "Practitioner/koordinator-kommune",
        "Location/krise-og-mestringsplan-ola-dognplass",
        "Goal/hva-er-viktig-ola",
    ):
        assert ref in named, named
    assert all(a["who"]["identifier"]["value"] in (KOMMUNE,) for e in disclosed for a in e["agent"])


def test_a_forged_reference_to_another_patients_record_is_never_shown(client: FlaskClient, auth: Auth) -> None:
    shared(client, auth)
    send(client, DPS, other_patient(example_json("fhir/Bundle-melding-kriseplan-ola.json")), auth)
    read = client.get(PLAN_URL, headers={**auth(DPS), "Accept": "application/fhir+json"})
    plan = read.get_json()
    contact = next(a for a in plan["activity"] if "RelatedPerson/" in json.dumps(a))
    for performer in contact["detail"]["performer"]:
        if performer.get("reference", "").startswith("RelatedPerson/"):
            performer["reference"] = "RelatedPerson/parorende-per"
            performer.pop("display", None)
    plan["goal"] = [{"reference": "Goal/hva-er-viktig-per"}]
    plan.pop("text", None)
    headers = {**auth(DPS), **FHIR_JSON, "If-Match": read.headers["ETag"]}
    changed = client.put(PLAN_URL, data=json.dumps(plan), headers=headers)
    assert changed.status_code == 200, changed.get_json()
    html = client.get(PLAN_URL, headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    assert "Hemmelige" not in html and "per" not in re.findall(r"-(per)\b", html)
    disclosed = json.dumps([e for e in audits(client, auth) if "for its page" in (e.get("outcomeDesc") or "")])
    assert "-per" not in disclosed


def test_the_emergency_read_follows_no_care_team_of_another_patient(client: FlaskClient, auth: Auth) -> None:
    """A party that points Ola's crisis plan at Per's care team must not make an emergency read of Ola name who
    treats Per: the fastlege is on Per's team and on no other part of Ola's plan (found by the newcomer of issue 14)."""
    shared(client, auth)
    send(client, DPS, other_patient(example_json("fhir/Bundle-melding-kriseplan-ola.json")), auth)
    read = client.get(PLAN_URL, headers={**auth(DPS), "Accept": "application/fhir+json"})
    plan = read.get_json()
    plan["careTeam"] = [{"reference": "CareTeam/koordinatorteam-per"}]
    plan.pop("text", None)
    headers = {**auth(DPS), **FHIR_JSON, "If-Match": read.headers["ETag"]}
    assert client.put(PLAN_URL, data=json.dumps(plan), headers=headers).status_code == 200
    reason = "Akutt psykose på legevakten kl 03"
    found = client.get(
        f"/Patient/$krise?identifier={FNR}&reason={reason}", headers=auth(LEGEVAKT, "samhandling/emergency")
    ).get_json()
    included = {e["fullUrl"].rsplit("/", 2)[-2] + "/" + e["fullUrl"].rsplit("/", 1)[-1] for e in found["entry"]}
    assert "CarePlan/krise-og-mestringsplan-ola" in included
    assert "Practitioner/lege-fastlege" not in included and "Organization/org-legekontor" not in included


def strangers_plan(client: FlaskClient, auth: Auth) -> str:
    """A crisis plan for Ola written over REST by an organisation that takes no part in his care (anyone may write a
    record of their own), with a false number to call (found by the outside test of issue 14). Returns its id."""
    plan = example_json("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    plan.pop("id", None)
    plan.pop("text", None)
    plan.pop("identifier", None)
    plan["title"] = "NY kriseplan (ring dette nummeret)"
    for activity in plan.get("activity", []):
        for performer in activity.get("detail", {}).get("performer", []):
            performer["display"] = "Falsk akutteam, tlf. 820 00 666"
    headers = {**auth(STRANGER, "samhandling/plans.read", "samhandling/plans.write"), **FHIR_JSON}
    answer = client.post("/CarePlan", data=json.dumps(plan), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    return str(answer.get_json()["id"])


def test_a_strangers_crisis_plan_is_never_the_patients_current_one(client: FlaskClient, auth: Auth) -> None:
    """The stable page, the overview and its links show the plan of those who take part in Ola's care, as the
    emergency read does; never the plan a stranger wrote, however recent."""
    shared(client, auth)
    forged = strangers_plan(client, auth)
    page = page_text(
        client.get("/Patient/pasient-ola/kriseplan", headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    )
    assert "Falsk akutteam" not in page and "820 00 666" not in page
    assert "Vestbyen DPS, ambulant akutteam" in page
    overview = client.get("/Patient/pasient-ola/oversikt", headers={**auth(KOMMUNE), **BROWSER}).get_data(as_text=True)
    assert (
        f"/CarePlan/{forged}" not in overview or "NY kriseplan" not in overview.split(f"/CarePlan/{forged}")[0][-300:]
    )
    # the stranger's own request for the patient's current plan finds nothing of the care's, and is audited
    refused = client.get("/Patient/pasient-ola/kriseplan", headers={**auth(STRANGER), **BROWSER})
    assert refused.status_code in (403, 404)
    assert "Falsk akutteam" not in refused.get_data(as_text=True)
    events = [
        e
        for e in audits(client, auth)
        if any(a.get("who", {}).get("identifier", {}).get("value") == STRANGER for a in e.get("agent", []))
    ]
    assert any("Patient/pasient-ola" in json.dumps(e.get("entity")) and e["outcome"] != "0" for e in events)


def test_an_expired_plan_still_prints_on_one_a4_page(client: FlaskClient, auth: Auth) -> None:
    """A plan whose period has ended carries a warning at the top; the page and its PDF still fit one A4 page (the
    outside test of issue 14 found two)."""
    bundle = example_json("fhir/Bundle-melding-kriseplan-ola.json")
    plan = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "CarePlan")
    plan["period"] = {"start": "2026-01-01", "end": "2026-02-28"}
    shared(client, auth, bundle)
    answer = client.get("/Patient/pasient-ola/kriseplan.pdf", headers=auth(KOMMUNE))
    assert answer.status_code == 200, answer.data[:300]
    reader = PdfReader(io.BytesIO(answer.data))
    assert "gikk ut" in reader.pages[0].extract_text()
    assert len(reader.pages) == 1


@pytest.mark.parametrize(
    ("identifier", "reason", "says"),
    [
        (FNR, "kort", "Skriv en begrunnelse"),
        ("15838510076", "Akutt psykose på legevakten kl 03", "ikke et gyldig fødselsnummer eller D-nummer"),
    ],
)
def test_the_emergency_form_comes_back_with_what_was_typed_and_what_is_wrong(
    client: FlaskClient, auth: Auth, identifier: str, reason: str, says: str
) -> None:
    """At 3 a.m. a mistyped number or a too short reason gives the form again, filled in, with what to correct
    (found by the outside test: it was a bare refusal page); the attempt is audited as before."""
    shared(client, auth)
    legevakt = {**auth(LEGEVAKT, "samhandling/emergency"), **BROWSER}
    answer = client.get(f"/Patient/$krise?identifier={identifier}&reason={reason}", headers=legevakt)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and 'name="reason"' in html
    assert f'value="{identifier}"' in html and reason in html and says in page_text(html)
