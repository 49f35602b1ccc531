"""The answer every operation of the service gives, whatever the path (messages or REST).

Its own module so that the message path and the REST operations share it without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """An answer: HTTP status and either a FHIR resource (``resource``) or raw bytes with their content type."""

    status: int
    resource: dict[str, Any] | None = None
    body: bytes = b""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
