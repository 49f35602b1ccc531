"""What the browser tests share: the served app (:class:`Site`) and the organisations of the example."""

from __future__ import annotations

import dataclasses
from typing import Any

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


def axe_serious(page: Any, axe_script: Any) -> tuple[list[str], dict[str, Any]]:
    """axe-core's run over the page (WCAG 2.1 A and AA): the serious or critical violations, and the whole result."""
    page.add_script_tag(path=str(axe_script))
    result: dict[str, Any] = page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
    )
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    return serious, result
