"""KITH <-> FHIR translation as one library call, used by the command line and the service.

``Translator.kith_to_fhir(data)`` reads KITH XML through the hardened parser, checks it against the KITH XSDs,
maps it with the mapping files and validates the Bundle against our profiles; ``fhir_to_kith(bundle)`` does the
reverse and checks the XML it wrote against its XSD. A message written in FHIR (its event from meldingshendelse) is
first shaped for the KITH type its event travels as, by the shaper the to-KITH mapping file of that type declares
(``shape:``, adapter/mapping/shapers.py): structured plans as a Dialogmelding 1.1 whose attachments are the FHIR
Bundle (application/fhir+xml) and a readable Norwegian text (adapter/mapping/plan_dialog.py), a referral as a
Henvisning 2.0 with the FHIR Bundle attached (adapter/mapping/referral.py); a message with such an attachment gives
the FHIR Bundle back. Every result carries all issues found; nothing raises for bad input except a message too
broken to read at all, whose issues are in the result too.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from adapter.access import message_header
from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.mapping import Mappings
from adapter.mapping.envelope import Read
from adapter.mapping.plan_dialog import FHIR_XML
from adapter.mapping.shapers import Outbound, shape_message
from adapter.parse.fhir_source import read_fhir
from adapter.parse.xml_safe import parse_xml, salvage_root
from adapter.parse.xsd import MAX_FINDINGS, SchemaRegistry
from adapter.validate import Validator

MELDINGSHENDELSE = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
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
        #: how a message written in FHIR is shaped, by KITH type (the ``shape:`` blocks of the to-KITH files)
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
        """Map a FHIR message Bundle to KITH XML (a message written in FHIR shaped first by the shaper its KITH type
        declares: a plan as Dialogmelding 1.1 with attachments, a referral as Henvisning 2.0 with the Bundle
        attached)."""
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
        ConceptMap meldingshendelse-til-kith-8279) and the shaper the to-KITH mapping file of that type declares
        (its ``shape:``, adapter/mapping/shapers.py). None when it cannot be sent (the reasons are added to
        ``issues``)."""
        event = str(header.get("eventCoding", {}).get("code", ""))
        kith_type = self.mappings.conceptmaps.translate("meldingshendelse-til-kith-8279", event) or ""
        shape = self.mappings.shapes.for_type(kith_type)
        if shape is None:
            raise AdapterError.of("ADP-3004", detail=f"the event {event!r} has no KITH counterpart")
        shaped, found = shape_message(shape, Outbound.of(bundle, header, event, kith_type), self.mappings)
        issues.extend(found)
        return shaped
