"""Who may read a stored record, and the audit trail of every REST request: the part of
:class:`~adapter.records.Records` that every operation shares (reads, searches, writes, refusals).
"""

from __future__ import annotations

import datetime
import email.utils
from dataclasses import dataclass
from typing import Any

from adapter import access
from adapter.errors import Issue
from adapter.narrative import with_narrative
from adapter.receipt.audit import audit_event
from adapter.reply import Reply
from adapter.search import TYPES
from adapter.security import Caller
from adapter.sharing import Sharing
from adapter.store import Store, StoredResource, Tx
from adapter.store.sql import utc_now

#: The crisis-and-coping plan: what the emergency read gives. Every stored one claims it (claim_implied), so it is
#: found by ``_profile``.
CRISIS_PROFILE = "http://samhandling.no/fhir/StructureDefinition/krise-og-mestringsplan"
#: A crisis plan that came as text or PDF (a Dialogmelding about one): a DocumentReference of this type (Volven
#: 9602 Dokumenttyper, A01-2 Kriseplan), found by the emergency read next to the structured plans.
CRISIS_DOCUMENT = "urn:oid:2.16.578.1.12.4.1.1.9602|A01-2"


class RecordsAccess:
    """Access decisions and AuditEvents for the REST operations; the records provide the store and the sharing
    rules."""

    store: Store
    sharing: Sharing

    def _may_read(
        self,
        tx: Tx,
        resource: StoredResource,
        caller: Caller,
        consents: list[access.ConsentRules] | None = None,
    ) -> tuple[bool, bool]:
        """(allowed, is a disclosure): a party, or under the patient's Consent (a disclosure); a deny wins."""
        decision = self.sharing.decide(tx, caller.org, resource, consents=consents)
        return decision.allowed, decision.allowed and decision.basis != "party"

    def _visible(self, tx: Tx, found: list[StoredResource], caller: Caller) -> list[tuple[StoredResource, bool]]:
        """(resource, is a disclosure) of those of ``found`` the caller may read: any type may be shared under
        consent, so every one is judged (each patient's consents read once)."""
        consents: dict[str, list[access.ConsentRules]] = {}
        visible = []
        for resource in found:
            patient = resource.patient or ""
            if patient not in consents:
                consents[patient] = self.sharing.consents(tx, resource.patient)
            allowed, disclosure = self._may_read(tx, resource, caller, consents[patient])
            if allowed:
                visible.append((resource, disclosure))
        return visible

    def _forbidden(self, tx: Tx, resource: StoredResource, caller: Caller) -> Reply:
        """Refused (403): ADP-7018 when the patient denied it to the caller, ADP-7008 otherwise."""
        decision = self.sharing.decide(tx, caller.org, resource)
        ref = f"{resource.type}/{resource.id}"
        if decision.basis == "denied":
            issue = Issue("ADP-7018", "error", args={"ref": ref, "org": caller.org, "consent": decision.consent})
        else:
            issue = Issue("ADP-7008", "error", args={"ref": ref, "org": caller.org})
        return Reply.refused([issue])

    def _event(
        self,
        tx: Tx,
        caller: Caller,
        action: str,
        outcome: str,
        what: list[str],
        *,
        patient: str | None = None,
        kind: str = "rest",
        **extra: Any,
    ) -> None:
        """One AuditEvent of the caller's request (every audit of this module is one of these)."""
        tx.audit(
            audit_event(
                kind=kind,
                action=action,
                outcome=outcome,
                recorded=utc_now(),
                org=caller.org,
                subject=caller.subject,
                what=what,
                patient=patient,
                **extra,
            )
        )

    def _audit(
        self,
        tx: Tx,
        caller: Caller,
        action: str,
        resource: StoredResource,
        allowed: bool,
        disclosure: bool,
        query: str | None = None,
    ) -> None:
        """A read, search hit or write of ``resource`` (a disclosure when the caller is no party to it)."""
        what = [f"{resource.type}/{resource.id}/_history/{resource.version}"]
        outcome = "success" if allowed else "refused"
        recipient = caller.org if disclosure else None
        kind = "disclosure" if disclosure else "rest"
        self._event(
            tx, caller, action, outcome, what, patient=resource.patient, kind=kind, recipient=recipient, query=query
        )

    def _audit_query(
        self, tx: Tx, caller: Caller, query: str, *, patient: str | None = None, outcome: str = "success"
    ) -> None:
        """A search (of the records or of the audit trail), whatever it found."""
        self._event(tx, caller, "E", outcome, [], patient=patient, query=query)

    def _audit_miss(self, tx: Tx, caller: Caller, action: str, ref: str) -> None:
        """A request for something that is not there (404): audited, as every request for patient data is."""
        self._event(tx, caller, action, "failed", [ref], detail="not found")

    def _refused_in(self, tx: Tx, caller: Caller, action: str, what: str, reply: Reply) -> Reply:
        """Audit a refused request inside a transaction; returns ``reply``."""
        detail = ""
        if reply.resource is not None:
            detail = "; ".join(str(i.get("diagnostics", "")) for i in reply.resource.get("issue", []))[:500]
        self._event(tx, caller, action, "refused", [what], detail=f"HTTP {reply.status}: {detail}")
        return reply

    def _refused(self, caller: Caller, action: str, what: str, reply: Reply) -> Reply:
        """Audit a refused request in a transaction of its own; returns ``reply``."""
        return self.store.run(lambda tx: self._refused_in(tx, caller, action, what, reply))

    def _audit_emergency(
        self, tx: Tx, caller: Caller, read: list[StoredResource], patient: str | None, reason: str, outcome: str
    ) -> None:
        """An emergency read: purpose of use ETREAT, the stated reason, what was read; the plan's parties find it
        in the patient's audit trail."""
        what = [f"{r.type}/{r.id}/_history/{r.version}" for r in read]
        detail = f"emergency access: {reason.strip()[:500]}"
        self._event(
            tx,
            caller,
            "R",
            outcome,
            what,
            patient=patient,
            kind="disclosure",
            recipient=caller.org,
            detail=detail,
            purpose="ETREAT",
        )


def check_type(rtype: str) -> Reply | None:
    """404 for a type the service does not serve (None: served), so no operation touches the store for it."""
    if rtype in TYPES:
        return None
    return Reply.refused([Issue("ADP-5022", "error", args={"type": rtype, "types": ", ".join(TYPES)})])


def resource_reply(found: StoredResource, status: int = 200) -> Reply:
    """A stored version as the REST answer, with the ETag an update must name and its Last-Modified; one stored
    before narrative was generated gets its narrative now (what was stored is not changed)."""
    return Reply(
        status,
        with_narrative(found.body),
        headers={"ETag": f'W/"{found.version}"', "Last-Modified": http_date(found.last_updated)},
    )


def http_date(instant: str) -> str:
    """A FHIR instant as an HTTP date (Last-Modified)."""
    moment = datetime.datetime.fromisoformat(instant.replace("Z", "+00:00"))
    return moment.strftime("%a, %d %b %Y %H:%M:%S GMT")


@dataclass(frozen=True)
class ReadCondition:
    """The conditions of a conditional read (R4 3.1.0.8.4, RFC 7232): ``If-None-Match`` (``*`` or entity tags,
    weak or strong, the version's) and ``If-Modified-Since`` (an HTTP date; one that cannot be read is ignored, as
    RFC 7232 says). When both are given ``If-None-Match`` decides."""

    if_none_match: str | None = None
    if_modified_since: str | None = None

    def unchanged(self, found: StoredResource) -> bool:
        """Whether the caller's copy is ``found``'s: the read is answered 304 Not Modified."""
        if self.if_none_match is not None and self.if_none_match.strip():
            tags = {tag.strip() for tag in self.if_none_match.split(",")}
            return "*" in tags or bool(tags & version_tags(found.version))
        if self.if_modified_since:
            try:
                since = email.utils.parsedate_to_datetime(self.if_modified_since)
            except (TypeError, ValueError):
                return False
            if since.tzinfo is None:
                return False  # "-0000" is no time zone at all: not a date this can compare
            updated = datetime.datetime.fromisoformat(found.last_updated.replace("Z", "+00:00"))
            # HTTP dates have whole seconds: the Last-Modified given earlier names the same second
            return updated.replace(microsecond=0) <= since
        return False


def version_tags(version: int) -> set[str]:
    """The forms of an entity tag that name ``version`` (weak, strong, bare), since clients write it each way."""
    return {f'W/"{version}"', f'"{version}"', str(version)}


def crisis_plans(tx: Tx, patient: StoredResource) -> list[StoredResource]:
    """The patient's current crisis plans, structured ones first, then those that came only as text or PDF; only
    those made by a party to the patient's care: anyone may write a plan of its own, and a legevakt must never be
    shown one a stranger made up, nor a page show it as the patient's current plan."""
    candidates = tx.search(
        "CarePlan",
        [("patient", [f"Patient/{patient.id}"]), ("_profile", [CRISIS_PROFILE]), ("status", ["active"])],
        limit=None,
    )
    candidates += tx.search(  # after the structured plans: a plan that came only as text or PDF
        "DocumentReference",
        [("patient", [f"Patient/{patient.id}"]), ("type", [CRISIS_DOCUMENT]), ("status", ["current"])],
        limit=None,
    )
    return [p for p in candidates if p.patient and tx.cares_for(p.creator or "", p.patient)]
