"""HelseID client credentials with DPoP against the fake token endpoint: assertion, proof, caching, nonce, faults.

The second half attacks the fake itself: each hand-made token request breaks one rule and must be refused for
that reason, so a fake that waved everything through would fail here before it could hide a client bug.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import socket
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fakes.nhn import ASSERTION_TYPE, FakeNhn, _client_key, thumbprint
from fakes.nhn import fake_nhn as fake_nhn  # the fixture
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adapter.security_dpop import access_token_hash as ath
from adapter.transport.helseid import HelseIdClient, HelseIdError, htu, issuer_of


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _claims(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


# -- the happy path --------------------------------------------------------------------------------------------------


def test_token_is_dpop_bound_to_the_clients_proof_key(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    token = client.access_token()
    assert fake_nhn.helseid.rejections == []
    assert fake_nhn.helseid.calls == [("POST", "/connect/token", 200)]
    claims = _claims(token)
    assert claims["cnf"] == {"jkt": thumbprint(client.public_jwk)}
    assert claims["client_id"] == FakeNhn.CLIENT_ID and claims["scope"] == "nhn:msh/api"


def test_client_assertion_claims(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    first, second = client.client_assertion(), client.client_assertion()
    header = jwt.get_unverified_header(first)
    assert header == {"alg": "RS256", "typ": "JWT", "kid": FakeNhn.KID}
    claims = jwt.decode(first, _client_key().public_key(), algorithms=["RS256"], audience=fake_nhn.issuer)
    now = int(fake_nhn.clock())
    assert claims["iss"] == claims["sub"] == FakeNhn.CLIENT_ID
    assert claims["aud"] == fake_nhn.issuer  # HelseID's issuer, derived from the token URL
    assert claims["iat"] == claims["nbf"] == now and 0 < claims["exp"] - now <= 60
    assert claims["jti"] != _claims(second)["jti"]


def test_dpop_proof_claims(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    proof = client.dpop_proof(
        "get",
        "HTTPS://Api.Example/Messages/x?ReceiverHerIds=1#f",
        access_token="tok",  # noqa: S106
        nonce="n1",
    )
    header = jwt.get_unverified_header(proof)
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256"
    assert header["jwk"] == client.public_jwk and "d" not in header["jwk"]
    claims = jwt.decode(proof, jwt.PyJWK(header["jwk"]).key, algorithms=["ES256"])
    assert claims["htm"] == "GET"
    assert claims["htu"] == "https://api.example/Messages/x"
    expected_ath = base64.urlsafe_b64encode(hashlib.sha256(b"tok").digest()).rstrip(b"=").decode()
    assert claims["ath"] == ath("tok") == expected_ath
    assert claims["nonce"] == "n1" and claims["iat"] == int(fake_nhn.clock())
    assert set(_claims(client.dpop_proof("POST", "https://a/b"))) == {"jti", "htm", "htu", "iat"}


def test_htu_and_issuer() -> None:
    assert htu("https://X.no:8443/a/b?c=1#d") == "https://x.no:8443/a/b"
    assert issuer_of("https://helseid-sts.test.nhn.no/connect/token") == "https://helseid-sts.test.nhn.no"
    assert issuer_of("https://sts.example/tenant/connect/token/") == "https://sts.example/tenant"
    assert issuer_of("https://sts.example/oauth2/token") == "https://sts.example"


def test_a_private_jwk_key_file_gives_its_kid(fake_nhn: FakeNhn) -> None:
    config = dataclasses.replace(fake_nhn.helseid_config, key_file=str(fake_nhn.key_jwk), key_id="")
    client = fake_nhn.helseid_client(config)
    assert jwt.get_unverified_header(client.client_assertion())["kid"] == FakeNhn.KID
    assert client.access_token()
    assert fake_nhn.helseid.rejections == []


def test_an_ec_client_key_signs_es256(fake_nhn: FakeNhn, tmp_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    path = tmp_path / "ec.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    client = fake_nhn.helseid_client(dataclasses.replace(fake_nhn.helseid_config, key_file=str(path)))
    assertion = client.client_assertion()
    assert jwt.get_unverified_header(assertion)["alg"] == "ES256"
    jwt.decode(assertion, key.public_key(), algorithms=["ES256"], audience=fake_nhn.issuer)
    with pytest.raises(HelseIdError) as caught:
        client.access_token()  # HelseID only knows the registered RSA key
    assert "signature" in fake_nhn.helseid.rejections[-1] and not caught.value.transient


def test_explicit_audience_is_used(fake_nhn: FakeNhn) -> None:
    config = dataclasses.replace(fake_nhn.helseid_config, audience=fake_nhn.token_url)
    client = fake_nhn.helseid_client(config)
    assert _claims(client.client_assertion())["aud"] == fake_nhn.token_url
    assert client.access_token()


# -- caching ---------------------------------------------------------------------------------------------------------


def test_token_is_cached_until_margin_before_expiry(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.token_ttl = 300
    client = fake_nhn.helseid_client()  # expiry_margin 60
    token = client.access_token()
    fake_nhn.clock.advance(239)
    assert client.access_token() == token
    assert len(fake_nhn.helseid.calls) == 1
    fake_nhn.clock.advance(1)  # 60 s before expiry: renew
    renewed = client.access_token()
    assert renewed != token and len(fake_nhn.helseid.calls) == 2


def test_margin_longer_than_the_lifetime_renews_at_half_time(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.token_ttl = 60
    client = fake_nhn.helseid_client()
    token = client.access_token()
    fake_nhn.clock.advance(29)
    assert client.access_token() == token
    fake_nhn.clock.advance(1)
    assert client.access_token() != token


def test_invalidate_fetches_a_new_token(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    token = client.access_token()
    client.invalidate()
    assert client.access_token() != token
    assert len(fake_nhn.helseid.calls) == 2


def test_headers_carry_token_and_bound_proof(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    headers = client.headers("PUT", "https://msh.example/Messages/1/read/2?x=1", nonce="abc")
    scheme, token = headers["Authorization"].split(" ")
    assert scheme == "DPoP"
    proof = _claims(headers["DPoP"])
    assert proof["ath"] == ath(token) and proof["htm"] == "PUT" and proof["nonce"] == "abc"
    assert proof["htu"] == "https://msh.example/Messages/1/read/2"
    assert _claims(client.headers("PUT", "https://msh.example/x")["DPoP"])["jti"] != proof["jti"]


# -- nonce -----------------------------------------------------------------------------------------------------------


def test_nonce_challenge_at_the_token_endpoint(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.demand_nonce = True
    client = fake_nhn.helseid_client()
    assert client.access_token()
    assert [status for _, _, status in fake_nhn.helseid.calls] == [400, 200]
    assert fake_nhn.helseid.rejections == ["use_dpop_nonce (no nonce)"]
    client.invalidate()
    client.access_token()  # the nonce is remembered
    assert [status for _, _, status in fake_nhn.helseid.calls] == [400, 200, 200]
    fake_nhn.helseid.rotate_nonce()
    client.invalidate()
    client.access_token()  # a stale nonce: challenged once more
    assert [status for _, _, status in fake_nhn.helseid.calls] == [400, 200, 200, 400, 200]


def test_nonce_challenge_is_answered_once_only(httpserver: HTTPServer, fake_nhn: FakeNhn) -> None:
    def always_challenge(request: Request) -> Response:
        return Response(json.dumps({"error": "use_dpop_nonce"}), status=400, headers={"DPoP-Nonce": uuid.uuid4().hex})

    httpserver.expect_request("/nonce-loop").respond_with_handler(always_challenge)
    config = dataclasses.replace(fake_nhn.helseid_config, token_url=httpserver.url_for("/nonce-loop"))
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert (caught.value.transient, caught.value.status) == (False, 400)
    assert "use_dpop_nonce" in caught.value.detail
    assert len(httpserver.log) == 2


# -- faults ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 425, 429, 500, 502, 503])
def test_retryable_token_endpoint_answers_are_transient(fake_nhn: FakeNhn, status: int) -> None:
    fake_nhn.helseid.fail(status)
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client().access_token()
    assert (caught.value.transient, caught.value.status) == (True, status)
    assert caught.value.detail.startswith(f"HelseID token endpoint: HTTP {status} ")


def test_unknown_client_is_permanent(fake_nhn: FakeNhn) -> None:
    config = dataclasses.replace(fake_nhn.helseid_config, client_id="someone-else")
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert (caught.value.transient, caught.value.status) == (False, 400)
    assert "invalid_client" in caught.value.detail and "\n" not in caught.value.detail


def test_scope_not_granted_is_permanent(fake_nhn: FakeNhn) -> None:
    config = dataclasses.replace(fake_nhn.helseid_config, scope="nhn:msh/api nhn:other/api")
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert "invalid_scope" in caught.value.detail and not caught.value.transient


def test_no_answer_within_the_read_timeout_is_transient(fake_nhn: FakeNhn) -> None:
    fake_nhn.helseid.slow(0.6)
    client = fake_nhn.helseid_client(timeout=(1.0, 0.2))
    started = time.monotonic()
    with pytest.raises(HelseIdError) as caught:
        client.access_token()
    assert time.monotonic() - started < 0.55
    assert caught.value.transient and caught.value.status is None and "0.2 s" in caught.value.detail
    assert fake_nhn.helseid.wait_idle()


def test_connection_refused_is_transient(fake_nhn: FakeNhn) -> None:
    config = dataclasses.replace(fake_nhn.helseid_config, token_url=f"http://127.0.0.1:{_free_port()}/connect/token")
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert caught.value.transient and caught.value.status is None


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ({"access_token": "abc", "token_type": "Bearer", "expires_in": 300}, "not DPoP"),
        ({"token_type": "DPoP", "expires_in": 300}, "no access_token"),
        ({"access_token": "abc", "token_type": "DPoP"}, "expires_in"),
        ({"access_token": "abc", "token_type": "DPoP", "expires_in": 0}, "expires_in"),
        (["not", "an", "object"], "not a JSON object"),
    ],
)
def test_unusable_token_answers_are_permanent(httpserver: HTTPServer, fake_nhn: FakeNhn, body: Any, why: str) -> None:
    httpserver.expect_request("/odd-token").respond_with_json(body)
    config = dataclasses.replace(fake_nhn.helseid_config, token_url=httpserver.url_for("/odd-token"))
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert not caught.value.transient and why in caught.value.detail


def test_redirect_is_not_followed(httpserver: HTTPServer, fake_nhn: FakeNhn) -> None:
    httpserver.expect_request("/moved").respond_with_data(b"", status=307, headers={"Location": fake_nhn.token_url})
    config = dataclasses.replace(fake_nhn.helseid_config, token_url=httpserver.url_for("/moved"))
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert (caught.value.transient, caught.value.status) == (False, 307)
    assert fake_nhn.helseid.calls == []


def test_oversized_answer_is_refused(httpserver: HTTPServer, fake_nhn: FakeNhn) -> None:
    httpserver.expect_request("/huge").respond_with_data(b"x" * 70_000, content_type="application/json")
    config = dataclasses.replace(fake_nhn.helseid_config, token_url=httpserver.url_for("/huge"))
    with pytest.raises(HelseIdError) as caught:
        fake_nhn.helseid_client(config).access_token()
    assert not caught.value.transient and "70000 bytes" in caught.value.detail


def test_unusable_key_files_fail_at_start(fake_nhn: FakeNhn, tmp_path: Path) -> None:
    public = tmp_path / "public.pem"
    public.write_bytes(
        _client_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    public_jwk = tmp_path / "public.jwk"
    public_jwk.write_text(jwt.algorithms.RSAAlgorithm.to_jwk(_client_key().public_key()))
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    for path, why in [
        (tmp_path / "missing.pem", "cannot read"),
        (public, "unusable"),
        (public_jwk, "not a private key"),
        (garbage, "unusable"),
    ]:
        with pytest.raises(HelseIdError) as caught:
            HelseIdClient(dataclasses.replace(fake_nhn.helseid_config, key_file=str(path)))
        assert why in caught.value.detail and not caught.value.transient


# -- the fake refuses what HelseID refuses ---------------------------------------------------------------------------

Request_ = tuple[dict[str, str], dict[str, str]]  # (form, headers)


def _assertion(fake: FakeNhn, **changes: Any) -> str:
    now = int(fake.clock())
    claims: dict[str, Any] = {
        "iss": FakeNhn.CLIENT_ID,
        "sub": FakeNhn.CLIENT_ID,
        "aud": fake.issuer,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "nbf": now,
        "exp": now + 30,
    }
    key = changes.pop("key", _client_key())
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": FakeNhn.KID})


def _token_request(fake: FakeNhn, client: HelseIdClient, *, assertion: str = "", proof: str = "") -> Request_:
    form = {
        "grant_type": "client_credentials",
        "client_id": FakeNhn.CLIENT_ID,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion or _assertion(fake),
        "scope": "nhn:msh/api",
    }
    return form, {"DPoP": proof or client.dpop_proof("POST", fake.token_url)}


def _post(fake: FakeNhn, request: Request_) -> tuple[int, dict[str, Any]]:
    form, headers = request
    headers = {**headers, "Content-Type": "application/x-www-form-urlencoded"}
    status, _, body = fake.raw("POST", fake.token_url, headers, urlencode(form).encode())
    return status, json.loads(body)


@cache
def _other_rsa() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


Case = Callable[[FakeNhn, HelseIdClient], Request_]

ATTACKS: dict[str, tuple[Case, str]] = {
    "assertion aud is the API": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, aud="nhn:msh")),
        "client assertion: aud",
    ),
    "assertion signed by another key": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, key=_other_rsa())),
        "client assertion: signature",
    ),
    "assertion iss is not the client": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, iss="mallory")),
        "client assertion: iss",
    ),
    "assertion sub is not the client": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, sub="mallory")),
        "client assertion: sub",
    ),
    "assertion expired": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, exp=int(f.clock()) - 1)),
        "client assertion: exp",
    ),
    "assertion lives too long": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, exp=int(f.clock()) + 600)),
        "more than 60 s ahead",
    ),
    "assertion without exp": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, exp=None)),
        "client assertion: exp",
    ),
    "assertion from the future": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, iat=int(f.clock()) + 120)),
        "client assertion: iat",
    ),
    "assertion without jti": (
        lambda f, c: _token_request(f, c, assertion=_assertion(f, jti=None)),
        "client assertion: no jti",
    ),
    "proof htu is another URL": (
        lambda f, c: _token_request(f, c, proof=c.dpop_proof("POST", f.token_url + "x")),
        "DPoP proof htu",
    ),
    "proof htm is GET": (
        lambda f, c: _token_request(f, c, proof=c.dpop_proof("GET", f.token_url)),
        "DPoP proof htm",
    ),
    "proof too old": (
        lambda f, c: _token_request(f, c, proof=_aged_proof(f, c)),
        "DPoP proof iat",
    ),
    "proof typ JWT": (
        lambda f, c: _token_request(f, c, proof=_forged_proof(f, c, typ="JWT")),
        "DPoP proof typ",
    ),
    "proof signed by a key other than its jwk": (
        lambda f, c: _token_request(f, c, proof=_forged_proof(f, c, key=ec.generate_private_key(ec.SECP256R1()))),
        "DPoP proof signature",
    ),
    "proof with a private jwk": (
        lambda f, c: _token_request(f, c, proof=_forged_proof(f, c, private_jwk=True)),
        "private key",
    ),
    "proof alg HS256": (
        lambda f, c: _token_request(f, c, proof=_forged_proof(f, c, alg="HS256")),
        "DPoP proof alg",
    ),
    "no proof": (
        lambda f, c: (_token_request(f, c)[0], {}),
        "0 DPoP headers",
    ),
}


def _aged_proof(fake: FakeNhn, client: HelseIdClient) -> str:
    proof = client.dpop_proof("POST", fake.token_url)
    fake.clock.advance(120)
    return proof


def _forged_proof(
    fake: FakeNhn,
    client: HelseIdClient,
    *,
    typ: str = "dpop+jwt",
    key: Any = None,
    private_jwk: bool = False,
    alg: str = "ES256",
) -> str:
    own = ec.generate_private_key(ec.SECP256R1())
    jwk = dict(jwt.algorithms.ECAlgorithm.to_jwk(own if private_jwk else own.public_key(), as_dict=True))
    claims = {"jti": uuid.uuid4().hex, "htm": "POST", "htu": fake.token_url, "iat": int(fake.clock())}
    if alg == "HS256":
        return jwt.encode(
            claims, "a-shared-secret-of-32-bytes-or-more!", algorithm="HS256", headers={"typ": typ, "jwk": jwk}
        )
    return jwt.encode(claims, key or own, algorithm=alg, headers={"typ": typ, "jwk": jwk})


def test_the_fake_accepts_a_correct_hand_made_request(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    status, body = _post(fake_nhn, _token_request(fake_nhn, client))
    assert status == 200 and body["token_type"] == "DPoP", fake_nhn.helseid.rejections  # noqa: S105


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_the_fake_refuses(fake_nhn: FakeNhn, attack: str) -> None:
    case, reason = ATTACKS[attack]
    client = fake_nhn.helseid_client()
    status, body = _post(fake_nhn, case(fake_nhn, client))
    assert status == 400 and body["error"] in ("invalid_client", "invalid_dpop_proof")
    assert reason in fake_nhn.helseid.rejections[-1]
    assert fake_nhn.helseid.issued == []


def test_the_fake_refuses_a_replayed_assertion_and_proof(fake_nhn: FakeNhn) -> None:
    client = fake_nhn.helseid_client()
    request = _token_request(fake_nhn, client)
    assert _post(fake_nhn, request)[0] == 200
    form, headers = request
    assert _post(fake_nhn, (form, {"DPoP": client.dpop_proof("POST", fake_nhn.token_url)}))[0] == 400
    assert fake_nhn.helseid.rejections[-1] == "client assertion: jti used before"
    form = {**form, "client_assertion": _assertion(fake_nhn)}
    assert _post(fake_nhn, (form, headers))[0] == 400
    assert fake_nhn.helseid.rejections[-1] == "DPoP proof jti used before"
