"""What every value function is made of: the two-way :class:`Function`, the :class:`Context` it may look at, the
names of the parts of an element it can say it used, and the plain readers and writers several kinds share.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lxml import etree

from adapter.mapping.conceptmaps import ConceptMaps

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


def text_of(element: etree._Element) -> str | None:
    """The element's own text, or None when it has child elements or only white space: such an element is not a
    plain value, and reading it as one would lose content."""
    if len(element) or element.text is None:
        return None
    text = element.text.strip()
    return text or None


def read_text(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    text = text_of(element)
    return (text, frozenset({TEXT})) if text is not None else (None, frozenset())


def write_text(value: Any, element: etree._Element, ctx: Context) -> None:
    element.text = str(value)


def lexical_plain(value: Any, ctx: Context) -> str:
    """The text a plain value is written as (booleans as XML writes them), to tell whether reading normalised it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def text_source(ctx: Context) -> str:
    return TEXT


def attr_source(ctx: Context) -> str:
    return str(ctx.args.get("attr") or TEXT)


#: What ``fixed`` gives: the element is implied by the mapping and has no FHIR value of its own.
IMPLIED = object()


def write_nothing(value: Any, element: etree._Element, ctx: Context) -> None:
    """The way back of a derived (one-way) value: the element it came from is written by its own rule."""
