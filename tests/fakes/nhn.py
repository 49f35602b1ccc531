"""A fake HelseID token endpoint and a fake EDI 2.0 Meldingstjener, as strict as the real servers.

Both run on pytest-httpserver (the ``httpserver`` fixture, on loopback) and check everything the real servers
check, so a client bug fails a test instead of passing against a lenient fake:

* **HelseID** (``POST /connect/token``): form fields (``grant_type`` ``client_credentials``, ``client_id``,
  ``client_assertion_type``, ``scope``); the client assertion (signature with the registered public key, ``kid``
  when both sides have one, ``iss`` = ``sub`` = client id, ``aud`` the issuer or the token URL, ``exp`` in the
  future and at most 60 s ahead, ``iat``/``nbf`` not in the future, ``jti`` never seen before); the DPoP proof
  (below); the scopes the client may ask for. It issues JWT access tokens (ES256, its own key) with ``aud``
  ``nhn:msh``, ``scope``, ``client_id``, the API-specific ``herid`` claim and ``cnf.jkt``, the RFC 7638
  thumbprint of the proof key, answering ``token_type`` ``DPoP``.
* **DPoP proofs**, at both servers: ``typ`` ``dpop+jwt``, an asymmetric ``alg``, a public ``jwk`` in the header
  that verifies the signature, ``htm`` = the method, ``htu`` = the URL without query and fragment, ``iat`` within
  60 s of the fake clock, ``jti`` unique, ``ath`` = the token's hash (API only), ``nonce`` = the nonce when one is
  demanded (token endpoint: HTTP 400 ``use_dpop_nonce``; API: HTTP 401 with ``WWW-Authenticate: DPoP
  error="use_dpop_nonce"``; both with a ``DPoP-Nonce`` header).
* **Meldingstjener** (under ``/api``, per ``nhn-msh-api-v2.json``): ``api-version`` "2", a non-empty
  ``nhn-source-system``, an ``Accept`` that allows JSON, ``Authorization: DPoP <token>`` with a valid, unexpired,
  unrevoked token whose ``cnf.jkt`` matches the proof key, the scope ``nhn:msh/api``, the HER-ids the token's
  ``herid`` claim allows (``0``: all HER-ids of the organisation, else a dash-separated list) and the request
  bodies against the schemas (no unknown properties, required ones present, base64, a UTF-8 MsgHead whose
  receivers include ``receiverHerIdsSubset``, AppRec status and errors). Error answers are ``ErrorMessage``
  objects with a ``requestId``.

State: messages with sender, receivers, business document, MsgId, GenDate, per-receiver read flags and AppRecs.
Posting an AppRec (through the API or :meth:`FakeNhn.answer`) also puts an AppRec message in the original
sender's inbox, as the real Meldingstjener does (its document is a minimal AppRec-shaped XML, not schema-valid).

Faults, on ``fake.helseid`` and ``fake.msh`` alike: ``fail(*statuses)`` answers the next requests with these
statuses before doing anything (401 comes with ``error="invalid_token"``); ``slow(seconds, times)`` sleeps before
answering (a timeout; :meth:`FakeServer.wait_idle` waits for the sleeper); ``demand_nonce = True`` and
``rotate_nonce()``. HelseID also has ``token_ttl`` and ``expire_tokens()`` (every token issued so far is
refused by the API from then on); the Meldingstjener has ``lose_answers(times)`` (do the work, then answer 500).
Every refusal is logged with its reason in ``rejections`` and every request in ``calls`` (method, path, status),
so a test can say not only *that* a request was refused but *why*.

Fixture ``fake_nhn(httpserver, tmp_path)`` (function scope) gives a :class:`FakeNhn`:

* ``helseid_config``: a :class:`~adapter.transport.helseid.HelseIdConfig` for the registered client, whose RSA
  2048 key is in ``key_pem`` (PEM) and ``key_jwk`` (private JWK with ``kid``) under ``tmp_path``;
* ``token_url``, ``issuer``, ``base_url`` (the Meldingstjener), ``our_her`` (the organisation's HER-ids);
* ``clock``: a :class:`FakeClock`, frozen until ``advance``-d, shared by both fakes and by the clients that
  ``helseid_client()`` and ``client()`` make (timeouts 1 s connect, 2 s read unless given);
* ``deliver(sender_her, receiver_her, xml) -> id`` puts an incoming message in the inbox;
  ``answer(message_id, receiver_her, status, errors)`` posts the receiver's AppRec for a message we sent;
* ``raw(method, url, headers, body)`` sends a hand-made request (to test the fakes themselves).

:func:`msghead` makes a small MsgHead from one HER-id to another, enough for the fake's checks.

Use it by importing the fixture into the test module as an explicit re-export, which ruff takes without a
``noqa`` (``from fakes.nhn import fake_nhn as fake_nhn``; ``tests/`` is on ``sys.path``), or by wrapping
:meth:`FakeNhn.start` in a fixture of your own (e.g. with other HER-ids or a ``herid`` list).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import http.client
import json
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from adapter.errors import AdapterError
from adapter.parse.xml_safe import parse_xml
from adapter.transport.helseid import HelseIdClient, HelseIdConfig
from adapter.transport.nhn import Meldingstjener

SCOPE = "nhn:msh/api"
AUDIENCE = "nhn:msh"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
PROOF_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"})
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
SKEW = 5  # seconds of clock skew the fakes allow for iat / nbf
PROOF_MAX_AGE = 60
ASSERTION_MAX_LIFETIME = 60
APPREC_NS = "http://www.kith.no/xmlstds/apprec/2012-02-15"
#: AppRecStatus by name or by the number the API's description gives (1 Ok, 2 Avvist, 3 Ok, feil i delmelding).
APPREC_STATUS = {
    "Ok": "Ok",
    "1": "Ok",
    "Rejected": "Rejected",
    "2": "Rejected",
    "OkErrorInMessagePart": "OkErrorInMessagePart",
    "3": "OkErrorInMessagePart",
}
APPREC_CODE = {"Ok": ("1", "OK"), "Rejected": ("2", "Avvist"), "OkErrorInMessagePart": ("3", "OK, feil i delmelding")}
JSON_TYPES = ("application/json", "text/json")


class FakeClock:
    """A clock that stands still until told to move: the fakes' notion of now, shared with the clients."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


class Refused(Exception):
    """A request the fake refuses: the HTTP answer to give and the reason (logged in ``rejections``)."""

    def __init__(self, status: int, reason: str, *, error: str = "", headers: Mapping[str, str] | None = None):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.error = error
        self.headers = dict(headers or {})


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256) of a public RSA or EC key, written out here independently of the client."""
    members = ("e", "kty", "n") if jwk.get("kty") == "RSA" else ("crv", "kty", "x", "y")
    canonical = json.dumps({m: jwk[m] for m in members}, sort_keys=True, separators=(",", ":"))
    return b64url(hashlib.sha256(canonical.encode("utf-8")).digest())


def normal_url(url: str) -> str:
    """An URL as ``htu`` compares it: scheme and host in lower case, no query, no fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


class FakeServer:
    """What both fakes share: a clock, fault knobs, nonces, the DPoP proof check and the request log."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.demand_nonce = False
        self.nonce = uuid.uuid4().hex
        self.calls: list[tuple[str, str, int]] = []
        self.rejections: list[str] = []
        self.proof_jtis: set[str] = set()
        self._statuses: deque[int] = deque()
        self._slow: deque[float] = deque()
        self._idle = threading.Event()
        self._idle.set()

    # -- knobs -------------------------------------------------------------------------------------------------

    def fail(self, *statuses: int) -> None:
        """Answer the next requests with these statuses (one each), before looking at them."""
        self._statuses.extend(statuses)

    def slow(self, seconds: float, times: int = 1) -> None:
        """Sleep ``seconds`` before answering each of the next ``times`` requests."""
        self._slow.extend([seconds] * times)

    def rotate_nonce(self) -> str:
        """Issue a new nonce: proofs with the old one are challenged again."""
        self.nonce = uuid.uuid4().hex
        return self.nonce

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until a slowed request has been answered (the server handles one request at a time)."""
        return self._idle.wait(timeout)

    # -- shared checks -----------------------------------------------------------------------------------------

    def check_proof(
        self, request: Request, *, url: str, access_token: str | None, refused: Callable[[str], Refused]
    ) -> dict[str, Any]:
        """The verified proof's ``jwk``; ``refused(reason)`` makes the error to raise, and nonces are demanded."""
        proofs = request.headers.getlist("DPoP")
        if len(proofs) != 1:
            raise refused(f"{len(proofs)} DPoP headers (exactly one wanted)")
        proof = proofs[0]
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError as error:
            raise refused(f"DPoP proof unreadable: {error}") from None
        if header.get("typ") != "dpop+jwt":
            raise refused(f"DPoP proof typ {header.get('typ')!r}")
        alg = header.get("alg")
        if alg not in PROOF_ALGORITHMS:
            raise refused(f"DPoP proof alg {alg!r}")
        jwk = header.get("jwk")
        if not isinstance(jwk, dict):
            raise refused("DPoP proof without jwk")
        if PRIVATE_JWK_MEMBERS & set(jwk):
            raise refused("DPoP proof jwk holds a private key")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg).key
            claims = jwt.decode(proof, key, algorithms=[alg], options={"verify_iat": False, "verify_exp": False})
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise refused(f"DPoP proof signature: {error}") from None
        if claims.get("htm") != request.method:
            raise refused(f"DPoP proof htm {claims.get('htm')!r} for {request.method}")
        if not isinstance(claims.get("htu"), str) or normal_url(claims["htu"]) != normal_url(url):
            raise refused(f"DPoP proof htu {claims.get('htu')!r} for {url}")
        iat = claims.get("iat")
        if not isinstance(iat, int) or abs(self.clock() - iat) > PROOF_MAX_AGE:
            raise refused(f"DPoP proof iat {iat!r} is not within {PROOF_MAX_AGE} s of now")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise refused("DPoP proof without jti")
        if jti in self.proof_jtis:
            raise refused("DPoP proof jti used before")
        self.proof_jtis.add(jti)
        if access_token is not None:
            expected = b64url(hashlib.sha256(access_token.encode("ascii")).digest())
            if claims.get("ath") != expected:
                raise refused(f"DPoP proof ath {claims.get('ath')!r} does not match the token")
        if self.demand_nonce and claims.get("nonce") != self.nonce:
            raise self.nonce_challenge(claims.get("nonce"))
        return jwk

    def nonce_challenge(self, given: Any) -> Refused:
        """The refusal that asks for the current nonce (each server words it its own way)."""
        raise NotImplementedError

    # -- request plumbing --------------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """The pytest-httpserver handler: faults, then the fake's own checks and work."""
        self._idle.clear()
        try:
            if self._slow:
                time.sleep(self._slow.popleft())
            if self._statuses:
                response = self.injected(self._statuses.popleft())
                self.rejections.append(f"injected HTTP {response.status_code}")
            else:
                try:
                    response = self.serve(request)
                except Refused as refusal:
                    self.rejections.append(refusal.reason)
                    response = self.refusal(refusal)
            self.calls.append((request.method, request.path, response.status_code))
            return response
        finally:
            self._idle.set()

    def serve(self, request: Request) -> Response:
        raise NotImplementedError

    def refusal(self, refused: Refused) -> Response:
        raise NotImplementedError

    def injected(self, status: int) -> Response:
        return Response(json.dumps({"error": "injected fault"}), status=status, content_type="application/json")


# -- HelseID ---------------------------------------------------------------------------------------------------------


@dataclass
class RegisteredClient:
    """A HelseID client: its public key (and kid), the scopes it may ask for and its ``herid`` claim."""

    client_id: str
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey
    kid: str = ""
    scopes: frozenset[str] = frozenset({SCOPE})
    herid: str = "0"


class FakeHelseId(FakeServer):
    """HelseID's token endpoint for client credentials with ``private_key_jwt`` and DPoP."""

    def __init__(self, issuer: str, token_url: str, clock: FakeClock) -> None:
        super().__init__(clock)
        self.issuer = issuer
        self.token_url = token_url
        self.audiences = {issuer, token_url}
        self.clients: dict[str, RegisteredClient] = {}
        self.token_ttl = 3600
        self.assertion_jtis: set[str] = set()
        self.issued: list[dict[str, Any]] = []
        self.revoked: set[str] = set()
        self._key = ec.generate_private_key(ec.SECP256R1())
        self.public_key = self._key.public_key()

    def register(self, client: RegisteredClient) -> None:
        """Make a client known (as HelseID Selvbetjening does)."""
        self.clients[client.client_id] = client

    def expire_tokens(self) -> None:
        """Every token issued so far is refused by the API from now on (as if it expired early)."""
        self.revoked.update(claims["jti"] for claims in self.issued)

    def nonce_challenge(self, given: Any) -> Refused:
        reason = "no nonce" if given is None else f"stale nonce {given!r}"
        return Refused(400, f"use_dpop_nonce ({reason})", error="use_dpop_nonce", headers={"DPoP-Nonce": self.nonce})

    def refusal(self, refused: Refused) -> Response:
        body = {"error": refused.error or "invalid_request", "error_description": refused.reason}
        return Response(
            json.dumps(body), status=refused.status, headers=refused.headers, content_type="application/json"
        )

    def serve(self, request: Request) -> Response:
        if request.method != "POST":
            raise Refused(405, f"{request.method} on the token endpoint")
        if request.mimetype != "application/x-www-form-urlencoded":
            raise Refused(400, f"token request as {request.mimetype!r}, not a form")
        form = request.form
        for name in ("grant_type", "client_id", "client_assertion_type", "client_assertion"):
            if len(form.getlist(name)) != 1:
                raise Refused(400, f"form field {name} missing or repeated")
        if form["grant_type"] != "client_credentials":
            raise Refused(400, f"grant_type {form['grant_type']!r}", error="unsupported_grant_type")
        client = self.clients.get(form["client_id"])
        if client is None:
            raise Refused(400, f"unknown client {form['client_id']!r}", error="invalid_client")
        if form["client_assertion_type"] != ASSERTION_TYPE:
            raise Refused(400, f"client_assertion_type {form['client_assertion_type']!r}", error="invalid_client")
        self.check_assertion(form["client_assertion"], client)
        jwk = self.check_proof(
            request,
            url=self.token_url,
            access_token=None,
            refused=lambda why: Refused(400, why, error="invalid_dpop_proof"),
        )
        requested = set(form.get("scope", "").split())
        if not requested or not requested <= client.scopes:
            raise Refused(400, f"scope {form.get('scope')!r} not granted to the client", error="invalid_scope")
        now = int(self.clock())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": client.client_id,
            "client_id": client.client_id,
            "scope": " ".join(sorted(requested)),
            "herid": client.herid,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_ttl,
            "jti": uuid.uuid4().hex,
            "cnf": {"jkt": thumbprint(jwk)},
        }
        self.issued.append(claims)
        token = jwt.encode(claims, self._key, algorithm="ES256", headers={"typ": "at+jwt"})
        body = {"access_token": token, "token_type": "DPoP", "expires_in": self.token_ttl, "scope": claims["scope"]}
        headers = {"Cache-Control": "no-store"}
        if self.demand_nonce:
            headers["DPoP-Nonce"] = self.nonce
        return Response(json.dumps(body), status=200, headers=headers, content_type="application/json")

    def check_assertion(self, assertion: str, client: RegisteredClient) -> None:
        """HelseID's rules for a client assertion (see the module docstring)."""

        def refused(reason: str) -> Refused:
            return Refused(400, f"client assertion: {reason}", error="invalid_client")

        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError as error:
            raise refused(f"unreadable: {error}") from None
        alg = header.get("alg")
        if alg not in PROOF_ALGORITHMS:
            raise refused(f"alg {alg!r}")
        if client.kid and header.get("kid") not in (None, client.kid):
            raise refused(f"kid {header.get('kid')!r} is not the registered key")
        if str(alg).startswith("ES") != isinstance(client.public_key, ec.EllipticCurvePublicKey):
            raise refused(f"signature: alg {alg} does not fit the registered key")
        try:
            claims = jwt.decode(
                assertion,
                client.public_key,
                algorithms=[alg],
                options={"verify_exp": False, "verify_nbf": False, "verify_iat": False, "verify_aud": False},
            )
        except jwt.PyJWTError as error:
            raise refused(f"signature: {error}") from None
        for name in ("iss", "sub"):
            if claims.get(name) != client.client_id:
                raise refused(f"{name} {claims.get(name)!r} is not the client id")
        aud = claims.get("aud")
        audiences = set(aud) if isinstance(aud, list) else {aud}
        if not audiences & self.audiences:
            raise refused(f"aud {aud!r} is not HelseID ({self.issuer})")
        now = self.clock()
        exp, iat, nbf = claims.get("exp"), claims.get("iat"), claims.get("nbf", claims.get("iat"))
        if not isinstance(exp, int) or exp <= now:
            raise refused(f"exp {exp!r} is not in the future")
        if exp > now + ASSERTION_MAX_LIFETIME + SKEW:
            raise refused(f"exp {exp} is more than {ASSERTION_MAX_LIFETIME} s ahead")
        if not isinstance(iat, int) or iat > now + SKEW:
            raise refused(f"iat {iat!r} missing or in the future")
        if not isinstance(nbf, int) or nbf > now + SKEW:
            raise refused(f"nbf {nbf!r} is in the future")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise refused("no jti")
        if jti in self.assertion_jtis:
            raise refused("jti used before")
        self.assertion_jtis.add(jti)

    def verify_token(self, token: str) -> dict[str, Any]:
        """The claims of an access token this fake issued; ValueError (with the reason) for any other."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.public_key,
                algorithms=["ES256"],
                audience=AUDIENCE,
                issuer=self.issuer,
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError as error:
            raise ValueError(f"access token: {error}") from None
        if claims["exp"] <= self.clock():
            raise ValueError("access token expired")
        if claims["jti"] in self.revoked:
            raise ValueError("access token revoked")
        if SCOPE not in str(claims.get("scope", "")).split():
            raise ValueError(f"access token without the scope {SCOPE}")
        return claims


# -- Meldingstjener --------------------------------------------------------------------------------------------------


@dataclass
class StoredMessage:
    """One message in the fake: sender, receivers, business document and what happened to it per receiver."""

    id: str
    sender_her: str
    receivers: list[str]
    document: bytes
    business_document_id: str
    gen_date: str
    is_apprec: bool = False
    via_api: bool = False
    read: set[str] = field(default_factory=set)
    apprecs: dict[str, tuple[str, list[dict[str, Any]]]] = field(default_factory=dict)
    answers: str = ""  # an AppRec message: the id of the message it answers


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"/Messages"), "post_message"),
    ("GET", re.compile(r"/Messages"), "get_messages"),
    ("GET", re.compile(r"/Messages/(?P<id>[^/]+)"), "get_message"),
    ("GET", re.compile(r"/Messages/(?P<id>[^/]+)/business-document"), "get_document"),
    ("GET", re.compile(r"/Messages/(?P<id>[^/]+)/status"), "get_status"),
    ("GET", re.compile(r"/Messages/(?P<id>[^/]+)/apprec"), "get_apprec"),
    ("POST", re.compile(r"/Messages/(?P<id>[^/]+)/apprec/(?P<her>[^/]+)"), "post_apprec"),
    ("PUT", re.compile(r"/Messages/(?P<id>[^/]+)/read/(?P<her>[^/]+)"), "mark_read"),
]
_GUID = re.compile(r"\A[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\Z")
_XML_DECLARATION = re.compile(rb"\A(?:\xef\xbb\xbf)?<\?xml[^>]*encoding\s*=\s*[\"']utf-8[\"']", re.IGNORECASE)


class FakeMeldingstjener(FakeServer):
    """The EDI 2.0 Meldingstjener REST API, version 2, under ``prefix`` of the server."""

    API_VERSIONS = frozenset({"2"})

    def __init__(self, base_url: str, prefix: str, helseid: FakeHelseId, org_her_ids: Iterable[str]) -> None:
        super().__init__(helseid.clock)
        self.base_url = base_url
        self.prefix = prefix
        self.helseid = helseid
        self.org_her_ids = set(org_her_ids)
        self.messages: dict[str, StoredMessage] = {}
        self._lose = 0

    def lose_answers(self, times: int = 1) -> None:
        """Do the work of the next ``times`` requests, then answer HTTP 500 as if the answer got lost."""
        self._lose += times

    # -- test helpers ------------------------------------------------------------------------------------------

    def deliver(self, sender_her: str, receiver_her: str, document: bytes) -> str:
        """Put a message from ``sender_her`` in ``receiver_her``'s inbox; its id."""
        head = _msghead(document)
        message = StoredMessage(
            id=str(uuid.uuid4()),
            sender_her=sender_her,
            receivers=[receiver_her],
            document=document,
            business_document_id=head.get("msg_id") or str(uuid.uuid4()),
            gen_date=head.get("gen_date") or _now_iso(self.clock()),
        )
        self.messages[message.id] = message
        return message.id

    def answer(self, message_id: str, receiver_her: str, status: str, errors: Sequence[tuple[str, str]] = ()) -> str:
        """Post ``receiver_her``'s AppRec for ``message_id`` ("ok", "ok-with-errors", "rejected" or an API name)."""
        names = {"ok": "Ok", "ok-with-errors": "OkErrorInMessagePart", "rejected": "Rejected"}
        api_status = APPREC_STATUS[names.get(status, status)]
        listed = [{"errorCode": code, "details": text, "description": None, "oid": None} for code, text in errors]
        return self._store_apprec(self.messages[message_id], receiver_her, api_status, listed)

    def sent(self) -> list[StoredMessage]:
        """The messages posted through the API, oldest first."""
        return [m for m in self.messages.values() if m.via_api]

    def inbox(self, her_id: str) -> list[StoredMessage]:
        """The unread messages for ``her_id``."""
        return [m for m in self.messages.values() if her_id in m.receivers and her_id not in m.read]

    # -- HTTP --------------------------------------------------------------------------------------------------

    def nonce_challenge(self, given: Any) -> Refused:
        reason = "no nonce" if given is None else f"stale nonce {given!r}"
        return Refused(
            401,
            f"use_dpop_nonce ({reason})",
            error="use_dpop_nonce",
            headers={
                "WWW-Authenticate": 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce"',
                "DPoP-Nonce": self.nonce,
            },
        )

    def injected(self, status: int) -> Response:
        headers = {"WWW-Authenticate": 'DPoP error="invalid_token"'} if status == 401 else {}
        return _error(status, "injected fault", headers=headers)

    def refusal(self, refused: Refused) -> Response:
        if refused.status == 401 and "WWW-Authenticate" not in refused.headers:
            error = refused.error or "invalid_token"
            refused.headers["WWW-Authenticate"] = f'DPoP algs="ES256 RS256", error="{error}"'
        return _error(refused.status, refused.reason, headers=refused.headers)

    def serve(self, request: Request) -> Response:
        path = request.path[len(self.prefix) :] if request.path.startswith(self.prefix) else request.path
        name, arguments = _route(request.method, path)
        self.check_headers(request)
        claims = self.authenticate(request)
        allowed = self.allowed_her(claims)
        response: Response = getattr(self, name)(request, allowed, **arguments)
        if self.demand_nonce:
            response.headers["DPoP-Nonce"] = self.nonce
        if self._lose and response.status_code < 300:
            self._lose -= 1
            self.rejections.append(f"answer lost after {request.method} {path} was done")
            return _error(500, "An unknown error occurred")
        return response

    def check_headers(self, request: Request) -> None:
        version = request.headers.get("api-version")
        if version not in self.API_VERSIONS:
            raise Refused(400, f"api-version {version!r}")
        if not request.headers.get("nhn-source-system", "").strip():
            raise Refused(400, "no nhn-source-system header")
        accept = request.headers.get("Accept", "*/*")
        if not any(t in accept for t in ("application/json", "*/*", "application/*")):
            raise Refused(406, f"Accept {accept!r} does not take JSON")

    def authenticate(self, request: Request) -> dict[str, Any]:
        authorization = request.headers.get("Authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "dpop" or not token.strip():
            # A DPoP-bound token sent as Bearer is refused like no token at all (RFC 9449 7.2).
            raise Refused(401, f"Authorization scheme {scheme!r}, not DPoP", error="invalid_token")
        token = token.strip()
        jwk = self.check_proof(
            request,
            url=self.base_url + request.path[len(self.prefix) :],
            access_token=token,
            refused=lambda why: Refused(401, why, error="invalid_dpop_proof"),
        )
        try:
            claims = self.helseid.verify_token(token)
        except ValueError as error:
            raise Refused(401, str(error), error="invalid_token") from None
        if claims.get("cnf", {}).get("jkt") != thumbprint(jwk):
            raise Refused(401, "access token is bound to another key (cnf.jkt)", error="invalid_token")
        return claims

    def allowed_her(self, claims: Mapping[str, Any]) -> set[str]:
        herid = str(claims.get("herid", ""))
        if herid == "0":
            return set(self.org_her_ids)
        return {h for h in herid.split("-") if h}

    # -- endpoints ---------------------------------------------------------------------------------------------

    def post_message(self, request: Request, allowed: set[str]) -> Response:
        body = _json_body(request)
        _check_object(body, {"businessDocument", "contentType", "contentTransferEncoding"}, PostMessageRequest)
        if body["contentType"] != "application/xml":
            raise Refused(400, f"contentType {body['contentType']!r}")
        if body["contentTransferEncoding"] != "base64":
            raise Refused(400, f"contentTransferEncoding {body['contentTransferEncoding']!r}")
        try:
            document = base64.b64decode(body["businessDocument"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise Refused(400, "businessDocument is not base64") from None
        if not _XML_DECLARATION.match(document):
            raise Refused(400, "the business document does not declare UTF-8 in its first line")
        head = _msghead(document)
        if not head.get("sender") or not head.get("receivers"):
            raise Refused(400, "the business document is not a MsgHead with sender and receiver HER-ids")
        subset = body.get("receiverHerIdsSubset")
        receivers = list(head["receivers"])
        if subset is not None:
            if not isinstance(subset, list) or not all(_is_int(h) for h in subset):
                raise Refused(400, "receiverHerIdsSubset is not a list of integers")
            wanted = [str(h) for h in subset]
            if not set(wanted) <= set(receivers):
                raise Refused(400, f"receiverHerIdsSubset {wanted} not among the document's receivers {receivers}")
            receivers = wanted
        if head["sender"] not in allowed:
            raise Refused(403, f"Not authorized for HerId(s): {head['sender']}")
        message = StoredMessage(
            id=str(uuid.uuid4()),
            sender_her=head["sender"],
            receivers=receivers,
            document=document,
            business_document_id=head.get("msg_id", ""),
            gen_date=head.get("gen_date", ""),
            is_apprec=head.get("root") == "AppRec",
            via_api=True,
        )
        self.messages[message.id] = message
        location = f"{self.base_url}/Messages/{message.id}"
        return Response(
            json.dumps(message.id), status=201, headers={"Location": location}, content_type="application/json"
        )

    def get_messages(self, request: Request, allowed: set[str]) -> Response:
        raw = request.args.getlist("ReceiverHerIds")
        if not raw or not all(h.isdigit() for h in raw):
            raise Refused(400, f"ReceiverHerIds {raw!r}")
        if set(raw) - allowed:
            raise Refused(403, f"Not authorized for HerId(s): {', '.join(sorted(set(raw) - allowed))}")
        metadata = request.args.get("IncludeMetadata", "false").lower()
        if metadata not in ("true", "false"):
            raise Refused(400, f"IncludeMetadata {metadata!r}")
        fetch = request.args.get("MessagesToFetch", "10")
        if not fetch.isdigit() or not 1 <= int(fetch) <= 100:
            raise Refused(400, f"MessagesToFetch {fetch!r}")
        listed = []
        for message in sorted(self.messages.values(), key=lambda m: m.gen_date):
            for her in message.receivers:
                if her in raw and her not in message.read:
                    entry: dict[str, Any] = {"id": message.id, "receiverHerId": int(her)}
                    if metadata == "true":
                        entry |= {
                            "contentType": "application/xml",
                            "senderHerId": int(message.sender_her),
                            "businessDocumentId": message.business_document_id,
                            "businessDocumentGenDate": message.gen_date,
                            "isAppRec": message.is_apprec,
                        }
                    listed.append(entry)
        return _ok(listed[: int(fetch)])

    def get_message(self, request: Request, allowed: set[str], id: str) -> Response:
        message = self._message(id, allowed)
        return _ok(
            {
                "id": message.id,
                "contentType": "application/xml",
                "receiverHerId": int(message.receivers[0]),
                "senderHerId": int(message.sender_her),
                "businessDocumentId": message.business_document_id,
                "businessDocumentGenDate": message.gen_date,
                "isAppRec": message.is_apprec,
            }
        )

    def get_document(self, request: Request, allowed: set[str], id: str) -> Response:
        message = self._message(id, allowed)
        return _ok(
            {
                "businessDocument": base64.b64encode(message.document).decode("ascii"),
                "contentType": "application/xml",
                "contentTransferEncoding": "base64",
            }
        )

    def get_status(self, request: Request, allowed: set[str], id: str) -> Response:
        message = self._message(id, allowed)
        listed = []
        for her in message.receivers:
            apprec = message.apprecs.get(her)
            state = "Acknowledged" if her in message.read or apprec else "Unconfirmed"
            listed.append(
                {
                    "receiverHerId": int(her),
                    "transportDeliveryState": state,
                    "appRecStatus": apprec[0] if apprec else None,
                }
            )
        return _ok(listed)

    def get_apprec(self, request: Request, allowed: set[str], id: str) -> Response:
        message = self._message(id, allowed)
        listed = []
        for her in message.receivers:
            apprec = message.apprecs.get(her)
            listed.append(
                {
                    "receiverHerId": int(her),
                    "appRecStatus": apprec[0] if apprec else None,
                    "appRecErrorList": apprec[1] if apprec else None,
                }
            )
        return _ok(listed)

    def post_apprec(self, request: Request, allowed: set[str], id: str, her: str) -> Response:
        message = self._message(id, allowed)
        if not her.isdigit():
            raise Refused(400, f"appRecSenderHerId {her!r}")
        if her not in allowed:
            raise Refused(403, f"Not authorized for HerId(s): {her}")
        if her not in message.receivers:
            raise Refused(400, f"{her} is not a receiver of the message")
        if her in message.apprecs:
            raise Refused(400, f"{her} has already sent an AppRec for the message")
        body = _json_body(request)
        _check_object(body, {"appRecStatus"}, PostAppRecRequest)
        status = APPREC_STATUS.get(str(body["appRecStatus"]))
        if status is None:
            raise Refused(400, f"appRecStatus {body['appRecStatus']!r}")
        errors = body.get("appRecErrorList") or []
        if not isinstance(errors, list):
            raise Refused(400, "appRecErrorList is not a list")
        for error in errors:
            _check_object(error, {"errorCode", "details"}, AppRecError)
            if not isinstance(error["errorCode"], str) or not error["errorCode"]:
                raise Refused(400, f"errorCode {error['errorCode']!r}")
        if status == "Rejected" and not errors:
            raise Refused(400, "AppRecErrorList must be populated if AppRecResult is 'Avvist'")
        apprec_id = self._store_apprec(message, her, status, errors)
        return Response(json.dumps(apprec_id), status=201, content_type="application/json")

    def mark_read(self, request: Request, allowed: set[str], id: str, her: str) -> Response:
        message = self._message(id, allowed)
        if her not in allowed:
            raise Refused(403, f"Not authorized for HerId(s): {her}")
        if her not in message.receivers:
            raise Refused(404, f"{her} is not a receiver of the message")
        message.read.add(her)
        return Response(status=204)

    # -- internals ---------------------------------------------------------------------------------------------

    def _message(self, message_id: str, allowed: set[str]) -> StoredMessage:
        if not _GUID.match(message_id):
            raise Refused(400, f"id {message_id!r} is not a valid Guid")
        message = self.messages.get(message_id)
        if message is None:
            raise Refused(404, "Could not find database document")
        if not ({message.sender_her, *message.receivers} & allowed):
            raise Refused(403, f"Not authorized for HerId(s): {', '.join(message.receivers)}")
        return message

    def _store_apprec(self, message: StoredMessage, her: str, status: str, errors: list[dict[str, Any]]) -> str:
        message.apprecs[her] = (status, errors)
        apprec = StoredMessage(
            id=str(uuid.uuid4()),
            sender_her=her,
            receivers=[message.sender_her],
            document=_apprec_document(message, her, status, errors, self.clock()),
            business_document_id=str(uuid.uuid4()),
            gen_date=_now_iso(self.clock()),
            is_apprec=True,
            answers=message.id,
        )
        self.messages[apprec.id] = apprec
        return apprec.id


# The schemas' property sets (additionalProperties: false in the OpenAPI definition).
PostMessageRequest = frozenset(
    {"businessDocument", "contentType", "contentTransferEncoding", "ebXmlOverrides", "receiverHerIdsSubset"}
)
PostAppRecRequest = frozenset({"appRecStatus", "appRecErrorList", "ebXmlOverrides"})
AppRecError = frozenset({"errorCode", "details", "description", "oid"})


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    """The endpoint method's name and the path parameters; Refused 404 when no route matches."""
    for route_method, pattern, name in _ROUTES:
        found = pattern.fullmatch(path)
        if found and route_method == method:
            return name, found.groupdict()
    raise Refused(404, f"no route {method} {path}")


def _json_body(request: Request) -> Any:
    if request.mimetype not in JSON_TYPES and not re.fullmatch(r"application/[^/]*\+json", request.mimetype):
        raise Refused(415, f"request body as {request.mimetype!r}, not JSON")
    try:
        return json.loads(request.get_data())
    except ValueError:
        raise Refused(400, "request body is not JSON") from None


def _check_object(value: Any, required: set[str], allowed: frozenset[str]) -> None:
    if not isinstance(value, dict):
        raise Refused(400, "not a JSON object")
    unknown = set(value) - allowed
    if unknown:
        raise Refused(400, f"unknown properties {sorted(unknown)}")
    missing = required - set(value)
    if missing:
        raise Refused(400, f"missing properties {sorted(missing)}")
    for name in required:
        if name in ("businessDocument", "contentType", "contentTransferEncoding") and (
            not isinstance(value[name], str) or not value[name]
        ):
            raise Refused(400, f"{name} must be a non-empty string")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 2**31 - 1


def _ok(value: Any) -> Response:
    return Response(json.dumps(value), status=200, content_type="application/json")


def _error(status: int, error: str, *, headers: Mapping[str, str] | None = None) -> Response:
    body = {
        "error": "Model validation error occurred" if status == 400 else error,
        "errorCode": 1000 if status == 400 else 0,
        "validationErrors": [error] if status == 400 else None,
        "stackTrace": None,
        "requestId": str(uuid.uuid4()),
    }
    return Response(json.dumps(body), status=status, headers=dict(headers or {}), content_type="application/json")


def _now_iso(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))


def _msghead(document: bytes) -> dict[str, Any]:
    """Root name, sender HER-id, receiver HER-ids, MsgId and GenDate of a MsgHead or AppRec ({} if unreadable).

    Of the HER-ids under Sender (Receiver) the last one counts: the innermost organisation is the addressed party.
    """
    try:
        root = parse_xml(document).getroot()
    except AdapterError:
        return {}

    def texts(expression: str) -> list[str]:
        found = root.xpath(expression)
        return [str(v).strip() for v in found] if isinstance(found, list) else []

    her = (
        "//*[local-name()='{0}']//*[local-name()='Ident'][*[local-name()='TypeId']/@V='HER']"
        "/*[local-name()='Id']/text()"
    )
    senders = texts(her.format("Sender"))
    receivers = texts(her.format("Receiver"))
    msg_id = texts("//*[local-name()='MsgInfo']/*[local-name()='MsgId']/text()")
    gen_date = texts("//*[local-name()='MsgInfo']/*[local-name()='GenDate']/text()")
    return {
        "root": str(root.xpath("local-name()")),
        "sender": senders[-1] if senders else "",
        "receivers": receivers[-1:] if receivers else [],
        "msg_id": msg_id[0] if msg_id else "",
        "gen_date": gen_date[0] if gen_date else "",
    }


def _apprec_document(message: StoredMessage, her: str, status: str, errors: list[dict[str, Any]], now: float) -> bytes:
    """A minimal AppRec-shaped document (not schema-valid) standing for the one the Meldingstjener builds."""
    value, name = APPREC_CODE[status]
    parts = [
        "<?xml version='1.0' encoding='UTF-8'?>",
        f'<AppRec xmlns="{APPREC_NS}"><MsgType V="APPREC"/><MIGversion>v1.1 2012-02-15</MIGversion>',
        f"<GenDate>{_now_iso(now)}</GenDate><Id>{uuid.uuid4()}</Id>",
        f'<Sender><Role V="PRIM"/><HCP><Inst><Id>{her}</Id><TypeId V="HER"/></Inst></HCP></Sender>',
        f'<Receiver><Role V="AVS"/><HCP><Inst><Id>{message.sender_her}</Id><TypeId V="HER"/></Inst></HCP></Receiver>',
        f'<Status V="{value}" DN="{name}"/>',
    ]
    for error in errors:
        code = json.dumps(str(error.get("errorCode", "")))[1:-1]
        details = json.dumps(str(error.get("details") or ""))[1:-1]
        parts.append(f'<Error V="{_attr(code)}" S="2.16.578.1.12.4.1.1.8221" OT="{_attr(details)}"/>')
    parts.append(f'<OriginalMsgId><MsgType V="DIALOG_HELSEFAGLIG"/><IssueDate>{message.gen_date}</IssueDate>')
    parts.append(f"<Id>{_attr(message.business_document_id)}</Id></OriginalMsgId></AppRec>")
    return "".join(parts).encode("utf-8")


def _attr(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")


# -- the whole thing -------------------------------------------------------------------------------------------------


@cache
def _client_key() -> rsa.RSAPrivateKey:
    """One RSA 2048 client key per test session (making one takes long enough to notice)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class FakeNhn:
    """HelseID and the Meldingstjener on one pytest-httpserver, a registered client and its key files."""

    CLIENT_ID = "samhandling-adapter-test"
    KID = "samhandling-test-key-1"
    SOURCE_SYSTEM = "samhandling-adapter-test, v0.1.0"

    def __init__(
        self,
        httpserver: HTTPServer,
        tmp_path: Path,
        *,
        our_her: Sequence[str] = ("8100002", "8100022"),
        herid: str = "0",
    ) -> None:
        self.httpserver = httpserver
        self.clock = FakeClock()
        self.our_her = list(our_her)
        self.issuer = httpserver.url_for("/").rstrip("/")
        self.token_url = httpserver.url_for("/connect/token")
        self.base_url = httpserver.url_for("/api")
        key = _client_key()
        self.key_pem = tmp_path / "helseid-client-key.pem"
        self.key_pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        jwk = dict(jwt.algorithms.RSAAlgorithm.to_jwk(key, as_dict=True))
        self.key_jwk = tmp_path / "helseid-client-key.jwk"
        self.key_jwk.write_text(json.dumps({**jwk, "kid": self.KID, "alg": "RS256"}))
        self.helseid = FakeHelseId(self.issuer, self.token_url, self.clock)
        self.helseid.register(RegisteredClient(self.CLIENT_ID, key.public_key(), self.KID, herid=herid))
        self.msh = FakeMeldingstjener(self.base_url, "/api", self.helseid, our_her)
        self.helseid_config = HelseIdConfig(
            token_url=self.token_url, client_id=self.CLIENT_ID, key_file=str(self.key_pem), scope=SCOPE, key_id=self.KID
        )
        httpserver.expect_request(re.compile(r"\A/connect/token\Z")).respond_with_handler(self.helseid.handle)
        httpserver.expect_request(re.compile(r"\A/api(/.*)?\Z")).respond_with_handler(self.msh.handle)

    @classmethod
    def start(cls, httpserver: HTTPServer, tmp_path: Path, **options: Any) -> FakeNhn:
        """The fakes on ``httpserver`` (what the fixture does; ``options`` go to the constructor)."""
        return cls(httpserver, tmp_path, **options)

    def helseid_client(self, config: HelseIdConfig | None = None, **options: Any) -> HelseIdClient:
        """A HelseIdClient for the registered client, on the fake clock, with short timeouts."""
        options.setdefault("clock", self.clock)
        options.setdefault("timeout", (1.0, 2.0))
        return HelseIdClient(config or self.helseid_config, **options)

    def client(self, helseid: HelseIdClient | None = None, **options: Any) -> Meldingstjener:
        """A Meldingstjener client for the fake (a new HelseIdClient unless one is given)."""
        options.setdefault("source_system", self.SOURCE_SYSTEM)
        options.setdefault("timeout", (1.0, 2.0))
        return Meldingstjener(self.base_url, helseid or self.helseid_client(), **options)

    def deliver(self, sender_her: str, receiver_her: str, document: bytes) -> str:
        """An incoming message for ``receiver_her``; its id."""
        return self.msh.deliver(sender_her, receiver_her, document)

    def answer(self, message_id: str, receiver_her: str, status: str, errors: Sequence[tuple[str, str]] = ()) -> str:
        """The receiver's AppRec for a message we sent; the id of the AppRec message."""
        return self.msh.answer(message_id, receiver_her, status, errors)

    def raw(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one hand-made request to the fakes: status, headers and body of the answer."""
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.netloc, timeout=5)
        try:
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            connection.request(method, target, body=body, headers=dict(headers or {}))
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()


def msghead(sender_her: str, receiver_her: str, msg_id: str | None = None, text: str = "Hei") -> bytes:
    """A small MsgHead (Dialogmelding-shaped, not schema-valid) from ``sender_her`` to ``receiver_her``."""
    msg_id = msg_id or str(uuid.uuid4())
    ident = '<Ident><Id>{}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>'
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"><MsgInfo>'
        '<Type V="DIALOG_HELSEFAGLIG"/><MIGversion>v1.2 2006-05-24</MIGversion>'
        f"<GenDate>2026-03-02T10:15:00</GenDate><MsgId>{msg_id}</MsgId>"
        f"<Sender><Organisation><OrganisationName>Avsender</OrganisationName>{ident.format(sender_her)}"
        "</Organisation></Sender>"
        f"<Receiver><Organisation><OrganisationName>Mottaker</OrganisationName>{ident.format(receiver_her)}"
        "</Organisation></Receiver>"
        f'</MsgInfo><Document><RefDoc><MsgType V="XML"/><Content><Notat>{text}</Notat></Content></RefDoc>'
        "</Document></MsgHead>"
    ).encode()


@pytest.fixture
def fake_nhn(httpserver: HTTPServer, tmp_path: Path) -> FakeNhn:
    """Scope: function. Type: FakeNhn. Default: HelseID and the Meldingstjener on ``httpserver``, one registered
    client (RSA 2048 key in ``tmp_path``, ``herid`` 0) for the organisation's HER-ids 8100002 and 8100022."""
    return FakeNhn.start(httpserver, tmp_path)
