"""Outbound HTTP delivery: one POST, one :class:`DeliveryResult`, no retries, no exceptions for network trouble.

The outbox worker owns the retry policy. This module answers two questions for it:

* did the receiver take the message (``ok``: a 2xx answer), and if not,
* is it worth trying again later (``transient``) or will the same request fail the same way (permanent)?

Transient: the connection was refused or reset, a timeout (connect, read, or the whole body taking longer than the
read timeout), HTTP 408, 425, 429 and every 5xx. Permanent: every other non-2xx answer (a 400 stays a 400 however
often it is sent; a 3xx is not followed, because re-sending a message to another address is a routing decision),
and a URL that cannot be used at all. :func:`backoff_seconds` gives the wait before the next attempt.

One :class:`Outbound` holds one ``requests.Session``, so connections to a receiver are pooled and kept alive. A
session is not meant to be shared between threads: give each worker thread its own :class:`Outbound`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus

import requests
import urllib3
from requests.adapters import HTTPAdapter

from adapter import __version__

#: Status codes that say "try again later" although they are not 5xx.
TRANSIENT_STATUSES = frozenset({408, 425, 429})

#: The receiver's answer is kept (it may be an AppRec or an OperationOutcome) up to this many bytes.
MAX_RESPONSE_BYTES = 1 << 20

_USER_AGENT = f"samhandling-adapter/{__version__}"
_RNG = random.Random()  # noqa: S311 (jitter, not cryptography)


class TransportError(Exception):
    """A call to a remote service failed (the clients of HelseID and NHN raise it); ``transient`` says whether a
    later attempt may succeed, ``status`` is the HTTP status (None when no answer came) and ``detail`` one line for
    the log and the operator."""

    def __init__(self, detail: str, *, transient: bool, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.transient = transient
        self.status = status


@dataclass(frozen=True)
class DeliveryResult:
    """What one delivery attempt came to.

    ``ok`` is true for a 2xx answer. ``transient`` is true when a later attempt may succeed. ``status`` is the HTTP
    status, or None when no answer came. ``detail`` is one line for logs and for the operator's dead-letter view.
    ``body`` and ``content_type`` are the receiver's answer (empty when none), cut at ``max_response_bytes``;
    ``remote_id`` the id a message service gave the message (NHN EDI 2.0), to follow it there.
    """

    ok: bool
    transient: bool
    status: int | None
    detail: str
    body: bytes = b""
    content_type: str = ""
    remote_id: str = ""


def is_transient_status(status: int) -> bool:
    """True when an HTTP status means the same request may succeed later (408, 425, 429, 5xx)."""
    return status in TRANSIENT_STATUSES or 500 <= status <= 599


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unknown status"


class Outbound:
    """Posts messages to receivers over one pooled ``requests.Session``.

    ``connect_timeout`` bounds setting up the connection; ``read_timeout`` bounds the wait for the answer, and also
    the time to read the whole answer once it has started (so a receiver that trickles its body cannot hold a worker).
    Proxy settings from the environment are used only with ``trust_env=True``.
    """

    def __init__(
        self,
        connect_timeout: float = 3.05,
        read_timeout: float = 10.0,
        *,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        trust_env: bool = False,
        pool_size: int = 10,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.max_response_bytes = max_response_bytes
        self._session = requests.Session()
        self._session.trust_env = trust_env
        # max_retries=0: no retry inside one call, the outbox schedules retries with backoff.
        adapter = HTTPAdapter(pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)
        self._session.headers["User-Agent"] = _USER_AGENT

    def post(
        self, url: str, body: bytes, content_type: str, headers: Mapping[str, str] | None = None
    ) -> DeliveryResult:
        """POST ``body`` to ``url`` once and classify the outcome; never raises for network problems."""
        sent = dict(headers or {})
        sent["Content-Type"] = content_type
        try:
            response = self._session.post(
                url,
                data=body,
                headers=sent,
                timeout=(self.connect_timeout, self.read_timeout),
                allow_redirects=False,
                stream=True,
            )
        except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema):
            return DeliveryResult(False, False, None, f"unusable URL {url!r}")
        except requests.exceptions.InvalidHeader as error:
            return DeliveryResult(False, False, None, f"unusable header: {error}")
        except requests.exceptions.ConnectTimeout:
            return DeliveryResult(False, True, None, f"connect timeout after {self.connect_timeout:g} s")
        except requests.exceptions.ReadTimeout:
            return DeliveryResult(False, True, None, f"no answer within the read timeout of {self.read_timeout:g} s")
        except requests.exceptions.ConnectionError as error:
            return DeliveryResult(False, True, None, f"connection failed: {short_reason(error)}")
        except requests.exceptions.RequestException as error:
            return DeliveryResult(False, True, None, f"request failed: {short_reason(error)}")
        with response:
            return self._read(response)

    def _read(self, response: requests.Response) -> DeliveryResult:
        status = response.status_code
        ok = 200 <= status <= 299
        transient = not ok and is_transient_status(status)
        detail = f"HTTP {status} {_reason(status)}"
        content_type = response.headers.get("Content-Type", "")
        deadline = time.monotonic() + self.read_timeout
        chunks: list[bytes] = []
        size = 0
        try:
            # read1 returns whatever has arrived (iter_content would block until a whole chunk is there), so the
            # deadline is checked while a slow receiver trickles its answer.
            while chunk := response.raw.read1(16384, decode_content=True):
                if size < self.max_response_bytes:
                    chunks.append(chunk[: self.max_response_bytes - size])
                size += len(chunk)
                if time.monotonic() > deadline:
                    return DeliveryResult(
                        False, True, status, f"{detail}, but the answer took longer than {self.read_timeout:g} s"
                    )
        except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError, OSError) as error:
            # The receiver may or may not have taken the message; only an answer read in full counts as delivered.
            return DeliveryResult(
                False, True, status, f"{detail}, but reading the answer failed: {short_reason(error)}"
            )
        if size > self.max_response_bytes:
            detail += f" (answer cut at {self.max_response_bytes} of {size} bytes)"
        return DeliveryResult(ok, transient, status, detail, b"".join(chunks), content_type)

    def close(self) -> None:
        """Close the pooled connections."""
        self._session.close()

    def __enter__(self) -> Outbound:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def short_reason(error: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error in one line (they nest several wrappers deep)."""
    reason: BaseException = error
    while True:
        inner = reason.args[0] if reason.args and isinstance(reason.args[0], BaseException) else None
        inner = inner or getattr(reason, "reason", None) or reason.__cause__
        if not isinstance(inner, BaseException) or inner is reason:
            break
        reason = inner
    text = str(reason).splitlines()[0] if str(reason) else type(reason).__name__
    return f"{type(reason).__name__}: {text}"[:300]


def backoff_seconds(
    attempt: int,
    base: float = 1.0,
    cap: float = 300.0,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """The wait before retry number ``attempt`` (1 for the first retry): ``base * 2**(attempt-1)``, at most ``cap``.

    The delay is spread by a random factor in ``[1 - jitter, 1 + jitter]`` so that messages that failed together do
    not all come back together, and the result never exceeds ``cap``. Pass ``rng`` for repeatable tests.
    """
    if attempt < 1:
        raise ValueError(f"attempt counts from 1, not {attempt}")
    if base < 0 or cap < 0 or not 0 <= jitter <= 1:
        raise ValueError("base and cap must not be negative and jitter must be in [0, 1]")
    # Capping the exponent keeps huge attempt counts from overflowing a float; 2**64 seconds is past any cap.
    delay = min(cap, base * 2.0 ** min(attempt - 1, 64))
    spread = (rng or _RNG).uniform(1.0 - jitter, 1.0 + jitter)
    return min(cap, delay * spread)
