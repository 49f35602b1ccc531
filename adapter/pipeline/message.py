"""An inbound message as the pipeline reads it, and the small judgements about it: who sends it, whether it is a
resend, how its acknowledgement is stored and given again.

Apart from :mod:`adapter.pipeline` so that the write plan and the deliveries can name :class:`Message` without
importing the whole message path.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from zoneinfo import ZoneInfo

from adapter import access
from adapter.errors import AdapterError, Issue
from adapter.narrative import bundle_with_narrative
from adapter.parse.xml_safe import canonical_xml
from adapter.reply import Reply
from adapter.security import ADMIN_SCOPE, Caller
from adapter.store import StoredMessage
from adapter.translate import Translation

FHIR_JSON = "application/fhir+json"
KITH_XML = "application/xml"


@dataclass
class Message:
    """One inbound message, read: what is needed to store, apply, route and answer it."""

    sender: str
    msg_id: str
    fmt: str  # "fhir" or "kith"
    original: bytes
    content_type: str
    bundle: dict[str, Any] | None
    issues: list[Issue]
    kith: Translation | None = None
    #: receiver HER-id -> the basis it gets the message's data on (party, consent, hpl-45)
    bases: dict[str, str] = field(default_factory=dict)
    #: the organisation (and token subject) that relayed it for ``sender`` with the admin scope, when not the sender
    relay: str | None = None

    def __post_init__(self) -> None:
        # Every resource of a message carries a narrative from the moment it is read (a sender's own is kept), so
        # what is stored, sent on and translated has one; the original bytes, and what was validated, stay as sent.
        if isinstance(self.bundle, dict):
            self.bundle = bundle_with_narrative(self.bundle)

    @cached_property
    def header(self) -> dict[str, Any]:
        """The MessageHeader (empty when the message has no Bundle)."""
        return access.message_header(self.bundle) or {}

    @cached_property
    def resolve(self) -> access.Resolver:
        """References inside the message's Bundle."""
        return access.bundle_resolver(self.bundle or {})

    @cached_property
    def receivers(self) -> list[str]:
        """The HER-ids of the receiving organisations."""
        return access.message_parties(self.header, self.resolve)[1]


def blocking(issues: list[Issue]) -> bool:
    """Whether ``issues`` refuse the message (an error or a fatal one), rather than only tell the sender something."""
    return any(i.severity in ("error", "fatal") for i in issues)


#: MessageHeader.response.code -> how the delivery it answers ended (a transient error is no acceptance either)
ACK_STATUS = {"ok": "ok", "transient-error": "rejected", "fatal-error": "rejected"}


def ack_codes(response: dict[str, Any], resolve: access.Resolver) -> list[str]:
    """The issue codes of the OperationOutcome a FHIR acknowledgement carries (``response.details``)."""
    details = response.get("details")
    outcome = resolve(str(details.get("reference", ""))) if isinstance(details, dict) else None
    codes = []
    for issue in (outcome or {}).get("issue", []) if isinstance(outcome, dict) else []:
        if not isinstance(issue, dict) or issue.get("severity") not in ("error", "fatal", "warning"):
            continue
        coding = (issue.get("details") or {}).get("coding") or [{}]
        codes.append(str(coding[0].get("code") or issue.get("code") or ""))
    return [c for c in codes if c]


def same_message(stored: bytes, received: bytes, fmt: str) -> bool:
    """Whether a message that reuses a stored message's id is that message again (a resend), not another one: the
    same bytes, or the same JSON (FHIR) or the same canonical XML (KITH) when a system wrote it out afresh."""
    if stored.strip() == received.strip():
        return True
    try:
        if fmt == "fhir" and received.lstrip()[:1] == b"{":
            return bool(json.loads(stored) == json.loads(received))
        return bool(canonical_xml(stored) == canonical_xml(received))
    except (AdapterError, ValueError):
        return False


def sent_by_unit(bundle: dict[str, Any], her: str) -> bool:
    """Make a message that a unit of an organisation sent (the caller's HER-id is the unit's) name that unit as its
    sender, as the Organization the mapping made of it; False when the message has no such unit."""
    header = access.message_header(bundle)
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if header is None or not isinstance(resource, dict) or resource.get("resourceType") != "Organization":
            continue
        if access.her_ids(resource) == [her] and entry.get("fullUrl"):
            header["sender"] = {"reference": str(entry["fullUrl"])}
            return True
    return False


def oslo(now: float) -> str:
    """``now`` as a KITH GenDate: Norwegian local time without offset, to the second."""
    return datetime.datetime.fromtimestamp(now, ZoneInfo("Europe/Oslo")).replace(tzinfo=None).isoformat("T", "seconds")


def is_admin(caller: Caller) -> bool:
    """Whether the caller is an admin-scoped gateway, which may relay messages of other organisations."""
    return ADMIN_SCOPE in caller.scopes


def kith_sender(her_ids: tuple[str, ...], caller: Caller) -> str | None:
    """Who sends a KITH message: the caller, when its HER-id is one of the sending party's (the organisation's or a
    unit's, in any order); for an admin relay the party's first HER-id; None when the party has none."""
    if caller.org in her_ids:
        return caller.org
    return her_ids[0] if her_ids else None


def sender_check(sender: str | None, caller: Caller) -> Issue | None:
    """A caller sends only as its own organisation (an admin-scoped gateway may relay for others)."""
    if sender == caller.org or ADMIN_SCOPE in caller.scopes:
        return None
    return Issue("ADP-7011", "error", args={"sender": sender or "(none)", "org": caller.org})


def relay_of(sender: str | None, caller: Caller) -> str | None:
    """Who relayed a message for another organisation (the admin scope), for the audit trail; None for the
    sender itself."""
    return None if sender == caller.org else f"relayed by {caller.org} ({caller.subject})"


def stored_reply(found: StoredMessage) -> Reply:
    """The stored acknowledgement given again, as it was first given: a duplicate gets the same answer."""
    receipt = found.receipt or b""
    if found.receipt_type == KITH_XML:
        return Reply(found.http_status or 200, body=receipt, content_type=KITH_XML)
    return Reply(found.http_status or 200, json.loads(receipt))
