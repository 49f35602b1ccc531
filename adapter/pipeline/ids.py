"""Where the resources of a message are stored, and the message rewritten to those ids.

The same person, organisation or record sent again (by anyone) must land on the stored one, and nobody may take
another sender's ids; both are decided here, before anything is checked or written.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from adapter import access
from adapter.errors import Issue
from adapter.pipeline.message import Message
from adapter.receipt.sync import BASE
from adapter.sharing import same_record
from adapter.store import StoredResource, Tx

#: The namespace of the ids the service gives to resources of a message that have none, or whose id was taken.
STORED_IDS = uuid.UUID("0d5c3e1a-8f2b-5a47-9c6d-3e2f1a0b4c5d")


def stored_ids(tx: Tx, message: Message, bundle: dict[str, Any]) -> dict[str, str]:
    """Where each resource of the message is stored: reference forms -> ``Type/id``. A person or organisation
    already stored under the same national identifier, or a record with the business identifier of a stored
    record of the same patient, is that stored one (:func:`~adapter.sharing.same_record`); others keep their
    own id (or get a deterministic one), unless it was taken (:func:`_unsquatted`)."""
    ids: dict[str, str] = {}
    records: list[tuple[dict[str, Any], str, list[str]]] = []
    for index, entry in enumerate(bundle.get("entry", [])):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            continue
        rtype = str(resource["resourceType"])
        own = resource.get("id") if isinstance(resource.get("id"), str) else None
        rid = str(own or uuid.uuid5(STORED_IDS, f"{message.sender}|{message.msg_id}|{index}"))
        found = same_record(tx, rtype, resource, None) if rtype in access.MATCH_BY_IDENTIFIER else None
        forms = [str(form) for form in (entry.get("fullUrl"), key_of(resource)) if form]
        for form in forms:
            ids[form] = f"{rtype}/{found.id if found else rid}"
        if rtype not in access.MATCH_BY_IDENTIFIER and forms:
            records.append((resource, rtype, forms))
    for resource, rtype, forms in records:  # once the patients' stored ids are known
        written = access.patient_reference(resource)
        patient = ids.get(written, written) if written else None
        found = same_record(tx, rtype, resource, patient)
        if found is not None:
            for form in forms:
                ids[form] = f"{rtype}/{found.id}"
        else:
            _unsquatted(tx, message, rtype, patient, forms, ids)
    return ids


def _unsquatted(
    tx: Tx, message: Message, rtype: str, patient: str | None, forms: list[str], ids: dict[str, str]
) -> None:
    """A record whose id is held by a stored record of another patient, or by one whose creator takes no part in
    the patient's care, is not that record: someone took the id first (squatted it), or it collides. It is
    stored under an id of the sender's own, the same every time (information ADP-7021), so nobody can lock a
    sender out of its ids. Otherwise the same id is the same record, and the rules for changing it apply
    (ADP-7013, ADP-7017)."""
    target = ids[forms[0]]
    held = tx.read(*access.split_reference(target))
    if held is None or not held.patient or not patient:
        return
    holder = held.creator
    if holder == message.sender or (held.patient == patient and holder and tx.cares_for(holder, held.patient)):
        return
    own = f"{rtype}/{uuid.uuid5(STORED_IDS, f'{message.sender}|{target}')}"
    message.issues.append(Issue("ADP-7021", "information", args={"ref": target, "stored": own}))
    for form in forms:
        ids[form] = own


def key_of(resource: dict[str, Any]) -> str:
    """The ``Type/id`` form a message's references may use for ``resource`` (empty when it has no id)."""
    return f"{resource.get('resourceType')}/{resource.get('id')}" if resource.get("id") else ""


def rewritten(resource: dict[str, Any], ids: dict[str, str], full_url: str) -> dict[str, Any]:
    """A copy of ``resource`` stored under its id in ``ids``, with every reference to a message entry rewritten
    to the stored ``Type/id``."""

    def walk(value: Any) -> Any:  # called for objects and arrays only; other values are copied as they are
        if isinstance(value, dict):
            out = {k: walk(v) if isinstance(v, dict | list) else v for k, v in value.items()}
            if isinstance(out.get("reference"), str) and out["reference"] in ids:
                out["reference"] = ids[out["reference"]]
            return out
        return [walk(v) if isinstance(v, dict | list) else v for v in value]

    body: dict[str, Any] = walk(resource)
    target = ids.get(full_url) or ids.get(key_of(resource))
    if target:
        body["id"] = target.split("/", 1)[1]
    return body


def stored_bundle(bundle: dict[str, Any], ids: dict[str, str], written: list[StoredResource]) -> bytes:
    """The message as a FHIR receiver gets it: each resource as stored (its id, ``meta.versionId`` and references
    as here, so the receiver can base its next change on that version), under a fullUrl that names it."""
    stored = {f"{s.type}/{s.id}": s.body for s in written}
    entries = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        target = ids.get(str(entry.get("fullUrl", ""))) or (
            ids.get(key_of(resource)) if isinstance(resource, dict) else None
        )
        if target in stored:
            entries.append({"fullUrl": f"{BASE}/{target}", "resource": stored[target]})
        elif isinstance(resource, dict):  # the header (and what was not stored): its references as stored
            entries.append({**entry, "resource": rewritten(resource, ids, str(entry.get("fullUrl", "")))})
        else:
            entries.append(entry)
    return json.dumps({**bundle, "entry": entries}, ensure_ascii=False).encode()
