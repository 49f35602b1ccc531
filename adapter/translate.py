"""KITH <-> FHIR translation as one library call, used by the command line and the service.

``Translator.kith_to_fhir(data)`` reads KITH XML through the hardened parser, checks it against the KITH XSDs,
maps it with the mapping files and validates the Bundle against our profiles; ``fhir_to_kith(bundle)`` does the
reverse and checks the XML it wrote against its XSD. Structured plans travel to KITH systems as a Dialogmelding 1.1
whose attachments are the FHIR Bundle (application/fhir+xml) and a readable Norwegian text; a referral written in
FHIR as a Henvisning 2.0 with the FHIR Bundle attached (adapter/mapping/referral.py shapes it for the mapping); a
message with such an attachment gives the FHIR Bundle back. Every result carries all issues found; nothing raises
for bad input except a message too broken to read at all, whose issues are in the result too.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fhir.resources.R4B.bundle import Bundle as BundleModel
from lxml import etree

from adapter.access import bundle_resolver, message_header
from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.mapping import Mappings
from adapter.mapping.envelope import Read
from adapter.mapping.referral import shape_referral, telecom_url
from adapter.mapping.render import render_plan
from adapter.parse.fhir_source import read_fhir
from adapter.parse.xml_safe import parse_xml, salvage_root
from adapter.parse.xsd import MAX_FINDINGS, SchemaRegistry
from adapter.validate import Validator

FHIR_XML = "application/fhir+xml"
MELDINGSHENDELSE = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
KITH_8279 = "urn:oid:2.16.578.1.12.4.1.1.8279"
KITH_7322 = "urn:oid:2.16.578.1.12.4.1.1.7322"
KITH_8114 = "urn:oid:2.16.578.1.12.4.1.1.8114"
DIALOG_11 = "http://samhandling.no/fhir/MessageDefinition/kith-dialogmelding-1.1"
_WRAP_NAMESPACE = uuid.UUID("3c8f5a52-9d6e-5b61-a0a4-8e1f2b7d4c90")
_BLOCKING = ("fatal", "error")


@dataclass
class Translation:
    """The outcome of one translation: the result (a Bundle or KITH XML bytes), the parsed inbound KITH root when
    there was one (for the receipt; for a message that could not be parsed, what a recovering read of its start
    gives, so that a readable MsgHead still gets its T01 receipt), and every issue found on the way."""

    bundle: dict[str, Any] | None = None
    xml: bytes | None = None
    kith_root: etree._Element | None = None
    issues: list[Issue] = field(default_factory=list)
    #: the envelope of the inbound KITH message (id, date, type, parties, patient) as its standard declares it
    envelope: Read | None = None
    #: ``bundle`` is the FHIR message the KITH message carried as an attachment (not one mapped from its elements)
    attached: bool = False

    @property
    def ok(self) -> bool:
        """No error or fatal issue."""
        return not any(issue.severity in _BLOCKING for issue in self.issues)


class Translator:
    """Mapping files, XSDs and profiles, loaded once; translate in both directions."""

    def __init__(self, settings: Settings, validator: Validator | None = None) -> None:
        self.settings = settings
        self.mappings = Mappings.load(settings)
        self.schemas = SchemaRegistry.from_settings(settings)
        self.validator = validator or Validator(settings)

    # --- KITH -> FHIR ----------------------------------------------------------------------------------------

    def kith_to_fhir(self, data: bytes) -> Translation:
        """Read, schema-check, map and validate one KITH message."""
        result = Translation()
        try:
            tree = parse_xml(data)
        except AdapterError as error:
            result.issues.extend(error.issues)
            # The receipt (T01) still goes to the sender when the MsgHead can be read (HITS 1168 5.3).
            result.kith_root = salvage_root(data)
            result.envelope = self.mappings.envelope(result.kith_root)
            return result
        result.kith_root = tree.getroot()
        result.envelope = self.mappings.envelope(result.kith_root)
        if result.envelope is not None and not result.envelope.msg_id:
            # nothing can be answered or recognised again without it: refused with E10, by the CLI and the service
            result.issues.append(Issue("ADP-3015", "error", args={"apprec_code": "E10"}))
        schema_issues = self.schemas.validate(tree)
        result.issues.extend(schema_issues)
        broken = any(issue.code == "ADP-2001" for issue in schema_issues)
        if sum(issue.code == "ADP-2001" for issue in schema_issues) > MAX_FINDINGS:
            return result  # refused for its schema (T02) already; mapping thousands of stray elements helps no one
        try:
            bundle, issues = self.mappings.to_fhir(tree.getroot(), keep_whole=broken)
        except AdapterError as error:
            result.issues.extend(error.issues)
            return result
        except (ValueError, KeyError, IndexError, TypeError) as error:
            result.issues.append(Issue("ADP-3006", "error", args={"detail": repr(error)}))
            return result
        result.issues.extend(issues)
        if any(issue.code == "ADP-3002" for issue in issues):
            return result  # content we cannot map: refused (T10), no half a Bundle
        unwrapped, unwrap_issues = self._unwrap_plan(bundle)
        result.issues.extend(unwrap_issues)
        result.bundle, result.attached = unwrapped, unwrapped is not bundle
        result.issues.extend(self.validator.validate(unwrapped))
        return result

    def _unwrap_plan(self, bundle: dict[str, Any]) -> tuple[dict[str, Any], list[Issue]]:
        """The structured plan carried as an application/fhir+xml attachment, when there is one."""
        for entry in bundle.get("entry", []):
            resource = entry.get("resource", {})
            if resource.get("resourceType") != "DocumentReference":
                continue
            for content in resource.get("content", []):
                attachment = content.get("attachment", {})
                if attachment.get("contentType") != FHIR_XML or "data" not in attachment:
                    continue
                try:
                    data = base64.b64decode(attachment["data"], validate=False)
                    source = read_fhir(data, self.validator.definitions, "xml")
                except (AdapterError, ValueError) as error:
                    issues = error.issues if isinstance(error, AdapterError) else []
                    return bundle, issues
                if source.resource.get("resourceType") == "Bundle":
                    return source.resource, source.issues
        return bundle, []

    # --- FHIR -> KITH ----------------------------------------------------------------------------------------

    def fhir_to_kith(self, bundle: dict[str, Any]) -> Translation:
        """Map a FHIR message Bundle to KITH XML (a plan goes as Dialogmelding 1.1 with attachments, a referral as
        Henvisning 2.0 with the Bundle attached)."""
        try:
            return self._fhir_to_kith(bundle)
        except (ValueError, KeyError, IndexError, TypeError, AttributeError, etree.LxmlError) as error:
            # A Bundle that was not validated first ($convert) may have any shape: not even writable as FHIR XML,
            # or with objects where the mapping expects lists. That is an issue of the input, not a crash.
            detail = " ".join(str(error).split())[:500] or type(error).__name__
            return Translation(bundle=bundle, issues=[Issue("ADP-3004", "error", args={"detail": detail})])

    def _fhir_to_kith(self, bundle: dict[str, Any]) -> Translation:
        result = Translation(bundle=bundle)
        header = message_header(bundle)
        if header is None:
            detail = "it is not a message Bundle whose first entry is a MessageHeader"
            result.issues.append(Issue("ADP-3004", "error", args={"detail": detail}))
            return result
        if header.get("eventCoding", {}).get("system") == MELDINGSHENDELSE:
            try:
                shaped = self._kith_shaped(bundle, header, result.issues)
            except AdapterError as error:
                result.issues.extend(error.issues)
                return result
            if shaped is None:
                return result
            bundle = shaped
            header = message_header(bundle) or header
        root = self.mappings.root_for(str(header.get("definition", "")))
        try:
            element = self.mappings.to_kith(bundle, root)
        except (AdapterError, ValueError, KeyError, IndexError, TypeError, AttributeError, etree.LxmlError) as error:
            detail = "; ".join(str(i) for i in error.issues) if isinstance(error, AdapterError) else repr(error)
            result.issues.append(Issue("ADP-3004", "error", args={"detail": detail}))
            return result
        result.xml = etree.tostring(element, xml_declaration=True, encoding="UTF-8")
        result.kith_root = element
        result.issues.extend(self.schemas.validate(etree.ElementTree(element)))
        return result

    def _kith_shaped(
        self, bundle: dict[str, Any], header: dict[str, Any], issues: list[Issue]
    ) -> dict[str, Any] | None:
        """The KITH-shaped Bundle for a FHIR-native message, by the KITH message type its event travels as (the
        ConceptMap meldingshendelse-til-kith-8279): a referral as Henvisning 2.0 (adapter/mapping/referral.py), the
        other events as Dialogmelding 1.1. None when it cannot be sent (the reasons are added to ``issues``)."""
        event = str(header.get("eventCoding", {}).get("code", ""))
        kith_type = self.mappings.conceptmaps.translate("meldingshendelse-til-kith-8279", event) or ""
        if not kith_type.startswith(("DIALOG", "HENVISNING")):
            raise AdapterError.of("ADP-3004", detail=f"the event {event!r} has no KITH counterpart")
        title = str(header.get("eventCoding", {}).get("display") or event)
        new_id = _new_ids(bundle)
        # the message itself, as FHIR XML: a KITH receiver with FHIR reads it from this attachment
        attachment = _document(
            new_id("bundle"), FHIR_XML, f"{title} (FHIR)", _fhir_xml(bundle), bundle.get("timestamp")
        )
        if kith_type.startswith("DIALOG"):
            return self._wrap_plan(bundle, header, _Wrapping(event, kith_type, title, new_id, attachment))
        shaped, found = shape_referral(bundle, header, self.mappings, attachment)
        issues.extend(found)
        return shaped

    def _telecom_as_urls(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A copy of a person or organisation whose ContactPoints are KITH TeleAddress URLs (``tel:``, ``mailto:``),
        as every KITH message writes them and as they are read back (the scheme gives the system)."""
        telecom = resource.get("telecom")
        if not isinstance(telecom, list):
            return resource
        urls = [telecom_url(c, self.mappings.tables) if isinstance(c, dict) else None for c in telecom]
        return {**resource, "telecom": [{**c, "value": u} if u else c for c, u in zip(telecom, urls, strict=True)]}

    def _wrap_plan(self, bundle: dict[str, Any], header: dict[str, Any], wrapping: _Wrapping) -> dict[str, Any]:
        """The KITH-shaped Bundle for a FHIR-native message: Dialogmelding 1.1 (helsefaglig dialog) with a note and
        two attachments, the Bundle itself as FHIR XML (``wrapping.attachment``) and a readable rendering of its
        focus."""
        event, kith_type, title, new_id = wrapping.event, wrapping.kith_type, wrapping.title, wrapping.new_id
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
                entries.append({"fullUrl": url, "resource": self._telecom_as_urls(resource)})
            return {"reference": urls[id(resource)]}

        text = render_plan(plan, resolve) if plan.get("resourceType") == "CarePlan" else title + "\n"
        patient = copy(plan.get("subject") or plan.get("patient"))
        notat_id, bundle_doc, text_doc = new_id("notat"), str(wrapping.attachment["id"]), new_id("tekst")
        topic = self.mappings.conceptmaps.translate("meldingshendelse-til-kith-7322", event) or "6"
        notat = _note(notat_id, topic, title, text, patient)
        new_header: dict[str, Any] = {
            "resourceType": "MessageHeader",
            "id": new_id("header"),
            "meta": {"profile": ["http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding"]},
            "eventCoding": {"system": KITH_8279, "code": kith_type},
            "source": header.get("source", {"endpoint": "urn:oid:2.16.578.1.12.4.1.2"}),
            "focus": [{"reference": "urn:uuid:" + i} for i in (notat_id, bundle_doc, text_doc)],
            "definition": DIALOG_11,
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
            wrapping.attachment,
            _document(text_doc, "text/plain; charset=utf-8", title, text.encode("utf-8"), bundle.get("timestamp")),
        ]
        return _dialog_bundle(bundle, new_id("bundle-kith"), new_header, entries, [notat, *documents])


def _note(notat_id: str, topic: str, title: str, text: str, patient: dict[str, str] | None) -> dict[str, Any]:
    """The Dialogmelding's note: the readable text of the plan, so that a KITH system without FHIR can still act on
    the message."""
    notat: dict[str, Any] = {
        "resourceType": "Communication",
        "id": notat_id,
        "meta": {"profile": ["http://hl7.org/fhir/StructureDefinition/Communication"]},
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


@dataclass(frozen=True)
class _Wrapping:
    """What the KITH type of a FHIR-native message was found with, for the Dialogmelding made of it."""

    event: str
    kith_type: str
    title: str
    new_id: Callable[[str], str]
    attachment: dict[str, Any]  # the DocumentReference that carries the message as FHIR XML


def _new_ids(bundle: dict[str, Any]) -> Callable[[str], str]:
    """Ids for what is made of a FHIR-native message, by role: the same message always gives the same ids."""
    seed = str(bundle.get("id", "")) + "|" + str(bundle.get("identifier", {}).get("value", ""))
    return lambda role: str(uuid.uuid5(_WRAP_NAMESPACE, f"{seed}|{role}"))


def _fhir_xml(bundle: dict[str, Any]) -> bytes:
    """The Bundle in FHIR XML (the attachment a KITH receiver with FHIR reads the message from)."""
    xml = BundleModel.model_validate(bundle).model_dump_xml()
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")


def _document(doc_id: str, content_type: str, title: str, data: bytes, created: Any) -> dict[str, Any]:
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
