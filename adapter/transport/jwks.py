"""The token issuer's public keys, fetched from its JWKS URL, kept for a while, and fetched again when it rotates.

:class:`IssuerKeys` is the key source the token verifier (:mod:`adapter.security`) is given when
``SAMHANDLING_TOKEN_JWKS_URL`` is set; the verifier itself never touches the network.

* The JWKS is fetched when first needed (so the service starts while the issuer is away) and kept for
  ``cache_seconds``; after that the next token fetches it again. When a fetch fails the keys already held are used
  until a fetch succeeds, so an issuer that is away for a while costs nothing.
* A token signed with a key id (``kid``) the held JWKS lacks makes one fetch: the issuer has rotated its keys.
  Such fetches are at most one per ``refetch_seconds``, so a caller that sends tokens with made-up key ids cannot make
  us hammer the issuer; within that time the unknown key is refused without a request.
* A fetch replaces the set: a key the issuer no longer publishes is no longer trusted.
* The answer must be an ``https`` URL (``http`` only for the loopback address, for tests), within the timeouts, at
  most :data:`MAX_JWKS_BYTES`, without redirects (the issuer's URL is configured exactly), and a JSON object with a
  list ``keys``. Keys that hold private members (``d``, ``p``, ``q``, ``k``...), symmetric keys (``kty`` ``oct``)
  and keys for encryption (``use`` ``enc``) are left out: they are never trusted to sign a token.

:class:`JwksError` (a :class:`~adapter.transport.outbound.TransportError`) says why no keys could be had; the service
turns it into the verifier's ``KeysUnavailable`` (ADP-7027, HTTP 503).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from adapter.security_dpop import PRIVATE_MEMBERS
from adapter.transport.helseid import new_session, read_answer, reason
from adapter.transport.outbound import TransportError, is_transient_status, short_reason

__all__ = ["MAX_JWKS_BYTES", "IssuerKeys", "JwksError"]

log = logging.getLogger(__name__)

#: A JWKS of a handful of keys is a few kilobytes; anything much longer is not one.
MAX_JWKS_BYTES = 256 * 1024
#: Members a public JWK never has (RFC 7518 section 6: the private parts of RSA, EC and OKP keys, and ``oct``'s key).
_LOOPBACK = ("localhost", "127.0.0.1", "::1")


class JwksError(TransportError):
    """The issuer's JWKS could not be fetched or read; ``detail`` says why, for the log and the operator."""


def usable_keys(document: Any) -> tuple[dict[str, Any], ...]:
    """The public signing keys of a JWKS document; JwksError when it is not a JWKS."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise JwksError("the issuer's JWKS is not a JSON object with a list 'keys'", transient=False)
    keys = []
    for key in document["keys"]:
        if not isinstance(key, dict) or not isinstance(key.get("kty"), str):
            continue
        if PRIVATE_MEMBERS & set(key) or key["kty"] == "oct" or key.get("use", "sig") != "sig":
            log.warning(
                "the issuer's JWKS holds a key that is not a public signing key (kid %r): left out", key.get("kid")
            )
            continue
        keys.append(dict(key))
    return tuple(keys)


class IssuerKeys:
    """The keys published at one JWKS URL, cached and refreshed as the module docstring says; thread-safe.

    ``clock`` is monotonic seconds (tests inject one); ``timeout`` is (connect, read) in seconds.
    """

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: float = 3600.0,
        refetch_seconds: float = 60.0,
        timeout: tuple[float, float] = (3.05, 10.0),
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        parts = urlsplit(url)
        if not (parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)):
            raise JwksError(f"the JWKS URL {url!r} is not https", transient=False)
        self.url = url
        self.cache_seconds = cache_seconds
        self.refetch_seconds = refetch_seconds
        self.timeout = timeout
        self.fetches = 0  # how many requests went to the issuer (the operator's log, and the tests)
        self._session = session or new_session(pool_size=1)
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: tuple[dict[str, Any], ...] | None = None
        self._fetched_at = 0.0
        self._tried_at: float | None = None

    def jwks(self, unknown_kid: str | None = None) -> tuple[dict[str, Any], ...]:
        """The issuer's public keys (the same tuple until they are fetched again); with ``unknown_kid`` (a key id
        a token names that the keys lack) fetched again unless a fetch was tried within ``refetch_seconds``.
        Raises JwksError when no keys were ever had."""
        with self._lock:
            now = self._clock()
            stale = self._keys is None or now - self._fetched_at >= self.cache_seconds
            wanted = unknown_kid is not None and not any(k.get("kid") == unknown_kid for k in self._keys or ())
            recently = self._tried_at is not None and now - self._tried_at < self.refetch_seconds
            if (stale or wanted) and not recently:
                self._tried_at = now
                try:
                    self._keys, self._fetched_at = self._fetch(), now
                except JwksError as error:
                    if self._keys is None:
                        raise
                    log.warning("the issuer's JWKS could not be fetched again; the held keys stay: %s", error.detail)
            if self._keys is None:
                raise JwksError(
                    f"the issuer's JWKS ({self.url}) could not be fetched; next try in at most "
                    f"{self.refetch_seconds:g} s",
                    transient=True,
                )
            return self._keys

    def _fetch(self) -> tuple[dict[str, Any], ...]:
        self.fetches += 1
        try:
            response = self._session.get(
                self.url,
                headers={"Accept": "application/json, application/jwk-set+json"},
                timeout=self.timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.RequestException as error:
            raise JwksError(f"the issuer's JWKS {self.url}: {short_reason(error)}", transient=True) from None
        with response:
            status = response.status_code
            if status != 200:
                raise JwksError(
                    f"the issuer's JWKS {self.url}: HTTP {status} {reason(status)}",
                    transient=is_transient_status(status),
                    status=status,
                )
            try:
                body, size = read_answer(response, MAX_JWKS_BYTES, self.timeout[1])
            except (TimeoutError, requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
                raise JwksError(
                    f"the issuer's JWKS {self.url}: reading failed: {short_reason(error)}", transient=True
                ) from None
        if size > MAX_JWKS_BYTES:
            raise JwksError(f"the issuer's JWKS {self.url} is {size} bytes, over the cap", transient=False)
        try:
            document = json.loads(body)
        except ValueError:
            raise JwksError(f"the issuer's JWKS {self.url} is not JSON", transient=False) from None
        keys = usable_keys(document)
        log.info("fetched the issuer's JWKS %s: key ids %s", self.url, ", ".join(str(k.get("kid")) for k in keys))
        return keys

    def close(self) -> None:
        """Close the pooled connection."""
        self._session.close()
