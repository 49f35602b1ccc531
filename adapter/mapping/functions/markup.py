"""Text written with markup (Dialogmelding TekstNotatInnhold and Sporsmal, XSD type anyType): read as a reader sees
it, kept as written so the way back writes the markup again, and the namespace declarations its ``xsi:type``
values need, which no XML tool sees as used.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from lxml import etree

from adapter.mapping.functions.base import (
    CONTENT,
    XSI_TYPE,
    Context,
    Function,
    Used,
    lexical_plain,
    read_text,
    text_of,
    write_nothing,
    write_text,
)

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
        return read_text(element, ctx)
    text = readable_text(element)
    return (text, frozenset({CONTENT})) if text else (None, frozenset())


def _content_source(ctx: Context) -> str:
    return CONTENT


def _read_base64(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the text of the element as a reader sees it (plain, or :func:`readable_text` of markup) in
    base64 of its UTF-8, the data of a text/plain attachment made from a note (a crisis plan sent as text only);
    one way (write it with ``reverse: false``), uses nothing."""
    text = readable_text(element) if len(element) else text_of(element)
    if not text:
        return None, frozenset()
    return base64.b64encode(text.encode("utf-8")).decode("ascii"), frozenset()


MARKUP: dict[str, Function] = {
    "markup": Function(_read_markup, write_text, lexical_plain, _content_source),
    "base64": Function(_read_base64, write_nothing),
}
