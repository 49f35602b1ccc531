"""The service behind HelseID: tokens checked against the issuer's JWKS (tests/fakes/issuer.py), DPoP-bound tokens
over HTTP with the public URL as ``htu``, the SMART configuration, the CapabilityStatement's security, and CORS for
the configured origins only."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fakes.issuer import AUDIENCE, ISSUER, DpopKey, FakeIssuer
from flask.testing import FlaskClient
from pytest_httpserver import HTTPServer
from service_helpers import KOMMUNE, issue_codes

from adapter.api import create_app
from adapter.cli import main
from adapter.config import Settings
from adapter.security import SCOPES
from adapter.service import Service

BASE = "https://fhir.example.no/fhir"
ORIGIN = "https://app.example.no"
TOKEN_URL = "https://helseid-sts.test.example/connect/token"  # noqa: S105 - a URL, not a secret


@pytest.fixture
def issuer(httpserver: HTTPServer) -> FakeIssuer:
    """Scope: function. Type: FakeIssuer with its JWKS on ``httpserver``."""
    return FakeIssuer(httpserver)


@pytest.fixture
def helseid_service(service_settings: Settings, make_service: Callable[..., Service], issuer: FakeIssuer) -> Service:
    """Scope: function. Type: Service trusting ``issuer``'s JWKS (no demo issuer), public at BASE, CORS for
    ORIGIN, HelseID's token endpoint configured."""
    return make_service(
        service_settings,
        demo_issuer=False,
        token_issuer=ISSUER,
        token_audience=AUDIENCE,
        token_jwks_url=issuer.jwks_url,
        token_endpoint=TOKEN_URL,
        base_url=BASE,
        cors_origins=ORIGIN,
    )


@pytest.fixture
def web(helseid_service: Service) -> FlaskClient:
    """Scope: function. Type: Flask test client of ``helseid_service``."""
    return create_app(service=helseid_service).test_client()


def dpop_headers(issuer: FakeIssuer, key: DpopKey, method: str, url: str, **token_claims: Any) -> dict[str, str]:
    token = issuer.token(jkt=key.jkt, org_her=KOMMUNE, **token_claims)
    return {"Authorization": f"DPoP {token}", "DPoP": key.proof(method, url, token)}


def test_a_dpop_bound_token_with_a_proof_for_the_public_url_is_taken(web: FlaskClient, issuer: FakeIssuer) -> None:
    key = DpopKey()
    answer = web.get("/CarePlan?_count=1", headers=dpop_headers(issuer, key, "GET", f"{BASE}/CarePlan"))
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["resourceType"] == "Bundle"
    assert issuer.fetches == 1


def test_a_proof_for_the_requests_own_host_is_not_the_public_url(web: FlaskClient, issuer: FakeIssuer) -> None:
    key = DpopKey()
    answer = web.get("/CarePlan", headers=dpop_headers(issuer, key, "GET", "http://localhost/CarePlan"))
    assert answer.status_code == 401
    assert issue_codes(answer.get_json()) == ["ADP-7033"]
    assert answer.headers["WWW-Authenticate"].startswith('DPoP realm="samhandling", error="invalid_dpop_proof"')


def test_a_replayed_request_is_refused(web: FlaskClient, issuer: FakeIssuer) -> None:
    headers = dpop_headers(issuer, DpopKey(), "GET", f"{BASE}/CarePlan")
    assert web.get("/CarePlan", headers=headers).status_code == 200
    again = web.get("/CarePlan", headers=headers)
    assert again.status_code == 401 and issue_codes(again.get_json()) == ["ADP-7035"]


def test_a_bound_token_as_bearer_is_refused_over_http(web: FlaskClient, issuer: FakeIssuer) -> None:
    key = DpopKey()
    token = issuer.token(jkt=key.jkt, org_her=KOMMUNE)
    answer = web.get("/CarePlan", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401 and issue_codes(answer.get_json()) == ["ADP-7028"]
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_a_plain_bearer_token_of_the_issuer_still_works(web: FlaskClient, issuer: FakeIssuer) -> None:
    answer = web.get("/CarePlan", headers={"Authorization": f"Bearer {issuer.token(org_her=KOMMUNE)}"})
    assert answer.status_code == 200


def test_a_made_up_kid_is_401_and_an_issuer_that_is_down_503(web: FlaskClient, issuer: FakeIssuer) -> None:
    made_up = issuer.token(kid="made-up", org_her=KOMMUNE)
    answer = web.get("/CarePlan", headers={"Authorization": f"Bearer {made_up}"})
    assert answer.status_code == 401 and issue_codes(answer.get_json()) == ["ADP-7002"]
    assert issuer.fetches == 1  # the first fetch was just now: the made-up kid does not fetch again


def test_an_issuer_that_is_down_is_a_503_with_its_code_not_a_500(web: FlaskClient, issuer: FakeIssuer) -> None:
    issuer.down = True
    answer = web.get("/CarePlan", headers={"Authorization": f"Bearer {issuer.token(org_her=KOMMUNE)}"})
    assert answer.status_code == 503
    assert issue_codes(answer.get_json(), ("error", "fatal")) == ["ADP-7027"]
    assert "WWW-Authenticate" not in answer.headers  # the token may be good: nothing to tell the client to fix


# -- the SMART configuration and the CapabilityStatement ----------------------------------------------------------


def test_the_smart_configuration_needs_no_token_and_says_how_to_get_one(web: FlaskClient, issuer: FakeIssuer) -> None:
    answer = web.get("/.well-known/smart-configuration")
    assert answer.status_code == 200 and answer.content_type == "application/json"
    config = json.loads(answer.data)
    assert config["issuer"] == ISSUER and config["jwks_uri"] == issuer.jwks_url
    assert config["token_endpoint"] == TOKEN_URL
    assert config["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    assert config["grant_types_supported"] == ["client_credentials"]
    assert set(config["scopes_supported"]) == SCOPES
    assert "client-confidential-asymmetric" in config["capabilities"]
    assert "ES256" in config["dpop_signing_alg_values_supported"]
    assert not {"none", "HS256"} & set(config["dpop_signing_alg_values_supported"])
    assert issuer.fetches == 0  # the document is served without asking the issuer


def test_the_demos_smart_configuration_names_its_own_jwks(client: FlaskClient) -> None:
    config = client.get("/.well-known/smart-configuration").get_json()
    assert config["jwks_uri"] == "http://localhost/.well-known/jwks.json"
    assert "token_endpoint" not in config  # the demo has none: `samhandling token` makes tokens


def test_the_capability_statement_names_smart_and_the_token_endpoint(web: FlaskClient, client: FlaskClient) -> None:
    security = web.get("/metadata").get_json()["rest"][0]["security"]
    assert security["cors"] is True
    codes = [c["code"] for s in security["service"] for c in s["coding"]]
    assert codes == ["OAuth", "SMART-on-FHIR"]
    (uris,) = security["extension"]
    assert uris["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert uris["extension"] == [{"url": "token", "valueUri": TOKEN_URL}]
    assert "DPoP" in security["description"]
    demo = client.get("/metadata").get_json()["rest"][0]["security"]
    assert demo["cors"] is False and "extension" not in demo


# -- CORS ----------------------------------------------------------------------------------------------------------


def preflight(web: FlaskClient, origin: str, path: str = "/CarePlan") -> Any:
    return web.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "authorization, dpop, content-type, if-match",
        },
    )


def test_a_preflight_from_an_allowed_origin_is_answered_without_a_token(web: FlaskClient) -> None:
    answer = preflight(web, ORIGIN, "/CarePlan/abc")
    assert answer.status_code == 204 and answer.data == b""
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "PUT" in answer.headers["Access-Control-Allow-Methods"]
    allowed = {h.strip().lower() for h in answer.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"authorization", "dpop", "content-type", "if-match", "if-none-exist", "prefer"} <= allowed
    assert int(answer.headers["Access-Control-Max-Age"]) > 0
    assert "Origin" in answer.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in answer.headers


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "null",
        "https://app.example.no.evil.example",
        "http://app.example.no",
        "https://APP.example.no",  # not as a browser sends it: compared exactly, never reflected
    ],
)
def test_another_origin_gets_no_cors_headers(web: FlaskClient, issuer: FakeIssuer, origin: str) -> None:
    answer = preflight(web, origin)
    assert answer.status_code == 204
    assert not [h for h in answer.headers if h[0].lower().startswith("access-control-")]
    actual = web.get(
        "/CarePlan", headers={"Origin": origin, "Authorization": f"Bearer {issuer.token(org_her=KOMMUNE)}"}
    )
    assert actual.status_code == 200
    assert not [h for h in actual.headers if h[0].lower().startswith("access-control-")]
    assert "Origin" in actual.headers["Vary"]


def test_an_allowed_origins_requests_and_refusals_carry_cors_headers(web: FlaskClient, issuer: FakeIssuer) -> None:
    key = DpopKey()
    headers = {"Origin": ORIGIN, **dpop_headers(issuer, key, "GET", f"{BASE}/CarePlan")}
    answer = web.get("/CarePlan", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {h.strip() for h in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert {"Location", "ETag", "Last-Modified", "WWW-Authenticate"} <= exposed
    refused = web.get("/CarePlan", headers={"Origin": ORIGIN})  # no token: the script can read why
    assert refused.status_code == 401 and refused.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_without_configured_origins_there_is_no_cors_and_a_preflight_needs_a_token(client: FlaskClient) -> None:
    answer = preflight(client, ORIGIN)
    assert answer.status_code == 401
    assert not [h for h in answer.headers if h[0].lower().startswith("access-control-")]


# -- production ----------------------------------------------------------------------------------------------------


def test_production_serve_starts_with_the_jwks_url_alone(
    tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gunicorn.app.base import BaseApplication

    runs: list[bool] = []
    monkeypatch.setattr(BaseApplication, "run", lambda self: runs.append(True))
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("SAMHANDLING_") and "STANDARDS" not in k}
    env |= {
        "SAMHANDLING_DATA_DIR": str(tmp_path / "data"),
        "SAMHANDLING_ROUTES_FILE": str(settings.examples_dir / "service" / "routes.yaml"),
        "SAMHANDLING_TOKEN_JWKS_URL": "https://helseid-sts.test.example/jwks",  # never fetched: no token comes
    }
    result = CliRunner().invoke(main, ["serve"], env=env)
    assert result.exit_code == 0, result.output
    assert runs == [True]
    refused = CliRunner().invoke(main, ["serve"], env={**env, "SAMHANDLING_TOKEN_JWKS_URL": None})
    assert refused.exit_code == 2 and "SAMHANDLING_TOKEN_JWKS_URL" in refused.output
