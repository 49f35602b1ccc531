"""The routing table: the demo file, lookup order, fallback, and strict checking of bad files (ADP-5001)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapter.config import Settings
from adapter.errors import AdapterError, RouteError
from adapter.route import Route, RoutingTable

HER_SYSTEM = "urn:oid:2.16.578.1.12.4.1.2"


@pytest.fixture(scope="module")
def demo(settings: Settings) -> RoutingTable:
    """Scope: module. Type: RoutingTable. Default: examples/service/routes.yaml."""
    return RoutingTable.load(settings.examples_dir / "service" / "routes.yaml")


def _her_ids(settings: Settings) -> dict[str, str]:
    """The example organisations' HER-ids, by resource id."""
    found = {}
    for path in sorted((settings.examples_dir / "fhir").glob("Organization-*.json")):
        org = json.loads(path.read_text(encoding="utf-8"))
        found[org["id"]] = next(i["value"] for i in org["identifier"] if i["system"] == HER_SYSTEM)
    return found


def test_demo_routes_every_example_organisation(demo: RoutingTable, settings: Settings) -> None:
    her = _her_ids(settings)
    assert set(her) == {"org-kommune", "org-dps", "org-legekontor"}
    for org_id, her_id in her.items():
        route = demo.lookup(her_id, None)
        assert route is not None and route.receiver == her_id, org_id
        assert route.destination.startswith("http://127.0.0.1:")
    assert demo.lookup(her["org-kommune"], None) == Route(
        "http://127.0.0.1:8081/kith", "kith", "http", her["org-kommune"], None
    )
    assert demo.lookup(her["org-dps"], None) == Route(
        "http://127.0.0.1:8082/fhir", "fhir", "http", her["org-dps"], None
    )


def test_demo_routes_every_endpoint_the_examples_name(demo: RoutingTable, settings: Settings) -> None:
    endpoints = set()
    for path in (settings.examples_dir / "fhir").glob("MessageHeader-*.json"):
        header = json.loads(path.read_text(encoding="utf-8"))
        endpoints.update(d["endpoint"] for d in header["destination"])
    assert endpoints
    for endpoint in endpoints:
        route = demo.lookup(None, endpoint)
        assert route is not None and route.endpoint == endpoint


def test_demo_has_a_fallback(demo: RoutingTable) -> None:
    assert demo.fallback == Route("http://127.0.0.1:8089/fhir", "fhir", "http", None, None)
    assert demo.lookup("9999999", "https://nobody.example/fhir") is demo.fallback
    assert demo.lookup(None, None) is demo.fallback
    assert len(demo) == 6


TABLE: dict[str, Any] = {
    "routes": [
        {"receiver": "111", "destination": "http://a.example/kith", "format": "kith", "transport": "http"},
        {"endpoint": "https://fhir.b.example/fhir/", "destination": "https://b.example/fhir", "format": "fhir"},
        {"receiver": 222, "destination": "http://c.example/fhir", "format": "fhir"},
    ],
}


def test_receiver_wins_over_endpoint() -> None:
    table = RoutingTable.from_data(TABLE, "test")
    route = table.lookup("111", "https://fhir.b.example/fhir")
    assert route is not None and route.destination == "http://a.example/kith"


def test_endpoint_used_when_receiver_unknown_or_absent() -> None:
    table = RoutingTable.from_data(TABLE, "test")
    for receiver in ("999", None):
        route = table.lookup(receiver, "https://fhir.b.example/fhir")
        assert route is not None and route.destination == "https://b.example/fhir"
        assert route.transport == "http"  # the default


def test_endpoint_compared_without_trailing_slash() -> None:
    table = RoutingTable.from_data(TABLE, "test")
    assert table.lookup(None, "https://fhir.b.example/fhir") == table.lookup(None, "https://fhir.b.example/fhir/")


def test_unquoted_her_id_is_read_as_text() -> None:
    route = RoutingTable.from_data(TABLE, "test").lookup("222", None)
    assert route is not None and route.receiver == "222"


def test_no_match_without_fallback() -> None:
    table = RoutingTable.from_data(TABLE, "test")
    assert table.fallback is None
    assert table.lookup("999", "https://x.example/") is None
    with pytest.raises(RouteError) as caught:
        table.require("999", None)
    issue = caught.value.issues[0]
    assert issue.code == "ADP-5002" and issue.info.type == "not-found"
    assert "999" in issue.text_en and "999" in issue.text_nb


def test_require_returns_the_route() -> None:
    assert RoutingTable.from_data(TABLE, "test").require("111", None).format == "kith"


def test_fallback_used_when_nothing_matches() -> None:
    data = {**TABLE, "fallback": {"destination": "http://err.example/", "format": "fhir"}}
    table = RoutingTable.from_data(data, "test")
    assert table.lookup("999", None) == Route("http://err.example/", "fhir", "http", None, None)
    assert table.require(None, None) is table.fallback


def test_a_bare_list_is_a_table_without_fallback() -> None:
    table = RoutingTable.from_data(TABLE["routes"], "test")
    assert len(table) == 3 and table.fallback is None


def test_empty_route_list_is_allowed_with_a_fallback() -> None:
    table = RoutingTable.from_data(
        {"routes": [], "fallback": {"destination": "http://e.example/", "format": "kith"}}, "t"
    )
    assert table.lookup("1", None) is table.fallback


def _route(**changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"receiver": "8100001", "destination": "http://127.0.0.1:8081/kith", "format": "kith"}
    row.update(changes)
    return {key: value for key, value in row.items() if value is not None}


BAD: dict[str, tuple[Any, str]] = {
    "top-level scalar": ("routes", "top level"),
    "top-level unknown key": ({"routes": [], "routs": []}, "unknown key(s) routs"),
    "routes not a list": ({"routes": {"a": 1}}, "routes: must be a list"),
    "route not a mapping": ({"routes": ["8100001"]}, "routes[0]: must be a mapping"),
    "unknown route key": ({"routes": [_route(priority=1)]}, "routes[0]: unknown key(s) priority"),
    "typo in key": ({"routes": [_route(fromat="kith")]}, "unknown key(s) fromat"),
    "bad format": ({"routes": [_route(format="hl7v2")]}, "routes[0].format: 'hl7v2' is not one of fhir, kith"),
    "missing format": ({"routes": [{"receiver": "1", "destination": "http://a.example/"}]}, "routes[0].format"),
    "bad transport": ({"routes": [_route(transport="amqp")]}, "routes[0].transport: 'amqp'"),
    "receiver not digits": ({"routes": [_route(receiver="org-dps")]}, "routes[0].receiver: 'org-dps' is not a HER-id"),
    "receiver a bool": ({"routes": [_route(receiver=True)]}, "is not a HER-id"),
    "receiver a float": ({"routes": [_route(receiver=81.5)]}, "is not a HER-id"),
    "neither receiver nor endpoint": ({"routes": [_route(receiver=None)]}, "needs exactly one of receiver"),
    "both receiver and endpoint": ({"routes": [_route(endpoint="https://x.example/")]}, "needs exactly one"),
    "relative destination": ({"routes": [_route(destination="/kith")]}, "routes[0].destination: '/kith'"),
    "ftp destination": ({"routes": [_route(destination="ftp://x.example/")]}, "not an absolute http or https URL"),
    "missing destination": ({"routes": [_route(destination=None)]}, "routes[0].destination: None is not a URL"),
    "endpoint not a URL": ({"routes": [_route(receiver=None, endpoint="urn:x")]}, "routes[0].endpoint"),
    "duplicate receiver": ({"routes": [_route(), _route(format="fhir")]}, "routes[1]: receiver 8100001 is already"),
    "duplicate endpoint": (
        {"routes": [_route(receiver=None, endpoint=f"https://e.example{s}") for s in ("", "/")]},
        "endpoint https://e.example is already routed",
    ),
    "fallback with receiver": (
        {"routes": [], "fallback": _route()},
        "fallback: unknown key(s) receiver",
    ),
    "fallback bad format": (
        {"routes": [], "fallback": {"destination": "http://e.example/", "format": "x"}},
        "fallback.format",
    ),
}


@pytest.mark.parametrize(("data", "expected"), BAD.values(), ids=BAD.keys())
def test_bad_data_fails_with_adp_5001(data: Any, expected: str) -> None:
    with pytest.raises(RouteError) as caught:
        RoutingTable.from_data(data, "routes.yaml")
    assert isinstance(caught.value, AdapterError)
    issue = caught.value.issues[0]
    assert issue.code == "ADP-5001" and issue.severity == "fatal" and issue.info.type == "invalid"
    assert expected in issue.text_en
    assert issue.text_en.startswith("The routing table routes.yaml is invalid")
    assert issue.text_nb.startswith("Rutetabellen routes.yaml er ugyldig")


def test_bad_yaml_file_fails_with_adp_5001(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - receiver: [unclosed\n", encoding="utf-8")
    with pytest.raises(RouteError, match="ADP-5001") as caught:
        RoutingTable.load(path)
    assert "not valid YAML" in caught.value.issues[0].text_en and str(path) in caught.value.issues[0].text_en


def test_missing_file_fails_with_adp_5001(tmp_path: Path) -> None:
    with pytest.raises(RouteError, match="ADP-5001.*cannot read"):
        RoutingTable.load(tmp_path / "nope.yaml")


def test_bad_value_in_file_names_file_and_place(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("routes:\n  - receiver: '1'\n    destination: http://a.example/\n    format: xml\n", "utf-8")
    with pytest.raises(RouteError) as caught:
        RoutingTable.load(path)
    issue = caught.value.issues[0]
    assert issue.expression == "routes[0].format" and str(path) in issue.text_en


def test_empty_file_fails(tmp_path: Path) -> None:
    path = tmp_path / "routes.yaml"
    path.write_text("# nothing\n", encoding="utf-8")
    with pytest.raises(RouteError, match="ADP-5001"):
        RoutingTable.load(path)
