"""DPoP-bound tokens (RFC 9449), written as an attacker would try them: each forged, stolen or replayed proof is
refused with its own code and a DPoP challenge; an honest proof, ours or another client's, is taken."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fakes.issuer import AUDIENCE, ISSUER, DpopKey, FakeIssuer, public_rsa_jwk, unsigned

from adapter.errors import AuthError
from adapter.security import TokenVerifier
from adapter.security_dpop import DpopError, ProofChecker, ReplayCache, comparable_url, jwk_thumbprint
from adapter.transport.helseid import HelseIdClient, HelseIdConfig

URL = "https://fhir.example.no/fhir/CarePlan"


@pytest.fixture(scope="module")
def issuer() -> FakeIssuer:
    """Scope: module. Type: FakeIssuer without a JWKS endpoint (its keys are given to the verifier directly)."""
    return FakeIssuer(None)


@pytest.fixture
def verifier(issuer: FakeIssuer) -> TokenVerifier:
    """Scope: function (a fresh replay cache). Type: TokenVerifier trusting ``issuer``'s key, a 300 s window."""
    return TokenVerifier([public_rsa_jwk(key, kid) for kid, key in issuer.keys], ISSUER, AUDIENCE, dpop_window=300)


@pytest.fixture
def client() -> DpopKey:
    """Scope: function. Type: DpopKey, the client's proof key."""
    return DpopKey()


def verify(verifier: TokenVerifier, token: str, proofs: list[str], method: str = "GET", url: str = URL) -> Any:
    return verifier.verify(f"DPoP {token}", method=method, url=url, dpop_proofs=proofs)


def refusal(verifier: TokenVerifier, token: str, proofs: list[str], scheme: str = "DPoP", **request: Any) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(
            f"{scheme} {token}",
            method=request.get("method", "GET"),
            url=request.get("url", URL),
            dpop_proofs=proofs,
        )
    error = caught.value
    assert error.status == 401 and error.issues[0].text_en and error.issues[0].text_nb
    return error


def code_and_challenge(error: AuthError) -> tuple[str, str]:
    challenge = error.www_authenticate
    assert challenge.startswith('DPoP realm="samhandling", error="') and 'algs="ES256' in challenge
    return error.code, challenge.split('error="')[1].split('"')[0]


def test_an_honest_proof_is_taken(issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey) -> None:
    token = issuer.token(jkt=client.jkt)
    caller = verify(verifier, token, [client.proof("GET", URL, token)])
    assert caller.org == "8100001"
    # a second request needs a second proof; the htu ignores the query, and HEAD is a method of its own
    assert verify(verifier, token, [client.proof("POST", URL, token)], method="POST", url=URL + "?_count=5").org
    assert verify(verifier, token, [client.proof("HEAD", URL + "#x", token)], method="HEAD")


def test_our_outbound_helseid_clients_proofs_are_taken(
    issuer: FakeIssuer, verifier: TokenVerifier, tmp_path: Path
) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "client.pem").write_bytes(pem)
    ours = HelseIdClient(HelseIdConfig("https://sts.example/connect/token", "c", str(tmp_path / "client.pem"), "s"))
    token = issuer.token(jkt=jwk_thumbprint(ours.public_jwk))
    proof = ours.dpop_proof("PUT", URL + "/1?x=1", access_token=token)
    assert verify(verifier, token, [proof], method="PUT", url=URL + "/1").org == "8100001"
    ours.close()


@pytest.mark.parametrize(
    ("forgery", "code", "error"),
    [
        ({"htm": "POST"}, "ADP-7033", "invalid_dpop_proof"),
        ({"htm": "get"}, "ADP-7033", "invalid_dpop_proof"),
        ({"htu": "https://fhir.example.no/fhir/Patient"}, "ADP-7033", "invalid_dpop_proof"),
        ({"htu": "https://evil.example/fhir/CarePlan"}, "ADP-7033", "invalid_dpop_proof"),
        ({"htu": "http://fhir.example.no/fhir/CarePlan"}, "ADP-7033", "invalid_dpop_proof"),
        ({"iat_ago": 301}, "ADP-7034", "invalid_dpop_proof"),
        ({"iat_ago": -120}, "ADP-7034", "invalid_dpop_proof"),
        ({"ath": "bm90IHRoZSBoYXNo"}, "ADP-7036", "invalid_dpop_proof"),
        ({"ath": None}, "ADP-7036", "invalid_dpop_proof"),
        ({"jti": ""}, "ADP-7030", "invalid_dpop_proof"),
        ({"jti": "x" * 300}, "ADP-7030", "invalid_dpop_proof"),
        ({"iat": "now"}, "ADP-7030", "invalid_dpop_proof"),
        ({"header": {"typ": "JWT"}}, "ADP-7030", "invalid_dpop_proof"),
        ({"header": {"jwk": None}}, "ADP-7031", "invalid_dpop_proof"),
        ({"alg": "HS256", "signer": b"k" * 32, "header": {"jwk": {"kty": "oct", "k": "a2trayBr"}}}, "ADP-7031", ""),
    ],
)
def test_a_forged_proof_is_refused_with_its_code(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey, forgery: dict[str, Any], code: str, error: str
) -> None:
    token = issuer.token(jkt=client.jkt)
    changes = dict(forgery)
    method = "GET"
    if "htm" in changes:
        method = changes.pop("htm")
    url = changes.pop("htu", URL)
    if "iat_ago" in changes:  # taken from the clock when the test runs, not when it was collected
        changes["iat"] = time.time() - changes.pop("iat_ago")
    proof = client.proof(method, url, token, **changes)
    found = code_and_challenge(refusal(verifier, token, [proof]))
    assert found == (code, error or "invalid_dpop_proof")


def test_a_replayed_proof_is_refused(issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey) -> None:
    token = issuer.token(jkt=client.jkt)
    proof = client.proof("GET", URL, token)
    verify(verifier, token, [proof])
    assert code_and_challenge(refusal(verifier, token, [proof])) == ("ADP-7035", "invalid_dpop_proof")
    # the same jti in a new proof is the same proof
    again = client.proof("GET", URL, token, jti=jwt.decode(proof, options={"verify_signature": False})["jti"])
    assert refusal(verifier, token, [again]).code == "ADP-7035"


def test_a_stolen_token_with_the_thiefs_own_key_is_refused(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey
) -> None:
    token = issuer.token(jkt=client.jkt)
    thief = DpopKey()  # a valid, self-signed proof, but of another key than the token is bound to
    assert code_and_challenge(refusal(verifier, token, [thief.proof("GET", URL, token)])) == (
        "ADP-7037",
        "invalid_token",
    )


def test_a_proof_signed_by_another_key_than_its_jwk_is_refused(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey
) -> None:
    token = issuer.token(jkt=client.jkt)
    forged = client.proof("GET", URL, token, signer=ec.generate_private_key(ec.SECP256R1()))
    assert refusal(verifier, token, [forged]).code == "ADP-7032"


def test_alg_none_is_refused(issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey) -> None:
    token = issuer.token(jkt=client.jkt)
    claims = jwt.decode(client.proof("GET", URL, token), options={"verify_signature": False})
    forged = unsigned(claims, {"typ": "dpop+jwt", "jwk": client.jwk})
    assert refusal(verifier, token, [forged]).code == "ADP-7031"


def test_a_jwk_with_private_key_material_is_refused(issuer: FakeIssuer, verifier: TokenVerifier) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    private_jwk = jwt.algorithms.ECAlgorithm.to_jwk(key, as_dict=True)
    assert "d" in private_jwk
    client = DpopKey()
    client.key, client.jwk = key, dict(private_jwk)
    token = issuer.token(jkt=jwk_thumbprint(private_jwk))
    error = refusal(verifier, token, [client.proof("GET", URL, token)])
    assert error.code == "ADP-7031" and "private" in error.issues[0].text_en


def test_a_jwk_of_another_kind_than_the_algorithm_is_refused(issuer: FakeIssuer, verifier: TokenVerifier) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    client = DpopKey()
    token = issuer.token(jkt=client.jkt)
    forged = client.proof("GET", URL, token, alg="RS256", signer=rsa_key)  # EC jwk in the header, RS256 signature
    assert refusal(verifier, token, [forged]).code == "ADP-7031"


@pytest.mark.parametrize("count", [0, 2])
def test_no_proof_or_two_proofs_are_refused(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey, count: int
) -> None:
    token = issuer.token(jkt=client.jkt)
    proofs = [client.proof("GET", URL, token) for _ in range(count)]
    assert code_and_challenge(refusal(verifier, token, proofs)) == ("ADP-7030", "invalid_dpop_proof")
    assert refusal(verifier, token, ["not.a.jwt"]).code == "ADP-7030"


def test_a_bound_token_sent_as_bearer_is_refused(issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey) -> None:
    token = issuer.token(jkt=client.jkt)
    for proofs in ([], [client.proof("GET", URL, token)]):  # with or without a proof beside it
        error = refusal(verifier, token, proofs, scheme="Bearer")
        assert code_and_challenge(error) == ("ADP-7028", "invalid_token")


@pytest.mark.parametrize("cnf", [{"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}, {"jkt": "x", "jwk": {}}])
@pytest.mark.parametrize("scheme", ["Bearer", "DPoP"])
def test_a_token_bound_to_what_the_service_cannot_check_is_refused(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey, cnf: dict[str, Any], scheme: str
) -> None:
    """A token bound to a client certificate (RFC 8705) must not be taken as a bare bearer token: the service
    cannot see the certificate, so whoever holds the token would pass."""
    token = issuer.token(cnf=cnf)
    error = refusal(verifier, token, [client.proof("GET", URL, token)] if scheme == "DPoP" else [], scheme=scheme)
    assert error.code == "ADP-7039"


def test_an_unbound_token_sent_as_dpop_is_refused(issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey) -> None:
    token = issuer.token()
    error = refusal(verifier, token, [client.proof("GET", URL, token)])
    assert code_and_challenge(error) == ("ADP-7029", "invalid_token")
    assert verifier.verify(f"Bearer {token}").org == "8100001"  # as a bearer token it is fine
    malformed = issuer.token(cnf="jkt")
    assert refusal(verifier, malformed, [client.proof("GET", URL, malformed)]).code == "ADP-7001"


def test_a_bad_token_under_the_dpop_scheme_gets_a_dpop_challenge(
    issuer: FakeIssuer, verifier: TokenVerifier, client: DpopKey
) -> None:
    expired = issuer.token(jkt=client.jkt, exp=int(time.time()) - 100)
    error = refusal(verifier, expired, [client.proof("GET", URL, expired)])
    assert isinstance(error, DpopError) and code_and_challenge(error) == ("ADP-7003", "invalid_token")


def test_the_window_and_leeway_bound_iat() -> None:
    now = 1_800_000_000.0
    checker = ProofChecker(window=60, leeway=5, clock=lambda: now)
    client = DpopKey()
    token = "t"  # noqa: S105 - not a secret
    for iat, ok in ((now - 59, True), (now + 4, True), (now - 61, False), (now + 6, False)):
        proof = client.proof("GET", URL, token, iat=iat)
        if ok:
            checker.check([proof], method="GET", url=URL, access_token=token, jkt=client.jkt)
        else:
            with pytest.raises(DpopError) as caught:
                checker.check([proof], method="GET", url=URL, access_token=token, jkt=client.jkt)
            assert caught.value.code == "ADP-7034"


def test_the_replay_cache_forgets_after_expiry_and_stays_bounded() -> None:
    cache = ReplayCache(max_entries=3)
    assert cache.first_use("a", expires=10, now=0) and not cache.first_use("a", expires=10, now=5)
    assert cache.first_use("a", expires=20, now=11)  # expired: forgotten (the iat check refuses it by then)
    for key in ("b", "c", "d", "e"):
        assert cache.first_use(key, expires=100, now=12)
    assert len(cache) == 3


@pytest.mark.parametrize(
    ("url", "same"),
    [
        ("https://FHIR.example.no/fhir/CarePlan", True),
        ("https://fhir.example.no:443/fhir/CarePlan", True),
        ("https://fhir.example.no/fhir/CarePlan?x=1#y", True),
        ("https://fhir.example.no:8443/fhir/CarePlan", False),
        ("https://fhir.example.no/fhir/careplan", False),
        ("https://fhir.example.no/fhir/CarePlan/", False),
        ("https://fhir.example.no:99999/fhir/CarePlan", False),
        ("/fhir/CarePlan", False),
        ("", False),
    ],
)
def test_htu_comparison(url: str, same: bool) -> None:
    assert (comparable_url(url) == comparable_url(URL)) is same
