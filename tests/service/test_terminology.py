"""The conformance resources and the terminology operations over HTTP (issue 17, point 2), as a client and as an
attacker would use them: read and search of our package, ``$expand``, ``$lookup``, ``$validate-code``,
``$translate``; the conformance types served by their own blueprint (never the records'), read-only, with any
verified token; bad input answered with an OperationOutcome and a stable code, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask.testing import FlaskClient
from service_helpers import DPS, issue_codes

Auth = Callable[..., dict[str, str]]
MESSAGES = "samhandling/messages"  # a scope that reads no plan: conformance resources need none
SONE_VS = "http://samhandling.no/fhir/ValueSet/sone"
SONE_CS = "http://samhandling.no/fhir/CodeSystem/sone"
KITH_8258 = "urn:oid:2.16.578.1.12.4.1.1.8258"


@pytest.fixture
def headers(auth: Auth) -> dict[str, str]:
    """Scope: function. Type: request headers with a token of the DPS that only sends messages. Default: DPS."""
    return auth(DPS, MESSAGES)


def _get(client: FlaskClient, path: str, headers: dict[str, str], **query: Any) -> Any:
    return client.get(path + ("?" + urlencode(query) if query else ""), headers=headers)


def _parameter(parameters: dict[str, Any], name: str) -> Any:
    return next((p for p in parameters["parameter"] if p["name"] == name), None)


def test_the_conformance_types_reach_their_own_blueprint(app: Flask, client: FlaskClient, headers: dict[str, str]):
    """GET /ValueSet and /ValueSet/[id] (and every write to them) match the terminology blueprint's rules, not the
    records' /<type> and /<type>/<id>; the records keep theirs, and POST [type]/$validate stays fhir's."""
    adapter = app.url_map.bind("localhost")
    for path, method in (("/ValueSet", "GET"), ("/ValueSet", "POST"), ("/ValueSet/sone", "PUT")):
        assert adapter.match(path, method)[0].startswith("terminology."), (path, method)
    assert adapter.match("/ValueSet/$expand", "GET")[0] == "terminology.valueset_expand"
    assert adapter.match("/ValueSet/$validate", "POST")[0] == "fhir.validate"
    assert adapter.match("/CarePlan", "GET")[0] == "fhir.search"
    assert adapter.match("/CarePlan/x", "GET")[0] == "fhir.read"
    response = _get(client, "/ValueSet", headers)
    assert response.status_code == 200
    assert response.get_json()["total"] >= 26


def test_read_and_search_by_url_version_and_name(client: FlaskClient, headers: dict[str, str]) -> None:
    found = _get(client, "/ValueSet/sone", headers)
    assert found.status_code == 200
    assert found.get_json()["url"] == SONE_VS
    for query in (
        {"url": SONE_VS},
        {"url": SONE_VS, "version": "0.1.0"},
        {"name": "SoneVS"},
        {"url": SONE_VS + "|0.1.0"},
    ):
        bundle = _get(client, "/ValueSet", headers, **query).get_json()
        assert [e["resource"]["id"] for e in bundle["entry"]] == ["sone"], query
    assert _get(client, "/ValueSet", headers, url=SONE_VS, version="9").get_json()["total"] == 0
    assert _get(client, "/CodeSystem/risk-probability", headers).status_code == 200  # core, bound by a profile
    sd = _get(client, "/StructureDefinition/krise-og-mestringsplan", headers).get_json()
    assert "snapshot" in sd
    guide = _get(client, "/ImplementationGuide", headers).get_json()
    assert guide["entry"][0]["resource"]["packageId"] == "no.samhandling.psykiskhelse"
    assert _get(client, "/ConceptMap/kith-8258-til-response-code", headers).status_code == 200
    assert _get(client, "/MessageDefinition", headers).get_json()["total"] == 10


def test_search_pages_with_count_and_offset(client: FlaskClient, headers: dict[str, str]) -> None:
    first = _get(client, "/ValueSet", headers, _count=5).get_json()
    second = _get(client, "/ValueSet", headers, _count=5, _offset=5).get_json()
    assert len(first["entry"]) == len(second["entry"]) == 5
    assert {e["resource"]["id"] for e in first["entry"]}.isdisjoint(e["resource"]["id"] for e in second["entry"])
    assert any(link["relation"] == "next" and "_offset=5" in link["url"] for link in first["link"])
    post = client.post(
        "/ValueSet/_search",
        data="name=sonevs",
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert [e["resource"]["id"] for e in post.get_json()["entry"]] == ["sone"]
    bad = _get(client, "/ValueSet", headers, publisher="x")
    assert bad.status_code == 400 and issue_codes(bad.get_json()) == ["ADP-5023"]


def test_a_token_is_needed_but_no_plan_scope(client: FlaskClient, auth: Auth) -> None:
    assert client.get("/ValueSet/sone").status_code == 401
    assert client.get("/ValueSet/$expand?url=" + SONE_VS).status_code == 401
    assert client.get("/ValueSet/sone", headers=auth(DPS, MESSAGES)).status_code == 200


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
@pytest.mark.parametrize("path", ["/ValueSet", "/ValueSet/sone", "/CodeSystem/sone", "/StructureDefinition/x"])
def test_writes_are_refused(client: FlaskClient, headers: dict[str, str], method: str, path: str) -> None:
    """Creating, replacing, patching or deleting a conformance resource: 405 (ADP-5064) with Allow, whatever the
    body (a valid ValueSet, XML), and nothing changes."""
    body = json.dumps({"resourceType": "ValueSet", "id": "sone", "status": "retired", "url": SONE_VS})
    response = client.open(path, method=method, data=body, headers={**headers, "Content-Type": "application/fhir+json"})
    assert response.status_code == 405
    assert issue_codes(response.get_json()) == ["ADP-5064"]
    assert response.headers["Allow"] == "GET"
    assert _get(client, "/ValueSet/sone", headers).get_json()["status"] == "draft"


def test_history_is_not_kept(client: FlaskClient, headers: dict[str, str]) -> None:
    for path in ("/ValueSet/sone/_history", "/ValueSet/sone/_history/1"):
        response = _get(client, path, headers)
        assert response.status_code == 405 and issue_codes(response.get_json()) == ["ADP-5064"]


@pytest.mark.parametrize(
    "path",
    ["/ValueSet/..%2F..%2Fetc%2Fpasswd", "/ValueSet/../../etc/passwd", "/ValueSet/%2e%2e", "/ValueSet/sone%00",
     "/ValueSet/" + "a" * 65, "/ValueSet/..", "/CodeSystem/..%5c..%5cwin.ini"],
)  # fmt: skip
def test_path_traversal_in_ids_finds_nothing(client: FlaskClient, headers: dict[str, str], path: str) -> None:
    """An id is looked up in the catalogue's index, never used as a file name: a path in it is not found."""
    response = client.get(path, headers=headers)
    assert response.status_code in (404, 405), response.get_data(as_text=True)[:300]
    assert b"root:" not in response.data and response.get_json()["resourceType"] == "OperationOutcome"


def test_an_unknown_id_is_404(client: FlaskClient, headers: dict[str, str]) -> None:
    response = _get(client, "/ValueSet/finnes-ikke", headers)
    assert response.status_code == 404 and issue_codes(response.get_json()) == ["ADP-5060"]


def test_expand_by_url_and_by_id(client: FlaskClient, headers: dict[str, str]) -> None:
    by_url = _get(client, "/ValueSet/$expand", headers, url=SONE_VS).get_json()
    by_id = _get(client, "/ValueSet/sone/$expand", headers).get_json()
    assert by_url["expansion"]["contains"] == by_id["expansion"]["contains"]
    assert [c["code"] for c in by_url["expansion"]["contains"]] == ["gronn", "gul", "rod"]
    assert by_url["expansion"]["total"] == 3
    english = _get(client, "/ValueSet/sone/$expand", headers, displayLanguage="en").get_json()
    assert [c["display"] for c in english["expansion"]["contains"]] == ["Green", "Yellow", "Red"]
    core = _get(client, "/ValueSet/$expand", headers, url="http://hl7.org/fhir/ValueSet/administrative-gender")
    assert core.status_code == 200 and core.get_json()["expansion"]["total"] == 4
    versioned = _get(client, "/ValueSet/$expand", headers, url=SONE_VS, valueSetVersion="9.9")
    assert versioned.status_code == 404 and issue_codes(versioned.get_json()) == ["ADP-5060"]


def test_expand_filter_count_offset(client: FlaskClient, headers: dict[str, str]) -> None:
    page = _get(client, "/ValueSet/sone/$expand", headers, filter="R", count=1, offset=1).get_json()["expansion"]
    assert (page["total"], page["offset"], [c["code"] for c in page["contains"]]) == (2, 1, ["rod"])
    assert {"name": "filter", "valueString": "R"} in page["parameter"]
    huge = _get(client, "/ValueSet/sone/$expand", headers, count=10**17).get_json()["expansion"]
    assert len(huge["contains"]) == 3 and {"name": "count", "valueInteger": 1000} in huge["parameter"]


@pytest.mark.parametrize("text", ["' OR 1=1 --", ".*", "%", "<script>", "${jndi:ldap://x}", "\\", "(?i)gul|rod"])
def test_filter_is_plain_text(client: FlaskClient, headers: dict[str, str], text: str) -> None:
    """A filter is text looked for in codes and displays, never SQL or a pattern: these find nothing."""
    response = _get(client, "/ValueSet/sone/$expand", headers, filter=text)
    assert response.status_code == 200
    assert response.get_json()["expansion"]["total"] == 0


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ({"count": "-1"}, "ADP-5061"),
        ({"count": "abc"}, "ADP-5061"),
        ({"count": "9" * 40}, "ADP-5061"),
        ({"offset": "1e3"}, "ADP-5061"),
        ({"filter": "x" * 201}, "ADP-5061"),
        ({"excludeNested": "true"}, "ADP-5061"),
        ({"includeDesignations": "perhaps"}, "ADP-5061"),
    ],
)
def test_bad_expand_parameters(client: FlaskClient, headers: dict[str, str], query: dict[str, str], code: str) -> None:
    response = _get(client, "/ValueSet/sone/$expand", headers, **query)
    assert response.status_code == 400 and issue_codes(response.get_json()) == [code]


def test_expand_needs_a_valueset_it_can_find(client: FlaskClient, headers: dict[str, str]) -> None:
    missing = _get(client, "/ValueSet/$expand", headers)
    assert missing.status_code == 400 and issue_codes(missing.get_json()) == ["ADP-5061"]
    unknown = _get(client, "/ValueSet/$expand", headers, url="http://example.org/ValueSet/x")
    assert unknown.status_code == 404 and issue_codes(unknown.get_json()) == ["ADP-5060"]
    snomed = _get(client, "/ValueSet/$expand", headers, url="http://hl7.org/fhir/ValueSet/condition-code")
    assert snomed.status_code == 422 and issue_codes(snomed.get_json()) == ["ADP-5062"]
    assert snomed.get_json()["issue"][0]["code"] == "too-costly"
    not_a_valueset = _get(client, "/ValueSet/$expand", headers, url=SONE_CS)
    assert not_a_valueset.status_code == 404


def test_expand_by_post_json_and_xml(client: FlaskClient, headers: dict[str, str]) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [{"name": "url", "valueUri": SONE_VS}, {"name": "count", "valueInteger": 2}],
    }
    as_json = client.post("/ValueSet/$expand", json=body, headers=headers)
    assert as_json.status_code == 200
    assert [c["code"] for c in as_json.get_json()["expansion"]["contains"]] == ["gronn", "gul"]
    xml = (
        '<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="filter"/><valueString value="gul"/>'
        "</parameter></Parameters>"
    )
    as_xml = client.post(
        "/ValueSet/sone/$expand", data=xml, headers={**headers, "Content-Type": "application/fhir+xml"}
    )
    assert as_xml.status_code == 200
    assert [c["code"] for c in as_xml.get_json()["expansion"]["contains"]] == ["gul"]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"resourceType": "Parameters", "parameter": [', "application/fhir+json", 400, "ADP-1001"),
        (b"<Parameters xmlns='http://hl7.org/fhir'><parameter>", "application/fhir+xml", 400, None),
        (
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="filter"/><valueString value="&x;"/>'
            b"</parameter></Parameters>",
            "application/fhir+xml",
            400,
            None,
        ),
        (json.dumps({"resourceType": "ValueSet", "url": SONE_VS}).encode(), "application/fhir+json", 400, "ADP-5065"),
        (b"", "application/fhir+json", 400, "ADP-5065"),
        (b"[]", "application/fhir+json", 400, None),
        (b"url=x", "text/plain", 415, "ADP-5013"),
        (
            json.dumps({"resourceType": "Parameters", "parameter": [{"name": "count"}]}).encode(),
            "application/fhir+json",
            400,
            "ADP-5065",
        ),
        (
            json.dumps({"resourceType": "Parameters", "parameter": [{"name": "count", "valueDecimal": 1.5}]}).encode(),
            "application/fhir+json",
            400,
            "ADP-5065",
        ),
    ],
)
def test_malformed_bodies(
    client: FlaskClient, headers: dict[str, str], body: bytes, content_type: str, status: int, code: str | None
) -> None:
    """Broken JSON, broken XML, an entity that would read a file, a body of another type, an empty body, a type the
    server cannot read: each an OperationOutcome with its status, never a 500 and never the file."""
    response = client.post("/ValueSet/sone/$expand", data=body, headers={**headers, "Content-Type": content_type})
    assert response.status_code == status, response.get_data(as_text=True)[:400]
    assert b"root:" not in response.data
    codes = issue_codes(response.get_json())
    assert codes and (code is None or codes == [code]), codes


def test_lookup(client: FlaskClient, headers: dict[str, str]) -> None:
    found = _get(client, "/CodeSystem/$lookup", headers, system=SONE_CS, code="gul").get_json()
    assert _parameter(found, "display")["valueString"] == "Gul"
    assert _parameter(found, "name")["valueString"] == "SoneCS"
    english = _get(client, "/CodeSystem/$lookup", headers, system=SONE_CS, code="gul", displayLanguage="en")
    assert _parameter(english.get_json(), "display")["valueString"] == "Yellow"
    unknown = _get(client, "/CodeSystem/$lookup", headers, system=SONE_CS, code="lilla")
    assert unknown.status_code == 404 and issue_codes(unknown.get_json()) == ["ADP-5080"]
    missing = _get(client, "/CodeSystem/$lookup", headers, system=SONE_CS)
    assert missing.status_code == 400 and issue_codes(missing.get_json()) == ["ADP-5061"]
    coding = {
        "resourceType": "Parameters",
        "parameter": [{"name": "coding", "valueCoding": {"system": SONE_CS, "code": "rod"}}],
    }
    posted = client.post("/CodeSystem/$lookup", json=coding, headers=headers).get_json()
    assert _parameter(posted, "display")["valueString"] == "Rød"


def test_validate_code_in_a_valueset(client: FlaskClient, headers: dict[str, str]) -> None:
    def result(path: str, **query: Any) -> dict[str, Any]:
        response = _get(client, path, headers, **query)
        assert response.status_code == 200, response.get_json()
        answer: dict[str, Any] = response.get_json()
        return answer

    good = result("/ValueSet/$validate-code", url=SONE_VS, system=SONE_CS, code="gul", display="gul")
    assert _parameter(good, "result")["valueBoolean"] is True
    assert _parameter(good, "display")["valueString"] == "Gul"
    wrong_display = result("/ValueSet/sone/$validate-code", system=SONE_CS, code="gul", display="Blå")
    assert _parameter(wrong_display, "result")["valueBoolean"] is False
    assert "Blå" in _parameter(wrong_display, "message")["valueString"]
    outside = result(
        "/ValueSet/sone/$validate-code", system="http://samhandling.no/fhir/CodeSystem/plantype", code="gul"
    )
    assert _parameter(outside, "result")["valueBoolean"] is False
    bare = result("/ValueSet/sone/$validate-code", code="rod")
    assert _parameter(bare, "result")["valueBoolean"] is True
    concept = {"coding": [{"system": SONE_CS, "code": "x"}, {"system": SONE_CS, "code": "rod", "display": "Rød"}]}
    body = {"resourceType": "Parameters", "parameter": [{"name": "codeableConcept", "valueCodeableConcept": concept}]}
    posted = client.post("/ValueSet/sone/$validate-code", json=body, headers=headers).get_json()
    assert _parameter(posted, "result")["valueBoolean"] is True
    fragment = _get(
        client,
        "/ValueSet/kith-8279/$validate-code",
        headers,
        system="urn:oid:2.16.578.1.12.4.1.1.8279",
        code="DIALOG_NOTAT",
    )
    assert fragment.status_code == 422 and issue_codes(fragment.get_json()) == ["ADP-5063"]
    neither = _get(client, "/ValueSet/sone/$validate-code", headers)
    assert neither.status_code == 400 and issue_codes(neither.get_json()) == ["ADP-5061"]


def test_validate_code_in_a_codesystem(client: FlaskClient, headers: dict[str, str]) -> None:
    good = _get(client, "/CodeSystem/$validate-code", headers, url=SONE_CS, code="rod").get_json()
    assert _parameter(good, "result")["valueBoolean"] is True
    bad = _get(client, "/CodeSystem/sone/$validate-code", headers, code="lilla").get_json()
    assert _parameter(bad, "result")["valueBoolean"] is False
    wrong = _get(client, "/CodeSystem/sone/$validate-code", headers, code="rod", display="Blå").get_json()
    assert _parameter(wrong, "result")["valueBoolean"] is False
    snomed = _get(client, "/CodeSystem/$validate-code", headers, url="http://snomed.info/sct", code="1")
    assert snomed.status_code in (404, 422) and issue_codes(snomed.get_json())[0] in ("ADP-5060", "ADP-5063")


def test_translate(client: FlaskClient, headers: dict[str, str]) -> None:
    answer = _get(client, "/ConceptMap/$translate", headers, system=KITH_8258, code="2").get_json()
    assert _parameter(answer, "result")["valueBoolean"] is True
    match = {p["name"]: p for p in _parameter(answer, "match")["part"]}
    assert match["concept"]["valueCoding"]["code"] == "fatal-error"
    assert match["equivalence"]["valueCode"] == "equivalent"
    back = _get(
        client, "/ConceptMap/kith-8258-til-response-code/$translate", headers,
        system="http://hl7.org/fhir/response-code", code="ok", reverse="true",
    ).get_json()  # fmt: skip
    first = {p["name"]: p for p in _parameter(back, "match")["part"]}
    assert first["concept"]["valueCoding"]["code"] == "1"
    none = _get(client, "/ConceptMap/$translate", headers, system=KITH_8258, code="7").get_json()
    assert _parameter(none, "result")["valueBoolean"] is False
    unknown = _get(client, "/ConceptMap/$translate", headers, url="http://example.org/cm", system=KITH_8258, code="1")
    assert unknown.status_code == 404 and issue_codes(unknown.get_json()) == ["ADP-5060"]


def test_the_capability_statement_names_them(client: FlaskClient) -> None:
    statement = client.get("/metadata").get_json()
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    for rtype in ("StructureDefinition", "ValueSet", "CodeSystem", "ConceptMap", "ImplementationGuide"):
        assert {i["code"] for i in resources[rtype]["interaction"]} == {"read", "search-type"}
        assert {"name": "url", "type": "uri"} in resources[rtype]["searchParam"]
    operations = {o["name"]: o["definition"] for o in resources["ValueSet"]["operation"]}
    assert operations == {
        "expand": "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
        "validate-code": "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
    }
    assert {o["name"] for o in resources["ConceptMap"]["operation"]} == {"translate"}
    assert {o["name"] for o in resources["CodeSystem"]["operation"]} == {"lookup", "validate-code"}


# Issue 17, the outsider's findings on the terminology: each test failed before its fix.

KITH_8279 = "urn:oid:2.16.578.1.12.4.1.1.8279"
REQUEST_STATUS = "http://hl7.org/fhir/ValueSet/request-status"


def test_lookup_in_a_served_fragment(client: FlaskClient, headers: dict[str, str]) -> None:
    """CodeSystem/kith-8279 is served (content fragment) and has DIALOG_HELSEFAGLIG: $lookup finds it; a code the
    fragment lacks is "not among the codes held" (ADP-5081), an unknown code of a complete system ADP-5080: neither
    says there is no such code system."""
    assert _get(client, "/CodeSystem/kith-8279", headers).get_json()["content"] == "fragment"
    found = _get(client, "/CodeSystem/$lookup", headers, system=KITH_8279, code="DIALOG_HELSEFAGLIG")
    assert found.status_code == 200, found.get_json()
    assert _parameter(found.get_json(), "display")["valueString"]
    lacking = _get(client, "/CodeSystem/$lookup", headers, system=KITH_8279, code="RESEPT")
    assert lacking.status_code == 404 and issue_codes(lacking.get_json()) == ["ADP-5081"]
    assert "fragment" in lacking.get_json()["issue"][0]["diagnostics"]
    nope = _get(client, "/CodeSystem/$lookup", headers, system=SONE_CS, code="nope").get_json()
    assert issue_codes(nope) == ["ADP-5080"] and "There is no CodeSystem" not in nope["issue"][0]["diagnostics"]


def test_core_valuesets_our_profiles_bind_to_are_read_and_searched(
    client: FlaskClient, headers: dict[str, str]
) -> None:
    """What $expand expands (core's request-status, bound by CarePlan.status in a snapshot) can be read and
    searched too, with its CodeSystem, under the core package's ids."""
    assert _get(client, "/ValueSet/$expand", headers, url=REQUEST_STATUS).status_code == 200
    read = _get(client, "/ValueSet/request-status", headers)
    assert read.status_code == 200 and read.get_json()["url"] == REQUEST_STATUS
    bundle = _get(client, "/ValueSet", headers, url=REQUEST_STATUS).get_json()
    assert [e["resource"]["id"] for e in bundle["entry"]] == ["request-status"]
    assert _get(client, "/CodeSystem/request-status", headers).get_json()["url"] == "http://hl7.org/fhir/request-status"


def test_translate_of_a_code_without_its_system_is_refused(client: FlaskClient, headers: dict[str, str]) -> None:
    answer = _get(client, "/ConceptMap/$translate", headers, code="2")
    assert answer.status_code == 400 and issue_codes(answer.get_json()) == ["ADP-5061"]


def test_a_wrong_display_in_a_codeable_concept(client: FlaskClient, headers: dict[str, str]) -> None:
    concept = {"coding": [{"system": SONE_CS, "code": "rod", "display": "Blå"}]}
    body = {"resourceType": "Parameters", "parameter": [{"name": "codeableConcept", "valueCodeableConcept": concept}]}
    answer = client.post("/ValueSet/sone/$validate-code", json=body, headers=headers).get_json()
    assert _parameter(answer, "result")["valueBoolean"] is False
    issue = _parameter(answer, "issues")["resource"]["issue"][0]
    assert issue["expression"] == ["CodeableConcept.coding[0].display"]
    assert "Rød" in _parameter(answer, "message")["valueString"]


def test_searches_take_summary_and_elements(client: FlaskClient, headers: dict[str, str]) -> None:
    """_summary=true gives the elements R4 marks isSummary (no snapshot), _summary=count the total only,
    _elements the named ones; each subset tagged SUBSETTED; what is not served is a 400."""
    whole = _get(client, "/StructureDefinition", headers, _count=200)
    summary = _get(client, "/StructureDefinition", headers, _count=200, _summary="true")
    assert summary.status_code == 200 and len(summary.data) * 5 < len(whole.data)
    resources = [e["resource"] for e in summary.get_json()["entry"]]
    assert resources and all("snapshot" not in r and "differential" not in r and r["url"] for r in resources)
    assert all(t["code"] == "SUBSETTED" for r in resources for t in r["meta"]["tag"])
    counted = _get(client, "/StructureDefinition", headers, _summary="count").get_json()
    assert counted["total"] == whole.get_json()["total"] and not counted.get("entry")
    named = _get(client, "/ValueSet", headers, _id="sone", _elements="url,name").get_json()["entry"][0]["resource"]
    assert set(named) == {"resourceType", "id", "meta", "url", "name"}
    assert named["meta"]["tag"][0]["code"] == "SUBSETTED"
    assert (
        "compose" in _get(client, "/ValueSet", headers, _id="sone", _summary="false").get_json()["entry"][0]["resource"]
    )
    for query in ({"_summary": "data"}, {"_summary": "true", "_elements": "url"}, {"_elements": "../x"}):
        refused = _get(client, "/ValueSet", headers, **query)
        assert refused.status_code == 400 and issue_codes(refused.get_json()) == ["ADP-5023"], query


def test_metadata_in_terminology_mode(client: FlaskClient) -> None:
    """GET /metadata?mode=terminology is a TerminologyCapabilities (R4): the code systems served, the expansion
    parameters taken, translation and validateCode; any other mode stays the CapabilityStatement."""
    answer = client.get("/metadata?mode=terminology")
    assert answer.status_code == 200
    capabilities = answer.get_json()
    assert capabilities["resourceType"] == "TerminologyCapabilities"
    assert capabilities["kind"] == "instance" and capabilities["status"] and capabilities["date"]
    systems = {c["uri"] for c in capabilities["codeSystem"]}
    assert {SONE_CS, KITH_8279, "http://hl7.org/fhir/request-status"} <= systems
    parameters = {p["name"] for p in capabilities["expansion"]["parameter"]}
    assert {"filter", "count", "offset", "displayLanguage", "includeDesignations"} <= parameters
    assert capabilities["translation"] == {"needsMap": False}
    assert capabilities["validateCode"] == {"translations": False}
    assert client.get("/metadata?mode=full").get_json()["resourceType"] == "CapabilityStatement"
