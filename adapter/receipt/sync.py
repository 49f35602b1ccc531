"""One plan, every party in sync: the FHIR message that tells another party a shared resource has changed.

When a change to a shared resource is accepted (by REST, FHIR message or KITH), every other organisation entitled
to it gets the new version through the outbox (:mod:`adapter.pipeline` and :mod:`adapter.records` decide who;
:mod:`adapter.sharing` says who is entitled). This module builds what they get: a message Bundle of our profile
``samhandlingsmelding-bundle`` whose event is the one our MessageDefinitions give for the focus resource's profile
(``crisisplan-shared`` for a crisis plan: "created or changed and shared"), from the writer to the recipient,
with the changed resources, their patient and the organisations and practitioners they refer to. A KITH recipient
gets the same Bundle translated (a Dialogmelding with the Bundle attached and the readable text).

Ids are uuid5 of the changed versions and the recipient, so the same change to the same recipient is one message
(the outbox is keyed by message id and destination).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

from adapter.access import profiles_of
from adapter.identifiers import HER_SYSTEM
from adapter.receipt.fhir_response import PROFILE_BUNDLE, PROFILE_HEADER
from adapter.store import StoredResource

_SYNC_IDS = uuid.UUID("3c9e1f7a-52d4-5b8e-a1c6-7d2e9f0b4a13")
#: The base of the fullUrls of the resources this service sends on (its canonical base).
BASE = "http://samhandling.no/fhir"


@cache
def events_by_profile(resources_dir: Path) -> dict[str, tuple[dict[str, Any], str]]:
    """focus profile -> (eventCoding, MessageDefinition url), read once from our compiled MessageDefinitions."""
    found: dict[str, tuple[dict[str, Any], str]] = {}
    for path in sorted(resources_dir.glob("MessageDefinition-*.json")):
        definition = json.loads(path.read_text(encoding="utf-8"))
        for focus in definition.get("focus", []):
            if focus.get("profile"):
                found.setdefault(str(focus["profile"]), (definition["eventCoding"], str(definition["url"])))
    return found


def sync_message(
    changed: list[StoredResource],
    *,
    writer: str,
    recipient: str,
    endpoint: str | None,
    resolve: Callable[[str], dict[str, Any] | None],
    organisation: Callable[[str], StoredResource | None],
    events: dict[str, tuple[dict[str, Any], str]],
    timestamp: str,
    include: Callable[[str], bool] = lambda reference: True,
) -> dict[str, Any] | None:
    """The message telling ``recipient`` (HER-id) that organisation ``writer`` changed ``changed`` (the first is
    the focus); None when no MessageDefinition covers the focus (then there is no message to send).
    ``resolve`` reads a stored resource by reference, ``organisation`` finds the stored Organization of a HER-id,
    ``include`` says whether a referenced resource may go along (the Patient, unless the patient denied it)."""
    focus = changed[0]
    event = next((events[p] for p in sorted(profiles_of(focus.body)) if p in events), None)
    if event is None:
        return None
    key = "|".join(f"{r.type}/{r.id}/{r.version}" for r in changed)
    message_id = str(uuid.uuid5(_SYNC_IDS, f"{key}|{recipient}"))
    entries = _entries(changed, resolve, include)
    sender, receiver = _parties((writer, recipient), organisation, entries)
    destination = {"endpoint": endpoint or f"{HER_SYSTEM}.{recipient}", "receiver": receiver}
    header = {
        "resourceType": "MessageHeader",
        "id": message_id,
        "meta": {"profile": [PROFILE_HEADER]},
        "eventCoding": event[0],
        "destination": [destination],
        "sender": sender,
        "source": {"name": "samhandling-adapter", "software": "samhandling-adapter", "endpoint": BASE},
        "focus": [{"reference": f"{focus.type}/{focus.id}"}],
        "definition": event[1],
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid5(_SYNC_IDS, f"bundle|{message_id}")),
        "meta": {"profile": [PROFILE_BUNDLE]},
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{message_id}"},
        "type": "message",
        "timestamp": timestamp,
        "entry": [
            {"fullUrl": f"{BASE}/MessageHeader/{message_id}", "resource": header},
            *({"fullUrl": f"{BASE}/{ref}", "resource": body} for ref, body in entries.items()),
        ],
    }


def _entries(
    changed: list[StoredResource],
    resolve: Callable[[str], dict[str, Any] | None],
    include: Callable[[str], bool],
) -> dict[str, dict[str, Any]]:
    """reference -> body of what goes along: the changed resources and the patient, organisations and
    practitioners they refer to (those ``include`` lets go)."""
    entries: dict[str, dict[str, Any]] = {}
    for resource in changed:
        entries[f"{resource.type}/{resource.id}"] = resource.body
    for reference in sorted(_references(r.body for r in changed)):
        kind = reference.split("/")[0]
        if reference not in entries and kind in ("Patient", "Organization", "Practitioner") and include(reference):
            body = resolve(reference)
            if body is not None:
                entries[reference] = body
    return entries


def _parties(
    hers: tuple[str, str],
    organisation: Callable[[str], StoredResource | None],
    entries: dict[str, dict[str, Any]],
) -> list[dict[str, Any]]:
    """A reference for each HER-id: to its stored Organization (added to ``entries``), else by identifier."""
    parties: list[dict[str, Any]] = []
    for her in hers:
        stored = organisation(her)
        if stored is None:
            parties.append({"identifier": {"system": HER_SYSTEM, "value": her}})
            continue
        entries.setdefault(f"Organization/{stored.id}", stored.body)
        parties.append({"reference": f"Organization/{stored.id}"})
    return parties


def _references(bodies: Iterable[dict[str, Any]]) -> set[str]:
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            reference = value.get("reference")
            if isinstance(reference, str) and reference.count("/") == 1:
                found.add(reference)
            for child in value.values():
                if isinstance(child, dict | list):
                    walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    for body in bodies:
        walk(body)
    return found
