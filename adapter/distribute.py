"""After a change is accepted: the deliveries that keep every entitled party's copy in sync, and their audit.

:class:`Distributor` is called inside the transaction that stored the change (REST write, FHIR message or KITH
message), so the change, its deliveries and their AuditEvents commit together. For each changed resource that
holds patient data it asks :class:`~adapter.sharing.Sharing` who is entitled to it now; every such organisation
but the writer (and the message's own receivers, which get the message itself) gets the new version:

* through the routing table, in its own format: a FHIR message (:func:`adapter.receipt.sync.sync_message`) or the
  same message as KITH (a Dialogmelding with the Bundle attached and the readable text);
* and through each active R4 Subscription (rest-hook) whose owner is entitled and whose criteria match.

Every delivery is an outbox row with its recipient, patient, resources and basis, so that a withdrawal stops it
before it goes (:meth:`~adapter.sharing.Sharing.may_deliver`); every one writes a disclosure AuditEvent. An
entitled party without a route writes a disclosure event too: the data is there for it to read.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Iterable
from typing import Any

from adapter import access
from adapter.errors import AdapterError
from adapter.identifiers import HER_SYSTEM
from adapter.narrative import bundle_with_narrative
from adapter.receipt.audit import audit_event
from adapter.receipt.sync import events_by_profile, sync_message
from adapter.route.table import RoutingTable
from adapter.search import parse_criteria, parse_query
from adapter.sharing import Decision, Sharing
from adapter.store import Delivery, StoredResource, Tx
from adapter.store.sql import utc_now
from adapter.translate import Translator

log = logging.getLogger(__name__)
FHIR_JSON = "application/fhir+json"
KITH_XML = "application/xml"


class Distributor:
    """Sends accepted changes on to every other entitled party; one per service."""

    def __init__(self, translator: Translator, routes: RoutingTable, sharing: Sharing) -> None:
        self.translator = translator
        self.routes = routes
        self.sharing = sharing
        self.events = events_by_profile(translator.settings.profiles_dir / "resources")

    def changed(self, tx: Tx, changed: list[StoredResource], writer: str, *, exclude: Iterable[str] = ()) -> list[str]:
        """Queue the changed resources for every entitled organisation but ``writer`` and ``exclude``; returns
        the HER-ids they were queued for (or audited as available, without a route). A changed Consent first stops
        the queued deliveries of its patient's data that it no longer allows."""
        for patient in sorted({r.patient for r in changed if r.type == "Consent" and r.patient}):
            self.stop_withdrawn(tx, patient)
        records = [r for r in changed if r.patient and r.type not in ("Patient", *access.DIRECTORY_TYPES)]
        if not records:
            return []
        skip = {writer, *exclude}
        by_org: dict[str, list[tuple[StoredResource, Decision]]] = {}
        for resource in records:
            for org, decision in self.sharing.entitled(tx, resource).items():
                if org not in skip:
                    by_org.setdefault(org, []).append((resource, decision))
        for org, items in sorted(by_org.items()):
            self._send(tx, writer, org, items)
        self._notify(tx, records)
        return sorted(by_org)

    def stop_withdrawn(self, tx: Tx, patient: str) -> int:
        """Withdraw the queued deliveries of ``patient``'s data whose recipient may no longer have it (after a
        Consent changed); each is audited. Returns how many were stopped."""
        stopped = 0
        for delivery in tx.deliveries_for(patient):
            reason = self.sharing.may_deliver(tx, delivery)
            if reason is not None and self.withdraw(tx, delivery, reason):
                stopped += 1
        return stopped

    def withdraw(self, tx: Tx, delivery: Delivery, reason: str) -> bool:
        """Stop one delivery (state ``withdrawn``) and audit the refused disclosure."""
        if not tx.withdraw(delivery.id, reason):
            return False
        detail = f"delivery {delivery.id} of message {delivery.msg_id} stopped: {reason}"
        _disclosure(tx, "refused", None, delivery.recipient, list(delivery.refs), delivery.patient, detail)
        return True

    def check_before_sending(self, tx: Tx, delivery: Delivery) -> bool:
        """The outbox worker's last check: False (and the delivery withdrawn) when its recipient may no longer
        have what it discloses."""
        reason = self.sharing.may_deliver(tx, delivery)
        return reason is None or not self.withdraw(tx, delivery, reason)

    def _send(self, tx: Tx, writer: str, org: str, items: list[tuple[StoredResource, Decision]]) -> None:
        resources = [r for r, _ in items]
        patient = resources[0].patient
        refs = [f"{r.type}/{r.id}/_history/{r.version}" for r in resources]
        basis = items[0][1].basis
        route = self.routes.lookup(org, None)
        detail = f"change by {writer} ({basis})"
        patients = {r.patient for r in resources if r.patient}

        def include(reference: str) -> bool:  # the patient goes along unless the patient denied it to ``org``
            if reference not in patients:
                return True
            stored = tx.read(*access.split_reference(reference))
            return stored is None or self.sharing.decide(tx, org, stored, accompanying=True).allowed

        outcome = "success"
        if route is not None:
            message = sync_message(
                resources,
                writer=writer,
                recipient=org,
                endpoint=route.destination if route.format == "fhir" else None,
                resolve=tx.resolve,
                organisation=lambda her: _organisation(tx, her),
                events=self.events,
                timestamp=utc_now(),
                include=include,
            )
            message = bundle_with_narrative(message, tx.resolve) if message else None  # its header too
            body, content_type, answer_id = self._encode(message, route.format) if message else (None, "", None)
            if message is not None and body is not None:
                message_id = str(message["entry"][0]["resource"]["id"])
                queued = tx.enqueue(
                    message_id,
                    route.destination,
                    route.format,
                    content_type,
                    body,
                    recipient=org,
                    patient=patient,
                    refs=[f"{r.type}/{r.id}" for r in resources] + [p for p in sorted(patients) if include(p)],
                    basis=basis,
                    transport=route.transport,
                    answer_id=answer_id,
                )
                if not queued:  # the same change went to it already
                    return
                detail += f": message {message_id} to {route.destination}"
            else:  # logged by _encode; the operator sees the failed disclosure in the audit trail
                outcome = "failed"
                detail += ": no message could be made for this receiver; the data is there for it to read"
        else:
            detail += ": no route; the data is there for it to read"
        _disclosure(tx, outcome, writer, org, refs, patient, detail)

    def _encode(self, message: dict[str, Any], fmt: str) -> tuple[bytes | None, str, str | None]:
        """The change notice in the receiver's format, and the message id its receipt will name."""
        if fmt == "fhir":
            header_id = str(message["entry"][0]["resource"]["id"])
            return json.dumps(message, ensure_ascii=False).encode(), FHIR_JSON, header_id
        translated = self.translator.fhir_to_kith(message)
        if translated.xml is None or not translated.ok:
            log.warning("a change could not be sent as KITH: %s", [i.text_en for i in translated.issues][:3])
            return None, "", None
        made = self.translator.mappings.envelope(translated.kith_root)
        return translated.xml, KITH_XML, made.msg_id if made else None

    def _notify(self, tx: Tx, records: list[StoredResource]) -> None:
        """Rest-hook notifications of the active Subscriptions whose criteria match, to owners entitled to it."""
        subscriptions = tx.search("Subscription", [("status", ["active"])], limit=None)
        for subscription in subscriptions:
            owner = subscription.creator
            criteria = parse_criteria(str(subscription.body.get("criteria", "")))
            channel = subscription.body.get("channel") or {}
            if owner is None or criteria is None or _ended(subscription.body.get("end"), self.sharing.clock()):
                continue
            for resource in records:
                if not matches(tx, resource, criteria):
                    continue
                decision = self.sharing.decide(tx, owner, resource)
                if not decision.allowed:
                    continue
                payload = str(channel.get("payload") or "")
                body = json.dumps(resource.body).encode() if payload else b""
                headers = dict(_header(h) for h in channel.get("header", []) if ":" in str(h))
                message_id = f"subscription-{subscription.id}-{resource.type}-{resource.id}-{resource.version}"
                if tx.enqueue(
                    message_id,
                    str(channel.get("endpoint")),
                    "fhir",
                    payload or FHIR_JSON,
                    body,
                    recipient=owner,
                    patient=resource.patient,
                    refs=[f"{resource.type}/{resource.id}"],
                    basis="subscription",
                    headers=headers,
                ):
                    what = [f"{resource.type}/{resource.id}/_history/{resource.version}"]
                    detail = f"Subscription/{subscription.id} notification ({decision.basis})"
                    _disclosure(tx, "success", owner, owner, what, resource.patient, detail)


def matches(tx: Tx, resource: StoredResource, criteria: tuple[str, list[tuple[str, str]]]) -> bool:
    """Whether a stored resource matches a Subscription's criteria: what the same search would find."""
    rtype, terms = criteria
    if resource.type != rtype:
        return False
    try:
        params, updated, _, _ = parse_query(terms, rtype)
    except AdapterError:  # checked when the Subscription was written; a search that is no longer one matches nothing
        return False
    return bool(tx.search(rtype, [("_id", [resource.id]), *params], updated=updated, limit=1))


def _header(line: Any) -> tuple[str, str]:
    name, _, value = str(line).partition(":")
    return name.strip(), value.strip()


def _organisation(tx: Tx, her: str) -> StoredResource | None:
    found = tx.find("Organization", "identifier", f"{HER_SYSTEM}|{her}")
    return found[0] if found else None


def _ended(end: object, now: float) -> bool:
    """Whether a Subscription's ``end`` (an instant) has passed; one that cannot be read has not."""
    try:
        moment = datetime.datetime.fromisoformat(str(end).replace("Z", "+00:00")) if end else None
    except ValueError:
        return False
    return moment is not None and moment.tzinfo is not None and moment.timestamp() < now


def _disclosure(
    tx: Tx, outcome: str, org: str | None, recipient: str | None, what: list[str], patient: str | None, detail: str
) -> None:
    """The AuditEvent of a disclosure (or of one stopped or failed) to ``recipient``."""
    event = audit_event(
        kind="disclosure",
        action="E",
        outcome=outcome,
        recorded=utc_now(),
        org=org,
        subject=None,
        what=what,
        patient=patient,
        recipient=recipient,
        detail=detail,
    )
    tx.audit(event)
