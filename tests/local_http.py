"""The local HTTP server of the tests that prove no network request is made (fixture ``local_http``)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class LocalHttp:
    """A local HTTP server: its base URL, the paths requested so far, and the body every GET is answered with."""

    url: str
    hits: list[str] = field(default_factory=list)
    body: bytes = b""
