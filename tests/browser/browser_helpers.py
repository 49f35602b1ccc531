"""What the browser tests share: the served app (:class:`Site`) and the organisations of the example."""

from __future__ import annotations

import dataclasses

from adapter.security import SCOPES
from adapter.service import Service

KOMMUNE, DPS = "8100001", "8100002"


@dataclasses.dataclass
class Site:
    """The served app: its base URL and Service (for tokens)."""

    url: str
    service: Service

    @staticmethod
    def token(service: Service, org: str, *scopes: str) -> dict[str, str]:
        assert service.issuer is not None
        return {"Authorization": f"Bearer {service.issuer.issue(org, scopes or SCOPES, ttl_seconds=3600)}"}

    def headers(self, org: str, *scopes: str) -> dict[str, str]:
        """Request headers with a demo token of ``org`` (all scopes when none are named)."""
        return self.token(self.service, org, *scopes)
