"""Who is calling: OAuth2 bearer JWTs in the HelseID style, checked with PyJWT against configured public keys.

:meth:`TokenVerifier.verify` takes the ``Authorization`` header (and for a DPoP-bound token the request's method,
public URL and ``DPoP`` headers, checked by :mod:`adapter.security_dpop`) and returns the :class:`Caller`
(organisation, scopes, subject, client) or raises :class:`~adapter.errors.AuthError` with a stable code:

ADP-7001 no bearer token, not a JWT, or a malformed claim; ADP-7002 bad signature, unknown key id (``kid``) or
refused algorithm; ADP-7003 expired, not yet valid, or no ``exp``; ADP-7004 wrong issuer or audience; ADP-7005 no
organisation claim (all HTTP 401); ADP-7006 a valid token without the scope an action needs (:meth:`Caller.require`,
HTTP 403); ADP-7027 the issuer's keys could not be had (HTTP 503, :class:`KeysUnavailable`); ADP-7028..7037 DPoP
(:mod:`adapter.security_dpop`); ADP-7038 an organisation number without a HER-id. ``AuthError.status`` and
``AuthError.www_authenticate`` give the HTTP status and header.

The keys: those configured (``keys``: PEM, certificates, JWKs) and, with ``key_set``, the issuer's JWKS as a key
source gives it (:class:`~adapter.transport.jwks.IssuerKeys`, wired in by the service: this module never touches the
network). A token whose key id the source lacks asks it once more (the issuer rotated its keys; the source decides
how often it really fetches).

The caller's organisation is its HER-id, read from the claim ``org_claim`` (default ``org_her``). HelseID itself puts
organisation *numbers* in ``helseid://claims/client/claims/orgnr_parent`` (``orgnr_claim``; ``orgnr_child`` for the
unit): the number is kept in :attr:`Caller.orgnr`, and a token with a number but no HER-id gets the HER-id that
``her_ids_by_orgnr`` gives it, or is refused (ADP-7038): access is decided by HER-id, never guessed. The scopes are
in ``scope_claim`` (default ``scope``, then ``scp``), a space-separated string (RFC 9068) or a list (as HelseID
sends it). The subject is ``sub``, or the client id for client-credential tokens without one; the client id is
``client_id`` or ``azp``. ``leeway`` seconds of clock skew are allowed.

Scopes:

* ``samhandling/messages``: send messages (``$process-message``, ``/kith/messages``) and read their receipts
* ``samhandling/plans.read``: read and search the shared plans and related resources
* ``samhandling/plans.write``: create and update them
* ``samhandling/validate``: ``$validate`` and ``$convert`` (no patient data is stored)
* ``samhandling/audit``: search AuditEvents (auditors)
* ``samhandling/admin``: operate the service (outbox, dead letters, retries)
* ``samhandling/emergency``: the emergency read of a patient's current crisis plan (legevakt, ambulance), with a
  stated reason
* ``samhandling/person``: a person's own page (``/meg``): their own plans, and their own words added to them

**A person's token.** In production it comes from ID-porten through the gateway: the same checks, the scope
``samhandling/person`` and the person's fødselsnummer or D-nummer in the claim ``pid`` (check digits verified,
ADP-7024) instead of an organisation. Its :class:`Caller` has ``person`` set and an empty ``org``, which no
organisation rule ever grants anything (:mod:`adapter.sharing` refuses an empty organisation). It is accepted only
by the person's own endpoints: :meth:`Caller.require` refuses it for every other scope, and an organisation's token
for the person's scope (ADP-7025). A token with both an organisation and ``pid`` is refused (ADP-7023).

:class:`DemoIssuer` is the local token issuer for ``samhandling serve --demo`` and for tests: an RSA key kept in the
data folder (file mode 0600), its JWKS, and :meth:`DemoIssuer.issue` to mint tokens.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from adapter.errors import AuthError, SetupError
from adapter.identifiers import DNR_SYSTEM, FNR_SYSTEM, check_identifier
from adapter.security_dpop import DpopError, ProofChecker
from adapter.security_keys import KeySource, PublicKey, load_key, public_jwk

__all__ = [
    "SCOPES",
    "AuthError",
    "Caller",
    "DemoIssuer",
    "KeySet",
    "KeysUnavailable",
    "TokenVerifier",
    "person_system",
    "public_jwk",
]

log = logging.getLogger(__name__)

#: The scopes this service knows (see the list above).
MESSAGES_SCOPE = "samhandling/messages"
READ_SCOPE = "samhandling/plans.read"
WRITE_SCOPE = "samhandling/plans.write"
VALIDATE_SCOPE = "samhandling/validate"
AUDIT_SCOPE = "samhandling/audit"
ADMIN_SCOPE = "samhandling/admin"
EMERGENCY_SCOPE = "samhandling/emergency"
PERSON_SCOPE = "samhandling/person"
SCOPES = frozenset(
    {MESSAGES_SCOPE, READ_SCOPE, WRITE_SCOPE, VALIDATE_SCOPE, AUDIT_SCOPE, ADMIN_SCOPE, EMERGENCY_SCOPE, PERSON_SCOPE}
)
DEFAULT_ORG_CLAIM = "org_her"
#: HelseID's claim of the client's (legal) organisation number.
DEFAULT_ORGNR_CLAIM = "helseid://claims/client/claims/orgnr_parent"
#: The claim of a person's token that names the person (ID-porten's ``pid``: fødselsnummer or D-nummer).
PERSON_CLAIM = "pid"
MAX_TOKEN_BYTES = 16384  # a longer Authorization header is refused before any parsing

#: The issuer's current public keys as JWKs (the same sequence object until they change); called with the key id
#: of a token the keys lack, it may fetch them again. Raises KeysUnavailable when it has none.
KeySet = Callable[[str | None], Sequence[Mapping[str, Any]]]


class KeysUnavailable(AuthError):
    """The issuer's keys could not be had (its JWKS did not answer): ADP-7027, HTTP 503, no challenge (the token
    may be good; it cannot be checked now)."""

    def __init__(self, detail: str) -> None:
        super().__init__("ADP-7027", detail=detail)

    @property
    def www_authenticate(self) -> str:
        """Empty: this is no fault of the token."""
        return ""


@dataclass(frozen=True)
class Caller:
    """The verified caller: organisation HER-id, granted scopes, subject and OAuth2 client id; for a person's token
    ``person`` (fødselsnummer or D-nummer) and an empty ``org``."""

    org: str
    scopes: frozenset[str]
    subject: str
    client_id: str | None
    person: str | None = None
    #: The organisation number the token names (HelseID's ``orgnr_parent``), when it names one.
    orgnr: str | None = None

    def has(self, scope: str) -> bool:
        """True when the token grants ``scope`` (a person's token nothing but the person's scope)."""
        return scope in self.scopes and (self.person is None) == (scope != PERSON_SCOPE)

    def require(self, scope: str) -> None:
        """Raise AuthError ADP-7006 (HTTP 403) unless the token grants ``scope``; ADP-7025 (403) for a person's token
        asked for anything but the person's scope, or an organisation's token asked for that one."""
        if self.person is not None and scope != PERSON_SCOPE:
            raise AuthError(
                "ADP-7025",
                detail_en="a person's token is accepted only by the person's own page (/meg)",
                detail_nb="en persons token gjelder bare personens egen side (/meg)",
            )
        if self.person is None and scope == PERSON_SCOPE:
            raise AuthError(
                "ADP-7025",
                detail_en="the person's own page takes only a person's token",
                detail_nb="personens egen side tar bare imot personens eget token",
            )
        if scope not in self.scopes:
            raise AuthError("ADP-7006", scope=scope)


class TokenVerifier:
    """Checks bearer and DPoP JWTs: signature against the configured keys and the key source's, issuer, audience,
    time, organisation claim; for a DPoP-bound token its proof."""

    def __init__(
        self,
        keys: Iterable[KeySource],
        issuer: str,
        audience: str,
        algorithms: Sequence[str] = ("RS256", "ES256"),
        leeway: int = 30,
        org_claim: str = DEFAULT_ORG_CLAIM,
        *,
        key_set: KeySet | None = None,
        orgnr_claim: str = DEFAULT_ORGNR_CLAIM,
        scope_claim: str = "scope",
        her_ids_by_orgnr: Mapping[str, str] | None = None,
        dpop_window: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.keys = dict(load_key(source, i) for i, source in enumerate(keys))
        self.key_set = key_set
        self.issuer = issuer
        self.audience = audience
        self.algorithms = tuple(algorithms)
        self.leeway = leeway
        self.org_claim = org_claim
        self.orgnr_claim = orgnr_claim
        self.scope_claim = scope_claim
        self.her_ids_by_orgnr = dict(her_ids_by_orgnr or {})
        self.proofs = ProofChecker(dpop_window, leeway, clock=clock)
        self._remote: tuple[object, dict[str, PublicKey]] = ((), {})

    def verify(
        self, authorization_header: str | None, *, method: str = "GET", url: str = "", dpop_proofs: Sequence[str] = ()
    ) -> Caller:
        """The caller named by a valid ``Authorization: Bearer <JWT>`` header, or ``DPoP <JWT>`` with one valid proof
        in ``dpop_proofs`` (the ``DPoP`` headers) for ``method`` on ``url`` (the public URL); AuthError otherwise."""
        scheme, token = _credentials(authorization_header)
        try:
            claims = self._claims(token)
            caller = self._caller(claims)
        except KeysUnavailable:
            raise
        except AuthError as error:
            if scheme == "dpop" and not isinstance(error, DpopError):
                raise DpopError.challenging(error) from None
            raise
        jkt = _bound_key(claims)
        if scheme == "bearer" and jkt is not None:
            raise DpopError("ADP-7028", error="invalid_token")
        if scheme == "dpop":
            if jkt is None:
                raise DpopError("ADP-7029", error="invalid_token")
            self.proofs.check(dpop_proofs, method=method, url=url, access_token=token, jkt=jkt)
        return caller

    def _claims(self, token: str) -> dict[str, Any]:
        """The claims of ``token``, its signature, issuer, audience and time checked; AuthError otherwise."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise AuthError("ADP-7001", detail=f"the token is not a JWT ({error})") from error
        alg, kid = header.get("alg"), header.get("kid")
        if alg not in self.algorithms:
            raise AuthError("ADP-7002", detail=f"the algorithm {alg!r} is not accepted ({', '.join(self.algorithms)})")
        if kid is not None and not isinstance(kid, str):
            raise AuthError("ADP-7001", detail="the key id (kid) is not a string")
        family = rsa.RSAPublicKey if str(alg).startswith(("RS", "PS")) else ec.EllipticCurvePublicKey
        trusted = self._trusted(kid)
        if kid is not None:
            if kid not in trusted:
                raise AuthError("ADP-7002", detail=f"the key id (kid) {kid[:100]!r} is not a trusted key")
            candidates = [trusted[kid]]
        else:
            candidates = list(trusted.values())
        for key in (key for key in candidates if isinstance(key, family)):
            try:
                return jwt.decode(
                    token,
                    key,
                    algorithms=[alg],
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options={"require": ["exp", "iss", "aud"]},
                )
            except (jwt.InvalidSignatureError, jwt.InvalidKeyError):
                continue  # without a kid, try the next key of the right kind
            except jwt.PyJWTError as error:
                raise _claim_error(error) from error
        what = f"the key {kid!r}" if kid is not None else "any trusted key"
        raise AuthError("ADP-7002", detail=f"the {alg} signature does not match {what}")

    def _trusted(self, kid: str | None) -> dict[str, PublicKey]:
        """The configured keys, and the source's (asked again when it lacks ``kid``, never for a configured kid)."""
        if self.key_set is None or (kid is not None and kid in self.keys):
            return self.keys
        try:
            remote = self._remote_keys(self.key_set(None))
        except KeysUnavailable:
            if kid is not None or not self.keys:
                raise
            return self.keys
        if kid is not None and kid not in remote:  # (one of self.keys returned above)
            remote = self._remote_keys(self.key_set(kid))
        return {**remote, **self.keys}

    def _remote_keys(self, jwks: Sequence[Mapping[str, Any]]) -> dict[str, PublicKey]:
        """The public keys of the key source's JWKs, loaded once per set it gives (a key we cannot use is logged
        and left out: one odd key of the issuer must not stop the others)."""
        source, loaded = self._remote
        if jwks is source:
            return loaded
        loaded = {}
        for index, jwk in enumerate(jwks):
            try:
                kid, key = load_key(jwk, index)
            except SetupError as error:
                log.warning("a key of the issuer's JWKS is left out: %s", error.issues[0].text_en)
                continue
            loaded[kid] = key
        self._remote = (jwks, loaded)
        return loaded

    def _caller(self, claims: dict[str, Any]) -> Caller:
        if PERSON_CLAIM in claims and claims.get(self.orgnr_claim) not in (None, ""):
            raise AuthError("ADP-7023", claim=self.orgnr_claim)
        person = _person(claims, claims.get(self.org_claim), self.org_claim)
        her = orgnr = None
        if person is None:
            her = _number(claims, self.org_claim, "HER-id")
            orgnr = _number(claims, self.orgnr_claim, "organisation number")
            if her is None and orgnr is not None:
                her = self.her_ids_by_orgnr.get(orgnr)
                if her is None:
                    raise AuthError("ADP-7038", orgnr=orgnr, claim=self.orgnr_claim, her_claim=self.org_claim)
            if her is None:
                raise AuthError("ADP-7005", claim=self.org_claim)
        scopes = self._scopes(claims)
        client_id = claims.get("client_id", claims.get("azp"))
        client = str(client_id) if isinstance(client_id, str) and client_id else None
        subject = claims.get("sub") or client
        if not isinstance(subject, str):
            raise AuthError("ADP-7001", detail="the token has neither a subject (sub) nor a client id")
        if person is not None:
            return Caller("", scopes, subject, client, person=person)
        return Caller(str(her), scopes, subject, client, orgnr=orgnr)

    def _scopes(self, claims: dict[str, Any]) -> frozenset[str]:
        fallback = claims.get("scp", "") if self.scope_claim == "scope" else ""
        raw = claims.get(self.scope_claim, fallback)
        if isinstance(raw, str):
            return frozenset(raw.split())
        if isinstance(raw, list) and all(isinstance(s, str) for s in raw):
            return frozenset(raw)
        raise AuthError(
            "ADP-7001", detail=f"the scope claim {self.scope_claim} is neither a string nor a list of strings"
        )


def _credentials(header: str | None) -> tuple[str, str]:
    """The scheme (``bearer`` or ``dpop``) and the token of an ``Authorization`` header; ADP-7001 otherwise."""
    if not header or not header.strip():
        raise AuthError("ADP-7001", detail="there is no Authorization header", missing=True)
    if len(header) > MAX_TOKEN_BYTES:
        raise AuthError("ADP-7001", detail=f"the header is longer than {MAX_TOKEN_BYTES} bytes")
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() not in ("bearer", "dpop") or not token or " " in token:
        raise AuthError("ADP-7001", detail="the header is not of the form 'Bearer <token>' or 'DPoP <token>'")
    return scheme.lower(), token


def _number(claims: dict[str, Any], claim: str, what: str) -> str | None:
    """The digits of an organisation claim (a string or a number), None when it is absent, empty or neither; ADP-7001
    for a string of anything but digits (never a person's reference or a name)."""
    value = claims.get(claim)
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        return None  # absent, empty, or no string at all: the token names no organisation there
    if not (value.strip().isascii() and value.strip().isdigit()):
        raise AuthError("ADP-7001", detail=f"the organisation claim {claim} is not a number ({what})")
    return value.strip()


def _bound_key(claims: dict[str, Any]) -> str | None:
    """The thumbprint a DPoP-bound token names (``cnf.jkt``), None for an unbound token; ADP-7001 for a ``cnf``
    that is not an object or a ``jkt`` that is not a string."""
    cnf = claims.get("cnf")
    if cnf is None:
        return None
    if not isinstance(cnf, dict) or ("jkt" in cnf and not isinstance(cnf["jkt"], str)):
        raise AuthError("ADP-7001", detail="its confirmation claim (cnf) is malformed")
    others = sorted(str(k)[:40] for k in cnf if k != "jkt")
    if others:  # bound to something this service cannot check (a client certificate: x5t#S256): never taken as bare
        raise AuthError("ADP-7039", binding=", ".join(others))
    jkt = cnf.get("jkt")
    return jkt if isinstance(jkt, str) else None


def _person(claims: dict[str, Any], org: Any, org_claim: str) -> str | None:
    """The person a person's token names (``pid``: a fødselsnummer or D-nummer with valid check digits), or None
    for an organisation's token; ADP-7023 when it names an organisation too, ADP-7024 for a bad number."""
    if PERSON_CLAIM not in claims:
        return None
    if org not in (None, ""):
        raise AuthError("ADP-7023", claim=org_claim)
    pid = claims[PERSON_CLAIM]
    if not isinstance(pid, str):
        raise AuthError("ADP-7024", detail_en="it is not a string", detail_nb="det er ikke en tekst")
    system = person_system(pid)
    problem = check_identifier(system, pid) if pid.isascii() and pid.isdigit() else None
    if not (pid.isascii() and pid.isdigit() and len(pid) == 11):
        raise AuthError("ADP-7024", detail_en="it is not eleven digits", detail_nb="det er ikke elleve sifre")
    if problem is not None:
        raise AuthError("ADP-7024", detail_en=problem.detail_en, detail_nb=problem.detail_nb)
    return pid


def person_system(pid: str) -> str:
    """The identifier system of a person's number: D-nummer when its first digit is 4 to 7, else fødselsnummer."""
    return DNR_SYSTEM if pid[:1] in ("4", "5", "6", "7") else FNR_SYSTEM


def _claim_error(error: jwt.PyJWTError) -> AuthError:
    """The AuthError for a PyJWT error raised after the signature was found good (or the token was unreadable)."""
    if isinstance(error, jwt.ExpiredSignatureError):
        return AuthError("ADP-7003", detail="it has expired")
    if isinstance(error, jwt.ImmatureSignatureError):
        return AuthError("ADP-7003", detail=f"it is not valid yet ({error})")
    if isinstance(error, jwt.InvalidIssuerError | jwt.InvalidAudienceError):
        return AuthError("ADP-7004", detail=str(error))
    if isinstance(error, jwt.MissingRequiredClaimError):
        if error.claim == "exp":
            return AuthError("ADP-7003", detail="it has no expiry time (exp)")
        return AuthError("ADP-7004", detail=f"it has no {error.claim} claim")
    if isinstance(error, jwt.InvalidAlgorithmError):
        return AuthError("ADP-7002", detail=str(error))
    return AuthError("ADP-7001", detail=f"the token is malformed ({error})")


class DemoIssuer:
    """A local token issuer for the demo and tests; its RSA key is created once and kept in ``data_dir``."""

    KEY_FILE = "demo-issuer-key.pem"

    def __init__(self, data_dir: Path, issuer: str, audience: str) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key_path = data_dir / self.KEY_FILE
        self._private = _load_or_create_key(data_dir, self.key_path)
        self._jwk = public_jwk(self._private.public_key())
        self.kid: str = self._jwk["kid"]

    def public_keys(self) -> list[dict[str, Any]]:
        """The public keys as JWK dicts, ready for :class:`TokenVerifier`."""
        return [dict(self._jwk)]

    def jwks(self) -> dict[str, Any]:
        """The JSON Web Key Set (``{"keys": [...]}``) that a JWKS endpoint would publish."""
        return {"keys": self.public_keys()}

    def verifier(self, **options: Any) -> TokenVerifier:
        """A TokenVerifier that trusts this issuer (``options`` go to TokenVerifier)."""
        return TokenVerifier(self.public_keys(), self.issuer, self.audience, **options)

    def issue(
        self,
        org: str,
        scopes: Iterable[str],
        ttl_seconds: int = 3600,
        subject: str | None = None,
        now: float | None = None,
    ) -> str:
        """A signed access token for organisation ``org`` (HER-id) with ``scopes``; ValueError for unknown scopes."""
        granted = sorted(set(scopes))
        unknown = [s for s in granted if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(sorted(SCOPES))}")
        if not org.isdigit():
            raise ValueError(f"{org!r} is not a HER-id (digits only)")
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject or f"demo-user@{org}",
            "client_id": "samhandling-demo",
            DEFAULT_ORG_CLAIM: org,
            "scope": " ".join(granted),
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid, "typ": "at+jwt"})

    def issue_person(self, pid: str, ttl_seconds: int = 3600, now: float | None = None) -> str:
        """A signed person's token (as ID-porten's through the gateway) for the fødselsnummer or D-nummer ``pid``,
        with the scope ``samhandling/person``; ValueError for a number with bad check digits."""
        problem = check_identifier(person_system(pid), pid)
        if len(pid) != 11 or problem is not None:
            raise ValueError(
                f"{pid!r} is not a fødselsnummer or D-nummer ({problem.detail_en if problem else 'length'})"
            )
        issued = int(time.time() if now is None else now)
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": f"demo-person-{uuid.uuid5(uuid.NAMESPACE_URL, pid)}",  # a pairwise subject, not the number
            "client_id": "samhandling-demo",
            PERSON_CLAIM: pid,
            "scope": PERSON_SCOPE,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self._private, algorithm="RS256", headers={"kid": self.kid, "typ": "at+jwt"})


def _load_or_create_key(data_dir: Path, path: Path) -> rsa.RSAPrivateKey:
    """Read the issuer key, or create it (temp file linked into place: racing processes share one whole key)."""
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temp = data_dir / f".{path.name}.{os.getpid()}.{uuid.uuid4().hex}"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(pem)
            with contextlib.suppress(FileExistsError):  # another process won the race: use its key
                os.link(temp, path)
        finally:
            temp.unlink()
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise SetupError.of("ADP-7007", index=0, detail=f"{path} does not hold an RSA private key")
    return loaded
