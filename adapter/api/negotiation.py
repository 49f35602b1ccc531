"""FHIR content negotiation: JSON or XML by ``_format`` and ``Accept`` (answers) and ``Content-Type`` (requests)."""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Response, request
from werkzeug.datastructures import MIMEAccept

from adapter.errors import Issue
from adapter.reply import Reply

FHIR_JSON = "application/fhir+json"
FHIR_XML = "application/fhir+xml"
FORM = "application/x-www-form-urlencoded"
# the DSTU2 names (``application/xml+fhir``) are still sent by older clients and taken as HAPI takes them
_XML_NAMES = ("xml", "text/xml", "application/xml", FHIR_XML, "application/xml+fhir")
_JSON_NAMES = ("json", "application/json", FHIR_JSON, "application/json+fhir")
_PAGE_NAMES = ("html", "text/html")
#: What an answer can be, most preferred first: FHIR JSON, FHIR XML, and the pages (a browser's ``text/html``).
_OFFERED = (FHIR_JSON, "application/json", "application/json+fhir", FHIR_XML, "application/xml", "text/xml")
_OFFERED_XML = (FHIR_XML, "application/xml", "text/xml", "application/xml+fhir")
#: The ``fhirVersion`` a media type may name (R4 http.html 3.1.0.1.9: the version of the FHIR it is): 4.0 only.
FHIR_VERSIONS = ("4.0", "4.0.1")


def _requested() -> str:
    """``_format`` as asked, lower case and without parameters; a ``+`` that came unencoded (and so was read as a
    space, ``_format=application/fhir+xml`` typed into a URL) is taken as the ``+`` it was, as HAPI does."""
    requested = request.args.get("_format", "").split(";")[0].strip().lower()
    return re.sub(r"\s+", "+", requested)


def _fhir_version(value: str) -> str | None:
    """The ``fhirVersion`` parameter of a media type (``application/fhir+json; fhirVersion=4.0``), None without."""
    for parameter in value.split(";")[1:]:
        key, _, given = parameter.partition("=")
        if key.strip().lower() == "fhirversion":
            return given.strip().strip('"')
    return None


def _accept() -> MIMEAccept:
    """The ``Accept`` header without media type parameters (``application/fhir+json; fhirVersion=4.0`` is
    ``application/fhir+json``; Werkzeug would match no offered type at all), the qualities kept; a type that names
    a FHIR version other than 4.0 is left out (it asks for what this server cannot give)."""
    return MIMEAccept(
        [
            (value.split(";")[0].strip(), quality)
            for value, quality in request.accept_mimetypes
            if _fhir_version(value) in (None, *FHIR_VERSIONS)
        ]
    )


def wants_xml() -> bool:
    """Whether the answer should be FHIR XML: ``_format`` decides, then ``Accept`` (JSON by default)."""
    requested = _requested()
    if requested:
        return requested in _XML_NAMES
    return _accept().best_match(_OFFERED) in _OFFERED_XML


def wants_page() -> bool:
    """Whether a reader wants the page rather than the resource: ``?format=pdf``, ``_format=html``, or an
    ``Accept`` that prefers ``text/html`` over every FHIR format (a browser). FHIR clients (a FHIR type, ``*/*``
    or no ``Accept``) get FHIR as before."""
    if request.args.get("format") == "pdf":
        return True
    requested = _requested()
    if requested:
        return requested in _PAGE_NAMES
    return _accept().best_match([*_OFFERED, "text/html"]) == "text/html"


def unacceptable() -> Issue | None:
    """Why the answer cannot be given in a form the caller takes (406, ADP-5046): a ``_format`` that names none of
    JSON, XML or the pages (``html``), or an ``Accept`` that names only types this server cannot give (``image/png``,
    or a FHIR type of another version, ``application/fhir+json; fhirVersion=5.0``: R4 http.html answers 406).
    A browser's ``Accept`` (``text/html`` first, ``*/*`` later) is taken; so is an empty or absent one."""
    requested = _requested()
    if requested:
        if requested in (*_XML_NAMES, *_JSON_NAMES, *_PAGE_NAMES):
            return None
    elif not request.headers.get("Accept", "").strip() or _accept().best_match([*_OFFERED, "text/html"]):
        return None
    else:
        requested = request.headers.get("Accept", "")[:200]
    offered = (
        f"{FHIR_JSON} (_format=json), {FHIR_XML} (_format=xml), text/html (_format=html, the pages),"
        " of FHIR 4.0 (fhirVersion=4.0)"
    )
    return Issue("ADP-5046", "error", args={"requested": requested[:200], "offered": offered})


def unreadable(search: bool = False) -> Issue | None:
    """Why the request body cannot be read (415, ADP-5013): a ``Content-Type`` that is neither FHIR JSON nor XML
    (``text/plain``, a form, ``multipart/form-data``), or that names a FHIR version other than 4.0 (R4 http.html);
    for ``POST [type]/_search`` (``search``) the one type taken is a form. A body without a ``Content-Type`` is
    read by what it looks like, as before."""
    content_type = (request.mimetype or "").lower()
    accepted = (FORM,) if search else (*_JSON_NAMES[1:], *_XML_NAMES[1:])
    version = _fhir_version(request.headers.get("Content-Type", ""))
    # a body of another FHIR version is not read as if it were R4
    if version is not None and version not in FHIR_VERSIONS:
        args = {"content_type": f"{content_type[:100]}; fhirVersion={version[:20]}", "accepted": "FHIR 4.0"}
        return Issue("ADP-5013", "error", args=args)
    if not content_type or content_type in accepted:
        return None
    args = {"content_type": content_type[:100], "accepted": ", ".join(accepted)}
    return Issue("ADP-5013", "error", args=args)


def _preference(name: str) -> str | None:
    """The value a ``Prefer`` header gives ``name`` (``return``, ``handling``), None when it gives none."""
    for part in re.split(r"[,;]", request.headers.get("Prefer", "")):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def lenient() -> bool:
    """Whether ``Prefer: handling=lenient`` asks a search to ignore the parameters it does not know (R4); strict,
    the default, refuses them (also for any other value: an unknown preference is ignored, RFC 7240)."""
    return _preference("handling") == "lenient"


def preferred_return() -> str:
    """What ``Prefer: return=...`` asks a create or update to answer with: ``minimal`` (no body), ``OperationOutcome``
    (the outcome of validating it) or ``representation`` (the resource: also when the header says nothing of it,
    or something else, since a preference the server does not know is ignored, RFC 7240)."""
    value = _preference("return")
    return value if value in ("minimal", "representation", "OperationOutcome") else "representation"


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
    if reply.resource is None and not reply.body and not reply.content_type:  # Prefer: return=minimal
        response = Response(b"", status=reply.status)
        del response.headers["Content-Type"]
    elif reply.resource is None:
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
