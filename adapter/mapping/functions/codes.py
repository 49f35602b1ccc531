"""Codes and identifiers: KITH CS and CV as FHIR Codings and CodeableConcepts, codes translated through a ConceptMap
or a table, a FHIR code written as a KITH code, a format version, and KITH identifiers as FHIR ids.
"""

from __future__ import annotations

import re
import uuid
from copy import deepcopy
from typing import Any

from lxml import etree

from adapter.mapping.functions.base import (
    TEXT,
    Context,
    Function,
    Used,
    lexical_plain,
    text_of,
    text_source,
    write_text,
)

_FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
#: uuid5 namespace for FHIR ids made from identifiers that are not valid ids.
ID_NAMESPACE = uuid.UUID("6f1d7c0e-3a52-5b8e-9c1a-2f6a4d0b9e11")


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
    code = text_of(element) if attr == TEXT else element.get(attr)
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


def fhir_id(text: str) -> str:
    """A FHIR id for a KITH identifier: itself when it is a valid id, else a uuid5 of it."""
    return text if _FHIR_ID.match(text) else str(uuid.uuid5(ID_NAMESPACE, text))


def _read_id(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    text = text_of(element)
    return (fhir_id(text), frozenset({TEXT})) if text is not None else (None, frozenset())


def _read_version(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """MIGversion: the element's text looked up in ``table`` (KITH text -> FHIR value, e.g. a MessageDefinition
    canonical). The namespace already fixes the format, so a text the table does not hold (a misspelt or older
    version string) still gives the table's first value; the engine then keeps that text in ``kith-original``."""
    text = text_of(element)
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


CODES: dict[str, Function] = {
    "cs": Function(_read_cs, _write_cs),
    "cv": Function(_read_cv, _write_cv),
    "concept": Function(_read_concept, _write_concept),
    "conceptmap": Function(_read_mapped, _write_mapped, _lexical_mapped, lambda ctx: ctx.args.get("attr", "V")),
    "table": Function(_read_table, _write_table),
    "id": Function(_read_id, write_text, lexical_plain, text_source),
    "version": Function(_read_version, _write_version, _lexical_version, text_source),
    "lookup": Function(_read_lookup, _write_lookup),
}
