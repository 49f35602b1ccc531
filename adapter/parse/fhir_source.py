"""Read a FHIR resource from bytes (JSON or XML) into its JSON form, keeping where every element came from.

:func:`read_fhir` returns a :class:`Source`: the resource as FHIR JSON (a dict, also for XML input), and
:meth:`Source.locate`, which turns a FHIRPath-like expression from a validator (``Patient.name[0].given[1]``,
``Observation.value.ofType(Quantity)``, ``Bundle.entry[0].resource/*Patient/p1*/.gender``) into a 1-based
(line, column) in the original text.

JSON goes through the stdlib parser (the fast path); positions are found only when :meth:`Source.locate` is
called, by reading just the objects and arrays on the way to the element located (skipping the rest with the
stdlib's scanner). Duplicate object keys are noticed during the parse and then located with a small tokenizer
over the whole text (:attr:`Source.duplicates`); as in the stdlib, the last value wins.

XML is read with the hardened parser of :mod:`adapter.parse.xml_safe` and converted with the type information of
the core StructureDefinitions (https://hl7.org/fhir/R4/xml.html and json.html): repeating elements become arrays,
``value`` attributes become JSON values (booleans and numbers for boolean, integer, positiveInt, unsignedInt and
decimal; a decimal is an ``int`` when written without fraction or exponent, else a ``float``, just as the stdlib
JSON parser reads it), ``id`` attributes and extensions of primitives go to the ``_name`` twin, nested resources
are unwrapped, and the XHTML ``div`` becomes its serialized string. Elements and attributes the definitions do
not know are kept under their own name, so the validator reports them. Problems the JSON form cannot carry
(text content, elements in other namespaces, an attribute where an element belongs) are ADP-1007 issues in
:attr:`Source.issues`; a root that is not a FHIR resource raises. Comments and processing instructions carry no
FHIR content and are ignored.

This module is the one entry; the work is split by what it reads: :mod:`adapter.parse.fhir_json`,
:mod:`adapter.parse.fhir_xml`, and :mod:`adapter.parse.fhir_paths` for expressions and positions. None of them
imports the validator: the type information the XML reader follows is :mod:`adapter.parse.fhir_model`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_json import JsonScanner, json_positions, read_json
from adapter.parse.fhir_model import TypeLookup
from adapter.parse.fhir_paths import JsonPath, Position, format_path, resolve_expression
from adapter.parse.fhir_xml import read_xml
from adapter.parse.xml_safe import MAX_BYTES

__all__ = ["Source", "format_path", "looks_like_xml", "read_fhir", "resolve_expression"]

# "<" after optional BOM and white space, or a UTF-16 byte order mark (JSON is always UTF-8).
_LOOKS_LIKE_XML = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<|\xff\xfe|\xfe\xff")


@dataclass
class Source:
    """A FHIR resource read from bytes: its JSON form, the input format, and where its elements are in the text."""

    resource: Any
    format: str
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    text: str = field(default="", repr=False)
    _positions: dict[JsonPath, Position] | None = field(default=None, repr=False)
    _scanner: JsonScanner | None = field(default=None, repr=False)

    @property
    def positions(self) -> dict[JsonPath, Position]:
        """(line, column) of every object key and array item, by JSON path; found on first use for JSON."""
        if self._positions is None:
            self._positions, _ = json_positions(self.text)
        return self._positions

    def locate(self, expression: str) -> Position | None:
        """1-based (line, column) of ``expression``, or of its deepest existing prefix; None if unparseable."""
        path = resolve_expression(self.resource, expression)
        if path is None:
            return None
        if self._positions is None and self.format == "json":
            # a few issues need a few paths: scan only the objects and arrays on the way to them
            if self._scanner is None:
                self._scanner = JsonScanner(self.text, unique_keys=True)  # read_fhir located any repeated key
            return self._scanner.position(path)
        positions = self.positions
        while path not in positions and path:
            path = path[:-1]
        return positions.get(path)


def looks_like_xml(data: bytes) -> bool:
    """Whether ``data`` reads as XML: ``<`` first, after a UTF-8 byte-order mark and white space, or a UTF-16
    byte-order mark (JSON never starts so)."""
    return bool(_LOOKS_LIKE_XML.match(data))


def read_fhir(data: bytes, defs: TypeLookup, fmt: str | None = None, *, max_bytes: int = MAX_BYTES) -> Source:
    """Read one FHIR resource from JSON or XML bytes.

    ``fmt`` None sniffs the format: the first non-space byte ``<`` means XML. Raises :class:`AdapterError`:
    ADP-1001 (JSON syntax, with line and column), ADP-1004/1005/1006 (from :func:`parse_xml`; 1006 also for JSON
    over ``max_bytes``) and ADP-1007 (the XML root is not a FHIR resource).
    """
    if fmt is None:
        fmt = "xml" if looks_like_xml(data) else "json"
    if fmt == "json":
        if len(data) > max_bytes:
            raise AdapterError([Issue("ADP-1006", "fatal", args={"size": len(data), "limit": max_bytes})])
        found = read_json(data)
        return Source(found.resource, "json", found.duplicates, [], found.text, found.positions)
    if fmt == "xml":
        xml = read_xml(data, defs, max_bytes)
        return Source(xml.resource, "xml", xml.duplicates, xml.issues, xml.text, xml.positions)
    raise ValueError(f"unknown format {fmt!r}: use 'json' or 'xml'")
