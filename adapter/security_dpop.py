"""DPoP-bound access tokens (RFC 9449): the proof of possession that comes with each request.

A token whose ``cnf.jkt`` names a key is *bound* to that key: it is accepted only as ``Authorization: DPoP
<token>``, with exactly one ``DPoP`` header holding a fresh proof signed by that key. A bound token sent as
``Bearer`` is refused (ADP-7028), and so is an unbound token sent as ``DPoP`` (ADP-7029). :meth:`ProofChecker.check`
checks the proof (RFC 9449 section 4.3); each failure has its code, all HTTP 401 with ``WWW-Authenticate: DPoP
error="invalid_dpop_proof"`` (:class:`DpopError`):

* ADP-7030 no proof, more than one, or not a proof: not a JWT, ``typ`` not ``dpop+jwt``, a claim missing or of the
  wrong kind (``jti``, ``htm``, ``htu``, ``iat``);
* ADP-7031 a refused algorithm (``none``, HMAC, anything but the asymmetric ones of :data:`DPOP_ALGORITHMS`) or a
  ``jwk`` header that is not a public RSA or EC key (a key with private members is refused, never used);
* ADP-7032 the signature does not verify with the proof's own ``jwk``;
* ADP-7033 the proof is for another request: ``htm`` is not the method, or ``htu`` not the public URL of the
  request (scheme and host in lower case, a default port left out, query and fragment ignored on both sides);
* ADP-7034 ``iat`` older than ``window`` seconds or more than ``leeway`` seconds ahead;
* ADP-7035 the proof was used before (its ``jti`` for the same key, within the window);
* ADP-7036 ``ath`` is missing or is not the SHA-256 of the token presented;
* ADP-7037 the proof's key is not the one the token is bound to (its RFC 7638 thumbprint differs from ``cnf.jkt``).

A server ``nonce`` is not demanded (RFC 9449 section 8 makes it optional): the replay cache and the window do its
work.

**The replay cache and several workers.** The ``jti`` of each accepted proof is kept in this process, for as long
as the proof could be accepted (its ``iat`` plus the window and the leeway), at most :data:`MAX_REMEMBERED` at once
(past that the oldest are forgotten first). Under gunicorn each worker has its own cache: a proof replayed to
*another* worker within the window is not caught. What that leaves an attacker is narrow: the proof is bound to one
method and URL, lives ``window`` seconds, and is useless without the token, which is useless without the key; but
it is a limit, stated in the README. A shared store (a table with a unique ``jti``) would close it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from adapter.errors import AuthError

__all__ = ["DPOP_ALGORITHMS", "DpopError", "ProofChecker", "ReplayCache", "access_token_hash", "jwk_thumbprint"]

#: The proof algorithms accepted: asymmetric only (never ``none`` or HMAC, whose "key" would be public).
DPOP_ALGORITHMS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "RS384", "RS512")
#: How many proofs the replay cache holds at most.
MAX_REMEMBERED = 100_000
MAX_PROOF_BYTES = 8192
MAX_JTI_LENGTH = 256
#: Members a public JWK never has (RFC 7518 section 6).
#: The JWK members that hold private key material (RSA, EC and OKP private parts, a symmetric key): a public key has
#: none of them (a proof's jwk, a key of an issuer's JWKS).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: The members of each key type that its RFC 7638 thumbprint is made of.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DpopError(AuthError):
    """A refused DPoP request: the code's OperationOutcome, HTTP 401, and a ``DPoP`` challenge (RFC 9449 section
    7.1) whose ``error`` is ``invalid_dpop_proof`` for a bad proof and ``invalid_token`` for a bad token."""

    def __init__(self, code: str, *, error: str = "invalid_dpop_proof", **args: Any) -> None:
        super().__init__(code, **args)
        self.error = error

    @classmethod
    def challenging(cls, refused: AuthError, error: str = "invalid_token") -> DpopError:
        """The same refusal with a ``DPoP`` challenge (a token sent with the DPoP scheme)."""
        issue = refused.issues[0]
        return cls(issue.code, error=error, **issue.args)

    @property
    def www_authenticate(self) -> str:
        """``DPoP realm="samhandling", error="...", algs="..."``."""
        return f'DPoP realm="samhandling", error="{self.error}", algs="{" ".join(DPOP_ALGORITHMS)}"'


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def access_token_hash(access_token: str) -> str:
    """The ``ath`` of a proof for ``access_token``: base64url (no padding) of its SHA-256; the checks of proofs
    that come in and our own outbound proofs (:mod:`adapter.transport.helseid`) both use it."""
    return _b64(hashlib.sha256(access_token.encode("ascii")).digest())


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK; ValueError for a key type without one."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None or not all(isinstance(jwk.get(m), str) for m in members):
        raise ValueError(f"a JWK of kty {jwk.get('kty')!r} with {', '.join(members or ())} has no thumbprint here")
    canonical = json.dumps({m: jwk[m] for m in members}, sort_keys=True, separators=(",", ":"))
    return _b64(hashlib.sha256(canonical.encode("utf-8")).digest())


def comparable_url(url: str) -> str:
    """``url`` as ``htu`` is compared: scheme and host in lower case, no default port, no query or fragment ("" for
    anything but an absolute URL)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if not parts.scheme or not parts.hostname:
        return ""  # no absolute URL: never the same as any
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    scheme = parts.scheme.lower()
    netloc = host if port is None or port == _DEFAULT_PORTS.get(scheme) else f"{host}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", "", ""))


class ReplayCache:
    """The proofs already taken, each until it expires; bounded (the oldest go first) and thread-safe."""

    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self.max_entries = max_entries
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_use(self, key: str, expires: float, now: float) -> bool:
        """True the first time ``key`` is offered before it expires (and remember it until ``expires``)."""
        with self._lock:
            while self._seen and (next(iter(self._seen.values())) <= now or len(self._seen) >= self.max_entries):
                self._seen.popitem(last=False)
            if key in self._seen:
                return False
            self._seen[key] = expires
            return True

    def __len__(self) -> int:
        return len(self._seen)


class ProofChecker:
    """Checks DPoP proofs as the module docstring says; ``clock`` is seconds since the epoch (tests inject one)."""

    def __init__(
        self,
        window: float = 300.0,
        leeway: float = 30.0,
        *,
        clock: Callable[[], float] = time.time,
        replays: ReplayCache | None = None,
    ) -> None:
        self.window = window
        self.leeway = leeway
        self.clock = clock
        self.replays = replays or ReplayCache()

    def check(self, proofs: Sequence[str], *, method: str, url: str, access_token: str, jkt: str) -> None:
        """Raise DpopError unless ``proofs`` (the request's ``DPoP`` headers) is one valid proof for ``method`` on
        the public ``url``, made with the key ``jkt`` names, for ``access_token``."""
        if len(proofs) != 1:
            detail = "there is no DPoP header" if not proofs else "there is more than one DPoP header"
            raise DpopError("ADP-7030", detail=detail)
        proof = proofs[0].strip()
        if len(proof) > MAX_PROOF_BYTES:
            raise DpopError("ADP-7030", detail=f"the proof is longer than {MAX_PROOF_BYTES} bytes")
        jwk, claims = self._signed(proof)
        if claims["htm"] != method.upper():
            raise DpopError("ADP-7033", detail=f"htm is {claims['htm']!r}, the request's method {method.upper()}")
        if comparable_url(claims["htu"]) != comparable_url(url) or not comparable_url(url):
            raise DpopError("ADP-7033", detail=f"htu is {claims['htu'][:200]!r}, not the URL of this request")
        now = self.clock()
        if claims["iat"] > now + self.leeway:
            raise DpopError("ADP-7034", detail=f"it was made {claims['iat'] - now:.0f} s in the future")
        if claims["iat"] < now - self.window:
            raise DpopError(
                "ADP-7034", detail=f"it was made {now - claims['iat']:.0f} s ago ({self.window:g} s allowed)"
            )
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(ath, access_token_hash(access_token)):
            raise DpopError("ADP-7036", detail="ath is missing" if ath is None else "ath does not match")
        if not hmac.compare_digest(jwk_thumbprint(jwk), jkt):
            raise DpopError("ADP-7037", error="invalid_token")
        expires = claims["iat"] + self.window + self.leeway
        if not self.replays.first_use(f"{jkt} {claims['jti']}", expires, now):
            raise DpopError("ADP-7035")

    def _signed(self, proof: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """The proof's public JWK and its claims, its signature verified with that key; DpopError otherwise."""
        try:
            header = jwt.get_unverified_header(proof)
        except jwt.PyJWTError as error:
            raise DpopError("ADP-7030", detail=f"it is not a JWT ({error})") from None
        if str(header.get("typ", "")).lower() != "dpop+jwt":
            raise DpopError("ADP-7030", detail=f"its typ is {header.get('typ')!r}, not dpop+jwt")
        alg, jwk = header.get("alg"), header.get("jwk")
        if alg not in DPOP_ALGORITHMS:
            raise DpopError("ADP-7031", detail=f"the algorithm {alg!r} is refused ({', '.join(DPOP_ALGORITHMS)})")
        if not isinstance(jwk, dict) or jwk.get("kty") not in ("RSA", "EC"):
            raise DpopError("ADP-7031", detail="its header has no public RSA or EC key (jwk)")
        if PRIVATE_MEMBERS & set(jwk):
            raise DpopError("ADP-7031", detail="its jwk holds private key material")
        try:
            key = jwt.PyJWK(jwk, algorithm=alg)
        except (jwt.PyJWTError, ValueError, TypeError) as error:
            raise DpopError("ADP-7031", detail=f"its jwk is no {alg} key ({error})") from None
        try:
            claims = jwt.decode(
                proof, key, algorithms=[alg], options={"verify_iat": False, "require": ["jti", "htm", "htu", "iat"]}
            )
        except jwt.InvalidSignatureError:
            raise DpopError("ADP-7032") from None
        except jwt.PyJWTError as error:
            raise DpopError("ADP-7030", detail=str(error)) from None
        for name, kinds in (("jti", str), ("htm", str), ("htu", str), ("iat", int | float)):
            if not isinstance(claims[name], kinds) or isinstance(claims[name], bool):
                raise DpopError("ADP-7030", detail=f"its {name} is not a {'number' if name == 'iat' else 'string'}")
        if not 0 < len(claims["jti"]) <= MAX_JTI_LENGTH:
            raise DpopError("ADP-7030", detail=f"its jti is empty or longer than {MAX_JTI_LENGTH} characters")
        return jwk, claims
