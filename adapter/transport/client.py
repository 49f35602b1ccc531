"""A client for a running service (``samhandling examples run --target URL``): one requests.Session, a base URL
and a bearer token per organisation. Network problems become an :class:`Answer` with status 0, never an exception.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import requests


@dataclass(frozen=True)
class Answer:
    """What the service answered: HTTP status (0: no answer), content type and body."""

    status: int
    content_type: str
    body: bytes


class HttpTarget:
    """Sends requests to ``base_url`` with ``Authorization: Bearer <token_for(org)>``."""

    def __init__(self, base_url: str, token_for: Callable[[str], str], timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token_for = token_for
        self.timeout = timeout
        self.session = requests.Session()

    def send(self, method: str, path: str, body: bytes, content_type: str, org: str) -> Answer:
        """One request; the answer, or status 0 with the error text as body when none came."""
        headers = {"Content-Type": content_type, "Accept": "application/fhir+json, application/xml"}
        token = self.token_for(org)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            response = self.session.request(
                method, self.base_url + path, data=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            return Answer(0, "text/plain", str(exc).encode())
        return Answer(response.status_code, response.headers.get("Content-Type", ""), response.content)
