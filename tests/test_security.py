"""Bearer tokens: what is accepted, what is refused with which code, and the demo issuer's persisted key."""

from __future__ import annotations

import datetime
import json
import stat
import threading
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from adapter.errors import AdapterError, AuthError, SetupError
from adapter.security import SCOPES, Caller, DemoIssuer, TokenVerifier, public_jwk

ISS = "https://helseid-demo.example"
AUD = "samhandling"
NOW = 1_780_000_000  # a fixed clock: tokens below are made for it, and the verifier is checked against real time


@pytest.fixture(scope="module")
def issuer(tmp_path_factory: pytest.TempPathFactory) -> DemoIssuer:
    """Scope: module. Type: DemoIssuer. Default: a fresh key in a temporary data folder."""
    return DemoIssuer(tmp_path_factory.mktemp("issuer"), ISS, AUD)


@pytest.fixture(scope="module")
def verifier(issuer: DemoIssuer) -> TokenVerifier:
    """Scope: module. Type: TokenVerifier trusting ``issuer``. Default: 30 s leeway, claim ``org_her``."""
    return issuer.verifier()


@pytest.fixture(scope="module")
def other_rsa() -> rsa.RSAPrivateKey:
    """Scope: module. Type: an RSA private key nobody trusts."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _bearer(token: str) -> str:
    return f"Bearer {token}"


def _claims(**changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISS,
        "aud": AUD,
        "sub": "u1",
        "org_her": "8100002",
        "scope": "samhandling/messages",
        "iat": now,
        "exp": now + 600,
    }
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not None}


def _sign(key: Any, claims: dict[str, Any], alg: str = "RS256", kid: str | None = None) -> str:
    return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid} if kid else None)


def _code(verifier: TokenVerifier, header: str | None) -> str:
    with pytest.raises(AuthError) as caught:
        verifier.verify(header)
    assert isinstance(caught.value, AdapterError)
    issue = caught.value.issues[0]
    assert issue.text_en and issue.text_nb and issue.info.type
    return issue.code


def test_valid_token_gives_the_caller(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/messages", "samhandling/plans.read"], subject="kari@kommune")
    caller = verifier.verify(_bearer(token))
    assert caller == Caller(
        "8100001", frozenset({"samhandling/messages", "samhandling/plans.read"}), "kari@kommune", "samhandling-demo"
    )
    assert jwt.get_unverified_header(token)["kid"] == issuer.kid


def test_scheme_is_case_insensitive_and_spaces_tolerated(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/audit"])
    assert verifier.verify(f"  bearer   {token} ").scopes == {"samhandling/audit"}


def test_scope_check(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    caller = verifier.verify(_bearer(issuer.issue("8100001", ["samhandling/plans.read"])))
    caller.require("samhandling/plans.read")
    assert caller.has("samhandling/plans.read") and not caller.has("samhandling/plans.write")
    with pytest.raises(AuthError) as caught:
        caller.require("samhandling/plans.write")
    error = caught.value
    assert error.code == "ADP-7006" and error.status == 403 and error.issues[0].info.type == "forbidden"
    assert "samhandling/plans.write" in error.issues[0].text_en and "samhandling/plans.write" in error.issues[0].text_nb
    assert error.www_authenticate == (
        'Bearer realm="samhandling", error="insufficient_scope", scope="samhandling/plans.write"'
    )


@pytest.mark.parametrize(
    ("header", "missing"),
    [(None, True), ("", True), ("   ", True), ("Basic dXNlcjpwdw==", False), ("Bearer", False),
     ("Bearer a b", False), ("Bearer not.a.jwt", False), ("Bearer abc", False), ("Bearer " + "a" * 20000, False)],
)  # fmt: skip
def test_missing_or_malformed_bearer_is_7001(verifier: TokenVerifier, header: str | None, missing: bool) -> None:
    with pytest.raises(AuthError) as caught:
        verifier.verify(header)
    error = caught.value
    assert error.code == "ADP-7001" and error.status == 401 and error.issues[0].info.type == "login"
    expected = 'Bearer realm="samhandling"' if missing else 'Bearer realm="samhandling", error="invalid_request"'
    assert error.www_authenticate == expected


def test_expired_is_7003(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/messages"], ttl_seconds=60, now=time.time() - 3600)
    assert _code(verifier, _bearer(token)) == "ADP-7003"


def test_leeway_allows_small_clock_skew(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/messages"], ttl_seconds=60, now=time.time() - 75)
    assert verifier.verify(_bearer(token)).org == "8100001"  # expired 15 s ago, inside the 30 s leeway
    strict = issuer.verifier(leeway=0)
    assert _code(strict, _bearer(token)) == "ADP-7003"


def test_not_yet_valid_is_7003(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/messages"], now=time.time() + 600)
    assert _code(verifier, _bearer(token)) == "ADP-7003"


def test_fixed_clock_token(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    token = issuer.issue("8100001", ["samhandling/messages"], now=NOW)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (NOW, NOW, NOW + 3600)
    assert claims["iss"] == ISS and claims["aud"] == AUD and claims["org_her"] == "8100001"


def test_wrong_audience_or_issuer_is_7004(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    for path, other in (("aud", {"aud": "someone-else"}), ("iss", {"iss": "https://evil.example"})):
        token = _sign(issuer._private, _claims(**other), kid=issuer.kid)
        assert _code(verifier, _bearer(token)) == "ADP-7004", path
    other_issuer = DemoIssuer(issuer.key_path.parent, "https://other.example", AUD)  # same key, other issuer name
    assert _code(verifier, _bearer(other_issuer.issue("1", ["samhandling/admin"]))) == "ADP-7004"


@pytest.mark.parametrize(("claim", "code"), [("exp", "ADP-7003"), ("iss", "ADP-7004"), ("aud", "ADP-7004")])
def test_required_claims(issuer: DemoIssuer, verifier: TokenVerifier, claim: str, code: str) -> None:
    token = _sign(issuer._private, _claims(**{claim: None}), kid=issuer.kid)
    assert _code(verifier, _bearer(token)) == code


def test_bad_signature_is_7002(issuer: DemoIssuer, verifier: TokenVerifier, other_rsa: rsa.RSAPrivateKey) -> None:
    forged = _sign(other_rsa, _claims(), kid=issuer.kid)  # claims to be signed by the trusted key
    assert _code(verifier, _bearer(forged)) == "ADP-7002"
    head, body, signature = issuer.issue("8100001", ["samhandling/messages"]).split(".")
    tampered = json.loads(jwt.utils.base64url_decode(body))
    tampered["org_her"] = "8100003"
    body = jwt.utils.base64url_encode(json.dumps(tampered).encode()).decode()
    assert _code(verifier, _bearer(f"{head}.{body}.{signature}")) == "ADP-7002"


def test_unknown_kid_is_7002(verifier: TokenVerifier, other_rsa: rsa.RSAPrivateKey) -> None:
    token = _sign(other_rsa, _claims(), kid="not-a-trusted-kid")
    with pytest.raises(AuthError, match="not-a-trusted-kid") as caught:
        verifier.verify(_bearer(token))
    assert caught.value.code == "ADP-7002" and caught.value.status == 401
    assert caught.value.www_authenticate == 'Bearer realm="samhandling", error="invalid_token"'


def test_no_kid_tries_every_trusted_key(issuer: DemoIssuer, other_rsa: rsa.RSAPrivateKey) -> None:
    verifier = TokenVerifier([other_rsa.public_key(), *issuer.public_keys()], ISS, AUD)
    assert verifier.verify(_bearer(_sign(issuer._private, _claims()))).subject == "u1"
    assert verifier.verify(_bearer(_sign(other_rsa, _claims()))).subject == "u1"
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert _code(verifier, _bearer(_sign(stranger, _claims()))) == "ADP-7002"


@pytest.mark.parametrize("alg", ["HS256", "none", "RS512"])
def test_refused_algorithms_are_7002(issuer: DemoIssuer, verifier: TokenVerifier, alg: str) -> None:
    if alg == "HS256":  # the classic confusion attack: the public key used as an HMAC secret
        token = jwt.encode(_claims(), "a-secret-of-at-least-32-bytes-length", algorithm="HS256")
    elif alg == "none":
        token = jwt.encode(_claims(), None, algorithm="none")
    else:
        token = _sign(issuer._private, _claims(), alg=alg, kid=issuer.kid)
    assert _code(verifier, _bearer(token)) == "ADP-7002"


def test_es256_keys_as_pem(other_rsa: rsa.RSAPrivateKey) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = ec_key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    rsa_pem = other_rsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    verifier = TokenVerifier([pem.decode(), rsa_pem], ISS, AUD)
    kid = public_jwk(ec_key.public_key())["kid"]
    assert verifier.verify(_bearer(_sign(ec_key, _claims(), alg="ES256", kid=kid))).org == "8100002"
    assert verifier.verify(_bearer(_sign(ec_key, _claims(), alg="ES256"))).org == "8100002"
    # An RS256 header with the EC key's kid: the key is of the wrong kind, so nothing can verify it.
    assert _code(verifier, _bearer(_sign(other_rsa, _claims(), kid=kid))) == "ADP-7002"


def test_missing_org_claim_is_7005(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    for org in (None, "", "  ", ["8100001"]):
        token = _sign(issuer._private, _claims(org_her=org), kid=issuer.kid)
        with pytest.raises(AuthError) as caught:
            verifier.verify(_bearer(token))
        assert caught.value.code == "ADP-7005" and caught.value.status == 401
        assert "org_her" in caught.value.issues[0].text_en


def test_org_claim_is_configurable(issuer: DemoIssuer) -> None:
    claim = "helseid://claims/client/claims/orgnr_parent"
    verifier = issuer.verifier(org_claim=claim)
    token = _sign(issuer._private, _claims(org_her=None, **{claim: 974_703_471}), kid=issuer.kid)
    assert verifier.verify(_bearer(token)).org == "974703471"
    assert _code(verifier, _bearer(issuer.issue("8100001", ["samhandling/messages"]))) == "ADP-7005"


def test_scope_as_list_and_client_credentials(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    claims = _claims(sub=None, scope=["samhandling/messages", "samhandling/validate"], client_id="ehr-system-7")
    caller = verifier.verify(_bearer(_sign(issuer._private, claims, kid=issuer.kid)))
    assert caller.scopes == {"samhandling/messages", "samhandling/validate"}
    assert (caller.subject, caller.client_id) == ("ehr-system-7", "ehr-system-7")
    no_subject = _sign(issuer._private, _claims(sub=None), kid=issuer.kid)
    assert _code(verifier, _bearer(no_subject)) == "ADP-7001"
    bad_scope = _sign(issuer._private, _claims(scope={"a": 1}), kid=issuer.kid)
    assert _code(verifier, _bearer(bad_scope)) == "ADP-7001"


def test_no_scope_means_no_scopes(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    caller = verifier.verify(_bearer(_sign(issuer._private, _claims(scope=None), kid=issuer.kid)))
    assert caller.scopes == frozenset()


def test_demo_issuer_key_persists_across_instances(tmp_path: Path) -> None:
    first = DemoIssuer(tmp_path / "data", ISS, AUD)
    assert stat.S_IMODE(first.key_path.stat().st_mode) == 0o600
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == [DemoIssuer.KEY_FILE]
    token = first.issue("8100001", ["samhandling/messages"])
    second = DemoIssuer(tmp_path / "data", ISS, AUD)
    assert second.kid == first.kid and second.jwks() == first.jwks()
    assert second.verifier().verify(_bearer(token)).org == "8100001"
    third = DemoIssuer(tmp_path / "elsewhere", ISS, AUD)
    assert third.kid != first.kid
    assert _code(third.verifier(), _bearer(token)) == "ADP-7002"


def test_demo_issuers_starting_together_share_one_key(tmp_path: Path) -> None:
    kids: list[str] = []
    threads = [threading.Thread(target=lambda: kids.append(DemoIssuer(tmp_path, ISS, AUD).kid)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(kids) == 4 and len(set(kids)) == 1
    assert [p.name for p in tmp_path.iterdir()] == [DemoIssuer.KEY_FILE]


def test_jwks_is_public_only(issuer: DemoIssuer) -> None:
    jwks = issuer.jwks()
    (key,) = jwks["keys"]
    assert set(key) == {"kty", "n", "e", "kid", "use", "alg"} and key["alg"] == "RS256"
    assert TokenVerifier(jwks["keys"], ISS, AUD).keys.keys() == {issuer.kid}


def test_demo_issuer_refuses_unknown_scopes(issuer: DemoIssuer) -> None:
    with pytest.raises(ValueError, match="samhandling/everything"):
        issuer.issue("8100001", ["samhandling/everything"])
    with pytest.raises(ValueError, match="HER-id"):
        issuer.issue(" ", ["samhandling/messages"])
    assert len(SCOPES) == 8  # messages, plans.read, plans.write, validate, audit, admin, emergency, person


@pytest.mark.parametrize(
    "key",
    ["not a pem", b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", {"kty": "oct", "k": "c2VjcmV0"}],
)
def test_unusable_configured_key_is_a_setup_error(key: Any) -> None:
    with pytest.raises(SetupError, match="ADP-7007"):
        TokenVerifier([key], ISS, AUD)


def test_private_jwk_is_refused(issuer: DemoIssuer) -> None:
    private = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer._private))
    with pytest.raises(SetupError, match="private key"):
        TokenVerifier([private], ISS, AUD)


def test_certificate_pem_is_accepted(issuer: DemoIssuer) -> None:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "demo")])
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(issuer._private.public_key())
        .serial_number(1)
        .not_valid_before(start)
        .not_valid_after(start + datetime.timedelta(days=3650))
        .sign(issuer._private, hashes.SHA256())
    )
    verifier = TokenVerifier([cert.public_bytes(serialization.Encoding.PEM)], ISS, AUD)
    assert verifier.verify(_bearer(issuer.issue("8100001", ["samhandling/messages"]))).org == "8100001"


def test_a_record_naming_a_department_names_its_institution() -> None:
    """A referral performed by a hospital's department (Organization.partOf the hospital) names the hospital too:
    the organisation the referral was addressed to is party to it."""
    from adapter import access

    hospital = {"resourceType": "Organization", "id": "h", "identifier": [{"system": access.HER_SYSTEM, "value": "59"}]}
    department = {
        "resourceType": "Organization",
        "id": "d",
        "identifier": [{"system": access.HER_SYSTEM, "value": "90998"}],
        "partOf": {"reference": "Organization/h"},
    }
    resolve = {"Organization/h": hospital, "Organization/d": department}.get
    referral = {"resourceType": "ServiceRequest", "performer": [{"reference": "Organization/d"}]}
    assert access.named_organisations(referral, resolve) == {"59", "90998"}


# --- a person's token (ID-porten through the gateway) ----------------------------------------------------------

PID = "15838510075"  # synthetic, valid check digits


def test_a_persons_token_names_the_person_and_no_organisation(issuer: DemoIssuer, verifier: TokenVerifier) -> None:
    caller = verifier.verify(_bearer(issuer.issue_person(PID)))
    assert caller.person == PID and caller.org == "" and caller.scopes == {"samhandling/person"}
    assert PID not in caller.subject  # a pairwise subject, not the number
    caller.require("samhandling/person")
    for scope in sorted(SCOPES - {"samhandling/person"}):
        with pytest.raises(AuthError) as caught:
            caller.require(scope)
        assert caught.value.code == "ADP-7025" and caught.value.status == 403
        assert not caller.has(scope)
    organisation = verifier.verify(_bearer(issuer.issue("8100001", ["samhandling/person"])))
    assert not organisation.has("samhandling/person")
    with pytest.raises(AuthError) as caught:
        organisation.require("samhandling/person")
    assert caught.value.code == "ADP-7025"


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ({"org_her": None, "pid": PID[:-1] + "6"}, "ADP-7024"),  # a wrong check digit
        ({"org_her": None, "pid": "1583851007"}, "ADP-7024"),
        ({"org_her": None, "pid": 15838510075}, "ADP-7024"),
        ({"org_her": None, "pid": "1583851007５"}, "ADP-7024"),
        ({"org_her": None, "pid": ""}, "ADP-7024"),
        ({"pid": PID}, "ADP-7023"),  # and org_her 8100002: ambiguous
        ({"org_her": "Patient/pasient-ola"}, "ADP-7001"),  # an organisation is a number, never a reference
        ({"org_her": "8100 001"}, "ADP-7001"),
    ],
)
def test_a_forged_or_ambiguous_person_is_refused(
    issuer: DemoIssuer, verifier: TokenVerifier, claims: dict[str, Any], code: str
) -> None:
    token = _sign(issuer._private, _claims(scope="samhandling/person", **claims), kid=issuer.kid)
    assert _code(verifier, _bearer(token)) == code


def test_the_demo_issuer_refuses_a_bad_person_number(issuer: DemoIssuer) -> None:
    with pytest.raises(ValueError, match="fødselsnummer"):
        issuer.issue_person(PID[:-1] + "6")
    with pytest.raises(ValueError, match="fødselsnummer"):
        issuer.issue_person("123")
