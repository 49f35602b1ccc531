"""FHIR content negotiation: JSON or XML by ``_format`` and ``Accept`` (answers) and ``Content-Type`` (requests)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request

from adapter.reply import Reply

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
_XML_NAMES = ("xml", "text/xml", "application/xml", FHIR_XML)
_JSON_NAMES = ("json", "application/json", FHIR_JSON)


def wants_xml() -> bool:
    """Whether the answer should be FHIR XML: ``_format`` decides, then ``Accept`` (JSON by default)."""
    requested = request.args.get("_format", "").split(";")[0].strip().lower()
    if requested:
        return requested in _XML_NAMES
    accept = request.accept_mimetypes
    best = accept.best_match([FHIR_JSON, "application/json", FHIR_XML, "application/xml", "text/xml"])
    return best in (FHIR_XML, "application/xml", "text/xml")


def wants_page() -> bool:
    """Whether a reader wants the page rather than the resource: ``?format=pdf``, ``_format=html``, or an
    ``Accept`` that prefers ``text/html`` over every FHIR format (a browser). FHIR clients (a FHIR type, ``*/*``
    or no ``Accept``) get FHIR as before."""
    if request.args.get("format") == "pdf":
        return True
    requested = request.args.get("_format", "").split(";")[0].strip().lower()
    if requested:
        return requested in ("html", "text/html")
    offered = [FHIR_JSON, "application/json", FHIR_XML, "application/xml", "text/xml", "text/html"]
    return request.accept_mimetypes.best_match(offered) == "text/html"


def body_format() -> str | None:
    """The format of the request body by its Content-Type: ``json``, ``xml``, or None (sniffed from the bytes)."""
    content_type = (request.mimetype or "").lower()
    if content_type in _XML_NAMES:
        return "xml"
    if content_type in _JSON_NAMES:
        return "json"
    return None


def respond(reply: Reply) -> Response:
    """A Flask response for a :class:`Reply`: the resource in the negotiated format, or the raw bytes."""
    if reply.resource is None:
        response = Response(reply.body, status=reply.status, content_type=reply.content_type or "application/xml")
    elif wants_xml():
        response = Response(to_xml(reply.resource), status=reply.status, content_type=FHIR_XML + "; charset=utf-8")
    else:
        pretty = request.args.get("_pretty") == "true"
        text = json.dumps(reply.resource, ensure_ascii=False, indent=2 if pretty else None)
        response = Response(text, status=reply.status, content_type=FHIR_JSON + "; charset=utf-8")
    for name, value in reply.headers.items():
        response.headers[name] = value
    return response


#: Characters XML 1.0 cannot carry at all (control characters, surrogates, U+FFFE/U+FFFF).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(value: Any) -> Any:
    """``value`` with every character XML cannot carry replaced by U+FFFD (an issue text may quote the input)."""
    if isinstance(value, str):
        return _NOT_XML.sub("\ufffd", value)
    if isinstance(value, dict):
        return {key: _xml_safe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml_safe(item) for item in value]
    return value


def to_xml(resource: dict[str, Any]) -> bytes:
    """FHIR XML of a resource (through the fhir.resources R4B models, which write the official XML form)."""
    from fhir.resources.R4B import get_fhir_model_class

    resource = _xml_safe(resource)
    model = get_fhir_model_class(str(resource["resourceType"])).model_validate(resource)
    xml = model.model_dump_xml()
    return xml if isinstance(xml, bytes) else xml.encode("utf-8")
