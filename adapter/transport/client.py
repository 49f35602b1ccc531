"""A client for a running service (``samhandling examples run --target URL``): one requests.Session, a base URL
and a bearer token per organisation. Network problems become an :class:`Answer` with status 0 and one readable line
as body (:func:`no_answer`: connection refused, a host name that does not resolve, a timeout, a TLS failure), never
an exception.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import NameResolutionError


@dataclass(frozen=True)
class Answer:
    """What the service answered: HTTP status (0: no answer), content type, body and the ``WWW-Authenticate``
    header (why a token was refused)."""

    status: int
    content_type: str
    body: bytes
    www_authenticate: str = ""


class HttpTarget:
    """Sends requests to ``base_url`` with ``Authorization: Bearer <token_for(org)>``; ``connect_timeout`` seconds
    to connect, ``timeout`` seconds for the answer."""

    def __init__(
        self,
        base_url: str,
        token_for: Callable[[str], str],
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_for = token_for
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.session = requests.Session()

    def send(self, method: str, path: str, body: bytes, content_type: str, org: str, authorize: bool = True) -> Answer:
        """One request (without a token when not ``authorize``); the answer, or status 0 with what happened
        (:func:`no_answer`) as body when none came."""
        headers = {"Accept": "application/fhir+json, application/xml"}
        if content_type:
            headers["Content-Type"] = content_type
        token = self.token_for(org) if authorize else ""
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                data=body or None,
                headers=headers,
                timeout=(self.connect_timeout, self.timeout),
            )
        except requests.RequestException as exc:
            return Answer(0, "text/plain", no_answer(exc, self.base_url, self.timeout).encode())
        return Answer(
            response.status_code,
            response.headers.get("Content-Type", ""),
            response.content,
            response.headers.get("WWW-Authenticate", ""),
        )


def _causes(exc: BaseException) -> list[BaseException]:
    """``exc`` and what caused it (``__cause__``, ``__context__``, urllib3's ``reason``), without repeats."""
    found: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is seen for seen in found):
            continue
        found.append(current)
        reason = getattr(current, "reason", None)
        todo.extend([current.__cause__, current.__context__, reason if isinstance(reason, BaseException) else None])
        todo.extend(a for a in current.args if isinstance(a, BaseException))
    return found


def no_answer(exc: BaseException, base_url: str, timeout: float) -> str:
    """What kept a request from being answered, in one line (no Python repr, no object addresses)."""
    host = urlsplit(base_url).hostname or base_url
    causes = _causes(exc)
    if isinstance(exc, requests.exceptions.InvalidSchema | requests.exceptions.MissingSchema):
        return f"{base_url} is not an http:// or https:// URL"
    if isinstance(exc, requests.exceptions.InvalidURL):
        return f"{base_url} is not a valid URL"
    if any(isinstance(c, NameResolutionError) for c in causes):
        return f"the host name {host} does not resolve (DNS)"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return f"connection refused (nothing listens at {host}:{urlsplit(base_url).port or 'the default port'})"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return f"no connection to {host} within the connect timeout"
    if isinstance(exc, requests.exceptions.Timeout):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, requests.exceptions.SSLError) or any(isinstance(c, ssl.SSLError) for c in causes):
        reason = next((c for c in causes if isinstance(c, ssl.SSLError)), exc)
        return f"the TLS connection failed ({getattr(reason, 'reason', None) or type(reason).__name__})"
    if any(isinstance(c, ConnectionResetError) for c in causes):
        return "the connection was reset (is it an HTTPS port spoken to with http://, or the other way round?)"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "the connection failed or was closed without an answer"
    return f"the request failed ({type(exc).__name__})"
