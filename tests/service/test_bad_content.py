"""No 5xx from bad content: malformed references, ids, types and values anywhere in a message Bundle are answered
with an OperationOutcome (a 4xx, or on ``$validate`` a 200 with errors) or an acknowledgement with fatal-error,
never a 500 (a synchronous sender retries a message that gets a 500 for ever).

The crisis plan message of the examples is broken the way an attacker would break it: the entries other entries
refer to (the patient, the organisations, the plan) with a resourceType, id, fullUrl or meta.profile of the wrong
JSON type; reference values that are numbers, objects, lists or empty shells (``urn:uuid:``, ``Patient/``);
extensions, contained resources and identifiers of odd shape. Each is sent to ``$validate`` and
``$process-message`` and must be refused with our codes. The service routes the kommune in KITH, and the kommune's
consent lets the plan go there, so the intact message is acknowledged ok (and translated in the request).

A property-based test then puts random JSON at random places, mostly inside the referenced entries and their
references (``test_service_reliability`` fuzzes whole requests at random); ``SAMHANDLING_FUZZ_EXAMPLES=2000
SAMHANDLING_FUZZ_RANDOM=1`` runs it longer and differently.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from service_helpers import DPS, KOMMUNE, ack_code, example, example_json, issue_codes

from adapter.api import create_app
from adapter.config import Settings
from adapter.errors import CODES
from adapter.security import SCOPES
from adapter.service import Service

CONSENT = "fhir/Bundle-melding-samtykke-ola.json"
CRISIS_PLAN = "fhir/Bundle-melding-kriseplan-ola.json"
ENDPOINTS = ("/$validate", "/$process-message")
JSON = {"Content-Type": "application/fhir+json"}
# the entries other entries refer to: the plan (MessageHeader.focus), the patient (the plan's subject), the
# receiving and sending organisations (MessageHeader.destination.receiver, .sender), the coordinator (author)
PLAN, PATIENT, RECEIVER, SENDER, COORDINATOR = (
    "krise-og-mestringsplan-ola",
    "pasient-ola",
    "org-kommune",
    "org-dps",
    "koordinator-kommune",
)
HEADER = "samhandlingsmelding-kriseplan-ola"
REFERENCED = (PLAN, PATIENT, RECEIVER, SENDER, COORDINATOR)
# canonicals of resources that are not StructureDefinitions
EVENTS = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
DEFINITION = "http://samhandling.no/fhir/MessageDefinition/md-crisisplan-shared"

Change = Callable[[dict[str, Any]], None]


POSITIONS = {entry["resource"]["id"]: position for position, entry in enumerate(example_json(CRISIS_PLAN)["entry"])}


def entry_of(bundle: dict[str, Any], rid: str) -> Any:
    """The entry of the resource whose id in the example is ``rid``."""
    return bundle["entry"][POSITIONS[rid]]


def put(rid: str, path: str, value: Any) -> Change:
    """A change: ``value`` at ``path`` (dotted, list positions as numbers) in the entry of the resource ``rid``;
    a path ending in ``-`` deletes."""

    def change(bundle: dict[str, Any]) -> None:
        node: Any = entry_of(bundle, rid)
        *steps, last = path.split(".")
        for step in steps:
            node = node[int(step)] if isinstance(node, list) else node[step]
        if last.endswith("-"):
            del node[last[:-1]]
        else:
            node[int(last) if isinstance(node, list) else last] = copy.deepcopy(value)

    return change


def both(*changes: Change) -> Change:
    def change(bundle: dict[str, Any]) -> None:
        for one in changes:
            one(bundle)

    return change


def contained(*resources: Any, reference: str = "#p") -> Change:
    """The plan with these contained resources, its subject pointing at ``reference``."""
    return both(put(PLAN, "resource.contained", list(resources)), put(PLAN, "resource.subject.reference", reference))


def replace_entry(rid: str, value: Any) -> Change:
    def change(bundle: dict[str, Any]) -> None:
        bundle["entry"][POSITIONS[rid]] = value

    return change


def bundle_key(key: str, value: Any) -> Change:
    def change(bundle: dict[str, Any]) -> None:
        bundle[key] = value

    return change


WRONG_TYPES: dict[str, Any] = {"list": ["Patient"], "object": {"a": 1}, "number": 7, "null": None, "true": True}
BAD_REFERENCES: dict[str, Any] = {
    "number": 7,
    "float": 1.5,
    "true": True,
    "object": {"reference": "Patient/pasient-ola"},
    "list": ["Patient/pasient-ola"],
    "null": None,
    "empty": "",
    "urn-uuid-nothing": "urn:uuid:",
    "urn-oid-nothing": "urn:oid:",
    "type-slash": "Patient/",
    "slash": "/",
    "hash": "#",
    "hash-missing": "#nothing",
    "history-nothing": "Patient/pasient-ola/_history/",
    "http-nothing": "http://",
    "http-unclosed-ipv6": "http://[::1/fhir/Patient/pasient-ola",
    "https-no-host": "https:Patient/pasient-ola",
    "double-slash": "Patient//pasient-ola",
    "query": "?x",
    "lower-type": "patient/pasient-ola",
    "control": "Patient/\u0000",
    "long": "Patient/" + "x" * 5000,
}
REFERENCES = {  # where: (entry, path of the reference string)
    "subject": (PLAN, "resource.subject.reference"),
    "focus": (HEADER, "resource.focus.0.reference"),
    "receiver": (HEADER, "resource.destination.0.receiver.reference"),
    "sender": (HEADER, "resource.sender.reference"),
    "author": (PLAN, "resource.author.reference"),
}

CASES: dict[str, Change] = {}
for _rid in (PATIENT, RECEIVER, PLAN, SENDER):
    for _name, _value in {**WRONG_TYPES, "empty": "", "unknown": "patient", "other": "Observation"}.items():
        CASES[f"{_rid}-resourceType-{_name}"] = put(_rid, "resource.resourceType", _value)
    CASES[f"{_rid}-resourceType-missing"] = put(_rid, "resource.resourceType-", None)
    for _name, _value in {
        "number": 7,
        "object": {"a": 1},
        "string": "http://hl7.no/fhir/StructureDefinition/no-basis-Patient",
        "list-number": [7],
        "list-object": [{"a": 1}],
        "list-null": [None],
        "list-list": [["http://hl7.no/fhir/StructureDefinition/no-basis-Patient"]],
        "list-true": [True],
        "empty": [],
        "unknown": ["http://samhandling.no/fhir/StructureDefinition/nothing"],
        "a-code-system": [EVENTS],
        "a-message-definition": [DEFINITION],
        "a-datatype": ["http://hl7.org/fhir/StructureDefinition/Extension"],
        "a-primitive": ["http://hl7.org/fhir/StructureDefinition/string|4.0.1"],
        "another-type": ["http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding"],
    }.items():
        CASES[f"{_rid}-meta.profile-{_name}"] = put(_rid, "resource.meta.profile", _value)
    for _name, _value in {"number": 7, "list": [], "string": "x"}.items():
        CASES[f"{_rid}-meta-{_name}"] = put(_rid, "resource.meta", _value)
    for _name, _value in {**WRONG_TYPES, "empty": "", "space": "pasient ola", "other": "someone-else"}.items():
        CASES[f"{_rid}-id-{_name}"] = put(_rid, "resource.id", _value)
    for _name, _value in {
        **WRONG_TYPES,
        "empty": "",
        "urn-uuid-nothing": "urn:uuid:",
        "relative": f"Patient/{_rid}",
        "other": "http://samhandling.no/fhir/Patient/someone-else",
    }.items():
        CASES[f"{_rid}-fullUrl-{_name}"] = put(_rid, "fullUrl", _value)
    for _name, _value in {"list": [{"resourceType": "Patient"}], "string": "x", "null": None, "number": 7}.items():
        CASES[f"{_rid}-entry.resource-{_name}"] = put(_rid, "resource", _value)
    for _name, _value in {"number": 7, "null": None, "string": "x", "list": []}.items():
        CASES[f"{_rid}-entry-{_name}"] = replace_entry(_rid, _value)
    for _name, _value in {**WRONG_TYPES, "string": "x", "empty": []}.items():
        CASES[f"{_rid}-identifier-{_name}"] = put(_rid, "resource.identifier", _value)
for _where, (_rid, _path) in REFERENCES.items():
    for _name, _value in BAD_REFERENCES.items():
        CASES[f"reference-{_where}-{_name}"] = put(_rid, _path, _value)
    _holder = _path.rsplit(".", 1)[0]
    for _name, _value in {"string": "Patient/pasient-ola", "list": [{"reference": "x"}], "number": 7}.items():
        CASES[f"reference-{_where}-as-{_name}"] = put(_rid, _holder, _value)
    CASES[f"reference-{_where}-identifier"] = put(_rid, _holder, {"identifier": {"system": 7, "value": []}})
CASES.update(
    {
        "two-entries-one-fullUrl": put(RECEIVER, "fullUrl", "http://samhandling.no/fhir/Organization/org-dps"),
        "reference-to-the-bundle": put(PLAN, "resource.subject.reference", "Bundle/x"),
        "focus-not-a-list": put(HEADER, "resource.focus", {"reference": f"CarePlan/{PLAN}"}),
        "focus-numbers": put(HEADER, "resource.focus", [7, None]),
        "destination-numbers": put(HEADER, "resource.destination", [7]),
        "destination-receiver-string": put(HEADER, "resource.destination.0.receiver", "Organization/org-kommune"),
        "destination-endpoint-number": put(HEADER, "resource.destination.0.endpoint", 7),
        "header-id-object": put(HEADER, "resource.id", {"a": 1}),
        "header-id-list": put(HEADER, "resource.id", ["x"]),
        "event-code-number": put(HEADER, "resource.eventCoding.code", 7),
        "event-system-list": put(HEADER, "resource.eventCoding.system", ["x"]),
        "source-endpoint-number": put(HEADER, "resource.source.endpoint", 7),
        "extension-url-number": put(PLAN, "resource.activity.0.extension.0.url", 7),
        "extension-url-object": put(PLAN, "resource.activity.0.extension.0.url", {"a": 1}),
        "extension-url-list": put(PLAN, "resource.activity.0.extension.0.url", ["x"]),
        "extension-url-null": put(PLAN, "resource.activity.0.extension.0.url", None),
        "extension-url-empty": put(PLAN, "resource.activity.0.extension.0.url", ""),
        "extension-url-a-code-system": put(PLAN, "resource.activity.0.extension.0.url", EVENTS),
        "extension-url-a-message-definition": put(PLAN, "resource.activity.0.extension.0.url", DEFINITION),
        "extension-not-a-list": put(PLAN, "resource.activity.0.extension", {"url": "x"}),
        "extension-numbers": put(PLAN, "resource.activity.0.extension", [7]),
        "extension-string": put(PLAN, "resource.activity.0.extension.0", "x"),
        "extension-reference-number": put(PLAN, "resource.activity.10.detail.extension.0.valueReference.reference", 7),
        "extension-reference-type-slash": put(
            PLAN, "resource.activity.10.detail.extension.0.valueReference.reference", "DocumentReference/"
        ),
        "extension-reference-string": put(PLAN, "resource.activity.10.detail.extension.0.valueReference", "x"),
        "location-reference-object": put(PLAN, "resource.activity.10.detail.location.reference", {"a": 1}),
        "performer-reference-list": put(PLAN, "resource.activity.1.detail.performer.0.reference", ["x"]),
        "contained-not-a-list": put(PLAN, "resource.contained", {"resourceType": "Patient", "id": "p"}),
        "contained-numbers": put(PLAN, "resource.contained", [7]),
        "contained-resourceType-list": contained({"resourceType": ["Patient"], "id": "p"}),
        "contained-resourceType-object": contained({"resourceType": {"a": 1}, "id": "p"}),
        "contained-resourceType-number": contained({"resourceType": 7, "id": "p"}),
        "contained-id-object": contained({"resourceType": "Patient", "id": {"a": 1}}, reference="#[object Object]"),
        "contained-id-list": contained({"resourceType": "Patient", "id": ["p"]}),
        "contained-profile-number": contained({"resourceType": "Patient", "id": "p", "meta": {"profile": 7}}),
        "contained-profile-numbers": contained({"resourceType": "Patient", "id": "p", "meta": {"profile": [7]}}),
        "contained-in-contained": contained(
            {"resourceType": "Patient", "id": "p", "contained": [{"resourceType": ["Patient"], "id": "q"}]}
        ),
        "patient-identifier-not-a-list": put(PATIENT, "resource.identifier", {"system": "x", "value": "y"}),
        "patient-identifier-numbers": put(PATIENT, "resource.identifier", [7]),
        "patient-identifier-system-number": put(PATIENT, "resource.identifier.0.system", 7),
        "patient-identifier-value-list": put(PATIENT, "resource.identifier.0.value", ["15838510075"]),
        "patient-identifier-value-object": put(PATIENT, "resource.identifier.0.value", {"a": 1}),
        "receiver-identifier-value-list": put(RECEIVER, "resource.identifier.0.value", ["x"]),
        "sender-identifier-system-object": put(SENDER, "resource.identifier.0.system", {"a": 1}),
        "plan-status-list": put(PLAN, "resource.status", ["active"]),
        "plan-category-object": put(PLAN, "resource.category", {"coding": 7}),
        "plan-period-string": put(PLAN, "resource.period", "2026"),
        "bundle-type-list": bundle_key("type", ["message"]),
        "bundle-profile-number": bundle_key("meta", {"profile": 7}),
        "bundle-profile-numbers": bundle_key("meta", {"profile": [7, {"a": 1}]}),
        "bundle-id-object": bundle_key("id", {"a": 1}),
        "bundle-timestamp-number": bundle_key("timestamp", 7),
        "bundle-identifier-string": bundle_key("identifier", "x"),
        "bundle-resourceType-list": bundle_key("resourceType", ["Bundle"]),
    }
)


#: odd, but well-formed: answered (an acknowledgement, ok or not, or an OperationOutcome), never a 5xx
ODD_CASES: dict[str, Change] = {
    f"reference-{where}-{name}": put(rid, path, value)
    for where, (rid, path) in REFERENCES.items()
    for name, value in {
        "history-unknown": "Patient/pasient-ola/_history/9",
        "elsewhere": "http://fhir.elsewhere.example/Patient/1",
        "unresolved": "Patient/someone-else",
        "urn-uuid-unresolved": "urn:uuid:0b4a8c2e-9d6f-4f7e-8a1b-3c5d7e9f1a2b",
        "other-scheme": "mailto:someone@elsewhere.example",
        "full-url": "http://samhandling.no/fhir/Patient/pasient-ola",
        "a-practitioner": f"Practitioner/{COORDINATOR}",
        "a-patient": f"Patient/{PATIENT}",
        "the-plan": f"CarePlan/{PLAN}",
    }.items()
}
ODD_CASES.update(
    {
        **{
            f"plan-{where}-{name}": put(PLAN, path, text)
            for where, path in {
                "title": "resource.title",
                "note": "resource.note.0.text",
                "activity-description": "resource.activity.0.detail.description",
            }.items()
            for name, text in {
                "control-characters": "a\u0000b\u0001c\u001fd\u007f",
                "surrogate-escape": "\udcff",
                "xml": "<![CDATA[x]]></Notat><!-- &amp; &#0;",
                "nonchar": "\ufffe\uffff",
                "long": "x" * 100000,
            }.items()
        },
        "focus-twice": put(HEADER, "resource.focus", [{"reference": f"CarePlan/{PLAN}"}] * 2),
        "focus-none": put(HEADER, "resource.focus-", None),
        "destination-endpoint-only": put(HEADER, "resource.destination.0.receiver-", None),
        "receiver-without-identifier": put(RECEIVER, "resource.identifier-", None),
        "receiver-identifier-other-system": put(RECEIVER, "resource.identifier.0.system", "urn:oid:1.2.3"),
        "sender-without-identifier": put(SENDER, "resource.identifier-", None),
        "patient-without-identifier": put(PATIENT, "resource.identifier-", None),
        "patient-contained": contained(
            {"resourceType": "Patient", "id": "p", "identifier": [{"system": "urn:oid:1.2.3", "value": "1"}]}
        ),
        "patient-version": both(
            put(PATIENT, "resource.meta.versionId", "9"),
            put(PLAN, "resource.subject.reference", "Patient/pasient-ola/_history/9"),
        ),
    }
)


def message(change: Change) -> dict[str, Any]:
    """The crisis plan message with a new MessageHeader id (so it is processed, not answered from the store),
    then changed."""
    bundle = example_json(CRISIS_PLAN)
    header = entry_of(bundle, HEADER)
    header["resource"]["id"] = "bad-" + uuid.uuid4().hex
    header["fullUrl"] = "http://samhandling.no/fhir/MessageHeader/" + header["resource"]["id"]
    change(bundle)
    return bundle


def answer(response: Any) -> dict[str, Any]:
    """The JSON answer, after the checks every answer must pass: no 5xx, an OperationOutcome with our stable
    codes or an acknowledgement Bundle."""
    status, data = response.status_code, response.get_data()
    assert status < 500, data[:3000]
    body: dict[str, Any] = json.loads(data)
    kind = body.get("resourceType")
    if kind == "OperationOutcome":
        codes = [c.get("code") for i in body["issue"] for c in i.get("details", {}).get("coding", [])]
        assert all(code in CODES for code in codes), body
        if status >= 400:
            assert codes, body
    else:
        assert (status, kind) == (200, "Bundle"), body
        assert body["entry"][0]["resource"]["response"]["code"] in ("ok", "fatal-error"), body
    return body


def assert_refused(endpoint: str, response: Any) -> None:
    """Bad content is reported, not let through: ``$validate`` answers errors, ``$process-message`` a 4xx or an
    acknowledgement with fatal-error."""
    body = answer(response)
    if body["resourceType"] == "OperationOutcome":
        assert issue_codes(body), (endpoint, body)
    else:
        assert endpoint == "/$process-message"
        assert ack_code(body) == "fatal-error", body


ROUTES = """routes:
  - receiver: '8100001'
    destination: http://127.0.0.1:9/kith
    format: kith
    transport: http
  - receiver: '8100002'
    destination: http://127.0.0.1:9/fhir
    format: fhir
    transport: http
"""
Send = Callable[[str, str], Any]


@pytest.fixture
def send(make_service: Callable[..., Service], service_settings: Settings, tmp_path: Path) -> Send:
    """Scope: function. Type: ``send(endpoint, JSON text)`` -> the response, sent as the DPS with every scope.
    Default: a service whose routing table sends to the kommune in KITH (so an accepted plan is translated in the
    request) and to the DPS in FHIR, after the kommune's consent that lets the crisis plan go to it."""
    table = tmp_path / "routes.yaml"
    table.write_text(ROUTES)
    service = make_service(service_settings, routes_file=str(table))
    client = create_app(service=service).test_client()
    issuer = service.issuer
    assert issuer is not None

    def headers(org: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + issuer.issue(org, SCOPES), **JSON}

    consent = client.post("/$process-message", data=example(CONSENT), headers=headers(KOMMUNE))
    assert ack_code(answer(consent)) == "ok"
    dps = headers(DPS)
    return lambda endpoint, data: client.post(endpoint, data=data, headers=dps)


def test_the_intact_message_is_acknowledged_ok(send: Send) -> None:
    data = json.dumps(message(lambda bundle: None))
    assert issue_codes(answer(send("/$validate", data))) == []
    assert ack_code(answer(send("/$process-message", data))) == "ok"


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_content_is_refused_with_an_outcome_never_a_5xx(case: str, send: Send) -> None:
    data = json.dumps(message(CASES[case]))
    for endpoint in ENDPOINTS:
        assert_refused(endpoint, send(endpoint, data))


@pytest.mark.parametrize("case", sorted(ODD_CASES))
def test_odd_but_well_formed_content_gets_an_answer_never_a_5xx(case: str, send: Send) -> None:
    data = json.dumps(message(ODD_CASES[case]))
    for endpoint in ENDPOINTS:
        answer(send(endpoint, data))


# --- property-based: random JSON at random places, mostly in the referenced entries --------------------------------

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "urn:uuid:",
        "urn:oid:",
        "Patient/",
        "/",
        "#",
        "#p",
        "Patient/pasient-ola/_history/",
        "http://",
        "Patient//pasient-ola",
        "Organization/org-kommune",
        f"CarePlan/{PLAN}",
        "http://samhandling.no/fhir/Patient/pasient-ola",
        "Patient",
        "Bundle",
        "OperationOutcome",
        "\u0000",
        "x" * 300,
        "http://hl7.no/fhir/StructureDefinition/no-basis-Patient",
        "http://hl7.org/fhir/StructureDefinition/Element",
        EVENTS,
        DEFINITION,
    ]
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12) | HOSTILE,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10) | HOSTILE, children, max_size=3)
    ),
    max_leaves=8,
)
IDENTITY = frozenset(
    {"resourceType", "id", "fullUrl", "meta", "profile", "reference", "url", "contained", "identifier"}
)
EXAMPLES = int(os.environ.get("SAMHANDLING_FUZZ_EXAMPLES", "150"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=not os.environ.get("SAMHANDLING_FUZZ_RANDOM"),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)


JsonPath = tuple[str | int, ...]


def places(node: Any, path: JsonPath = ()) -> Iterator[tuple[Any, Any, JsonPath]]:
    """(container, key, path from the Bundle) of every value inside ``node``."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in list(items):
        yield node, key, (*path, key)
        yield from places(child, (*path, key))


class Mutated:
    """A changed message; shown as its changes (the whole message is too long to read in a report)."""

    def __init__(self, bundle: dict[str, Any], changes: list[str]) -> None:
        self.bundle, self.changes = bundle, changes

    def __repr__(self) -> str:
        return "; ".join(self.changes)


@st.composite
def mutated_messages(draw: Callable[..., Any]) -> Mutated:
    """The crisis plan message with one to four values replaced: in a referenced entry (its resource type, id,
    fullUrl, profiles, references or anything), in a reference anywhere, or anywhere at all; by random JSON, a
    hostile string, the value wrapped in a list or an object, or a copy of another part of the message."""
    bundle = message(lambda b: None)
    changes = []
    for _ in range(draw(st.integers(1, 4))):
        scope = draw(st.sampled_from(["referenced", "referenced-identity", "identity", "anywhere"]))
        candidates = list(places(bundle))
        if scope.startswith("referenced"):
            entries = {("entry", POSITIONS[rid]) for rid in REFERENCED}
            candidates = [c for c in candidates if c[2][:2] in entries and len(c[2]) > 2] or candidates
        if scope.endswith("identity"):
            candidates = [c for c in candidates if c[1] in IDENTITY] or candidates
        if not candidates:
            continue
        node, key, path = draw(st.sampled_from(candidates))
        how = draw(st.sampled_from(["random", "hostile", "wrap", "copy"]))
        if how == "random":
            node[key] = draw(json_values)
        elif how == "hostile":
            node[key] = draw(HOSTILE)
        elif how == "wrap":
            node[key] = draw(st.sampled_from([[node[key]], {"reference": node[key]}, {"value": node[key]}]))
        else:
            other, other_key, _ = draw(st.sampled_from(list(places(bundle))))
            node[key] = copy.deepcopy(other[other_key])
        shown = json.dumps(node[key])
        changes.append(f"{'.'.join(map(str, path))} = {shown if len(shown) < 200 else shown[:200] + '...'}")
    return Mutated(bundle, changes)


def test_random_values_in_referenced_entries_never_get_a_5xx(send: Send) -> None:
    seen: Counter[str] = Counter()

    @PROPERTY
    @given(mutated=mutated_messages())
    def check(mutated: Mutated) -> None:
        data = json.dumps(mutated.bundle)
        for endpoint in ENDPOINTS:
            body = answer(send(endpoint, data))
            outcome = ack_code(body) if body["resourceType"] == "Bundle" else "errors" if issue_codes(body) else "none"
            seen[f"{endpoint} {body['resourceType']} {outcome}"] += 1

    check()
    assert sum(seen.values()) >= 2 * EXAMPLES
    print(f"\nanswers: {dict(sorted(seen.items()))}")
