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
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from lxml import etree

from adapter.errors import AdapterError, Issue
from adapter.parse.xml_safe import MAX_BYTES, parse_xml
from adapter.validate.compiled import CORE_PREFIX, Node, Profile, TypeRef
from adapter.validate.packages import Definitions

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"

Key = str | int
JsonPath = tuple[Key, ...]
Position = tuple[int, int]

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt"})
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.DOTALL)
# "<" after optional BOM and white space, or a UTF-16 byte order mark (JSON is always UTF-8).
_LOOKS_LIKE_XML = re.compile(rb"(?:\xef\xbb\xbf)?[ \t\r\n]*<|\xff\xfe|\xfe\xff")
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STEP = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)(?:\(([^()]*)\))?((?:\[\d+\])*)\s*(?:\.|\Z)")


@dataclass
class Source:
    """A FHIR resource read from bytes: its JSON form, the input format, and where its elements are in the text."""

    resource: Any
    format: str
    duplicates: list[tuple[str, int, int]] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    text: str = field(default="", repr=False)
    _positions: dict[JsonPath, Position] | None = field(default=None, repr=False)
    _scanner: _JsonScanner | None = field(default=None, repr=False)

    @property
    def positions(self) -> dict[JsonPath, Position]:
        """(line, column) of every object key and array item, by JSON path; found on first use for JSON."""
        if self._positions is None:
            self._positions, _ = _json_positions(self.text)
        return self._positions

    def locate(self, expression: str) -> Position | None:
        """1-based (line, column) of ``expression``, or of its deepest existing prefix; None if unparseable."""
        path = resolve_expression(self.resource, expression)
        if path is None:
            return None
        if self._positions is None and self.format == "json":
            # a few issues need a few paths: scan only the objects and arrays on the way to them
            if self._scanner is None:
                self._scanner = _JsonScanner(self.text, unique_keys=True)  # read_fhir located any repeated key
            return self._scanner.position(path)
        positions = self.positions
        while path not in positions and path:
            path = path[:-1]
        return positions.get(path)


def looks_like_xml(data: bytes) -> bool:
    """Whether ``data`` reads as XML: ``<`` first, after a UTF-8 byte-order mark and white space, or a UTF-16
    byte-order mark (JSON never starts so)."""
    return bool(_LOOKS_LIKE_XML.match(data))


def read_fhir(data: bytes, defs: Definitions, fmt: str | None = None, *, max_bytes: int = MAX_BYTES) -> Source:
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
        return _read_json(data)
    if fmt == "xml":
        tree = parse_xml(data, max_bytes=max_bytes)
        text = _decode(data, tree.docinfo.encoding)
        reader = _XmlReader(_Types(defs), text)
        resource = reader.read(tree.getroot())
        return Source(resource, "xml", reader.duplicates, reader.issues, text, reader.positions)
    raise ValueError(f"unknown format {fmt!r}: use 'json' or 'xml'")


def format_path(root_type: str, path: JsonPath) -> str:
    """The expression-like text of a JSON path: ``Patient.name[0]._given[1]``."""
    text = root_type
    for key in path:
        text = f"{text}[{key}]" if isinstance(key, int) else (f"{text}.{key}" if text else key)
    return text


# --- JSON -----------------------------------------------------------------------------------------------------


def _read_json(data: bytes) -> Source:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        line, column = _LineIndex(prefix).position(len(prefix))
        raise _json_error(f"not UTF-8 ({exc.reason})", line, column) from None
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        obj = dict(items)
        if len(obj) != len(items):
            duplicated = True
        return obj

    try:
        resource = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _json_error(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise _json_error("nested too deeply", 1, 1) from None
    except _ConstantError as exc:
        line, column = _constant_position(text, exc.token)
        raise _json_error(f"{exc.token} is not a JSON number", line, column) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise _json_error(str(exc).split(";")[0], 1, 1) from None
    if _SURROGATE_ESCAPE.search(text):  # rare: only then check that every string is real Unicode
        try:
            json.dumps(resource, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _json_error("a \\u escape is a lone surrogate, not a character", 1, 1) from None
    source = Source(resource, "json", text=text)
    if duplicated:  # rare: only now pay for the tokenizer
        root = resource.get("resourceType") if isinstance(resource, dict) else None
        source._positions, found = _json_positions(text)
        name = root if isinstance(root, str) else ""
        source.duplicates = [(format_path(name, path), line, column) for path, (line, column) in found]
    return source


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _ConstantError(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _no_constant(token: str) -> Any:
    raise _ConstantError(token)


def _constant_position(text: str, token: str) -> Position:
    for match in _JSON_TOKEN.finditer(text):
        if match.group() == token:
            return _LineIndex(text).position(match.start())
    return (1, 1)


def _json_error(detail: str, line: int, column: int) -> AdapterError:
    return AdapterError([Issue("ADP-1001", "fatal", None, line, column, {"detail": detail})])


class _LineIndex:
    """Offsets to 1-based (line, column); lines end at ``\\n`` (libxml2 and the json module count the same way)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def position(self, offset: int) -> Position:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def line_start(self, line: int) -> int:
        return self.starts[min(max(line, 1), len(self.starts)) - 1]


class _Frame:
    """An open JSON object or array while tokenizing: its path, the current key, the next index, keys seen."""

    __slots__ = ("count", "key", "object", "path", "seen")

    def __init__(self, path: JsonPath, is_object: bool) -> None:
        self.path = path
        self.object = is_object
        self.key: JsonPath | None = None
        self.count = 0
        self.seen: set[str] = set()


def _json_positions(text: str) -> tuple[dict[JsonPath, Position], list[tuple[JsonPath, Position]]]:
    """Positions of every key and array item of well-formed JSON ``text``, and the repeated keys."""
    lines = _LineIndex(text)
    positions: dict[JsonPath, Position] = {}
    duplicates: list[tuple[JsonPath, Position]] = []
    stack: list[_Frame] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == ",":
            if stack[-1].object:
                stack[-1].key = None
            continue
        if first == ":":
            continue
        if first in "}]":
            stack.pop()
            continue
        top = stack[-1] if stack else None
        if top is not None and top.object and top.key is None:
            name = json.loads(token) if "\\" in token else token[1:-1]
            path = (*top.path, name)
            positions[path] = lines.position(match.start())
            if name in top.seen:
                duplicates.append((path, positions[path]))
            top.seen.add(name)
            top.key = path
            continue
        if top is None:
            path = ()
            positions[path] = lines.position(match.start())
        elif top.object:
            path = top.key or top.path
        else:
            path = (*top.path, top.count)
            top.count += 1
            positions[path] = lines.position(match.start())
        if first in "{[":
            stack.append(_Frame(path, first == "{"))
    return positions, duplicates


class _JsonScanner:
    """Positions in well-formed JSON text found on demand, the same as :func:`_json_positions` gives: the position
    of a path is that of its key (in an object) or of its value (an array item; the root). Only the objects and
    arrays on the way to a path are read, each at most once and only as far as needed; the values passed over are
    skipped by the stdlib's C scanner. So locating a few issues does not cost a Python-level pass over every token
    of the text. ``unique_keys``: no object repeats a key (as :func:`read_fhir` knows from its parse), so an object
    is read only up to the key looked for; otherwise to its end, where a repeated key's last occurrence wins."""

    def __init__(self, text: str, unique_keys: bool = False) -> None:
        self.text = text
        self.unique_keys = unique_keys
        self.root = _past_white(text, 0)
        self.read: dict[JsonPath, _Members] = {}
        self.lines: list[tuple[int, int]] = [(0, 1)]  # (offset, its line), ascending

    def position(self, path: JsonPath) -> Position:
        """1-based (line, column) of ``path``, or of its deepest prefix that is in the text."""
        here: JsonPath = ()
        token = value = self.root
        for key in path:
            members = self.read.get(here)
            if members is None:
                members = self.read[here] = _Members(self.text, value)
            found = members.find(key, self.unique_keys)
            if found is None:
                break
            token, value = found
            here = (*here, key)
        return self._line_column(token)

    def _line_column(self, offset: int) -> Position:
        """1-based (line, column) of ``offset``: lines are counted on from the nearest offset already seen
        before it, so that locating many issues counts through the text about once."""
        seen = self.lines
        nearest = bisect_right(seen, (offset, 1 << 62)) - 1
        since, line = seen[nearest]
        line += self.text.count("\n", since, offset)
        if nearest == len(seen) - 1:
            seen.append((offset, line))
        line_start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1


class _Members:
    """The members of one JSON object or array, read as far as they were needed."""

    __slots__ = ("at", "found", "index", "object", "text", "unread")

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.object = text[start] == "{"
        #: key or index -> (offset of the key or item, offset of its value)
        self.found: dict[Key, tuple[int, int]] = {}
        self.index = 0
        self.at: int | None = None  # where the next member (or, when ``unread``, the last one's value) starts
        self.unread = False  # the value at ``at`` is yet to be skipped (not skipped before it was needed)
        if text[start] in "{[":
            at = _past_white(text, start + 1)
            self.at = None if text[at] in "}]" else at

    def find(self, key: Key, unique_keys: bool) -> tuple[int, int] | None:
        """(offset of the key or item, offset of its value) of member ``key``, None when there is none."""
        found = self.found
        if key in found and (unique_keys or not self.object):
            return found[key]
        text, white = self.text, _past_white
        while self.at is not None:
            at = self.at
            if self.unread:  # skip the value found last time, to the next member
                _, end = _SCAN_VALUE(text, at)
                at = white(text, end)
                next_at = white(text, at + 1) if text[at] == "," else None
                self.at = next_at
                self.unread = False
                if next_at is None:
                    break
                at = next_at
            if self.object:
                name, end = _scanstring(text, at + 1)
                value = white(text, white(text, end) + 1)  # past the colon
                found[name] = (at, value)
            else:
                name = self.index
                value = at
                found[name] = (at, at)
                self.index += 1
            self.at, self.unread = value, True
            if name == key and (unique_keys or not self.object):
                return found[name]
        return found.get(key)


_WHITE = re.compile(r"[ \t\n\r]*")  # white space in JSON
#: (value, offset after it) of the JSON value that starts at an offset: the stdlib's C scanner
_SCAN_VALUE = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


def _past_white(text: str, at: int) -> int:
    """The offset after the JSON white space that starts at ``at``."""
    found = _WHITE.match(text, at)
    return found.end() if found else at


# --- expressions ----------------------------------------------------------------------------------------------


class _Step(NamedTuple):
    name: str
    arg: str | None
    indices: tuple[int, ...]


def _parse_steps(expression: str) -> list[_Step] | None:
    text = _COMMENT.sub("", expression).strip()
    steps: list[_Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or match.end() == pos:
            return None
        name, arg, indices = match.groups()
        numbers = tuple(int(number) for number in re.findall(r"\d+", indices))
        steps.append(_Step(name, arg.strip() if arg is not None else None, numbers))
        pos = match.end()
    return steps or None


def resolve_expression(resource: Any, expression: str) -> JsonPath | None:
    """The JSON path of the deepest part of ``expression`` that exists in ``resource``; None if unparseable.

    Understands indices, ``ofType(T)`` and choice names, the ``_name`` twin of primitives, nested resources
    (``.resource``, ``.contained[n]``, with or without a repeated type name) and ``extension('url')``.
    """
    steps = _parse_steps(expression)
    if steps is None:
        return None
    path: list[Key] = []
    node = resource
    i = _skip_type(steps, 0, node)
    while i < len(steps) and isinstance(node, dict):
        step = steps[i]
        name, indices = step.name, step.indices
        if step.arg is not None:
            if step.name in ("extension", "modifierExtension") and step.arg[:1] in "'\"":
                index = _extension_index(node.get(step.name), step.arg.strip("'\""))
                if index is None:
                    break
                indices = (index, *indices)
            else:
                break  # a function we do not follow: the prefix is as close as we get
        if name not in node and i + 1 < len(steps) and steps[i + 1].name == "ofType" and steps[i + 1].arg:
            type_name = steps[i + 1].arg or ""
            name += type_name[:1].upper() + type_name[1:]
            i += 1
        key = _member(node, name)
        if key is None:
            break
        more = i + 1 < len(steps)
        found = None
        if more and not key.startswith("_") and "_" + key in node and not _is_complex(node[key]):
            found = _descend(node["_" + key], indices, more)
            if found is not None:
                key = "_" + key
        if found is None:
            found = _descend(node[key], indices, more)
        if found is None:
            path.append(key)
            break
        path.append(key)
        path.extend(found[0])
        node = found[1]
        i = _skip_type(steps, i + 1, node)
    return tuple(path)


def _skip_type(steps: list[_Step], i: int, node: Any) -> int:
    """Step over a resource type name (``Patient`` or ``ofType(Patient)``) that repeats the node's resourceType."""
    if i < len(steps) and isinstance(node, dict) and "resourceType" in node:
        step = steps[i]
        if (step.name == node["resourceType"] and step.arg is None) or (
            step.name == "ofType" and step.arg == node["resourceType"]
        ):
            return i + 1
    return i


def _member(node: dict[str, Any], name: str) -> str | None:
    """The key for ``name``: itself, a choice expansion (``value`` -> ``valueQuantity``) or its ``_`` twin."""
    if name in node:
        return name
    for prefix in (name, "_" + name):
        for key in node:
            if key.startswith(prefix) and len(key) > len(prefix) and key[len(prefix)].isupper():
                return key
    return "_" + name if "_" + name in node else None


def _descend(value: Any, indices: tuple[int, ...], more: bool) -> tuple[list[int], Any] | None:
    """Apply ``indices`` to ``value``; with more steps to go, an unindexed array continues in its first item."""
    taken: list[int] = []
    for index in indices:
        if isinstance(value, list):
            if index >= len(value) or value[index] is None:
                return None
            taken.append(index)
            value = value[index]
        elif index != 0:
            return None
    if not indices and more and isinstance(value, list) and value:
        taken.append(0)
        value = value[0]
    return taken, value


def _is_complex(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(item, dict) for item in value)
    return isinstance(value, dict)


def _extension_index(extensions: Any, url: str) -> int | None:
    if isinstance(extensions, list):
        for index, extension in enumerate(extensions):
            if isinstance(extension, dict) and extension.get("url") == url:
                return index
    return None


# --- XML: type information from the core StructureDefinitions ------------------------------------------------


Entry = tuple[Node, TypeRef]  # an element of a compiled definition, with the type a name selects


class _Types:
    """The compiled core types the conversion follows (compiled once, by :meth:`Definitions.compiled`)."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs

    def structure(self, code: str) -> Profile | None:
        """The compiled core definition of type ``code``, or None when there is none."""
        try:
            return self.defs.compiled(CORE_PREFIX + code)
        except AdapterError:
            return None

    def resource(self, name: str) -> Profile | None:
        """The compiled definition of a concrete resource type, or None when ``name`` is not one."""
        structure = self.structure(name) if name[:1].isupper() else None
        if structure is None or structure.kind != "resource" or structure.sd.get("abstract"):
            return None
        return structure


def _child(structure: Profile | None, parent: str, name: str) -> Entry | None:
    """Child ``name`` of element ``parent`` (an element id); a choice name selects its type (``valueQuantity``)."""
    node = structure.by_id.get(parent) if structure is not None else None
    return node.keys.get(name) if node is not None else None


def _primitive_value(code: str, text: str) -> Any:
    """The JSON value of an XML ``value`` attribute; text that is not a valid number/boolean stays a string."""
    if code == "boolean":
        return {"true": True, "false": False}.get(text, text)
    if code in _INTEGER_TYPES:
        return int(text) if _INTEGER.fullmatch(text) else text
    if code == "decimal" and _DECIMAL.fullmatch(text):
        return int(text) if text.lstrip("-").isdigit() else float(text)
    return text


def _decode(data: bytes, encoding: str | None) -> str:
    try:
        text = data.decode(encoding or "utf-8", errors="replace")
    except LookupError:
        text = data.decode("utf-8", errors="replace")
    return text.removeprefix("\ufeff")


# --- XML: conversion ------------------------------------------------------------------------------------------


class _XmlReader:
    """Converts one FHIR XML document to the JSON form, recording positions, duplicates and issues."""

    def __init__(self, types: _Types, text: str) -> None:
        self.types = types
        self.text = text
        self.lines = _LineIndex(text)
        self.cursor = 0
        self.root_type = ""
        self.positions: dict[JsonPath, Position] = {}
        self.issues: list[Issue] = []
        self.duplicates: list[tuple[str, int, int]] = []

    def read(self, root: etree._Element) -> dict[str, Any]:
        """The JSON form of the resource ``root``; raises ADP-1007 when it is not one."""
        namespace, name = _split(root.tag)
        if namespace != FHIR_NS:
            where = f"in the namespace {namespace!r}" if namespace else "in no namespace"
            detail = f"the root element <{name}> is {where}, not {FHIR_NS}"
            raise AdapterError([Issue("ADP-1007", "fatal", None, _line(root), None, {"detail": detail})])
        structure = self.types.resource(name)
        if structure is None:
            detail = f"<{name}> is not a FHIR R4 resource type"
            raise AdapterError([Issue("ADP-1007", "fatal", None, _line(root), None, {"detail": detail})])
        self.root_type = name
        self.positions[()] = self.positions[("resourceType",)] = self.position(root)
        return self.resource(root, (), name, structure)

    def resource(self, el: etree._Element, path: JsonPath, name: str, structure: Profile) -> dict[str, Any]:
        """A resource element (the root, or the one inside ``contained`` / ``entry.resource``)."""
        obj: dict[str, Any] = {"resourceType": name}
        self.attributes(el, obj, path, structure, name)
        self.children(el, obj, path, structure, name)
        return obj

    def position(self, el: etree._Element) -> Position:
        """Where the start tag of ``el`` begins: libxml2 gives the line where the tag ends, we find ``<name``."""
        line = _line(el)
        tag = f"<{el.prefix}:{_split(el.tag)[1]}" if el.prefix else "<" + _split(el.tag)[1]
        end = self.lines.line_start(line + 1) if line < len(self.lines.starts) else len(self.text)
        start = max(self.cursor, self.lines.line_start(line))
        offset = self._find_tag(tag, start, end)
        if offset < 0:  # the start tag spans lines: the last one before the end of its last line (window bounded)
            offset = self._find_tag(tag, max(self.cursor, self.lines.line_start(line - 50)), end, last=True)
        if offset < 0:
            return line, 1
        self.cursor = offset + 1
        return self.lines.position(offset)

    def _find_tag(self, tag: str, start: int, end: int, last: bool = False) -> int:
        found = -1
        offset = self.text.find(tag, start, end)
        while offset >= 0:
            after = self.text[offset + len(tag) : offset + len(tag) + 1]
            if after in ("", " ", "\t", "\r", "\n", "/", ">"):
                found = offset
                if not last:
                    break
            offset = self.text.find(tag, offset + 1, end)
        return found

    def issue(self, path: JsonPath, el: etree._Element, detail: str, where: Position | None = None) -> None:
        """Record a local ADP-1007 problem at ``path`` (at ``where`` in the text, else at ``path``'s position)."""
        line, column = where or self.positions.get(path) or (_line(el), 1)
        expression = format_path(self.root_type, path)
        self.issues.append(Issue("ADP-1007", "error", expression, line, column, {"detail": detail}))

    def attributes(
        self, el: etree._Element, obj: dict[str, Any], path: JsonPath, structure: Profile | None, parent: str
    ) -> None:
        """``id``, ``url`` and unknown attributes become properties; misplaced ones are issues."""
        for qname, value in _attributes(el):
            namespace, name = _split(qname)
            if namespace:  # including xsi:schemaLocation, which the Java validator also reports
                self.issue(path, el, f"the attribute {_prefixed(el, qname)} is not allowed in FHIR XML")
                continue
            if name == "value" and parent[:1].islower():
                continue  # the primitive's own value, read by the caller
            entry = _child(structure, parent, name)
            if entry is not None and not entry[0].attribute:
                self.issue(path, el, f"{name} must be an element, not an attribute")
                continue
            obj[name] = value
            self.positions[(*path, name)] = self.positions.get(path, (_line(el), 1))

    def check_text(self, text: str | None, el: etree._Element, path: JsonPath) -> bool:
        """Report non-blank text (FHIR XML has none outside XHTML); True when there was some."""
        if text and not text.isspace():
            self.issue(path, el, f"text content {text.strip()[:40]!r} is not allowed here (FHIR uses value attributes)")
            return True
        return False

    def foreign(self, el: etree._Element, path: JsonPath) -> None:
        """An element outside the FHIR namespace: reported at the parent's path, not converted."""
        where = self.position(el)
        namespace, name = _split(el.tag)
        label = f"<{el.prefix}:{name}>" if el.prefix else f"<{name}>"
        self.issue(path, el, f"the element {label} is in the namespace {namespace or '(none)'!r}, not FHIR", where)

    def children(
        self,
        el: etree._Element,
        obj: dict[str, Any],
        path: JsonPath,
        structure: Profile | None,
        parent: str,
        own_text: bool = True,
    ) -> None:
        """Convert the child elements of ``el`` into ``obj`` (``parent`` is the element path in ``structure``)."""
        if own_text:
            self.check_text(el.text, el, path)
        repeated: dict[str, tuple[list[Any], list[Any]]] = {}
        counts: Counter[str] | None = None
        for child in el:
            self.check_text(child.tail, el, path)
            if not isinstance(child.tag, str):
                continue  # comment or processing instruction
            namespace, name = _split(child.tag)
            entry = _child(structure, parent, name)
            if entry is not None and entry[1].code == "xhtml":
                self.xhtml(child, obj, path, name, namespace)
                continue
            if namespace != FHIR_NS:
                self.foreign(child, path)
                continue
            if entry is None:
                if counts is None:
                    counts = Counter(c.tag for c in el if isinstance(c.tag, str))
                item = self.slot(obj, name, counts[child.tag] > 1, path, child)
                self.store(obj, name, item, self.generic(child, item))
            elif entry[0].attribute:
                self.positions.setdefault((*path, name), self.position(child))
                self.issue((*path, name), child, f"{name} must be an attribute, not an element")
            elif entry[1].primitive:
                self.primitive(child, obj, path, name, entry, repeated)
            else:
                item = self.slot(obj, name, entry[0].repeats, path, child)
                self.store(obj, name, item, self.complex(child, item, structure, entry))
        for name, (values, extras) in repeated.items():
            if all(value is None for value in values):
                del obj[name]
            if all(extra is None for extra in extras):
                del obj["_" + name]

    def slot(self, obj: dict[str, Any], name: str, repeats: bool, path: JsonPath, el: etree._Element) -> JsonPath:
        """The JSON path the next ``name`` child goes to, with its position; repeats of a single one are noted."""
        position = self.position(el)
        if repeats:
            items = obj.setdefault(name, [])
            if not items:
                self.positions[(*path, name)] = position
            item: JsonPath = (*path, name, len(items))
        else:
            item = (*path, name)
            if name in obj:
                self.duplicates.append((format_path(self.root_type, item), *position))
        self.positions[item] = position
        return item

    def store(self, obj: dict[str, Any], name: str, item: JsonPath, value: Any) -> None:
        if isinstance(item[-1], int):
            obj[name].append(value)
        else:
            obj[name] = value  # a repeated single element: the last one wins, as in JSON

    def primitive(
        self,
        el: etree._Element,
        obj: dict[str, Any],
        path: JsonPath,
        name: str,
        entry: Entry,
        repeated: dict[str, tuple[list[Any], list[Any]]],
    ) -> None:
        """A primitive: the value attribute goes to ``name``; ``id`` and extensions to ``_name``."""
        repeats, code = entry[0].repeats, entry[1].code
        position = self.position(el)
        if repeats:
            if name not in repeated:  # keep the JSON key order of the XML; empty arrays are dropped at the end
                repeated[name] = obj[name], obj["_" + name] = [], []
                self.positions[(*path, name)] = self.positions[(*path, "_" + name)] = position
            values, extras = repeated[name]
            index: tuple[int, ...] = (len(values),)
        else:
            values, extras, index = [], [], ()
        item, twin = (*path, name, *index), (*path, "_" + name, *index)
        self.positions[item] = self.positions[twin] = position
        raw = el.get("value")
        value = _primitive_value(code, raw) if raw is not None else None
        extra: dict[str, Any] = {}
        structure = self.types.structure(code)
        has_text = self.check_text(el.text, el, item)
        self.attributes(el, extra, twin, structure, code)
        self.children(el, extra, twin, structure, code, own_text=False)
        if raw is None and not extra and not has_text:
            self.issue(item, el, f"{name} has no value attribute, id or extension")
        if repeats:
            values.append(value)
            extras.append(extra or None)
            return
        if name in obj or "_" + name in obj:
            self.duplicates.append((format_path(self.root_type, item), *position))
            obj.pop(name, None)
            obj.pop("_" + name, None)
        if value is not None:
            obj[name] = value
        if extra:
            obj["_" + name] = extra

    def complex(self, el: etree._Element, path: JsonPath, structure: Profile | None, entry: Entry) -> Any:
        """A complex element: follow its inline children, its contentReference or its type's structure."""
        node, code = entry[0], entry[1].code
        if code == "Resource" or self.types.resource(code) is not None:
            return self.wrapped(el, path)
        inner: Profile | None
        if node.content_reference is not None and structure is not None:
            inner, parent = structure, node.content_reference
        elif structure is not None and node.children and len(node.types) <= 1:
            inner, parent = structure, node.id
        else:
            parent = code
            inner = self.types.structure(parent)
        obj: dict[str, Any] = {}
        self.attributes(el, obj, path, inner, parent)
        self.children(el, obj, path, inner, parent)
        return obj

    def wrapped(self, el: etree._Element, path: JsonPath) -> Any:
        """``<contained><Patient>...</Patient></contained>``: the inner resource, without the wrapper."""
        self.check_text(el.text, el, path)
        for qname, _ in _attributes(el):
            self.issue(path, el, f"the attribute {qname} is not allowed on a resource container")
        elements = [child for child in el if isinstance(child.tag, str)]
        for child in el:
            self.check_text(child.tail, el, path)
        if len(elements) != 1:
            self.issue(path, el, f"expected one resource inside, found {len(elements)} elements")
            if not elements:
                return {}
        inner = elements[0]
        namespace, name = _split(inner.tag)
        self.positions[(*path, "resourceType")] = self.position(inner)
        structure = self.types.resource(name) if namespace == FHIR_NS else None
        if structure is None:
            self.issue(path, inner, f"<{name}> in namespace {namespace!r} is not a FHIR R4 resource type")
            obj = {"resourceType": name}
            generic = self.generic(inner, path)
            if isinstance(generic, dict):
                obj.update(generic)
            return obj
        return self.resource(inner, path, name, structure)

    def xhtml(self, el: etree._Element, obj: dict[str, Any], path: JsonPath, name: str, namespace: str) -> None:
        """Narrative ``div``: the serialized element with its XHTML namespace declaration."""
        item = self.slot(obj, name, False, path, el)
        if namespace != XHTML_NS or name != "div":
            self.issue(item, el, f"the narrative must be an XHTML div, not {el.tag}")
        copy = deepcopy(el)
        etree.cleanup_namespaces(copy)
        obj[name] = etree.tostring(copy, encoding="unicode", with_tail=False)

    def generic(self, el: etree._Element, path: JsonPath) -> Any:
        """An element the definitions do not know: attributes and children kept as they are."""
        self.check_text(el.text, el, path)
        obj: dict[str, Any] = {}
        self.attributes(el, obj, path, None, "")
        elements = [child for child in el if isinstance(child.tag, str)]
        if not elements and set(obj) <= {"value"}:
            return obj.get("value", {})
        counts = Counter(child.tag for child in elements)
        for child in el:
            self.check_text(child.tail, el, path)
        for child in elements:
            namespace, name = _split(child.tag)
            if namespace != FHIR_NS:
                self.foreign(child, path)
                continue
            item = self.slot(obj, name, counts[child.tag] > 1, path, child)
            self.store(obj, name, item, self.generic(child, item))
        return obj


def _split(tag: str) -> tuple[str, str]:
    """``{namespace}local`` -> (namespace, local); no namespace gives ``""``."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _line(el: etree._Element) -> int:
    """The source line of ``el`` (1 when lxml does not know it)."""
    line: Any = el.sourceline  # lxml-stubs types it loosely
    return line if isinstance(line, int) else 1


def _attributes(el: etree._Element) -> list[tuple[str, str]]:
    """The attributes of ``el`` as ``({namespace}name, value)`` text pairs."""
    return [(str(name), str(value)) for name, value in el.attrib.items()]


def _prefixed(el: etree._Element, qname: str) -> str:
    """``{namespace}name`` written with the prefix the document uses for it (``xsi:schemaLocation``)."""
    namespace, name = _split(qname)
    for prefix, uri in el.nsmap.items():
        if uri == namespace and prefix:
            return f"{prefix}:{name}"
    return qname
