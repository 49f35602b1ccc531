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
    return inspect_xhtml(div)[0]


def inspect_xhtml(div: str) -> tuple[str | None, list[str], set[str]]:
    """Why ``div`` breaks the narrative rules (or None), the internal links it makes (``href="#x"`` gives ``x``) and
    the anchors it offers (``id`` attributes and ``<a name>``)."""
    try:
        root = parse_xml(div.encode("utf-8")).getroot()
    except AdapterError as error:
        return f"the XHTML is not well-formed ({error.issues[0].args.get('detail', error)})", [], set()
    if root.tag != XHTML_NS + "div":
        return "the narrative must be a <div> in the XHTML namespace (http://www.w3.org/1999/xhtml)", [], set()
    links: list[str] = []
    anchors: set[str] = set()
    problem: str | None = None
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments and processing instructions carry nothing
        name = element.tag.removeprefix(XHTML_NS)
        if name not in ALLOWED_ELEMENTS:
            problem = problem or f"the element <{name}> is not allowed in a narrative"
        for attribute in element.attrib:
            local = str(attribute).rsplit("}", 1)[-1]
            if attribute not in XML_ATTRIBUTES and (local.lower().startswith("on") or local not in ALLOWED_ATTRIBUTES):
                problem = problem or f"the attribute {local!r} on <{name}> is not allowed in a narrative"
        for url in (element.get("href"), element.get("src")):
            if url is not None and _runs_code(str(url)):
                problem = (
                    problem or f"the link {str(url)[:60]!r} on <{name}> is active content, not allowed in a narrative"
                )
        if element.get("id"):
            anchors.add(str(element.get("id")))
        if name == "a":
            if element.get("name"):
                anchors.add(str(element.get("name")))
            href = str(element.get("href") or "")
            if href.startswith("#") and len(href) > 1:
                links.append(href[1:])
    if problem is None and not _has_content(root):
        problem = "the narrative has no content: it must have some text that is not whitespace, or an image (txt-2)"
    return problem, links, anchors


#: URL schemes that run code where a narrative is shown (a data: URL of an HTML or script document too).
_ACTIVE_SCHEMES = ("javascript:", "vbscript:", "data:text/html", "data:application/xhtml", "data:text/javascript")


def _runs_code(url: str) -> bool:
    """Whether a link or image URL runs code: its scheme (whitespace and control characters taken out, as browsers
    do, any case) is javascript:, vbscript: or an HTML or script data: URL."""
    plain = "".join(c for c in url if c > " " and c != "\x7f").lower()
    return plain.startswith(_ACTIVE_SCHEMES)


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


SOURCES = frozenset({"boilerplate", "generated", "original"})
_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def narrative_problems(div: str, language: str | None, sections: str | None, sources: bool) -> list[tuple[str, str]]:
    """(issue code, detail) for each way ``div`` breaks the profile's narrative controls: ``sections`` is the
    language control, ``sources`` whether the source of each part must be marked; ``language`` is the resource's."""
    try:
        root = parse_xml(div.encode("utf-8")).getroot()
    except AdapterError:
        return []  # reported by the structure rules
    found: list[tuple[str, str]] = []
    if sources:
        if root.text and root.text.strip():
            found.append(("ADP-4064", _snippet(root.text)))
        for child in root:
            if isinstance(child.tag, str) and not set(str(child.get("class", "")).split()) & SOURCES:
                found.append(
                    (
                        "ADP-4064",
                        _snippet("".join(str(t) for t in child.itertext())) or f"<{child.tag.removeprefix(XHTML_NS)}>",
                    )
                )
            if child.tail and child.tail.strip():
                found.append(("ADP-4064", _snippet(child.tail)))
    if sections is not None:
        langs = sorted(
            {
                str(c.get(_LANG) or c.get("lang"))
                for c in root
                if isinstance(c.tag, str) and (c.get(_LANG) or c.get("lang"))
            }
        )
        shown = ", ".join(langs)
        if sections == "_no" and langs:
            found.append(("ADP-4065", shown))
        elif sections == "_yes" and not langs:
            found.append(("ADP-4066", ""))
        elif sections == "_resource" and language and language not in langs:
            found.append(("ADP-4067", f"{language} (found: {shown or 'none'})"))
    return found


def _snippet(text: str) -> str:
    return " ".join(text.split())[:60]
