"""The audit trail: AuditEvents appended, never changed, searched by organisation, patient and time."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from adapter.store.base import TxBase, compared
from adapter.store.rows import utc_now


class AuditTx(TxBase):
    """Appending to and reading the audit trail (an area of :class:`~adapter.store.Tx`)."""

    def audit(self, event: dict[str, Any]) -> int:
        """Append an AuditEvent; returns its number (the AuditEvent id is ``audit-<number>``). The columns it is
        searched by (organisation, patient, action, outcome) are read from the event itself."""
        recorded = str(event.get("recorded") or utc_now())
        org = event["agent"][0]["who"]["identifier"]["value"]
        entities = event.get("entity", [])
        patient = next((e["what"]["reference"] for e in entities if (e.get("role") or {}).get("code") == "1"), None)
        action, outcome = event["action"], event["outcome"]
        cursor = self._sql(
            "INSERT INTO audit (recorded, org, patient, action, outcome, body) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            (recorded, org, patient, action, outcome, json.dumps(event)),
        )
        return int(cursor.fetchone()[0])

    def audits(
        self,
        *,
        patient: str | None = None,
        org: str | None = None,
        recorded: Sequence[tuple[str, str]] = (),
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[dict[str, Any]]]:
        """How many AuditEvents match, and a page of them (oldest first), filtered by patient, organisation and
        (operator, instant) on recorded."""
        where: list[str] = ["1 = 1"]
        args: list[Any] = []
        for column, value in (("patient", patient), ("org", org)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        where.extend(compared("recorded", recorded, args))
        condition = " AND ".join(where)
        total = int(self._sql("SELECT COUNT(*) FROM audit WHERE " + condition, args).fetchone()[0])  # noqa: S608
        # oldest first: the trail only grows (reading it is audited too), so earlier pages never shift
        sql = "SELECT id, body FROM audit WHERE " + condition + " ORDER BY id LIMIT ? OFFSET ?"  # noqa: S608
        rows = self._sql(sql, [*args, limit, offset]).fetchall()
        return total, [{**json.loads(body), "id": f"audit-{row_id}"} for row_id, body in rows]
