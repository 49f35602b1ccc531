"""Receipts a receiver sends back for a message it processed: the AppRec (:mod:`adapter.receipt.apprec`); beside
it the other messages the service writes itself: FHIR acknowledgements (:mod:`adapter.receipt.fhir_response`),
AuditEvents (:mod:`adapter.receipt.audit`) and the change notices that keep every party in sync
(:mod:`adapter.receipt.sync`).

:func:`receipt_for` answers a :class:`~adapter.translate.Translation` (the inbound message's envelope and the
issues found reading it) with AppRec XML bytes; :func:`error_codes` gives the AppRec error codes (list 8221) its
issues lead to.
"""

from __future__ import annotations

import datetime
import uuid
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from lxml import etree

from adapter.errors import Issue
from adapter.receipt.apprec import RECEIPT_STATUS, ReceiptImpossible, build_apprec, error_code, receipt_issues

if TYPE_CHECKING:
    from adapter.translate import Translation

__all__ = [
    "RECEIPT_STATUS",
    "ReceiptImpossible",
    "build_apprec",
    "error_code",
    "error_codes",
    "receipt_for",
    "receipt_issues",
]

#: uuid5 namespace of AppRec ids made from the original message id (deterministic for a given GenDate).
_APPREC_IDS = uuid.UUID("a1f3c2d4-6b7e-5f80-9a1b-2c3d4e5f6071")


def error_codes(issues: list[Issue]) -> list[str]:
    """The 8221 codes of the issues the AppRec reports, in order (what its Error elements will say): the errors
    (one per cause) when it rejects the message, else the warnings that make it status 3."""
    return [error_code(issue) for issue in receipt_issues(issues)]


def receipt_for(result: Translation, *, version: str = "1.0", gen_date: str | None = None) -> bytes:
    """The AppRec for a translated inbound message, as UTF-8 XML with a declaration.

    ``gen_date`` defaults to now in Norwegian local time (the KITH convention: no offset). The AppRec Id is a
    uuid5 of the sender's HER-id, the original message id, the version and ``gen_date``, so a given input gives the
    same bytes and two messages never get the same AppRec Id. Raises
    :class:`ReceiptImpossible` when there is no readable envelope to answer (see :mod:`adapter.receipt.apprec`).
    """
    if gen_date is None:
        now = datetime.datetime.now(ZoneInfo("Europe/Oslo"))
        gen_date = now.replace(tzinfo=None, microsecond=0).isoformat()
    envelope = result.envelope
    sender = envelope.sender.her_ids[0] if envelope and envelope.sender.her_ids else ""
    message_id = envelope.msg_id if envelope else ""
    apprec_id = str(uuid.uuid5(_APPREC_IDS, f"{sender}|{message_id}|{version}|{gen_date}"))
    apprec = build_apprec(envelope, result.issues, version=version, gen_date=gen_date, apprec_id=apprec_id)
    return etree.tostring(apprec, encoding="utf-8", xml_declaration=True, pretty_print=True)
