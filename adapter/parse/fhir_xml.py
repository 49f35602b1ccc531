"""XML reading: FHIR XML converted to the JSON form the validator walks, with the position of every element.

The conversion follows the core StructureDefinitions (https://hl7.org/fhir/R4/xml.html and json.html), because
XML does not say what JSON needs: whether an element repeats (an array), whether a ``value`` is a boolean, a number
or a string, and where a nested resource's wrapper ends. Whatever the definitions do not know is kept under its own
name, so the validator reports it; what the JSON form cannot carry is an ADP-1007 issue here.
"""

from __future__ import annotations

import re
from collections import Counter
from copy import deepcopy
from typing import Any, NamedTuple

from lxml import etree

from adapter.errors import AdapterError, Issue
from adapter.parse.caps import check_caps
from adapter.parse.fhir_model import CORE_PREFIX, Node, Profile, TypeLookup, TypeRef
from adapter.parse.fhir_paths import JsonPath, LineIndex, Position, format_path
from adapter.parse.xml_safe import parse_xml

FHIR_NS = "http://hl7.org/fhir"
XHTML_NS = "http://www.w3.org/1999/xhtml"

_INTEGER = re.compile(r"-?(?:0|[1-9][0-9]*)")
_DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_INTEGER_TYPES = frozenset({"integer", "positiveInt", "unsignedInt"})


class XmlRead(NamedTuple):
    """What :func:`read_xml` found: the JSON form, the decoded text, and what the reader recorded on the way."""

    resource: dict[str, Any]
    text: str
    duplicates: list[tuple[str, int, int]]
    issues: list[Issue]
    positions: dict[JsonPath, Position]


def read_xml(data: bytes, defs: TypeLookup, max_bytes: int) -> XmlRead:
    """Parse ``data`` with the hardened parser and convert its root resource; raises what :func:`parse_xml`
    raises, ADP-1007 when the root is not a FHIR resource and ADP-5100/5101/5102 beyond the caps of
    :mod:`adapter.parse.caps`."""
    tree = parse_xml(data, max_bytes=max_bytes)
    text = _decode(data, tree.docinfo.encoding)
    reader = _XmlReader(_Types(defs), text)
    resource = reader.read(tree.getroot())
    check_caps(resource)  # as JSON is: the caps of adapter.parse.caps on the JSON form
    return XmlRead(resource, text, reader.duplicates, reader.issues, reader.positions)


# --- XML: type information from the core StructureDefinitions ------------------------------------------------


Entry = tuple[Node, TypeRef]  # an element of a compiled definition, with the type a name selects


class _Types:
    """The compiled core types the conversion follows (compiled once, by :meth:`Definitions.compiled`)."""

    def __init__(self, defs: TypeLookup) -> None:
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
        self.lines = LineIndex(text)
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
