"""A fake HelseID-style token issuer for the inbound tests: a JWKS on pytest-httpserver whose keys rotate, access
tokens signed with them (plain or DPoP-bound), and a DPoP client key that makes proofs, honest or forged.

* :class:`FakeIssuer` serves ``GET /jwks`` (``jwks_url``) with its current public keys (RSA 2048, ``kid`` ``key-1``,
  ``key-2``...); :meth:`FakeIssuer.rotate` makes a new key current and drops the old one unless told to keep it;
  ``down = True`` answers 503. ``fetches`` counts the JWKS requests, so a test can hold the verifier to its
  promise of fetching rarely. :meth:`FakeIssuer.token` signs an access token with HelseID's claims
  (``helseid://claims/client/claims/orgnr_parent`` when asked, ``scope`` as a list) and ``cnf.jkt`` for a bound one.
* :class:`DpopKey` is a client's proof key (EC P-256 by default); :meth:`DpopKey.proof` makes a proof for a
  method, URL and token, every claim and header member overridable, so the tests can forge what an attacker would.

The thumbprints here come from :func:`fakes.nhn.thumbprint`, written independently of the code under test.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Request, Response

from fakes.nhn import thumbprint

ISSUER = "https://helseid-sts.test.example"
AUDIENCE = "samhandling-adapter"
ORGNR_CLAIM = "helseid://claims/client/claims/orgnr_parent"
_UNSET: Any = object()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def public_rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = dict(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


class FakeIssuer:
    """The issuer's JWKS endpoint and its token signing (see the module docstring)."""

    def __init__(self, server: HTTPServer | None) -> None:
        self.server = server
        self.keys: list[tuple[str, rsa.RSAPrivateKey]] = []
        self.number = 0
        self.down = False
        self.extra_keys: list[dict[str, Any]] = []  # odd keys published beside the real ones
        self.rotate()
        if server is not None:  # None: keys only, given to a verifier directly
            server.expect_request("/jwks", method="GET").respond_with_handler(self._jwks)

    @property
    def jwks_url(self) -> str:
        assert self.server is not None
        return self.server.url_for("/jwks")

    @property
    def fetches(self) -> int:
        assert self.server is not None
        return sum(1 for request, _ in self.server.log if request.path == "/jwks")

    @property
    def kid(self) -> str:
        """The key id tokens are signed with now."""
        return self.keys[-1][0]

    def rotate(self, *, keep_old: bool = False) -> str:
        """Make a new key current (and drop the old ones unless ``keep_old``); its kid."""
        self.number += 1
        key = (f"key-{self.number}", rsa.generate_private_key(public_exponent=65537, key_size=2048))
        self.keys = [*self.keys, key] if keep_old else [key]
        return key[0]

    def _jwks(self, request: Request) -> Response:
        if self.down:
            return Response("down for maintenance", status=503)
        keys = [public_rsa_jwk(key, kid) for kid, key in self.keys] + self.extra_keys
        return Response(json.dumps({"keys": keys}), content_type="application/json")

    def token(
        self,
        *,
        org_her: str | None = "8100001",
        orgnr: str | None = None,
        scopes: tuple[str, ...] = ("samhandling/plans.read",),
        jkt: str | None = None,
        kid: str | None = None,
        key: rsa.RSAPrivateKey | None = None,
        **claims: Any,
    ) -> str:
        """An access token of this issuer (RS256), valid for ten minutes; ``key`` and ``kid`` forge another."""
        now = int(time.time())
        body: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "client_id": "ehr-client",
            "scope": list(scopes),
            "iat": now,
            "nbf": now,
            "exp": now + 600,
            "jti": str(uuid.uuid4()),
        }
        if org_her is not None:
            body["org_her"] = org_her
        if orgnr is not None:
            body[ORGNR_CLAIM] = orgnr
        if jkt is not None:
            body["cnf"] = {"jkt": jkt}
        body.update(claims)
        signing = key or self.keys[-1][1]
        return jwt.encode(body, signing, algorithm="RS256", headers={"kid": kid or self.kid, "typ": "at+jwt"})


class DpopKey:
    """A client's DPoP key and the proofs it makes."""

    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.jwk: dict[str, Any] = dict(jwt.algorithms.ECAlgorithm.to_jwk(self.key.public_key(), as_dict=True))
        self.jkt = thumbprint(self.jwk)

    def proof(
        self,
        method: str,
        url: str,
        token: str | None,
        *,
        iat: Any = None,
        jti: str | None = None,
        ath: Any = _UNSET,
        header: dict[str, Any] | None = None,
        signer: Any = None,
        alg: str = "ES256",
        **claims: Any,
    ) -> str:
        """A proof for ``method`` on ``url`` bound to ``token``; the keywords forge it (``signer``: sign with another
        key than the one in the header; ``header``: members added to or replacing the header's)."""
        body: dict[str, Any] = {
            "jti": str(uuid.uuid4()) if jti is None else jti,
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else int(iat) if isinstance(iat, int | float) else iat,
        }
        if ath is _UNSET and token is not None:
            body["ath"] = b64url(hashlib.sha256(token.encode("ascii")).digest())
        elif ath is not _UNSET and ath is not None:
            body["ath"] = ath
        body.update(claims)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return jwt.encode(body, signer if signer is not None else self.key, algorithm=alg, headers=headers)


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    """A JWT with ``alg`` ``none`` (no signature): what an attacker sends to see whether it is taken."""
    head = b64url(json.dumps({**header, "alg": "none"}).encode())
    return f"{head}.{b64url(json.dumps(claims).encode())}."
