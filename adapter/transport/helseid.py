"""HelseID client credentials with DPoP: the access token the national APIs (EDI 2.0 Meldingstjener) ask for.

Why it looks the way it does (NHN utviklerportal, HelseID and EDI 2.0 pages, and RFC 9449):

* HelseID authenticates clients only with ``private_key_jwt``: the token request carries a *client assertion*, a
  JWT signed with the client's private key whose ``iss`` and ``sub`` are the client id and whose ``aud`` is
  HelseID's issuer (the ``issuer`` of its metadata: ``https://helseid-sts.test.nhn.no`` in test,
  ``https://helseid-sts.nhn.no`` in production). It lives at most 60 seconds and its ``jti`` is used once. When
  :attr:`HelseIdConfig.audience` is empty we derive the issuer from the token URL: HelseID's token endpoint is
  ``/connect/token`` under the authority, so ``https://helseid-sts.test.nhn.no/connect/token`` gives
  ``https://helseid-sts.test.nhn.no``. Set ``audience`` when a deployment's issuer is spelled otherwise.
* The token is DPoP-bound (``token_type`` ``DPoP``): every request to the token endpoint and to the API carries a
  ``DPoP`` header, a JWT (``typ`` ``dpop+jwt``, the public key as ``jwk`` in its header) with ``jti``, ``htm``,
  ``htu`` (the URL without query and fragment), ``iat``, and towards the API also ``ath`` (base64url of the
  SHA-256 of the access token), so a token copied from a log is useless without the key. A server may demand a
  ``nonce`` in the proof: the token endpoint answers HTTP 400 ``use_dpop_nonce`` with a ``DPoP-Nonce`` header; we
  try once more with that nonce and keep it for the next token requests (a server may also hand out a fresh
  nonce in any answer, and we keep that too). The resource server's own challenge is handled by its client
  (:mod:`adapter.transport.nhn`), which passes the nonce to :meth:`HelseIdClient.headers`.
* The DPoP key is **not** the client key: each :class:`HelseIdClient` makes an EC P-256 key pair (ES256) when it
  starts. The long-lived client key then signs one assertion per token, never per API call, and a token is bound
  to one process: a restart asks for a new token, which is cheap (one request per token lifetime).

Tokens are cached until ``expiry_margin`` seconds before they expire (half the lifetime when the margin is longer
than that), so a request never leaves with a token that dies on its way. :meth:`HelseIdClient.invalidate` drops
the cached token when the API says it is no longer good (HTTP 401 ``invalid_token``).

Errors follow :mod:`adapter.transport.outbound`: :class:`HelseIdError` says whether trying again later may help
(``transient``: no answer, a timeout, HTTP 408, 425, 429 or 5xx) or not (every other answer: a wrong client id,
key, scope or audience stays wrong). The client never retries on its own except for the nonce, never follows a
redirect, and reads at most :data:`MAX_TOKEN_ANSWER_BYTES` of an answer.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt
import requests
import urllib3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from requests.adapters import HTTPAdapter

from adapter import __version__
from adapter.security_dpop import access_token_hash
from adapter.transport.outbound import TransportError, is_transient_status, short_reason

__all__ = ["HelseIdClient", "HelseIdConfig", "HelseIdError", "htu", "new_session", "read_answer"]

#: A token answer is a few kilobytes; anything longer is not one.
MAX_TOKEN_ANSWER_BYTES = 64 * 1024
#: Lifetime of a client assertion. HelseID refuses ``exp`` more than 60 s ahead; a short one leaves room for skew.
ASSERTION_LIFETIME = 30
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_USER_AGENT = f"samhandling-adapter/{__version__}"
_EC_ALGORITHMS = {"secp256r1": "ES256", "secp384r1": "ES384", "secp521r1": "ES512"}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class HelseIdError(TransportError):
    """Getting a token failed; ``transient`` says whether a later attempt may succeed.

    ``status`` is the HTTP status of the token endpoint's answer (None when none came or the configuration is at
    fault) and ``detail`` one line for the log and the operator.
    """


@dataclass(frozen=True)
class HelseIdConfig:
    """How this adapter is registered in HelseID.

    ``key_file`` holds the client's private key as PEM (PKCS#8 or traditional, unencrypted) or as a private JWK
    (JSON with ``d``, as HelseID Selvbetjening hands it out); RSA or EC. ``scope`` is space separated (EDI 2.0:
    ``nhn:msh/api``). ``audience`` empty means HelseID's issuer derived from ``token_url`` (see the module
    docstring). ``key_id`` is the ``kid`` of the client assertion; empty takes the JWK's own ``kid`` (a PEM key
    has none, and then the assertion has no ``kid``).
    """

    token_url: str
    client_id: str
    key_file: str
    scope: str
    audience: str = ""
    key_id: str = ""
    expiry_margin: float = 60.0


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def htu(url: str) -> str:
    """The ``htu`` claim for ``url``: without query and fragment (RFC 9449 4.2), scheme and host in lower case."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path, "", ""))


def issuer_of(token_url: str) -> str:
    """HelseID's issuer for a token endpoint URL: the authority the ``/connect/token`` path hangs under.

    A token URL of another shape gives scheme and host alone; set :attr:`HelseIdConfig.audience` if that is wrong.
    """
    parts = urlsplit(token_url)
    path = parts.path.rstrip("/")
    path = path[: -len("/connect/token")] if path.endswith("/connect/token") else ""
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), path, "", ""))


def new_session(*, trust_env: bool = False, pool_size: int = 4) -> requests.Session:
    """A session as the outbound client makes it: no retries inside a call, no proxy from the environment."""
    session = requests.Session()
    session.trust_env = trust_env
    adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = _USER_AGENT
    return session


def reason(status: int) -> str:
    """The HTTP reason phrase of ``status`` ("unknown status" for codes outside the registry)."""
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


def read_answer(response: requests.Response, limit: int, read_timeout: float) -> tuple[bytes, int]:
    """The first ``limit`` bytes of a streamed answer and its full size, read within ``read_timeout`` seconds.

    The deadline covers the whole body, as in :mod:`adapter.transport.outbound`, so a server that trickles its
    answer cannot hold a worker. Raises ``TimeoutError`` past the deadline and lets read errors through; the
    callers turn both into transient errors of their own kind.
    """
    deadline = time.monotonic() + read_timeout
    chunks: list[bytes] = []
    size = 0
    while chunk := response.raw.read1(16384, decode_content=True):
        if size < limit:
            chunks.append(chunk[: limit - size])
        size += len(chunk)
        if time.monotonic() > deadline:
            raise TimeoutError(f"the answer took longer than {read_timeout:g} s")
    return b"".join(chunks), size


def _load_key(path: str) -> tuple[PrivateKey, str]:
    """The private key in ``path`` (PEM or JWK) and the ``kid`` a JWK gives it ("" for PEM)."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise HelseIdError(f"cannot read the HelseID key file {path}: {error.strerror}", transient=False) from error
    try:
        if data.lstrip().startswith(b"{"):
            jwk = json.loads(data)
            if not isinstance(jwk, dict) or "d" not in jwk:
                raise ValueError("the JWK is not a private key (no 'd')")
            key: Any = jwt.PyJWK(jwk).key
            kid = str(jwk.get("kid") or "")
        else:
            key = serialization.load_pem_private_key(data, password=None)
            kid = ""
    except (ValueError, TypeError, jwt.PyJWTError) as error:
        raise HelseIdError(f"the HelseID key file {path} is unusable: {error}", transient=False) from error
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise HelseIdError(
            f"the HelseID key file {path} holds a {type(key).__name__}, not an RSA or EC private key", transient=False
        )
    return key, kid


def _algorithm(key: PrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return "RS256"
    algorithm = _EC_ALGORITHMS.get(key.curve.name)
    if algorithm is None:
        raise HelseIdError(f"EC curve {key.curve.name} has no JWS algorithm", transient=False)
    return algorithm


class HelseIdClient:
    """Gets and caches one DPoP-bound access token, and signs the DPoP proofs that go with it.

    One client may be shared by the threads of a process: the token is fetched under a lock, and proofs are
    independent. ``clock`` (seconds since the epoch) decides ``iat`` and the token's expiry; tests inject one.
    ``timeout`` is (connect, read) for the token endpoint.
    """

    def __init__(
        self,
        config: HelseIdConfig,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: tuple[float, float] = (3.05, 10.0),
    ) -> None:
        self.config = config
        self.clock = clock
        self.timeout = timeout
        self.audience = config.audience or issuer_of(config.token_url)
        self._session = session or new_session()
        self._client_key, jwk_kid = _load_key(config.key_file)
        self._client_algorithm = _algorithm(self._client_key)
        self._kid = config.key_id or jwk_kid
        self._dpop_key = ec.generate_private_key(ec.SECP256R1())
        self.public_jwk: dict[str, Any] = dict(
            jwt.algorithms.ECAlgorithm.to_jwk(self._dpop_key.public_key(), as_dict=True)
        )
        self._lock = threading.Lock()
        self._token = ""
        self._renew_at = 0.0
        self._nonce: str | None = None

    def access_token(self) -> str:
        """The cached token, or a new one when it is within ``expiry_margin`` of expiring; HelseIdError if none."""
        with self._lock:
            if self._token and self.clock() < self._renew_at:
                return self._token
            self._token, self._renew_at = self._fetch()
            return self._token

    def invalidate(self) -> None:
        """Forget the cached token, so the next call asks HelseID for a new one (after HTTP 401 from an API)."""
        with self._lock:
            self._token, self._renew_at = "", 0.0

    def headers(self, method: str, url: str, nonce: str | None = None) -> dict[str, str]:
        """``Authorization`` and ``DPoP`` for one API request: the token and a fresh proof bound to it."""
        token = self.access_token()
        return {"Authorization": f"DPoP {token}", "DPoP": self.dpop_proof(method, url, access_token=token, nonce=nonce)}

    def dpop_proof(self, method: str, url: str, *, access_token: str | None = None, nonce: str | None = None) -> str:
        """A DPoP proof for one request; with ``access_token`` it carries ``ath``, with ``nonce`` the nonce."""
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "htm": method.upper(),
            "htu": htu(url),
            "iat": int(self.clock()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(
            claims, self._dpop_key, algorithm="ES256", headers={"typ": "dpop+jwt", "jwk": self.public_jwk}
        )

    def client_assertion(self) -> str:
        """A fresh client assertion (``private_key_jwt``) for one token request."""
        now = int(self.clock())
        claims = {
            "iss": self.config.client_id,
            "sub": self.config.client_id,
            "aud": self.audience,
            "jti": str(uuid.uuid4()),
            "iat": now,
            "nbf": now,
            "exp": now + ASSERTION_LIFETIME,
        }
        header: dict[str, Any] = {"typ": "JWT"}
        if self._kid:
            header["kid"] = self._kid
        return jwt.encode(claims, self._client_key, algorithm=self._client_algorithm, headers=header)

    def _fetch(self) -> tuple[str, float]:
        """Ask the token endpoint once (twice when it demands a nonce); the token and when to renew it."""
        url = self.config.token_url
        retried = False
        while True:
            form = {
                "grant_type": "client_credentials",
                "client_id": self.config.client_id,
                "client_assertion_type": CLIENT_ASSERTION_TYPE,
                "client_assertion": self.client_assertion(),
                "scope": self.config.scope,
            }
            headers = {"DPoP": self.dpop_proof("POST", url, nonce=self._nonce), "Accept": "application/json"}
            status, nonce, body = self._post(url, form, headers)
            if nonce:
                self._nonce = nonce
            answer = _json_object(body)
            error = str(answer.get("error", "")) if answer is not None else ""
            if status == 400 and error == "use_dpop_nonce" and nonce and not retried:
                retried = True
                continue
            if not 200 <= status <= 299:
                description = str(answer.get("error_description", "")) if answer is not None else ""
                what = ": ".join(part for part in (error, description) if part)
                detail = f"HelseID token endpoint: HTTP {status} {reason(status)}" + (f": {what}" if what else "")
                raise HelseIdError(detail[:300], transient=is_transient_status(status), status=status)
            return self._token_from(answer, status)

    def _post(self, url: str, form: Mapping[str, str], headers: Mapping[str, str]) -> tuple[int, str, bytes]:
        try:
            response = self._session.post(
                url, data=form, headers=headers, timeout=self.timeout, allow_redirects=False, stream=True
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            raise HelseIdError(f"unusable HelseID token URL {url!r}", transient=False) from None
        except requests.exceptions.InvalidHeader as error:
            raise HelseIdError(f"HelseID token endpoint: unusable header: {error}", transient=False) from None
        except requests.exceptions.ConnectTimeout:
            raise HelseIdError(
                f"HelseID token endpoint: connect timeout after {self.timeout[0]:g} s", transient=True
            ) from None
        except requests.exceptions.ReadTimeout:
            raise HelseIdError(
                f"HelseID token endpoint: no answer within {self.timeout[1]:g} s", transient=True
            ) from None
        except requests.exceptions.RequestException as error:
            raise HelseIdError(f"HelseID token endpoint: {short_reason(error)}", transient=True) from None
        with response:
            try:
                body, size = read_answer(response, MAX_TOKEN_ANSWER_BYTES, self.timeout[1])
            except (TimeoutError, requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                raise HelseIdError(
                    f"HelseID token endpoint: HTTP {response.status_code}, but reading the answer failed: "
                    f"{short_reason(error)}",
                    transient=True,
                    status=response.status_code,
                ) from None
            if size > MAX_TOKEN_ANSWER_BYTES:
                raise HelseIdError(
                    f"HelseID token endpoint: an answer of {size} bytes is not a token answer",
                    transient=False,
                    status=response.status_code,
                )
            return response.status_code, response.headers.get("DPoP-Nonce", ""), body

    def _token_from(self, answer: dict[str, Any] | None, status: int) -> tuple[str, float]:
        def unusable(why: str) -> HelseIdError:
            return HelseIdError(
                f"HelseID token endpoint: unusable token answer ({why})", transient=False, status=status
            )

        if answer is None:
            raise unusable("not a JSON object")
        token = answer.get("access_token")
        if not isinstance(token, str) or not token or not token.isascii():
            raise unusable("no access_token")
        token_type = answer.get("token_type")
        if not isinstance(token_type, str) or token_type.lower() != "dpop":
            # A Bearer token would work for anyone who copies it: the API refuses it, and so do we.
            raise unusable(f"token_type {token_type!r}, not DPoP")
        lifetime = answer.get("expires_in")
        if isinstance(lifetime, bool) or not isinstance(lifetime, int | float) or lifetime <= 0:
            raise unusable(f"expires_in {lifetime!r}")
        margin = min(self.config.expiry_margin, lifetime / 2)
        return token, self.clock() + lifetime - margin

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
