"""A message written in FHIR (a structured plan, an assessment, a status) shaped as a Dialogmelding 1.1: the shaper
``plan-as-dialog`` of mappings/fhir.to-kith-dialogmelding-1.1.yaml (``shape:``, read by adapter/mapping/shapers.py).

The shaped Bundle is what kith-dialogmelding-1.1.to-fhir.yaml gives for a Dialogmelding (helsefaglig dialog), so the
same file read backwards writes it: a new MessageHeader with the KITH message type (list 8279) and the definition of
that mapping; the patient, sender and receivers copied (telecom as KITH TeleAddress URLs); a note (Communication)
with the readable Norwegian text of the message's focus, so a KITH system without FHIR can act on it; and two
attachments, the message itself as FHIR XML (a KITH receiver with FHIR reads it from there) and the same text as a
document. The profiles of the MessageHeader and the note come from the ``shape:`` block.

The ids of what is made are deterministic (:func:`new_ids`): the same message always gives the same KITH message.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fhir.resources.R4B.bundle import Bundle as BundleModel

from adapter.errors import AdapterError, Issue
from adapter.mapping.references import bundle_resolver
from adapter.mapping.referral_shaping import telecom_url
from adapter.mapping.render import render_plan

if TYPE_CHECKING:
    from adapter.mapping import Mappings
    from adapter.mapping.shapers import Outbound, Shape

FHIR_XML = "application/fhir+xml"
KITH_8279 = "urn:oid:2.16.578.1.12.4.1.1.8279"
KITH_7322 = "urn:oid:2.16.578.1.12.4.1.1.7322"
KITH_8114 = "urn:oid:2.16.578.1.12.4.1.1.8114"
#: The resource types this shaper makes, whose profiles its ``shape:`` block gives.
MAKES = frozenset({"MessageHeader", "Communication"})
_WRAP_NAMESPACE = uuid.UUID("3c8f5a52-9d6e-5b61-a0a4-8e1f2b7d4c90")


def shape_plan(message: Outbound, shape: Shape, mappings: Mappings) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The KITH-shaped Bundle for a FHIR-native message: Dialogmelding 1.1 (helsefaglig dialog) with a note and
    two attachments, the Bundle itself as FHIR XML (``message.attachment``) and a readable rendering of its focus.
    A message whose MessageHeader has no focus in the Bundle raises ADP-3004."""
    bundle, header, title, new_id = message.bundle, message.header, message.title, message.new_id
    resolve = bundle_resolver(bundle)
    focus = [resolve(str(ref.get("reference", ""))) for ref in header.get("focus", [])]
    plan = next((f for f in focus if f), None)
    if plan is None:
        raise AdapterError.of("ADP-3004", detail="the MessageHeader has no focus in the Bundle")
    entries: list[dict[str, Any]] = []
    urls: dict[int, str] = {}

    def copy(reference: Any) -> dict[str, str] | None:
        resource = resolve(str(reference.get("reference", ""))) if isinstance(reference, dict) else None
        if resource is None:
            return None
        if id(resource) not in urls:
            url = next(e["fullUrl"] for e in bundle["entry"] if e.get("resource") is resource)
            urls[id(resource)] = url
            entries.append({"fullUrl": url, "resource": telecom_as_urls(resource, mappings.tables)})
        return {"reference": urls[id(resource)]}

    text = render_plan(plan, resolve) if plan.get("resourceType") == "CarePlan" else title + "\n"
    patient = copy(plan.get("subject") or plan.get("patient"))
    notat_id, bundle_doc, text_doc = new_id("notat"), str(message.attachment["id"]), new_id("tekst")
    topic = mappings.conceptmaps.translate("meldingshendelse-til-kith-7322", message.event) or "6"
    notat = _note(notat_id, shape.profiles["Communication"], (topic, title, text), patient)
    new_header: dict[str, Any] = {
        "resourceType": "MessageHeader",
        "id": new_id("header"),
        "meta": {"profile": [shape.profiles["MessageHeader"]]},
        "eventCoding": {"system": KITH_8279, "code": message.kith_type},
        "source": header.get("source", {"endpoint": "urn:oid:2.16.578.1.12.4.1.2"}),
        "focus": [{"reference": "urn:uuid:" + i} for i in (notat_id, bundle_doc, text_doc)],
        "definition": shape.definition,
    }
    sender = copy(header.get("sender"))
    if sender:
        new_header["sender"] = sender
    destinations = []
    for destination in header.get("destination", []):
        receiver = copy(destination.get("receiver"))
        destinations.append({**destination, **({"receiver": receiver} if receiver else {})})
    new_header["destination"] = destinations
    documents = [
        message.attachment,
        document(text_doc, "text/plain; charset=utf-8", title, text.encode("utf-8"), bundle.get("timestamp")),
    ]
    return _dialog_bundle(bundle, new_id("bundle-kith"), new_header, entries, [notat, *documents]), []


def telecom_as_urls(resource: dict[str, Any], tables: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A copy of a person or organisation whose ContactPoints are KITH TeleAddress URLs (``tel:``, ``mailto:``),
    as every KITH message writes them and as they are read back (the scheme gives the system)."""
    telecom = resource.get("telecom")
    if not isinstance(telecom, list):
        return resource
    urls = [telecom_url(c, tables) if isinstance(c, dict) else None for c in telecom]
    return {**resource, "telecom": [{**c, "value": u} if u else c for c, u in zip(telecom, urls, strict=True)]}


def _note(notat_id: str, profile: str, content: tuple[str, str, str], patient: dict[str, str] | None) -> dict[str, Any]:
    """The Dialogmelding's note: the readable text of the plan (``content``: the topic code of list 7322, the title
    and the text), so that a KITH system without FHIR can still act on the message."""
    topic, title, text = content
    notat: dict[str, Any] = {
        "resourceType": "Communication",
        "id": notat_id,
        "meta": {"profile": [profile]},
        "status": "completed",
        "topic": {"coding": [{"system": KITH_7322, "code": topic}], "text": title},
        "payload": [{"contentString": text.strip()}],
    }
    if patient:
        notat["subject"] = patient
    return notat


def _dialog_bundle(
    bundle: dict[str, Any],
    bundle_id: str,
    header: dict[str, Any],
    entries: list[dict[str, Any]],
    made: list[dict[str, Any]],
) -> dict[str, Any]:
    """The KITH-shaped message Bundle: the new MessageHeader first, the ``entries`` copied from the message (with
    their own fullUrls, which its references use), then the resources ``made`` for it (``urn:uuid:`` of their ids);
    the original message's identifier and timestamp stay, so the receipt and the log match it."""
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "meta": bundle.get("meta", {}),
        "identifier": bundle.get("identifier", {}),
        "type": "message",
        "timestamp": bundle.get("timestamp"),
        "entry": [
            {"fullUrl": "urn:uuid:" + header["id"], "resource": header},
            *entries,
            *({"fullUrl": "urn:uuid:" + r["id"], "resource": r} for r in made),
        ],
    }


def new_ids(bundle: dict[str, Any]) -> Callable[[str], str]:
    """Ids for what is made of a FHIR-native message, by role: the same message always gives the same ids."""
    seed = str(bundle.get("id", "")) + "|" + str(bundle.get("identifier", {}).get("value", ""))
    return lambda role: str(uuid.uuid5(_WRAP_NAMESPACE, f"{seed}|{role}"))


def fhir_xml(bundle: dict[str, Any]) -> bytes:
    """The Bundle in FHIR XML (the attachment a KITH receiver with FHIR reads the message from)."""
    xml = BundleModel.model_validate(bundle).model_dump_xml()
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")


def document(doc_id: str, content_type: str, title: str, data: bytes, created: Any) -> dict[str, Any]:
    """An attachment as a DocumentReference (type A, Vedlegg, list 8114) that the mapping writes as a KITH
    Document with a Base64Container; every shaper attaches the message itself this way."""
    attachment: dict[str, Any] = {
        "contentType": content_type,
        "data": base64.b64encode(data).decode("ascii"),
        "title": title,
    }
    if created:
        attachment["creation"] = created
    return {
        "resourceType": "DocumentReference",
        "id": doc_id,
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/DocumentReference"]},
        "status": "current",
        "type": {"coding": [{"system": KITH_8114, "code": "A", "display": "Vedlegg"}]},
        "content": [{"attachment": attachment}],
    }
