"""Narrative XHTML rules (R4 Narrative.div, txt-1 and txt-2): well-formed XHTML in a ``div``, only the basic
formatting elements and attributes, no scripts or event handlers, and some content: text that is not only
whitespace, or an image (as the reference validator checks txt-2). Whitespace inside ``<pre>`` counts as content,
since it is displayed as written (one official R4 example has a narrative that is an empty ``<pre>``)."""

from __future__ import annotations

from typing import Any

from adapter.errors import AdapterError
from adapter.parse.xml_safe import parse_xml

XHTML_NS = "{http://www.w3.org/1999/xhtml}"
ALLOWED_ELEMENTS = frozenset(
    [
        "a",
        "abbr",
        "acronym",
        "address",
        "b",
        "bdo",
        "big",
        "blockquote",
        "br",
        "caption",
        "cite",
        "code",
        "col",
        "colgroup",
        "dd",
        "dfn",
        "div",
        "dl",
        "dt",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "kbd",
        "li",
        "map",
        "area",
        "ol",
        "p",
        "pre",
        "q",
        "samp",
        "small",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "tfoot",
        "th",
        "thead",
        "tr",
        "tt",
        "ul",
        "var",
    ]
)
ALLOWED_ATTRIBUTES = frozenset(
    [
        "title",
        "style",
        "class",
        "id",
        "lang",
        "dir",
        "accesskey",
        "tabindex",
        "href",
        "name",
        "src",
        "alt",
        "height",
        "width",
        "colspan",
        "rowspan",
        "span",
        "align",
        "valign",
        "border",
        "cellpadding",
        "cellspacing",
        "summary",
        "abbr",
        "scope",
        "headers",
        "charset",
        "type",
        "rel",
        "rev",
        "shape",
        "coords",
        "start",
        "value",
        "compact",
        "nowrap",
        "bgcolor",
        "hreflang",
        "xmlns",
    ]
)
XML_ATTRIBUTES = frozenset(
    {"{http://www.w3.org/XML/1998/namespace}lang", "{http://www.w3.org/XML/1998/namespace}space"}
)


def xhtml_problem(div: str) -> str | None:
    """Why ``div`` breaks the narrative rules, or None."""
    try:
        root = parse_xml(div.encode("utf-8")).getroot()
    except AdapterError as error:
        return f"the XHTML is not well-formed ({error.issues[0].args.get('detail', error)})"
    if root.tag != XHTML_NS + "div":
        return "the narrative must be a <div> in the XHTML namespace (http://www.w3.org/1999/xhtml)"
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions carry nothing
        name = element.tag.removeprefix(XHTML_NS)
        if name not in ALLOWED_ELEMENTS:
            return f"the element <{name}> is not allowed in a narrative"
        for attribute in element.attrib:
            local = str(attribute).rsplit("}", 1)[-1]
            if attribute not in XML_ATTRIBUTES and (local.lower().startswith("on") or local not in ALLOWED_ATTRIBUTES):
                return f"the attribute {local!r} on <{name}> is not allowed in a narrative"
    if not _has_content(root):
        return "the narrative has no content: it must have some text that is not whitespace, or an image (txt-2)"
    return None


def _has_content(element: Any) -> bool:
    """Text that is not only whitespace (any text inside ``<pre>``), or an ``<img>``, in or below ``element``."""
    name = element.tag.removeprefix(XHTML_NS)
    if name == "img" or (element.text and (element.text.strip() or name == "pre")):
        return True
    for child in element:
        if isinstance(child.tag, str) and _has_content(child):
            return True
        if child.tail and child.tail.strip():
            return True
    return False
