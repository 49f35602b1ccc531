"""The FHIR acknowledgement message that answers a FHIR message (``MessageHeader.response``).

The answer mirrors the request (HL7 FHIR R4 messaging, 2.4): its MessageHeader has the same event, the request's
sender as receiver and its receiver as sender, ``response.identifier`` = the request's MessageHeader.id, and
``response.code`` ``ok``, ``transient-error`` or ``fatal-error``, with ``response.details`` an OperationOutcome
holding every issue found. Organizations the two headers name are carried along so the references resolve. Ids
are uuid5 of the request's id, so the same request gets the same answer (a duplicate is answered from the store).
"""

from __future__ import annotations

import uuid
from typing import Any

from adapter.access import Resolver
from adapter.errors import Issue
from adapter.narrative import bundle_with_narrative
from adapter.reply import operation_outcome

_ACK_IDS = uuid.UUID("6f1d2c3b-4a59-5e8f-9b0a-1c2d3e4f5a6b")
PROFILE_HEADER = "http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding"
PROFILE_BUNDLE = "http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding-bundle"
ADAPTER_ENDPOINT = "urn:samhandling-adapter"


def response_code(issues: list[Issue]) -> str:
    """``fatal-error`` when any issue is an error, else ``ok`` (transient errors are the caller's to say)."""
    return "fatal-error" if any(i.severity in ("error", "fatal") for i in issues) else "ok"


def acknowledgement(
    request_header: dict[str, Any] | None,
    resolve: Resolver,
    issues: list[Issue],
    *,
    timestamp: str,
    code: str | None = None,
    request_id: str = "",
) -> dict[str, Any]:
    """The acknowledgement Bundle for a request whose first entry was ``request_header`` (None when the request
    had none: the answer then carries the issues with a generic event)."""
    header = request_header or {}
    original = str(header.get("id") or request_id)
    outcome = {**operation_outcome(issues), "id": _ack_id(original, "outcome")}
    carry = _Carrier(resolve)
    answer = _answer_header(header, original, code or response_code(issues), outcome["id"], carry)
    entries = [answer, outcome, *carry.carried]
    ack = {
        "resourceType": "Bundle",
        "id": _ack_id(original, "bundle"),
        "meta": {"profile": [PROFILE_BUNDLE]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + _ack_id(original, "identifier")},
        "type": "message",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": f"http://samhandling.no/fhir/{r['resourceType']}/{r['id']}", "resource": r} for r in entries
        ],
    }
    return bundle_with_narrative(ack)  # the header, the outcome and what it carries, readable (a sender's text kept)


def _ack_id(original: str, role: str) -> str:
    """The id of one part (``role``) of the answer to the request ``original``."""
    return str(uuid.uuid5(_ACK_IDS, f"{original}|{role}"))


class _Carrier:
    """Turns a reference of the request into one for the answer, collecting (once) the resources it names."""

    def __init__(self, resolve: Resolver) -> None:
        self.resolve = resolve
        self.carried: list[dict[str, Any]] = []
        self.seen: set[int] = set()

    def __call__(self, reference: Any) -> dict[str, Any] | None:
        if not isinstance(reference, dict):
            return None
        target = self.resolve(str(reference.get("reference", ""))) if reference.get("reference") else None
        if not isinstance(target, dict):
            return {k: v for k, v in reference.items() if k != "reference"} or None
        if id(target) not in self.seen and target.get("id"):
            self.seen.add(id(target))
            self.carried.append(target)
        return {"reference": f"{target.get('resourceType')}/{target.get('id')}"}


def _answer_header(
    header: dict[str, Any], original: str, code: str, outcome_id: str, carry: _Carrier
) -> dict[str, Any]:
    """The answer's MessageHeader, mirroring the request's ``header``."""
    # The request may be invalid in any way (the acknowledgement says so): only parts of the right shape are used.
    source: dict[str, Any] = header["source"] if isinstance(header.get("source"), dict) else {}
    event = header.get("eventCoding")
    answer: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": _ack_id(original, "header"),
        "meta": {"profile": [PROFILE_HEADER]},
        "eventCoding": event
        if isinstance(event, dict) and event
        else {"system": "http://samhandling.no/fhir/CodeSystem/meldingshendelse", "code": "acknowledgement"},
        "destination": [{"endpoint": str(source.get("endpoint") or "urn:unknown-sender")}],
        "source": {"name": "samhandling-adapter", "software": "samhandling-adapter", "endpoint": ADAPTER_ENDPOINT},
        "response": {
            "identifier": original or "unknown",
            "code": code,
            "details": {"reference": f"OperationOutcome/{outcome_id}"},
        },
    }
    receiver = carry(header.get("sender"))
    if receiver:
        answer["destination"][0]["receiver"] = receiver
    destinations = header.get("destination")
    first = destinations[0] if isinstance(destinations, list) and destinations else None
    sender = carry(first.get("receiver")) if isinstance(first, dict) else None
    if sender:
        answer["sender"] = sender
    if isinstance(header.get("definition"), str) and header["definition"]:
        answer["definition"] = header["definition"]
    return answer
