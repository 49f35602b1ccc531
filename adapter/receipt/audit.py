"""AuditEvents (FHIR R4) for every read, write and disclosure of patient data.

One event says who (the calling organisation's HER-id and the token's subject), what (the resource and the
patient), when (``recorded``), what was done (``action``: C create, R read, U update, E execute: a search or a
message) and how it ended (``outcome``: 0 success, 4 refused, 8 failed). A disclosure, a plan sent to another
organisation, is recorded with type DICOM 110106 (Export) and that organisation as a second agent.

An event written while the service answers an HTTP request carries the request's id (:data:`REQUEST_ID`, set by the
app; the ``X-Request-Id`` of the response and of the access log line) in ``source.observer.identifier`` (type
text ``X-Request-Id``): the adapter observed the event while answering that request. An audit entry leads to its log
line and back; the entities stay those of the data, so two events of the same access compare equal there.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from adapter.identifiers import HER_SYSTEM
from adapter.narrative import with_narrative

_REST = {
    "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
    "code": "rest",
    "display": "RESTful Operation",
}
_TRANSMIT = {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110106", "display": "Export"}
_RECEIVE = {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110107", "display": "Import"}
_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
#: event kind -> AuditEvent.type
TYPES = {"rest": _REST, "disclosure": _TRANSMIT, "message": _RECEIVE}
#: outcome word -> AuditEvent.outcome code
OUTCOMES = {"success": "0", "refused": "4", "failed": "8"}
#: The id of the HTTP request being answered (None outside a request: the worker, the command line).
REQUEST_ID: ContextVar[str | None] = ContextVar("samhandling_request_id", default=None)
#: The ``source.observer.identifier.type.text`` of the request id.
REQUEST_ID_DETAIL = "X-Request-Id"


def audit_event(
    *,
    kind: str,
    action: str,
    outcome: str,
    recorded: str,
    org: str | None,
    subject: str | None,
    what: list[str],
    patient: str | None,
    recipient: str | None = None,
    detail: str | None = None,
    query: str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """One AuditEvent as a dict. ``what`` are references (``CarePlan/x``, ``Bundle/msg``) to the data concerned,
    ``recipient`` the HER-id of the organisation a disclosure went to, ``purpose`` a v3 ActReason code of the
    purpose of use (``ETREAT`` for an emergency read)."""
    agents = _agents(org, subject, recipient)
    entities = _entities(what, patient, query)
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": TYPES[kind],
        "action": action,
        "recorded": recorded,
        "outcome": OUTCOMES[outcome],
        "agent": agents,
        "source": {"observer": _observer(REQUEST_ID.get())},
        "entity": entities,
    }
    if detail:
        event["outcomeDesc"] = detail
    if purpose:
        event["purposeOfEvent"] = [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActReason", "code": purpose}]}
        ]
    return with_narrative(event)


def _agents(org: str | None, subject: str | None, recipient: str | None) -> list[dict[str, Any]]:
    """The calling organisation (the requestor) and, for a disclosure, the organisation it went to."""
    agents: list[dict[str, Any]] = [
        {
            "who": {"identifier": {"system": HER_SYSTEM, "value": org or "unknown"}},
            **({"altId": subject} if subject else {}),
            "requestor": True,
        }
    ]
    if recipient:
        agents.append(
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                            "display": "information recipient",
                        }
                    ]
                },
                "who": {"identifier": {"system": HER_SYSTEM, "value": recipient}},
                "requestor": False,
            }
        )
    return agents


def _entities(what: list[str], patient: str | None, query: str | None) -> list[dict[str, Any]]:
    """The data concerned, its patient and the query that found it."""
    entities: list[dict[str, Any]] = [{"what": {"reference": ref}} for ref in what]
    if patient:
        entities.append({"what": {"reference": patient}, "role": {"system": _ROLE, "code": "1", "display": "Patient"}})
    if query:
        entities.append(
            {
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "2"},
                "description": query,
            }
        )
    return entities


def _observer(request_id: str | None) -> dict[str, Any]:
    """The adapter as the event's observer, with the id of the request it was answering (when it was)."""
    observer: dict[str, Any] = {"display": "samhandling-adapter"}
    if request_id:
        observer["identifier"] = {"type": {"text": REQUEST_ID_DETAIL}, "value": request_id}
    return observer
