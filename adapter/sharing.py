"""The access rules applied to the store: who may read, change and receive each piece of a patient's data.

:mod:`adapter.access` reads resources and Consents; this module asks the store what it needs (the patient's
Consents, a resource's creator, who takes part in the patient's care) and decides. The message path
(:mod:`adapter.pipeline`), REST (:mod:`adapter.records`) and the outbox worker all decide here, so one rule holds on
every path:

* **Party.** The creator of a resource and the organisations its current version names may read it; they may
  change it, unless the patient has blocked them.
* **Deny wins.** An active Consent of the patient that denies an organisation (a provision of type ``deny`` that
  covers it, the resource's type and the action) blocks every read, search and delivery to it, whatever permits
  it otherwise, except for the resource's creator (it holds the data already).
* **Permit.** Another organisation reads or receives a resource when an active Consent of the patient permits it
  (actor, ``provision.class``, ``provision.action``, period). Only a party to the patient's care records a Consent
  (:mod:`adapter.pipeline`, :mod:`adapter.records`), as its custodian; a Consent forged by anyone else is never
  stored.
* **Other legal basis.** A sender may share under helsepersonelloven § 45 (collaborating personnel) by saying so
  in the message, with a reason; the delivery is recorded with that basis. A deny still wins.
* **Emergency.** An organisation with the emergency scope reads the current crisis plan only (see
  :mod:`adapter.records`); a deny wins.
* **The person's own words.** A record the patient wrote themself about themself (its creator is the patient,
  ``Patient/<id>``: only :mod:`adapter.records.person` writes one, from a person's token) is read by, and goes to,
  every organisation that takes part in the patient's care, as a party would; a deny still wins; nobody else. It
  makes nobody a carer.
* **No organisation.** An empty organisation (a person's token has one) is granted nothing here: the person reads
  their own records through :mod:`adapter.records.person`, never through these rules.

Consents are read on each decision: a withdrawal (status no longer active, or the period ended) takes effect on
the next read, search and delivery, queued deliveries included (the worker asks :meth:`Sharing.may_deliver`).
"""

from __future__ import annotations

import dataclasses
import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from adapter import access
from adapter.store import Delivery, StoredResource, Tx

#: The code system of the legal basis a sender states for sharing (MessageHeader.reason).
LEGAL_BASIS_SYSTEM = "http://samhandling.no/fhir/CodeSystem/delingsgrunnlag"
#: The legal bases other than consent that the adapter accepts (helsepersonelloven § 45).
OTHER_BASES = frozenset({"hpl-45"})


@dataclass(frozen=True)
class Decision:
    """Whether an organisation may have a resource, and on which basis: ``party``, ``consent`` (``consent`` names
    the Consent), ``hpl-45``, ``denied`` (a Consent denies it; ``consent`` names it) or ``none``."""

    allowed: bool
    basis: str
    consent: str | None = None


class Sharing:
    """The rules over one store; ``clock`` gives the day Consents are judged on (Europe/Oslo)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock

    def today(self) -> str:
        """Today in Norway, YYYY-MM-DD."""
        return datetime.datetime.fromtimestamp(self.clock(), ZoneInfo("Europe/Oslo")).date().isoformat()

    def consents(self, tx: Tx, patient: str | None) -> list[access.ConsentRules]:
        """The patient's stored Consents, read as rules."""
        if not patient:
            return []
        return [
            access.consent_rules(c.body, tx.resolve, f"Consent/{c.id}")
            for c in tx.patient_resources("Consent", patient)
        ]

    def decide(
        self,
        tx: Tx,
        org: str,
        resource: StoredResource,
        *,
        consents: list[access.ConsentRules] | None = None,
        basis: str | None = None,
        accompanying: bool = False,
    ) -> Decision:
        """May ``org`` read or be sent ``resource``? ``basis`` is a legal basis other than consent the sender
        stated (``hpl-45``); ``accompanying``: a Patient sent along with data ``org`` may have (then only a deny
        keeps it back)."""
        return self.judge(
            tx,
            org,
            rtype=resource.type,
            ref=f"{resource.type}/{resource.id}",
            profiles=access.profiles_of(resource.body),
            parties=resource.parties,
            creator=resource.creator,
            patient=resource.patient,
            consents=consents,
            basis=basis,
            accompanying=accompanying,
        )

    def judge(
        self,
        tx: Tx,
        org: str,
        *,
        rtype: str,
        ref: str,
        profiles: frozenset[str],
        parties: frozenset[str] | set[str],
        creator: str | None,
        patient: str | None,
        consents: list[access.ConsentRules] | None = None,
        basis: str | None = None,
        accompanying: bool = False,
    ) -> Decision:
        """:meth:`decide` for a resource given by its parts (one not stored yet, in a message)."""
        if not org or not org.strip():  # no organisation (a person's token): no organisation rule grants it
            return Decision(False, "none")
        if org == creator:
            return Decision(True, "party")
        rules = self.consents(tx, patient) if consents is None else consents
        asked = access.Asked(org, rtype, ref, profiles, self.today())
        verdicts = [(access.verdict(r, asked), r) for r in rules]
        denied = next((r for v, r in verdicts if v == "deny"), None)
        if denied is not None:
            return Decision(False, "denied", denied.ref)
        if org in parties or (accompanying and rtype == "Patient"):
            return Decision(True, "party")
        if rtype == "Patient" and patient and tx.cares_for(org, patient):
            return Decision(True, "party")
        if patient and creator == patient and tx.cares_for(org, patient):  # the person's own words, to their carers
            return Decision(True, "party")
        # Only a party to the patient's care records a Consent, as its custodian (refused otherwise, on every path)
        if rtype == "Patient":  # whom the data is about: a permit of any class names the person too
            whole = dataclasses.replace(asked, any_class=True)
            verdicts = [(access.verdict(r, whole), r) for r in rules]
        permitted = next((r for v, r in verdicts if v == "permit" and r.custodians), None)
        if permitted is not None:
            return Decision(True, "consent", permitted.ref)
        if basis in OTHER_BASES:
            return Decision(True, basis)
        return Decision(False, "none")

    def may_change(self, tx: Tx, org: str, resource: StoredResource) -> Decision:
        """May ``org`` write a new version of ``resource``? Only a party that the patient has not blocked; the
        custodians of a Consent only (its actors read it, they do not change it)."""
        if not org or not org.strip():
            return Decision(False, "none")
        if resource.type == "Consent":
            custodians = access.consent_custodians(resource.body, tx.resolve)
            return Decision(org in custodians, "party" if org in custodians else "none")
        if resource.type == "Patient":
            allowed = bool(resource.patient) and tx.cares_for(org, str(resource.patient))
            return Decision(allowed, "party" if allowed else "none")
        decision = self.decide(tx, org, resource)
        return decision if decision.basis in ("party", "denied") else Decision(False, "none")

    def entitled(self, tx: Tx, resource: StoredResource) -> dict[str, Decision]:
        """Every organisation that may have ``resource`` now, with its basis: its parties and the organisations
        the patient's Consents permit (a deny removes one)."""
        consents = self.consents(tx, resource.patient)
        candidates = set(resource.parties)
        for rules in consents:
            if rules.active and rules.provision is not None:
                candidates |= _actors(rules.provision)
        if resource.patient and resource.creator == resource.patient:  # the person's own words: to their carers
            candidates |= tx.carers(resource.patient)
        candidates = {c for c in candidates if c and "/" not in c}  # organisations only, never the person
        candidates.discard("(none)")
        found = {}
        for org in sorted(candidates):
            decision = self.decide(tx, org, resource, consents=consents)
            if decision.allowed:
                found[org] = decision
        return found

    def may_deliver(self, tx: Tx, delivery: Delivery) -> str | None:
        """Why a queued delivery must not go out any more (None: it may): its recipient is no longer entitled to
        one of the resources it discloses (a Consent was withdrawn, ended or now denies it)."""
        if not delivery.recipient or not delivery.refs:
            return None
        consents = self.consents(tx, delivery.patient)
        stated = delivery.basis if delivery.basis in OTHER_BASES else None
        for ref in delivery.refs:
            rtype, _, rid = ref.partition("/")
            stored = tx.read(rtype, rid)
            if stored is None:
                continue
            decision = self.decide(
                tx, delivery.recipient, stored, consents=consents, basis=stated, accompanying=stored.type == "Patient"
            )
            if not decision.allowed:
                why = f"denied by {decision.consent}" if decision.basis == "denied" else "no consent in force"
                return f"withdrawn: {delivery.recipient} may no longer have {ref} ({why})"
        return None


def same_record(tx: Tx, rtype: str, resource: dict[str, Any], patient: str | None) -> StoredResource | None:
    """The stored record ``resource`` is by identity, if any: a person or organisation by a national identifier
    (one record nationwide), a record by a business identifier of the same ``patient``."""
    national = rtype in access.MATCH_BY_IDENTIFIER
    if not national and not patient:
        return None
    for token in access.identity_tokens(rtype, resource):
        for found in tx.find(rtype, "identifier", token):
            if national or found.patient == patient:
                return found
    return None


def _actors(provision: access.Provision) -> set[str]:
    found = set(provision.actors)
    for child in provision.exceptions:
        found |= _actors(child)
    return found


def stated_basis(header: dict[str, Any]) -> tuple[str | None, str]:
    """The legal basis other than consent a MessageHeader states in ``reason`` (code from
    :data:`LEGAL_BASIS_SYSTEM`), and its reason text ("" when none)."""
    reason = header.get("reason")
    if not isinstance(reason, dict):
        return None, ""
    codings = reason.get("coding")
    for coding in codings if isinstance(codings, list) else []:
        if isinstance(coding, dict) and coding.get("system") == LEGAL_BASIS_SYSTEM and coding.get("code"):
            return str(coding["code"]), str(reason.get("text") or "").strip()
    return None, ""
