"""The REST protocol where outsiders (a newcomer and an attacker) found it off (issue 17): ``Prefer:
handling=lenient`` never drops an R4 search parameter (it would widen the search), a reference searched by the
server's own absolute URL, the emergency read's links, ``Allow`` on every 405, ``fhirVersion`` in ``Accept`` and
``Content-Type``, an empty ``If-None-Exist``, the hint of an unknown parameter, ``_summary`` and ``_elements`` on a
read (and nothing else there), and the links of ``POST [type]/_search``, which never carry a fødselsnummer."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS, KOMMUNE, STRANGER, created_plan, example, issue_codes, new_plan

from adapter.config import Settings
from adapter.search import SEARCH_PARAMS
from adapter.standards import core_package

Auth = Callable[..., dict[str, str]]
FNR = "15838510075"  # Ola's (synthetic) fødselsnummer in the examples
LENIENT = {"Prefer": "handling=lenient"}
BASE = "http://localhost"  # the test client's own base URL
EMERGENCY = "samhandling/emergency"
LEGEVAKT = "8100009"  # no party to Ola's care


def r4_parameters(settings: Settings, rtype: str) -> set[str]:
    """The codes of the R4 core package's SearchParameters on ``rtype`` (read here on their own, not as the
    service reads them)."""
    found: set[str] = set()
    for path in Path(core_package(settings)).glob("SearchParameter-*.json"):
        parameter = json.loads(path.read_text(encoding="utf-8"))
        if rtype in parameter.get("base", []):
            found.add(parameter["code"])
    return found


def links(bundle: dict[str, Any]) -> dict[str, str]:
    return {link["relation"]: link["url"] for link in bundle["link"]}


def outcomes(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "outcome"]


def local(url: str) -> str:
    """A link of the service as the test client follows it (the path and the query)."""
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == BASE, url
    return parts.path + ("?" + parts.query if parts.query else "")


# --- 1. Prefer: handling=lenient never widens a search ----------------------------------------------------------

RESOURCE_LEVEL = [
    "_id",
    "_lastUpdated",
    "_tag",
    "_profile",
    "_security",
    "_source",
    "_text",
    "_content",
    "_list",
    "_has",
    "_type",
    "_query",
    "_filter",
]
SERVED_ALWAYS = {"_id", "_profile", "_lastUpdated"}


@pytest.mark.parametrize("rtype", ["CarePlan", "Patient"])
def test_lenient_refuses_every_r4_search_parameter_it_does_not_serve(
    shared: FlaskClient, auth: Auth, settings: Settings, rtype: str
) -> None:
    """Dropped, any of them would give the kommune every plan it may see to a client that asked for one care team's
    (``care-team=CareTeam/koordinatorteam-ola`` once gave all five): each stays a 400, lenient or not."""
    defined = r4_parameters(settings, rtype) | set(RESOURCE_LEVEL)
    assert {"care-team", "goal", "based-on", "encounter", "date", "performer"} <= r4_parameters(settings, "CarePlan")
    served = set(SEARCH_PARAMS[rtype]) | SERVED_ALWAYS
    refused = []
    for name in sorted(defined - served):
        for given in (name, name.upper(), f"{name}:missing", f"{name}.identifier"):
            response = shared.get(f"/{rtype}?{given}=x", headers={**auth(KOMMUNE), **LENIENT})
            if response.status_code != 400 or issue_codes(response.get_json())[0] not in ("ADP-5056", "ADP-5023"):
                refused.append((given, response.status_code))
    assert refused == []
    # a served one with a modifier that is not served would widen as well
    own = "status" if rtype == "CarePlan" else "gender"
    for given in (f"{own}:not=active", "identifier:of-type=x", "_HAS:CarePlan:patient:status=active"):
        response = shared.get(f"/{rtype}?{given}", headers={**auth(KOMMUNE), **LENIENT})
        assert response.status_code == 400, given
    # the result parameters R4 defines that change what is returned are not ignored either
    for given in ("_contained=true", "_containedType=contained"):
        assert shared.get(f"/{rtype}?{given}", headers={**auth(KOMMUNE), **LENIENT}).status_code == 400, given


def test_lenient_ignores_only_a_name_r4_does_not_define_and_says_so(shared: FlaskClient, auth: Auth) -> None:
    strict = shared.get("/CarePlan?status=active", headers=auth(KOMMUNE)).get_json()
    response = shared.get("/CarePlan?status=active&_totalMethod=x&nosuch=1", headers={**auth(KOMMUNE), **LENIENT})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["total"] == strict["total"] >= 1
    (outcome,) = outcomes(body)
    assert issue_codes(outcome, ("warning",)) == ["ADP-5055", "ADP-5055"]
    said = " ".join(i["diagnostics"] for i in outcome["issue"])
    assert "_totalMethod" in said and "nosuch" in said
    careteam = shared.get("/CarePlan?care-team=CareTeam/koordinatorteam-ola", headers={**auth(KOMMUNE), **LENIENT})
    assert careteam.status_code == 400 and issue_codes(careteam.get_json()) == ["ADP-5056"]


# --- 2. a reference by the server's own absolute URL -------------------------------------------------------------


def test_a_reference_by_the_servers_own_url_is_the_relative_one(shared: FlaskClient, auth: Auth) -> None:
    created_plan(shared, auth(DPS))
    relative = shared.get("/CarePlan?patient=Patient/pasient-ola", headers=auth(DPS)).get_json()["total"]
    assert relative >= 2
    for query in (
        f"patient={BASE}/Patient/pasient-ola",
        f"subject={BASE}/Patient/pasient-ola",
        f"patient={BASE}/Patient/pasient-ola,Patient/nobody",
    ):
        answer = shared.get(f"/CarePlan?{query}", headers=auth(DPS))
        assert answer.status_code == 200 and answer.get_json()["total"] == relative, query
    posted = shared.post("/CarePlan/_search", data={"patient": f"{BASE}/Patient/pasient-ola"}, headers=auth(DPS))
    assert posted.get_json()["total"] == relative
    # another server's record of the same id is another record
    foreign = shared.get("/CarePlan?patient=https://elsewhere.example/Patient/pasient-ola", headers=auth(DPS))
    assert foreign.status_code == 200 and foreign.get_json()["total"] == 0
    prefixed = shared.get(f"/CarePlan?patient={BASE}.evil.example/Patient/pasient-ola", headers=auth(DPS))
    assert prefixed.get_json()["total"] == 0


# --- 3. the emergency read's links --------------------------------------------------------------------------------


def test_the_emergency_reads_links_can_be_followed(shared: FlaskClient, auth: Auth) -> None:
    individual = example("fhir/Bundle-melding-individuell-plan-ola.json")  # the kommune: a party to Ola's care
    assert shared.post("/$process-message", data=individual, headers=auth(KOMMUNE)).status_code == 200
    legevakt = auth(LEGEVAKT, EMERGENCY)
    answer = shared.get(f"/Patient/$krise?identifier={FNR}&reason=Akutt+innlagt+i+krise", headers=legevakt)
    assert answer.status_code == 200, answer.get_json()
    found = links(answer.get_json())
    assert {"self", "first", "last"} <= set(found)
    for relation, url in found.items():
        terms = dict(parse_qsl(urlsplit(url).query))
        assert terms.get("reason") == "Akutt innlagt i krise", relation
        assert set(terms) <= {"identifier", "reason", "_count", "_offset"}  # no more than was asked
        followed = shared.get(local(url), headers=legevakt)
        assert followed.status_code == 200, (relation, followed.get_json())
    # a reason given in the header stays out of the URLs: the links are followed with the header again
    header = {**legevakt, "X-Emergency-Reason": "Akutt innlagt i krise"}
    by_header = shared.get(f"/Patient/$krise?identifier={FNR}", headers=header)
    assert by_header.status_code == 200
    for url in links(by_header.get_json()).values():
        assert "reason" not in url and "Akutt" not in url
        assert shared.get(local(url), headers=header).status_code == 200


# --- 4. Allow ----------------------------------------------------------------------------------------------------

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
PATHS = (
    "/Goal",
    "/Goal?identifier=x",
    "/Goal/some-goal",
    "/Goal/_search",
    "/Goal/_history",
    "/Goal/some-goal/_history",
    "/Goal/some-goal/_history/1",
    "/CarePlan/$validate",
    "/_history",
    "/metadata",
    "/Patient/$krise",
)


@pytest.mark.parametrize("path", PATHS)
def test_allow_names_exactly_what_is_not_405(client: FlaskClient, auth: Auth, path: str) -> None:
    """RFC 9110 §10.2.1: every 405 has Allow, and Allow is what the target supports: each method named there is
    answered otherwise than 405, and each method answered 405 is not named (DELETE is refused: never named)."""
    answered = {
        method: client.open(path, method=method, data=b"{}", headers={**auth(DPS), "Content-Type": FHIR_JSON})
        for method in METHODS
    }
    refused = {m for m, r in answered.items() if r.status_code == 405}
    assert refused, path
    allows = {r.headers.get("Allow") for r in answered.values() if r.status_code == 405}
    assert len(allows) == 1 and None not in allows, (path, allows)
    allowed = {m.strip() for m in str(allows.pop()).split(",")} & set(METHODS)
    assert allowed == set(METHODS) - refused, (path, allowed, refused)


FHIR_JSON = "application/fhir+json"


# --- 5. fhirVersion ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", ["3.0", "5.0", "1.0.2", "4.3"])
def test_a_fhir_version_the_server_does_not_speak_is_406_and_415(client: FlaskClient, auth: Auth, version: str) -> None:
    answer = client.get(
        "/CarePlan?status=active", headers={**auth(DPS), "Accept": f"{FHIR_JSON}; fhirVersion={version}"}
    )
    assert answer.status_code == 406 and issue_codes(answer.get_json()) == ["ADP-5046"]
    assert "4.0" in answer.get_json()["issue"][0]["diagnostics"]
    posted = client.post(
        "/CarePlan",
        data=json.dumps(new_plan()),
        headers={**auth(DPS), "Content-Type": f"{FHIR_JSON}; fhirVersion={version}"},
    )
    assert posted.status_code == 415 and issue_codes(posted.get_json()) == ["ADP-5013"]
    assert client.get("/CarePlan?_summary=count", headers=auth(DPS)).get_json()["total"] == 0


@pytest.mark.parametrize("version", ["4.0", "4.0.1", '"4.0"'])
def test_fhir_version_4_is_taken(client: FlaskClient, auth: Auth, version: str) -> None:
    accept = {"Accept": f"{FHIR_JSON}; fhirVersion={version}"}
    assert client.get("/CarePlan", headers={**auth(DPS), **accept}).status_code == 200
    mixed = {"Accept": f"{FHIR_JSON}; fhirVersion=5.0, {FHIR_JSON}; fhirVersion={version}; q=0.5"}
    assert client.get("/CarePlan", headers={**auth(DPS), **mixed}).status_code == 200
    headers = {**auth(DPS), "Content-Type": f"{FHIR_JSON}; fhirVersion={version}"}
    assert client.post("/CarePlan", data=json.dumps(new_plan()), headers=headers).status_code == 201


# --- 6. an empty If-None-Exist -----------------------------------------------------------------------------------


@pytest.mark.parametrize("condition", ["", "   "])
def test_an_empty_if_none_exist_is_refused_and_nothing_is_created(
    client: FlaskClient, auth: Auth, condition: str
) -> None:
    response = client.post("/CarePlan", json=new_plan(), headers={**auth(DPS), "If-None-Exist": condition})
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"]
    said = response.get_json()["issue"][0]["diagnostics"]
    assert "If-None-Exist" in said and "empty" in said  # not "matches every resource": what to do instead
    assert client.get("/CarePlan?_summary=count", headers=auth(DPS)).get_json()["total"] == 0


# --- 7. the hint of an unknown parameter -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rtype", "named", "not_named"),
    [
        ("CarePlan", ("_sort", "_summary", "_elements", "_include", "_count", "_offset"), ("_revinclude",)),
        ("Patient", ("_sort", "_summary", "_elements", "_revinclude"), ("_include",)),
        ("Goal", ("_sort", "_summary", "_elements"), ("_include", "_revinclude")),
    ],
)
def test_the_hint_names_the_result_parameters_where_they_apply(
    client: FlaskClient, auth: Auth, rtype: str, named: tuple[str, ...], not_named: tuple[str, ...]
) -> None:
    response = client.get(f"/{rtype}?nosuch=1", headers=auth(DPS))
    assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"]
    listed = {p.strip() for p in response.get_json()["issue"][0]["diagnostics"].split("supported:")[1].split(",")}
    assert set(named) <= listed and not set(not_named) & listed, listed


# --- 8. _summary and _elements on a read; nothing else ---------------------------------------------------------


def test_a_read_takes_summary_and_elements(client: FlaskClient, auth: Auth) -> None:
    rid = created_plan(client, auth(DPS))
    whole = client.get(f"/CarePlan/{rid}", headers=auth(DPS)).get_json()
    summary = client.get(f"/CarePlan/{rid}?_summary=true", headers=auth(DPS))
    assert summary.status_code == 200 and summary.headers["ETag"] == 'W/"1"'
    body = summary.get_json()
    assert "SUBSETTED" in {t["code"] for t in body["meta"]["tag"]}
    assert "activity" in whole and "activity" not in body and body["status"] == whole["status"]
    chosen = client.get(f"/CarePlan/{rid}/_history/1?_elements=status,intent", headers=auth(DPS)).get_json()
    assert set(chosen) == {"resourceType", "id", "meta", "status", "intent"}
    assert "SUBSETTED" in {t["code"] for t in chosen["meta"]["tag"]}
    unshaped = client.get(f"/CarePlan/{rid}?_summary=false&_format=json&_pretty=true", headers=auth(DPS)).get_json()
    assert unshaped == whole


@pytest.mark.parametrize(
    "query", ["foo=bar", "status=active", "_summary=count", "_summary=maybe", "_sort=_id", "_include=CarePlan:goal"]
)
def test_a_read_refuses_any_other_parameter(client: FlaskClient, auth: Auth, query: str) -> None:
    rid = created_plan(client, auth(DPS))
    for path in (f"/CarePlan/{rid}?{query}", f"/CarePlan/{rid}/_history/1?{query}"):
        response = client.get(path, headers=auth(DPS))
        assert response.status_code == 400 and issue_codes(response.get_json()) == ["ADP-5023"], path
    stranger = client.get(f"/CarePlan/{rid}?_summary=true", headers=auth(STRANGER))
    assert stranger.status_code == 403 and "activity" not in json.dumps(stranger.get_json())


# --- 9. POST _search keeps the fødselsnummer out of every link ---------------------------------------------------

ELEVEN_DIGITS = re.compile(r"\d{11}")


def every_link(bundle: dict[str, Any]) -> str:
    return " ".join(link["url"] for link in bundle["link"])


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
def test_post_search_links_carry_no_fodselsnummer_and_still_page(shared: FlaskClient, auth: Auth) -> None:
    for _ in range(2):
        created_plan(shared, auth(DPS))
    form = {"patient:identifier": FNR, "_count": "1"}
    answer = shared.post("/CarePlan/_search", data=form, headers=auth(DPS))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["total"] >= 3 and not ELEVEN_DIGITS.search(every_link(body))
    found = links(body)
    assert found["self"] == f"{BASE}/CarePlan/_search"  # no query: see the README
    pages = [body["entry"][0]["resource"]["id"]]
    url: str | None = found["next"]
    while url:
        assert not ELEVEN_DIGITS.search(url) and "patient=Patient%2Fpasient-ola" in url
        page = shared.get(local(url), headers=auth(DPS)).get_json()
        pages.append(page["entry"][0]["resource"]["id"])
        url = links(page).get("next")
    assert len(set(pages)) == body["total"]  # the links page through the same search
    by_system = shared.post(
        "/CarePlan/_search",
        data={"patient:identifier": f"urn:oid:2.16.578.1.12.4.1.4.1|{FNR}", "_count": "1"},
        headers=auth(DPS),
    ).get_json()
    assert not ELEVEN_DIGITS.search(every_link(by_system)) and "next" in links(by_system)


@pytest.mark.parametrize(
    ("rtype", "form", "org"),
    [
        ("CarePlan", {"patient:identifier": FNR, "_count": "1"}, STRANGER),  # no patient the caller may read
        ("CarePlan", {"patient:identifier": f"{FNR},01019010046", "_count": "1"}, DPS),  # not exactly one
        ("Patient", {"identifier": FNR}, DPS),
        ("CarePlan", {"identifier": f"urn:x|{FNR}", "_count": "1"}, DPS),
        ("CarePlan", {"subject:identifier": FNR, "status": "active"}, DPS),
    ],
)
def test_post_search_without_followable_links_says_so(
    shared: FlaskClient, auth: Auth, rtype: str, form: dict[str, str], org: str
) -> None:
    answer = shared.post(f"/{rtype}/_search", data=form, headers=auth(org))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert not ELEVEN_DIGITS.search(every_link(body)), every_link(body)
    if "subject:identifier" in form:  # exactly one readable patient: followable links by the patient's id
        assert "subject=Patient%2Fpasient-ola" in links(body)["first"]
        return
    assert set(links(body)) == {"self"}
    assert "ADP-5085" in issue_codes(outcomes(body)[0], ("information",))


def test_post_search_without_an_identifier_keeps_its_paging_links(shared: FlaskClient, auth: Auth) -> None:
    for form in ({"status": "active", "_count": "1"}, {"status": "revoked"}):
        body = shared.post("/CarePlan/_search", data=form, headers=auth(DPS)).get_json()
        assert {"self", "first", "last"} <= set(links(body)) and outcomes(body) == []
        assert links(body)["first"].startswith(f"{BASE}/CarePlan?status=")
