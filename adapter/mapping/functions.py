"""The whitelisted value functions that mapping rules may name with ``fn``.

Each function reads one KITH element and gives a FHIR JSON value (``read``), and writes a FHIR value back onto a
new element (``write``). ``read`` also says which parts of the element it used (attribute names, ``#text``), so the
engine can carry everything else verbatim. A function that cannot represent the element returns ``None`` and uses
nothing: the element then travels as a residue, never lost and never half-mapped.

Functions that normalise a value (a local time gets the Norwegian offset, an identifier becomes a FHIR id) are
exact in the other direction through the engine's ``kith-original`` extension: when ``write`` would not give back
the original text, the original is kept next to the FHIR value.
"""

from __future__ import annotations

import base64
import datetime
import re
import uuid
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from adapter.mapping.conceptmaps import ConceptMaps

OSLO = ZoneInfo("Europe/Oslo")
_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_ZONED_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_OID_ARC = re.compile(r"^(0|[1-9][0-9]*)$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
#: uuid5 namespace for FHIR ids made from identifiers that are not valid ids.
ID_NAMESPACE = uuid.UUID("6f1d7c0e-3a52-5b8e-9c1a-2f6a4d0b9e11")

Used = frozenset[str]
TEXT = "#text"
#: Used by a function that reads an element's whole content (its text and every child element, with their tails)
#: as one value: text written with markup (an anyType element holding XHTML or mixed content).
CONTENT = "#content"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


@dataclass(frozen=True)
class Context:
    """What a function may look at besides the element: the rule's arguments and the ConceptMaps."""

    args: dict[str, Any]
    conceptmaps: ConceptMaps


@dataclass(frozen=True)
class Function:
    """A named, two-way value function."""

    read: Callable[[etree._Element, Context], tuple[Any, Used]]
    write: Callable[[Any, etree._Element, Context], None]
    #: For primitive results: the KITH text that ``write`` would produce, to detect normalisation.
    lexical: Callable[[Any, Context], str] | None = None
    #: Which part of the element the lexical form is (``#text`` or an attribute name).
    source: Callable[[Context], str] | None = None


def _text_of(element: etree._Element) -> str | None:
    if len(element) or element.text is None:
        return None
    text = element.text.strip()
    return text or None


# --- text and attributes -------------------------------------------------------------------------------------


def _read_text(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    text = _text_of(element)
    return (text, frozenset({TEXT})) if text is not None else (None, frozenset())


def _write_text(value: Any, element: etree._Element, ctx: Context) -> None:
    element.text = str(value)


def _read_attr(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    name = ctx.args["attr"]
    value = element.get(name)
    if value is None or not value.strip():
        return None, frozenset()
    return value.strip(), frozenset({name})


def _write_attr(value: Any, element: etree._Element, ctx: Context) -> None:
    element.set(ctx.args["attr"], str(value))


# --- coded values --------------------------------------------------------------------------------------------


def _read_cs(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """KITH CS (V, DN; the code list is fixed by the element): a Coding with the rule's system."""
    code, display = element.get("V"), element.get("DN")
    if code is None or not code.strip():  # an empty code is no Coding; the element travels as residue
        return None, frozenset()
    coding: dict[str, Any] = {"system": ctx.args["system"], "code": code}
    used = {"V"}
    if display is not None and display.strip():
        coding["display"] = display
        used.add("DN")
    return coding, frozenset(used)


def _write_cs(value: Any, element: etree._Element, ctx: Context) -> None:
    if value.get("system") not in (None, ctx.args["system"]):
        return  # a code of another list has no place in this element (the element fixes its list)
    element.set("V", value["code"])
    if "display" in value:
        element.set("DN", value["display"])


def _read_cv(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """KITH CV (V, S, DN; OT is left to ``concept``): a Coding whose system is ``urn:oid:`` + S when S is given."""
    code = element.get("V")
    if code is None or not code.strip():
        return None, frozenset()
    coding: dict[str, Any] = {}
    used = {"V"}
    system = element.get("S")
    if system is not None:
        coding["system"] = "urn:oid:" + system
        used.add("S")
    coding["code"] = code
    display = element.get("DN")
    if display is not None and display.strip():
        coding["display"] = display
        used.add("DN")
    return coding, frozenset(used)


def _write_cv(value: Any, element: etree._Element, ctx: Context) -> None:
    element.set("V", value["code"])
    system = value.get("system")
    if system is not None:
        element.set("S", system.removeprefix("urn:oid:"))
    if "display" in value:
        element.set("DN", value["display"])


def _read_concept(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """KITH CV with original text: a CodeableConcept (coding from V/S/DN, text from OT)."""
    coding, used = _read_cv(element, ctx)
    concept: dict[str, Any] = {}
    if coding is not None:
        concept["coding"] = [coding]
    original = element.get("OT")
    if original is not None and original.strip():
        concept["text"] = original
        used = used | {"OT"}
    return (concept or None), used


def _write_concept(value: Any, element: etree._Element, ctx: Context) -> None:
    codings = value.get("coding", [])
    if codings:
        _write_cv(codings[0], element, ctx)
    if "text" in value:
        element.set("OT", value["text"])


def _read_mapped(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A code translated through a ConceptMap (``map``: its id), from attribute V (or ``attr``)."""
    attr = ctx.args.get("attr", "V")
    code = element.get(attr)
    if code is None:
        return None, frozenset()
    target = ctx.conceptmaps.translate(ctx.args["map"], code)
    return (target, frozenset({attr})) if target is not None else (None, frozenset())


def _write_mapped(value: Any, element: etree._Element, ctx: Context) -> None:
    code = ctx.conceptmaps.translate_back(ctx.args["map"], str(value))
    if code is not None:
        element.set(ctx.args.get("attr", "V"), code)


def _lexical_mapped(value: Any, ctx: Context) -> str:
    return ctx.conceptmaps.translate_back(ctx.args["map"], str(value)) or ""


def _read_table(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A value looked up in the rule's ``table`` (KITH code -> FHIR value), from attribute V (or ``attr``; ``#text``:
    the element's text)."""
    attr = ctx.args.get("attr", "V")
    code = _text_of(element) if attr == TEXT else element.get(attr)
    table: dict[str, Any] = ctx.args["table"]
    if code is None or code not in table:
        return None, frozenset()
    return deepcopy(table[code]), frozenset({attr})  # a copy: a Coding row must not be shared between Bundles


def _write_table(value: Any, element: etree._Element, ctx: Context) -> None:
    for code, target in ctx.args["table"].items():
        if target == value:
            attr = ctx.args.get("attr", "V")
            if attr == TEXT:
                element.text = code
            else:
                element.set(attr, code)
            return


# --- dates, numbers, ids --------------------------------------------------------------------------------------


def _fhir_datetime(text: str) -> str | None:
    """KITH dateTime -> FHIR dateTime: zoned values as they are, local ones with Norway's offset at that time."""
    if _ZONED_DATETIME.match(text) or _DATE.match(text):
        return text
    if not _LOCAL_DATETIME.match(text):
        return None
    try:
        local = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 16:
        text += ":00"
    offset = OSLO.utcoffset(local) or datetime.timedelta(0)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    return f"{text}{'+' if offset.total_seconds() >= 0 else '-'}{abs(hours):02d}:{minutes:02d}"


def _kith_datetime(value: str) -> str:
    """FHIR dateTime -> KITH: Norwegian local time without offset (the KITH convention)."""
    if not _ZONED_DATETIME.match(value):
        return value
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(OSLO).replace(tzinfo=None).isoformat()


def _datetime_reader(source: str) -> Callable[[etree._Element, Context], tuple[Any, Used]]:
    def read(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
        raw = _text_of(element) if source == TEXT else element.get(source)
        if raw is None or not raw.strip():
            return None, frozenset()
        value = _fhir_datetime(raw.strip())
        return (value, frozenset({source})) if value is not None else (None, frozenset())

    return read


def _datetime_writer(source: str) -> Callable[[Any, etree._Element, Context], None]:
    def write(value: Any, element: etree._Element, ctx: Context) -> None:
        text = _kith_datetime(str(value))
        if source == TEXT:
            element.text = text
        else:
            element.set(source, text)

    return write


def fhir_id(text: str) -> str:
    """A FHIR id for a KITH identifier: itself when it is a valid id, else a uuid5 of it."""
    return text if _FHIR_ID.match(text) else str(uuid.uuid5(ID_NAMESPACE, text))


def _read_id(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    text = _text_of(element)
    return (fhir_id(text), frozenset({TEXT})) if text is not None else (None, frozenset())


def _read_number(kind: type) -> Callable[[etree._Element, Context], tuple[Any, Used]]:
    def read(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
        attr = ctx.args.get("attr")
        raw = _text_of(element) if attr is None else element.get(attr)
        if raw is None:
            return None, frozenset()
        try:
            value = kind(raw.strip())
        except ValueError:
            return None, frozenset()
        return value, frozenset({attr or TEXT})

    return read


def _write_source(value: Any, element: etree._Element, ctx: Context) -> None:
    attr = ctx.args.get("attr")
    text = _lexical_plain(value, ctx)
    if attr is None:
        element.text = text
    else:
        element.set(attr, text)


def _lexical_plain(value: Any, ctx: Context) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_boolean(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    attr = ctx.args.get("attr")
    raw = _text_of(element) if attr is None else element.get(attr)
    if raw is None or raw.strip() not in ("true", "false", "1", "0"):
        return None, frozenset()
    return raw.strip() in ("true", "1"), frozenset({attr or TEXT})


def _text_source(ctx: Context) -> str:
    return TEXT


def _attr_source(ctx: Context) -> str:
    return str(ctx.args.get("attr") or TEXT)


#: What ``fixed`` gives: the element is implied by the mapping and has no FHIR value of its own.
IMPLIED = object()


def _read_fixed(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """An element the message format fixes (MIGversion; RefDoc/MsgType "XML"): used when it has exactly that text
    (``value`` a string) or those attributes (``value`` a mapping), written always on the way back."""
    fixed = ctx.args["value"]
    if isinstance(fixed, dict):
        same = all(element.get(k) == str(v) for k, v in fixed.items())
        return (IMPLIED, frozenset(fixed)) if same else (None, frozenset())
    return (IMPLIED, frozenset({TEXT})) if _text_of(element) == fixed else (None, frozenset())


def _write_fixed(value: Any, element: etree._Element, ctx: Context) -> None:
    fixed = ctx.args["value"]
    if isinstance(fixed, dict):
        for key, text in fixed.items():
            element.set(key, str(text))
    else:
        element.text = fixed


def _read_prefixed(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the text with ``prefix`` in front (a HER-id as an endpoint URN); one way only."""
    text = _text_of(element)
    if text is None or not _OID_ARC.match(text):  # only a number can extend an OID ("369.767" cannot)
        return None, frozenset()
    return ctx.args["prefix"] + text, frozenset()


def _write_nothing(value: Any, element: etree._Element, ctx: Context) -> None:
    return None


def _read_scheme(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the URL scheme of attribute V looked up in ``table`` ("other" when unknown); one way."""
    value = element.get("V")
    if value is None or ":" not in value:
        return None, frozenset()
    return ctx.args["table"].get(value.partition(":")[0].lower(), "other"), frozenset()


FUNCTIONS: dict[str, Function] = {
    "scheme": Function(_read_scheme, _write_nothing),
    "fixed": Function(_read_fixed, _write_fixed),
    "prefixed": Function(_read_prefixed, _write_nothing),
    "text": Function(_read_text, _write_text, _lexical_plain, _text_source),
    "attr": Function(_read_attr, _write_attr, _lexical_plain, _attr_source),
    "cs": Function(_read_cs, _write_cs),
    "cv": Function(_read_cv, _write_cv),
    "concept": Function(_read_concept, _write_concept),
    "conceptmap": Function(_read_mapped, _write_mapped, _lexical_mapped, lambda ctx: ctx.args.get("attr", "V")),
    "table": Function(_read_table, _write_table),
    "datetime": Function(
        _datetime_reader(TEXT), _datetime_writer(TEXT), lambda v, c: _kith_datetime(str(v)), _text_source
    ),
    "datetime-attr": Function(
        _datetime_reader("V"), _datetime_writer("V"), lambda v, c: _kith_datetime(str(v)), lambda c: "V"
    ),
    "id": Function(_read_id, _write_text, _lexical_plain, _text_source),
    "integer": Function(_read_number(int), _write_source, _lexical_plain, _attr_source),
    "decimal": Function(_read_number(float), _write_source, _lexical_plain, _attr_source),
    "boolean": Function(_read_boolean, _write_source, _lexical_plain, _attr_source),
}


# --- appended: format version (AppRec mappings) ---------------------------------------------------------------


def _read_version(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """MIGversion: the element's text looked up in ``table`` (KITH text -> FHIR value, e.g. a MessageDefinition
    canonical). The namespace already fixes the format, so a text the table does not hold (a misspelt or older
    version string) still gives the table's first value; the engine then keeps that text in ``kith-original``."""
    text = _text_of(element)
    table: dict[str, Any] = ctx.args["table"]
    if text is None or not table:
        return None, frozenset()
    return table.get(text, next(iter(table.values()))), frozenset({TEXT})


def _lexical_version(value: Any, ctx: Context) -> str:
    return next((text for text, target in ctx.args["table"].items() if target == value), "")


def _write_version(value: Any, element: etree._Element, ctx: Context) -> None:
    text = _lexical_version(value, ctx)
    if text:
        element.text = text


FUNCTIONS["version"] = Function(_read_version, _write_version, _lexical_version, _text_source)


# --- appended: a constant for a matched element (PLO mappings) ------------------------------------------------


def _read_constant(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the rule's ``value`` whenever the element is there (which of a choice of elements was
    sent decides an Encounter status); uses nothing, so write it with ``reverse: false``."""
    return deepcopy(ctx.args["value"]), frozenset()


FUNCTIONS["constant"] = Function(_read_constant, _write_nothing)


# --- appended: a FHIR code written as a KITH code (referrals written in FHIR) ---------------------------------


def _read_lookup(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """KITH code (V) -> the FHIR value whose row in ``table`` (FHIR value -> {code, display, system}) has that
    code; the first such row, since several FHIR values may share one KITH code."""
    code = element.get("V")
    if code is None:
        return None, frozenset()
    for value, row in ctx.args["table"].items():
        if isinstance(row, dict) and row.get("code") == code:
            return value, frozenset({"V"})
    return None, frozenset()


def _write_lookup(value: Any, element: etree._Element, ctx: Context) -> None:
    row = ctx.args["table"].get(str(value))
    if not isinstance(row, dict):
        return
    element.set("V", str(row["code"]))
    if row.get("system"):
        element.set("S", str(row["system"]).removeprefix("urn:oid:"))
    if row.get("display"):
        element.set("DN", str(row["display"]))


FUNCTIONS["lookup"] = Function(_read_lookup, _write_lookup)


# --- appended: text written with markup (Dialogmelding TekstNotatInnhold and Sporsmal, XSD type anyType) ----------

#: Elements that start a new line where the text is read (XHTML block elements and line breaks), by local name in
#: any namespace: senders write XHTML with and without its namespace.
_BLOCKS = frozenset(
    {
        *("address", "article", "aside", "blockquote", "caption", "dd", "div", "dl", "dt", "fieldset", "figcaption"),
        *("figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol"),
        *("p", "pre", "section", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul"),
    }
)
_BREAK, _BLOCK = "\x00", "\x01"  # markers while reading: a line break (br), a block boundary
_SPACES = re.compile(r"[ \t\n\r\f\v]+")  # XML white space (not the no-break space, which is content)
_MARKERS = re.compile(r" *([\x00\x01][\x00\x01 ]*)")


def readable_text(element: etree._Element) -> str:
    """The text of an element with markup as a reader sees it: no tags, white space collapsed as in HTML, a new line
    for each paragraph or other block and for each line break (``br``); text in ``pre`` keeps its lines."""
    pieces: list[str] = []
    _gather(element, pieces, preformatted=False)
    text = _MARKERS.sub(lambda m: "\n" * max(1, m.group(1).count(_BREAK)), "".join(pieces))
    return "\n".join(line.strip(" ") for line in text.split("\n")).strip()


def _gather(element: etree._Element, pieces: list[str], *, preformatted: bool) -> None:
    def add(text: str | None) -> None:
        if text:
            pieces.append(text.replace("\n", _BREAK) if preformatted else _SPACES.sub(" ", text))

    add(element.text)
    for child in element:
        if isinstance(child.tag, str):
            local = etree.QName(child).localname.lower()
            if local == "br":
                pieces.append(_BREAK)
            else:
                block = local in _BLOCKS
                pieces.append(_BLOCK if block else "")
                _gather(child, pieces, preformatted=preformatted or local == "pre")
                pieces.append(_BLOCK if block else "")
        add(child.tail)  # comments and processing instructions give no text, but their tails do


def qname_prefixes(element: etree._Element) -> dict[str, str]:
    """The namespace declarations the ``xsi:type`` values in ``element`` and below need (prefix -> URI), as they are
    in scope where each value is written. An attribute value that names a type is invisible to XML tools: without
    this its declaration is lost when the element is copied or rebuilt, and the schema check fails."""
    found: dict[str, str] = {}
    for node in element.iter(etree.Element):
        value = node.get(XSI_TYPE)
        prefix = value.strip().partition(":")[0] if value is not None and ":" in value else None
        uri = node.nsmap.get(prefix) if prefix else None
        if prefix and uri:
            found.setdefault(prefix, uri)
    return found


def declare(element: etree._Element, prefixes: dict[str, str]) -> None:
    """Declare ``prefixes`` (prefix -> URI) on ``element`` unless they are in scope there with the same URI."""
    missing = {p: uri for p, uri in prefixes.items() if element.nsmap.get(p) != uri}
    if missing:
        keep = sorted({*missing, *qname_prefixes(element)})
        etree.cleanup_namespaces(element, top_nsmap=missing, keep_ns_prefixes=keep)


def content_of(element: etree._Element) -> str:
    """The content of an element as written: its text when it has no child nodes, else the element with its content
    (not its attributes) as XML, with the namespace declarations that content needs."""
    if not len(element):
        return element.text or ""
    namespaces: Any = element.nsmap  # the default namespace's key is None, which lxml's stubs do not allow
    copy = etree.Element(element.tag, nsmap=namespaces)
    copy.text = element.text
    for child in element:
        copy.append(deepcopy(child))  # with its tail
    etree.cleanup_namespaces(copy, keep_ns_prefixes=sorted(qname_prefixes(copy)))
    return str(etree.tostring(copy, encoding="unicode"))


def set_content(element: etree._Element, original: str, parse: Callable[[bytes], etree._Element]) -> None:
    """Give ``element`` the content :func:`content_of` wrote (``parse`` reads XML, the hardened parser)."""
    if not original.startswith("<"):
        element.text = original
        return
    written = parse(original.encode("utf-8"))
    needed = qname_prefixes(written)
    for child in list(element):
        element.remove(child)
    element.text = written.text
    for child in list(written):
        element.append(child)
    for node in element.iter(etree.Element):
        value = node.get(XSI_TYPE)
        prefix = value.partition(":")[0] if value is not None and ":" in value else None
        if prefix and prefix in needed:
            declare(node, {prefix: needed[prefix]})


def _read_markup(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """Text that may be written with markup (XSD anyType: XHTML, or text mixed with elements): the readable text
    (:func:`readable_text`). Plain text is read as ``text`` reads it; with markup the whole content is used, and
    the engine keeps it as written (``kith-original``) so that the way back writes the markup again."""
    if not len(element):
        return _read_text(element, ctx)
    text = readable_text(element)
    return (text, frozenset({CONTENT})) if text else (None, frozenset())


def _content_source(ctx: Context) -> str:
    return CONTENT


FUNCTIONS["markup"] = Function(_read_markup, _write_text, _lexical_plain, _content_source)


# --- appended: a note as a document (a crisis plan sent as text only) ------------------------------------------


def _read_base64(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the text of the element as a reader sees it (plain, or :func:`readable_text` of markup) in
    base64 of its UTF-8, the data of a text/plain attachment made from a note (a crisis plan sent as text only);
    one way (write it with ``reverse: false``), uses nothing."""
    text = readable_text(element) if len(element) else _text_of(element)
    if not text:
        return None, frozenset()
    return base64.b64encode(text.encode("utf-8")).decode("ascii"), frozenset()


def _read_message_datetime(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the date and time of the message the element is part of, at ``value`` (local names of
    elements from the message's root, ``MsgInfo/GenDate``; the element's text, or its V), as ``datetime`` reads it.
    A date without a time gives nothing (it is meant for instants such as DocumentReference.date); one way (write
    it with ``reverse: false``), uses nothing."""
    current: etree._Element | None = element.getroottree().getroot()
    for name in str(ctx.args["value"]).split("/"):
        children = current.iterchildren(etree.Element) if current is not None else iter(())
        current = next((child for child in children if etree.QName(child).localname == name), None)
    if current is None:
        return None, frozenset()
    raw = current.get("V") if current.get("V") is not None else _text_of(current)
    value = _fhir_datetime(raw.strip()) if raw and "T" in raw else None
    return (value, frozenset()) if value is not None else (None, frozenset())


FUNCTIONS["base64"] = Function(_read_base64, _write_nothing)
FUNCTIONS["message-datetime"] = Function(_read_message_datetime, _write_nothing)
