"""The CapabilityStatement says exactly what the server does (issue 17, point 1): these tests read ``/metadata`` and
derive their checks from it. For each resource type, each interaction, search parameter, ``_include`` and
``_revinclude``, operation and flag it declares is exercised and must work; each R4 interaction it does not declare
(``delete``, ``patch``, ...) is exercised and must be refused. A statement that claims something untrue, or leaves
out something the server does, fails here."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from service_helpers import DPS, EXAMPLES, KOMMUNE, LEGEKONTOR, example

from adapter.api import create_app
from adapter.config import Settings
from adapter.security import SCOPES
from adapter.service import Service

#: R4's interactions (TypeRestfulInteraction and SystemRestfulInteraction).
TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
SYSTEM_INTERACTIONS = ("transaction", "batch", "search-system", "history-system")
#: The example messages that fill the store, with their senders.
MESSAGES = (
    (KOMMUNE, "samtykke"),
    (DPS, "kriseplan"),
    (LEGEKONTOR, "henvisning"),
    (KOMMUNE, "individuell-plan"),
    (KOMMUNE, "kartlegging"),
    (KOMMUNE, "koordinator"),
    (DPS, "risikovurdering"),
    (DPS, "voldsrisikoplan"),
)
ENDPOINT = "http://127.0.0.1:9/fhir"  # routed, never called: nothing is delivered in these tests


class Server:
    """A service with the example messages exchanged, its client, and tokens of its demo issuer."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.client = create_app(service=service).test_client()
        for org, name in MESSAGES:
            response = self.client.post(
                "/$process-message", data=example(f"fhir/Bundle-melding-{name}-ola.json"), headers=self.auth(org)
            )
            assert response.status_code == 200, (name, response.get_json())
        statement = self.client.get("/metadata").get_json()
        self.statement: dict[str, Any] = statement
        self.rest: dict[str, Any] = statement["rest"][0]
        self.resources: dict[str, dict[str, Any]] = {r["type"]: r for r in self.rest["resource"]}

    def auth(self, org: str = DPS, *scopes: str) -> dict[str, str]:
        assert self.service.issuer is not None
        token = self.service.issuer.issue(org, scopes or SCOPES, ttl_seconds=600)
        return {"Authorization": f"Bearer {token}"}

    def get(self, path: str, org: str = DPS, **headers: str) -> Any:
        return self.client.get(path, headers={**self.auth(org), **headers})

    def interactions(self, rtype: str) -> set[str]:
        return {i["code"] for i in self.resources[rtype].get("interaction", [])}

    def any_of(self, rtype: str) -> dict[str, Any]:
        """A stored resource of ``rtype`` the DPS may read (found by the declared search; made by POST when the
        example messages hold none, as for Task and Subscription)."""
        found = self.get(f"/{rtype}?_count=1")
        assert found.status_code == 200, (rtype, found.get_json())
        entries = [e for e in found.get_json().get("entry", []) if e["search"]["mode"] == "match"]
        if entries:
            return dict(entries[0]["resource"])
        assert "create" in self.interactions(rtype), f"no {rtype} to exercise the statement with"
        return created(self, rtype)[0]


@pytest.fixture
def server(service_settings: Settings, make_service: Callable[..., Service], tmp_path: Path) -> Server:
    """Scope: function. Type: Server (every organisation of the examples routed to ENDPOINT, so a Subscription can
    be made). Default: the example messages exchanged."""
    routes = tmp_path / "routes.yaml"
    rows = [{"receiver": her, "destination": ENDPOINT, "format": "fhir"} for her in (DPS, KOMMUNE, LEGEKONTOR)]
    routes.write_text(yaml.safe_dump({"routes": rows}), encoding="utf-8")
    return Server(make_service(dataclasses.replace(service_settings, routes_file=str(routes))))


def new_body(rtype: str) -> dict[str, Any]:
    """A new resource of ``rtype``: its example without id and business identifier (one record per identifier),
    or, for a Subscription, one to the caller's own endpoint."""
    if rtype == "Subscription":
        return {
            "resourceType": "Subscription",
            "status": "requested",
            "reason": "conformance test",
            "criteria": "CarePlan?status=active",
            "channel": {"type": "rest-hook", "endpoint": ENDPOINT, "payload": "application/fhir+json"},
        }
    files = sorted((EXAMPLES / "fhir").glob(f"{rtype}-*.json"))
    assert files, f"no example of {rtype} in examples/fhir to exercise create with"
    body = json.loads(files[0].read_text(encoding="utf-8"))
    body.pop("id")
    body.pop("identifier", None)
    body.pop("text", None)
    return dict(body)


def created(server: Server, rtype: str) -> tuple[dict[str, Any], str]:
    """A resource of ``rtype`` created by POST, and the organisation that could create it (the one whose example
    it is: Consent by its custodian, a Task by ...)."""
    answers = []
    for org in (DPS, KOMMUNE, LEGEKONTOR):
        response = server.client.post(f"/{rtype}", json=new_body(rtype), headers=server.auth(org))
        if response.status_code == 201:
            return dict(response.get_json()), org
        answers.append((org, response.status_code, response.get_json()))
    raise AssertionError(f"create of {rtype} declared but refused to every organisation: {answers}")


# --- the types' interactions -------------------------------------------------------------------------------------


def test_every_declared_interaction_of_every_record_type_works(server: Server) -> None:
    checked = 0
    for rtype, declared in server.resources.items():
        interactions = server.interactions(rtype)
        assert interactions <= set(TYPE_INTERACTIONS), (rtype, interactions)
        if "create" not in interactions:
            _check_read_only(server, rtype, interactions)
            continue
        resource, org = created(server, rtype)
        rid = resource["id"]
        if "read" in interactions:
            assert server.get(f"/{rtype}/{rid}", org).status_code == 200, rtype
        if "update" in interactions:
            changed = {**resource, "language": "nb"}
            headers = {**server.auth(org), "If-Match": 'W/"1"'}
            response = server.client.put(f"/{rtype}/{rid}", json=changed, headers=headers)
            assert response.status_code == 200, (rtype, response.get_json())
            assert response.headers["ETag"] == 'W/"2"'
        if "vread" in interactions:
            old = server.get(f"/{rtype}/{rid}/_history/1", org)
            assert old.status_code == 200 and old.get_json()["meta"]["versionId"] == "1", rtype
        if "history-instance" in interactions:
            history = server.get(f"/{rtype}/{rid}/_history", org).get_json()
            assert history["type"] == "history" and history["total"] == (2 if "update" in interactions else 1)
        if "history-type" in interactions:
            history = server.get(f"/{rtype}/_history?_count=500", org).get_json()
            assert rid in {e["fullUrl"].rsplit("/", 1)[1] for e in history["entry"]}, rtype
        if "search-type" in interactions:
            found = server.get(f"/{rtype}?_id={rid}", org).get_json()
            assert found["total"] == 1, rtype
        _check_flags(server, rtype, declared, resource, org)
        for code in ("patch", "delete"):  # declared, they must work too
            if code in interactions:
                response = attempt(server, code, rtype, resource, org)
                assert response.status_code in (200, 204), (rtype, code, response.status_code)
        checked += 1
    assert checked >= 13  # every record type of the REST API is creatable


def _check_read_only(server: Server, rtype: str, interactions: set[str]) -> None:
    """The interactions of a type that cannot be created here (the audit trail, the conformance resources)."""
    if rtype == "AuditEvent":
        assert interactions == {"search-type"}
        assert server.get("/AuditEvent?patient=Patient/pasient-ola").status_code == 200
        return
    resource = server.any_of(rtype)
    for code in sorted(interactions):
        response = attempt(server, code, rtype, resource)
        assert response.status_code == 200, (rtype, code, response.status_code)


def _check_flags(server: Server, rtype: str, declared: dict[str, Any], resource: dict[str, Any], org: str) -> None:
    """The flags a type declares, each exercised on ``resource`` (created by ``org``)."""
    rid, path = resource["id"], f"/{rtype}/{resource['id']}"
    current = server.get(path, org)
    if declared.get("conditionalRead") in ("full-support", "modified-since", "not-match"):
        etag, modified = current.headers["ETag"], current.headers["Last-Modified"]
        if declared["conditionalRead"] in ("full-support", "not-match"):
            assert server.get(path, org, **{"If-None-Match": etag}).status_code == 304, rtype
        if declared["conditionalRead"] in ("full-support", "modified-since"):
            assert server.get(path, org, **{"If-Modified-Since": modified}).status_code == 304, rtype
    else:
        assert server.get(path, org, **{"If-None-Match": current.headers["ETag"]}).status_code == 200, rtype
    body = {k: v for k, v in resource.items() if k not in ("id", "meta")}
    again = server.client.post(f"/{rtype}", json=body, headers={**server.auth(org), "If-None-Exist": f"_id={rid}"})
    if declared.get("conditionalCreate"):
        assert again.status_code == 200 and again.get_json()["id"] == rid, (rtype, again.get_json())
    else:  # not declared: the header is not honoured (a new record, or a refusal), never the match
        assert again.status_code != 200, rtype
    if declared.get("updateCreate") is False:
        response = server.client.put(f"/{rtype}/ny-id", json={**body, "id": "ny-id"}, headers=server.auth(org))
        assert response.status_code == 405, rtype
    if declared.get("conditionalUpdate"):  # the one match is updated, under the update's If-Match
        version = server.get(path, org).get_json()["meta"]["versionId"]
        headers = {**server.auth(org), "If-Match": f'W/"{version}"'}
        conditional = server.client.put(f"/{rtype}?_id={rid}", json=body, headers=headers)
        assert conditional.status_code == 200 and conditional.get_json()["id"] == rid, (rtype, conditional.get_json())
    else:
        conditional = server.client.put(f"/{rtype}?_id={rid}", json=body, headers=server.auth(org))
        assert conditional.status_code in (404, 405), rtype
    if declared.get("conditionalDelete") == "not-supported":
        assert server.client.delete(f"/{rtype}?_id={rid}", headers=server.auth(org)).status_code == 405, rtype
    if declared.get("versioning") == "versioned-update":
        unversioned = server.client.put(path, json={**body, "id": rid}, headers=server.auth(org))
        assert unversioned.status_code == 428, rtype  # an update must name the version it is based on
    if declared.get("readHistory"):
        assert server.get(f"{path}/_history/1", org).status_code == 200, rtype


def test_every_declared_search_parameter_finds_what_it_names(server: Server) -> None:
    for rtype, declared in server.resources.items():
        if "search-type" not in server.interactions(rtype):
            continue
        if rtype == "AuditEvent":
            auditor = server.get("/AuditEvent?patient=Patient/pasient-ola&date=ge2000-01-01", DPS)
            assert auditor.status_code == 200 and auditor.get_json()["total"] > 0
            assert {p["name"] for p in declared["searchParam"]} == {"patient", "date"}
            continue
        resource = server.any_of(rtype)
        for param in declared.get("searchParam", []):
            value = search_value(resource, param["name"], param["type"])
            asked = quote(value or "x", safe="|/:")  # one it cannot read from the resource: accepted, at least
            response = server.get(f"/{rtype}?{param['name']}={asked}&_count=500", created_by(server, resource))
            assert response.status_code == 200, (rtype, param, response.get_json())
            if value:
                ids = {e["resource"]["id"] for e in response.get_json()["entry"] if e["search"]["mode"] == "match"}
                assert resource["id"] in ids, (rtype, param["name"], value)


def created_by(server: Server, resource: dict[str, Any]) -> str:
    """The organisation that may read ``resource`` for sure: the DPS, or the writer of one made by POST."""
    for org in (DPS, KOMMUNE, LEGEKONTOR):
        if server.get(f"/{resource['resourceType']}/{resource['id']}", org).status_code == 200:
            return org
    raise AssertionError(f"nobody reads {resource['resourceType']}/{resource['id']}")


def search_value(resource: dict[str, Any], name: str, kind: str) -> str:
    """The value of the search parameter ``name`` that ``resource`` has ("" when none can be read from it)."""
    if name == "_id":
        return str(resource["id"])
    if name == "_lastUpdated":
        return "le" + str(resource["meta"]["lastUpdated"])
    if name == "_profile":
        return str((resource["meta"].get("profile") or [""])[0])
    if kind == "reference":
        for element in ("subject", "patient", "beneficiary", "for"):
            if isinstance(resource.get(element), dict) and resource[element].get("reference"):
                return str(resource[element]["reference"])
        return ""
    if kind in ("uri", "string") or name in ("url", "version", "name", "title"):
        return str(resource.get(name, ""))
    element = {"type": "type", "category": "category", "code": "code", "identifier": "identifier"}.get(name, name)
    given = resource.get(element)
    item = given[0] if isinstance(given, list) and given else given
    if isinstance(item, str | bool):
        return str(item).lower() if isinstance(item, bool) else item
    if isinstance(item, dict) and "system" in item and "value" in item:
        return f"{item['system']}|{item['value']}"
    codings = item.get("coding") if isinstance(item, dict) else None
    if codings:
        return f"{codings[0].get('system', '')}|{codings[0]['code']}"
    return ""


def test_every_declared_include_and_revinclude_includes(server: Server) -> None:
    followed = 0
    for rtype, declared in server.resources.items():
        for key, mode in (("searchInclude", "_include"), ("searchRevInclude", "_revinclude")):
            for value in declared.get(key, []):
                response = server.get(f"/{rtype}?{mode}={value}&_count=500")
                assert response.status_code == 200, (rtype, value, response.get_json())
                included = [e for e in response.get_json()["entry"] if e["search"]["mode"] == "include"]
                source, _, param = value.partition(":")
                if mode == "_revinclude" or param in ("goal", "care-team", "patient", "subject"):
                    assert included, (rtype, value)  # the example plans name their goals, teams and patient
                followed += 1
        undeclared = server.get(f"/{rtype}?_include={rtype}:nosuch") if rtype != "AuditEvent" else None
        if undeclared is not None and "search-type" in server.interactions(rtype):
            assert undeclared.status_code == 400, rtype
    assert followed >= 7


def test_every_declared_operation_answers(server: Server) -> None:
    operations = {o["name"] for o in server.rest.get("operation", [])}
    assert {"validate", "process-message", "convert"} <= operations
    plan = example("fhir/CarePlan-krise-og-mestringsplan-ola.json")
    for name in operations:
        if name == "validate":
            response = server.client.post("/CarePlan/$validate", data=plan, headers=server.auth(DPS))
            assert response.status_code == 200 and response.get_json()["resourceType"] == "OperationOutcome"
        elif name == "process-message":
            continue  # every test here begins with eight of them (Server)
        elif name == "convert":
            message = example("fhir/Bundle-melding-kriseplan-ola.json")
            response = server.client.post("/$convert", data=message, headers=server.auth(DPS))
            assert response.status_code == 200, response.get_json()
        else:
            response = server.client.post(f"/${name}", data=b"{}", headers=server.auth(DPS))
            assert response.status_code not in (404, 405) and response.status_code < 500, name
    for rtype, declared in server.resources.items():
        for operation in declared.get("operation", []):
            name = operation["name"]
            if (rtype, name) == ("Patient", "krise"):
                query = "identifier=15838510075&reason=legevakt+ringer"
                response = server.get(f"/Patient/$krise?{query}", LEGEKONTOR)
                assert response.status_code == 200, response.get_json()
            else:  # the conformance types' terminology operations: declared, so routed and answered
                response = server.get(f"/{rtype}/${name}")
                assert response.status_code not in (404, 405) and response.status_code < 500, (rtype, name)


# --- the system's interactions -----------------------------------------------------------------------------------


def test_every_declared_system_interaction_works_and_no_other(server: Server) -> None:
    declared = {i["code"] for i in server.rest.get("interaction", [])}
    assert declared, "the statement declares no system interactions"
    plan = new_body("CarePlan")
    checks: dict[str, Callable[[], bool]] = {
        "transaction": lambda: _bundle(server, "transaction", plan) == "transaction-response",
        "batch": lambda: _bundle(server, "batch", plan) == "batch-response",
        "history-system": lambda: server.get("/_history?_count=1").get_json().get("type") == "history",
        "search-system": lambda: (
            server.get("/?_id=x").status_code == 200
            and server.get("/?_id=x").get_json().get("resourceType") == "Bundle"
        ),
    }
    for code in SYSTEM_INTERACTIONS:
        assert checks[code]() == (code in declared), code


def _bundle(server: Server, kind: str, resource: dict[str, Any]) -> str:
    sent = {
        "resourceType": "Bundle",
        "type": kind,
        "entry": [{"resource": resource, "request": {"method": "POST", "url": "CarePlan"}}],
    }
    response = server.client.post("/", json=sent, headers=server.auth(DPS))
    return str(response.get_json().get("type")) if response.status_code == 200 else ""


# --- what is not declared ----------------------------------------------------------------------------------------


def test_what_is_not_declared_is_refused(server: Server) -> None:
    refused = 0
    for rtype in server.resources:
        interactions = server.interactions(rtype)
        resource = server.any_of(rtype) if "search-type" in interactions and rtype != "AuditEvent" else {"id": "x"}
        for code in TYPE_INTERACTIONS:
            if code in interactions:
                continue
            response = attempt(server, code, rtype, resource)
            assert 400 <= response.status_code < 500, (rtype, code, response.status_code)
            assert response.get_json()["resourceType"] == "OperationOutcome", (rtype, code)
            refused += 1
    assert refused >= 13  # at least the delete of every record type


def attempt(server: Server, code: str, rtype: str, resource: dict[str, Any], org: str = DPS) -> Any:
    """The request of the interaction ``code`` on ``resource`` (of ``rtype``), as ``org``."""
    path, headers, body = f"/{rtype}/{resource['id']}", server.auth(org), dict(resource)
    requests: dict[str, tuple[str, str, Any]] = {
        "read": ("GET", path, None),
        "vread": ("GET", f"{path}/_history/1", None),
        "update": ("PUT", path, body),
        "patch": ("PATCH", path, []),
        "delete": ("DELETE", path, None),
        "history-instance": ("GET", f"{path}/_history", None),
        "history-type": ("GET", f"/{rtype}/_history", None),
        "create": ("POST", f"/{rtype}", {k: v for k, v in body.items() if k != "id"}),
        "search-type": ("GET", f"/{rtype}", None),
    }
    method, url, sent = requests[code]
    if code == "update":
        headers = {**headers, "If-Match": 'W/"1"'}
    return server.client.open(url, method=method, json=sent, headers=headers)


def test_the_statement_tells_how_to_withdraw_instead_of_delete(server: Server) -> None:
    for rtype, declared in server.resources.items():
        if "delete" in server.interactions(rtype) or "create" not in server.interactions(rtype):
            continue
        response = server.client.delete(f"/{rtype}/x", headers=server.auth(DPS))
        said = response.get_json()["issue"][0]["diagnostics"]
        instead = said.split("PUT (", 1)[1].rsplit("); every version", 1)[0]
        assert instead in declared["documentation"], (rtype, instead, declared["documentation"])
    assert "DELETE is refused" in server.rest["documentation"]
