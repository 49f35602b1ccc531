"""Inbound tokens from a HelseID-style issuer: its keys fetched from a JWKS URL (tests/fakes/issuer.py, rotating
keys), cached, fetched again on rotation and not on every made-up key id; HelseID's organisation claims; the
settings that configure them."""

from __future__ import annotations

import json
import uuid
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fakes.issuer import AUDIENCE, ISSUER, ORGNR_CLAIM, FakeIssuer
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from adapter.config import Settings
from adapter.errors import AuthError
from adapter.security import KeysUnavailable, TokenVerifier
from adapter.transport.jwks import MAX_JWKS_BYTES, IssuerKeys, JwksError


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def issuer(httpserver: HTTPServer) -> FakeIssuer:
    """Scope: function. Type: FakeIssuer. Default: one key (key-1) published at ``httpserver``'s /jwks."""
    return FakeIssuer(httpserver)


@pytest.fixture
def clock() -> Clock:
    """Scope: function. Type: Clock. Default: at 1000 s."""
    return Clock()


def remote(issuer: FakeIssuer, clock: Clock, **options: Any) -> IssuerKeys:
    return IssuerKeys(issuer.jwks_url, cache_seconds=3600, refetch_seconds=60, timeout=(2, 2), clock=clock, **options)


def verifier_of(keys: IssuerKeys, **options: Any) -> TokenVerifier:
    """A verifier whose key source is ``keys``, wired as the service wires it."""

    def jwks(unknown_kid: str | None) -> Any:
        try:
            return keys.jwks(unknown_kid)
        except JwksError as error:
            raise KeysUnavailable(error.detail) from error

    return TokenVerifier([], ISSUER, AUDIENCE, key_set=jwks, **options)


def refused(verifier: TokenVerifier, token: str) -> AuthError:
    with pytest.raises(AuthError) as caught:
        verifier.verify(f"Bearer {token}")
    return caught.value


def test_a_token_signed_with_a_published_key_is_accepted_and_the_keys_are_fetched_once(
    issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = verifier_of(remote(issuer, clock))
    for _ in range(5):
        caller = verifier.verify(f"Bearer {issuer.token(org_her='8100001')}")
        assert caller.org == "8100001" and caller.scopes == {"samhandling/plans.read"}
    assert issuer.fetches == 1


def test_the_keys_are_fetched_again_when_the_cache_has_expired(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    verifier.verify(f"Bearer {issuer.token()}")
    clock.now += 3599
    verifier.verify(f"Bearer {issuer.token()}")
    assert issuer.fetches == 1
    clock.now += 2
    verifier.verify(f"Bearer {issuer.token()}")
    assert issuer.fetches == 2


def test_after_rotation_a_new_kid_is_fetched_once_and_the_old_key_is_dropped(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    old_token = issuer.token()
    verifier.verify(f"Bearer {old_token}")
    clock.now += 600  # the issuer rotates later than the first fetch (within the refetch interval: the next test)
    issuer.rotate()
    for _ in range(3):
        assert verifier.verify(f"Bearer {issuer.token()}").org == "8100001"
    assert issuer.fetches == 2  # the first token's fetch and the rotation's, no more
    error = refused(verifier, old_token)  # key-1 is no longer published: no longer trusted
    assert error.code == "ADP-7002" and "key-1" in error.issues[0].text_en


def test_made_up_key_ids_cost_at_most_one_fetch_per_interval(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    verifier.verify(f"Bearer {issuer.token()}")
    clock.now += 600
    for _ in range(50):
        forged = issuer.token(kid=f"kid-{uuid.uuid4()}")
        error = refused(verifier, forged)
        assert (error.code, error.status) == ("ADP-7002", 401)
    assert issuer.fetches == 2  # the first, and one for the first unknown kid
    clock.now += 61
    refused(verifier, issuer.token(kid="another-made-up-one"))
    assert issuer.fetches == 3


def test_a_rotation_within_the_interval_waits_for_it(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    refused(verifier, issuer.token(kid="made-up"))  # fetched at start, and the made-up kid cannot fetch again
    issuer.rotate()
    assert refused(verifier, issuer.token()).code == "ADP-7002"
    clock.now += 60
    assert verifier.verify(f"Bearer {issuer.token()}").org == "8100001"
    assert issuer.fetches == 2


def test_a_token_signed_by_another_key_under_a_published_kid_is_refused(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    forger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    error = refused(verifier, issuer.token(key=forger))
    assert error.code == "ADP-7002" and "signature" in error.issues[0].text_en


def test_an_issuer_that_is_down_gives_7027_503_and_is_not_hammered(issuer: FakeIssuer, clock: Clock) -> None:
    issuer.down = True
    verifier = verifier_of(remote(issuer, clock))
    for _ in range(10):
        error = refused(verifier, issuer.token())
        assert isinstance(error, KeysUnavailable)
        assert (error.code, error.status, error.www_authenticate) == ("ADP-7027", 503, "")
    assert issuer.fetches == 1
    issuer.down = False
    clock.now += 60
    assert verifier.verify(f"Bearer {issuer.token()}").org == "8100001"
    assert issuer.fetches == 2


def test_an_issuer_that_goes_down_later_leaves_the_held_keys_in_use(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    verifier.verify(f"Bearer {issuer.token()}")
    issuer.down = True
    clock.now += 3601  # the cache has expired, and the issuer does not answer
    assert verifier.verify(f"Bearer {issuer.token()}").org == "8100001"
    assert issuer.fetches == 2


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        (Response("", status=302, headers={"Location": "https://evil.example/jwks"}), "HTTP 302"),
        (Response("<html>", content_type="text/html"), "not JSON"),
        (Response(json.dumps({"keys": "none"}), content_type="application/json"), "list 'keys'"),
        (Response(json.dumps([1, 2]), content_type="application/json"), "list 'keys'"),
        (Response(b" " * (MAX_JWKS_BYTES + 1), content_type="application/json"), "over the cap"),
        (Response("", status=404), "HTTP 404"),
    ],
)
def test_a_jwks_answer_that_is_no_jwks_is_refused(httpserver: HTTPServer, answer: Response, why: str) -> None:
    httpserver.expect_request("/jwks").respond_with_response(answer)
    keys = IssuerKeys(httpserver.url_for("/jwks"), timeout=(2, 2))
    with pytest.raises(JwksError) as caught:
        keys.jwks()
    assert why in caught.value.detail
    assert len(httpserver.log) == 1  # no redirect followed, nothing tried twice


def test_private_symmetric_and_encryption_keys_are_left_out(issuer: FakeIssuer, clock: Clock) -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    private_jwk = {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private)), "kid": "leaked"}
    issuer.extra_keys = [
        private_jwk,
        {"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"},
        {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private.public_key())), "kid": "enc", "use": "enc"},
        {"kty": "RSA", "kid": "broken", "n": "AQAB"},  # unusable: logged and left out, the others still work
        "not a key",
    ]
    keys = remote(issuer, clock)
    assert [k["kid"] for k in keys.jwks()] == ["key-1", "broken"]
    verifier = verifier_of(keys)
    assert verifier.verify(f"Bearer {issuer.token()}").org == "8100001"
    for kid in ("leaked", "hmac", "enc"):
        assert refused(verifier, issuer.token(kid=kid, key=private)).code == "ADP-7002"


def test_a_jwks_url_must_be_https_but_for_loopback() -> None:
    with pytest.raises(JwksError, match="not https"):
        IssuerKeys("http://helseid-sts.test.example/jwks")
    IssuerKeys("http://127.0.0.1:1/jwks")  # tests only
    with pytest.raises(ValueError, match="SAMHANDLING_TOKEN_JWKS_URL"):
        Settings(token_jwks_url="http://helseid-sts.test.example/jwks")  # noqa: S106 - a URL
    assert Settings(token_jwks_url="https://helseid-sts.test.example/jwks").token_jwks_url  # noqa: S106 - a URL


# -- HelseID's organisation claims -------------------------------------------------------------------------------


def test_the_organisation_number_is_kept_beside_the_her_id(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    caller = verifier.verify(f"Bearer {issuer.token(org_her='8100001', orgnr='974703471')}")
    assert (caller.org, caller.orgnr) == ("8100001", "974703471")


def test_a_token_with_only_an_organisation_number_takes_the_configured_her_id(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock), her_ids_by_orgnr={"974703471": "8100002"})
    caller = verifier.verify(f"Bearer {issuer.token(org_her=None, orgnr='974703471')}")
    assert (caller.org, caller.orgnr) == ("8100002", "974703471")
    error = refused(verifier, issuer.token(org_her=None, orgnr="999999999"))
    assert (error.code, error.status) == ("ADP-7038", 401)
    assert "999999999" in error.issues[0].text_en and ORGNR_CLAIM in error.issues[0].text_en
    assert refused(verifier, issuer.token(org_her=None, orgnr="97470347x")).code == "ADP-7001"
    assert refused(verifier, issuer.token(org_her=None)).code == "ADP-7005"


CHILD_CLAIM = "helseid://claims/client/claims/orgnr_child"


def test_claim_names_are_settings(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(
        remote(issuer, clock),
        org_claim="her",
        orgnr_claim=CHILD_CLAIM,
        scope_claim="scp2",
    )
    token = issuer.token(
        org_her=None,
        her="8100003",
        scp2="samhandling/audit",
        **{CHILD_CLAIM: "123456789"},
    )
    caller = verifier.verify(f"Bearer {token}")
    assert (caller.org, caller.orgnr, caller.scopes) == ("8100003", "123456789", {"samhandling/audit"})
    # the configured scope claim alone counts: the standard one is not read beside it
    assert verifier.verify(f"Bearer {issuer.token(her='8100003')}").scopes == frozenset()


def test_a_persons_token_with_an_organisation_number_is_ambiguous(issuer: FakeIssuer, clock: Clock) -> None:
    verifier = verifier_of(remote(issuer, clock))
    error = refused(verifier, issuer.token(org_her=None, orgnr="974703471", pid="01010112345"))
    assert error.code == "ADP-7023" and ORGNR_CLAIM in error.issues[0].text_en


# -- the settings ------------------------------------------------------------------------------------------------


def test_the_settings_come_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "SAMHANDLING_TOKEN_JWKS_URL": "https://helseid-sts.test.example/jwks",
            "SAMHANDLING_TOKEN_JWKS_REFETCH_SECONDS": "30",
            "SAMHANDLING_TOKEN_ORG_HER_CLAIM": "her",
            "SAMHANDLING_TOKEN_ORGNR_CLAIM": "helseid://claims/client/claims/orgnr_child",
            "SAMHANDLING_TOKEN_SCOPE_CLAIM": "scp",
            "SAMHANDLING_TOKEN_HER_IDS_BY_ORGNR": "974703471:8100001, 983658776:8100002",
            "SAMHANDLING_DPOP_WINDOW": "120",
            "SAMHANDLING_CORS_ORIGINS": "https://app.example.no, https://EHR.example.no:8443",
        }
    )
    assert settings.token_jwks_refetch_seconds == 30.0 and settings.dpop_window == 120.0
    assert settings.her_ids_by_orgnr == {"974703471": "8100001", "983658776": "8100002"}
    assert settings.cors_origin_list == ("https://app.example.no", "https://ehr.example.no:8443")
    defaults = Settings()
    assert (defaults.token_org_her_claim, defaults.token_orgnr_claim, defaults.token_scope_claim) == (
        "org_her",
        ORGNR_CLAIM,
        "scope",
    )
    assert defaults.cors_origin_list == () and defaults.her_ids_by_orgnr == {}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("cors_origins", "*", "exact origins"),
        ("cors_origins", "https://app.example.no/", "exact origins"),
        ("cors_origins", "https://app.example.no/path", "exact origins"),
        ("cors_origins", "app.example.no", "exact origins"),
        ("token_her_ids_by_orgnr", "974703471", "orgnr:her-id"),
        ("token_her_ids_by_orgnr", "12:8100001", "orgnr:her-id"),
        ("token_org_her_claim", " ", "must name a claim"),
        ("dpop_window", 0.0, "more than 0"),
        ("token_jwks_refetch_seconds", -1.0, "more than 0"),
    ],
)
def test_bad_settings_are_refused_with_the_variable_named(name: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as caught:
        Settings(**{name: value})
    assert f"SAMHANDLING_{name.upper()}" in str(caught.value)


@pytest.mark.parametrize("with_kid", [True, False])
def test_a_token_of_a_configured_key_is_taken_while_the_issuer_is_down(
    issuer: FakeIssuer, clock: Clock, with_kid: bool
) -> None:
    """Keys from a file beside the JWKS URL: a token signed by one of them neither waits for the issuer nor fails
    with it (found in review: every token got 503 while the JWKS did not answer)."""
    from adapter.security import public_jwk

    own = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    keys = remote(issuer, clock)

    def jwks(unknown_kid: str | None) -> Any:
        try:
            return keys.jwks(unknown_kid)
        except JwksError as error:
            raise KeysUnavailable(error.detail) from error

    verifier = TokenVerifier([public_jwk(own.public_key(), kid="file-key")], ISSUER, AUDIENCE, key_set=jwks)
    issuer.down = True
    token = issuer.token(key=own, kid="file-key")
    if not with_kid:  # a token without a kid tries the configured keys when the issuer cannot be asked
        claims = jwt.decode(token, options={"verify_signature": False})
        token = jwt.encode(claims, own, algorithm="RS256")
    assert verifier.verify(f"Bearer {token}").org == "8100001"
    assert issuer.fetches == (0 if with_kid else 1)
    assert isinstance(refused(verifier, issuer.token()), KeysUnavailable)  # the issuer's own still need its keys
