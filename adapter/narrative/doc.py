"""The one structure a resource's narrative is built as, and its two outputs: FHIR XHTML and plain text.

A :class:`Doc` is a list of blocks: a title, label/value rows, paragraphs, lists and sections. Each renderer of
:mod:`adapter.narrative.types` fills one; :func:`to_xhtml` writes it as a Narrative ``div`` (only the elements the
FHIR narrative allows: ``div``, ``h2``, ``h3``, ``p``, ``table``, ``tr``, ``th``, ``td``, ``ul``, ``li``, ``b``,
``br``; no attribute but ``xmlns`` and ``style``; every value escaped) and :func:`to_text` as the plain text of a
Dialogmelding. Both are simple string building: the same structure always gives the same text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

XHTML_NS = "http://www.w3.org/1999/xhtml"
#: Characters XML 1.0 does not allow (a string from a sender may hold them; FHIR strings may not).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class Title:
    """The heading of the narrative; upper case in plain text when ``upper``."""

    text: str
    upper: bool = False


@dataclass(frozen=True)
class Row:
    """One label/value row; a row without a value is left out."""

    label: str
    value: str


@dataclass(frozen=True)
class Para:
    """A paragraph; ``gap``: a blank line before it in plain text."""

    text: str
    gap: bool = False


@dataclass(frozen=True)
class Item:
    """One entry of a list: ``label: text`` (either may be empty) and rows below it."""

    label: str
    text: str = ""
    rows: tuple[Row, ...] = ()
    depth: int = 0
    bullet: bool = True


@dataclass(frozen=True)
class Section:
    """A titled part: a blank line and its title in plain text, a ``h3`` in XHTML."""

    title: str
    blocks: tuple[Block, ...]


Block = Title | Row | Para | Item | Section


@dataclass
class Doc:
    """The narrative of one resource, as blocks."""

    blocks: list[Block] = field(default_factory=list)

    def title(self, text: str, *, upper: bool = False) -> None:
        if text:
            self.blocks.append(Title(text, upper))

    def row(self, label: str, value: str) -> None:
        if value:
            self.blocks.append(Row(label, value))

    def para(self, text: str, *, gap: bool = False) -> None:
        if text.strip():
            self.blocks.append(Para(text, gap))

    def items(self, items: Sequence[Item]) -> None:
        self.blocks.extend(items)

    def section(self, title: str, blocks: Sequence[Block]) -> None:
        if blocks:
            self.blocks.append(Section(title, tuple(blocks)))

    def empty(self) -> bool:
        return not self.blocks


def item_line(item: Item) -> str:
    """``label: text``, ``label`` or ``text``."""
    if item.label and item.text:
        return f"{item.label}: {item.text}"
    return item.label or item.text


# --- plain text -------------------------------------------------------------------------------------------------


def to_text(doc: Doc) -> str:
    """The plain text (Norwegian, UTF-8) of ``doc``: one line per row, item and paragraph, a blank line before
    each section; ends with a newline."""
    lines: list[str] = []
    _text_blocks(doc.blocks, lines)
    return "\n".join(lines) + "\n"


def _text_blocks(blocks: tuple[Block, ...] | list[Block], lines: list[str]) -> None:
    for block in blocks:
        if isinstance(block, Title):
            lines.append(block.text.upper() if block.upper else block.text)
        elif isinstance(block, Row):
            lines.append(f"{block.label}: {block.value}")
        elif isinstance(block, Para):
            lines += [""] if block.gap else []
            lines.append(block.text)
        elif isinstance(block, Item):
            indent = "  " * block.depth
            lines.append(f"{indent}{'- ' if block.bullet else ''}{item_line(block)}")
            lines += [f"{indent}  {row.label}: {row.value}" for row in block.rows]
        else:
            lines += ["", block.title]
            _text_blocks(block.blocks, lines)


# --- XHTML ------------------------------------------------------------------------------------------------------


def esc(text: str) -> str:
    """``text`` as XHTML character data or attribute value: markup escaped, characters XML forbids dropped."""
    return escape(_NOT_XML.sub("", text), quote=True)


def to_xhtml(doc: Doc) -> str:
    """The Narrative ``div`` of ``doc``: well-formed XHTML with only the elements FHIR allows (txt-1, txt-2)."""
    body = _xhtml_blocks(doc.blocks, "h2")
    return f'<div xmlns="{XHTML_NS}">{body or "<p>-</p>"}</div>'


def _xhtml_blocks(blocks: tuple[Block, ...] | list[Block], heading: str) -> str:
    out: list[str] = []
    rows: list[Row] = []
    items: list[Item] = []
    for block in blocks:
        if rows and not isinstance(block, Row):
            out.append(_table(rows))
            rows = []
        if items and not isinstance(block, Item):
            out.append(_list(items))
            items = []
        if isinstance(block, Title):
            out.append(f"<{heading}>{esc(block.text)}</{heading}>")
        elif isinstance(block, Row):
            rows.append(block)
        elif isinstance(block, Item):
            items.append(block)
        elif isinstance(block, Para):
            out.append("<p>" + "<br/>".join(esc(line) for line in block.text.split("\n")) + "</p>")
        else:
            out.append(f"<h3>{esc(block.title.rstrip(':'))}</h3>" + _xhtml_blocks(block.blocks, "h3"))
    if rows:
        out.append(_table(rows))
    if items:
        out.append(_list(items))
    return "".join(out)


def _table(rows: list[Row]) -> str:
    cells = "".join(f"<tr><th>{esc(r.label)}</th><td>{esc(r.value)}</td></tr>" for r in rows)
    return f"<table>{cells}</table>"


def _list(items: list[Item]) -> str:
    out = []
    for item in items:
        head = f"<b>{esc(item.label)}</b>" if item.label else ""
        if item.text:
            head += (": " if item.label else "") + esc(item.text)
        rows = "".join(f"<br/>{esc(r.label)}: {esc(r.value)}" for r in item.rows)
        style = f' style="margin-left: {item.depth}em"' if item.depth else ""
        out.append(f"<li{style}>{head}{rows}</li>")
    return "<ul>" + "".join(out) + "</ul>"
