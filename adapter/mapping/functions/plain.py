"""Values written as they are: text, attributes, numbers and booleans, elements the format fixes, and the derived
one-way values (a prefixed HER-id, a URL's scheme, a constant for a matched element).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from copy import deepcopy
from typing import Any

from lxml import etree

from adapter.mapping.functions.base import (
    IMPLIED,
    TEXT,
    Context,
    Function,
    Used,
    attr_source,
    lexical_plain,
    read_text,
    text_of,
    text_source,
    write_nothing,
    write_text,
)

_OID_ARC = re.compile(r"^(0|[1-9][0-9]*)$")


def _read_attr(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    name = ctx.args["attr"]
    value = element.get(name)
    if value is None or not value.strip():
        return None, frozenset()
    return value.strip(), frozenset({name})


def _write_attr(value: Any, element: etree._Element, ctx: Context) -> None:
    element.set(ctx.args["attr"], str(value))


def _read_number(kind: type) -> Callable[[etree._Element, Context], tuple[Any, Used]]:
    def read(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
        attr = ctx.args.get("attr")
        raw = text_of(element) if attr is None else element.get(attr)
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
    text = lexical_plain(value, ctx)
    if attr is None:
        element.text = text
    else:
        element.set(attr, text)


def _read_boolean(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    attr = ctx.args.get("attr")
    raw = text_of(element) if attr is None else element.get(attr)
    if raw is None or raw.strip() not in ("true", "false", "1", "0"):
        return None, frozenset()
    return raw.strip() in ("true", "1"), frozenset({attr or TEXT})


def _read_fixed(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """An element the message format fixes (MIGversion; RefDoc/MsgType "XML"): used when it has exactly that text
    (``value`` a string) or those attributes (``value`` a mapping), written always on the way back."""
    fixed = ctx.args["value"]
    if isinstance(fixed, dict):
        same = all(element.get(k) == str(v) for k, v in fixed.items())
        return (IMPLIED, frozenset(fixed)) if same else (None, frozenset())
    return (IMPLIED, frozenset({TEXT})) if text_of(element) == fixed else (None, frozenset())


def _write_fixed(value: Any, element: etree._Element, ctx: Context) -> None:
    fixed = ctx.args["value"]
    if isinstance(fixed, dict):
        for key, text in fixed.items():
            element.set(key, str(text))
    else:
        element.text = fixed


def _read_prefixed(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the text with ``prefix`` in front (a HER-id as an endpoint URN); one way only."""
    text = text_of(element)
    if text is None or not _OID_ARC.match(text):  # only a number can extend an OID ("369.767" cannot)
        return None, frozenset()
    return ctx.args["prefix"] + text, frozenset()


def _read_scheme(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the URL scheme of attribute V looked up in ``table`` ("other" when unknown); one way."""
    value = element.get("V")
    if value is None or ":" not in value:
        return None, frozenset()
    return ctx.args["table"].get(value.partition(":")[0].lower(), "other"), frozenset()


def _read_constant(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the rule's ``value`` whenever the element is there (which of a choice of elements was
    sent decides an Encounter status); uses nothing, so write it with ``reverse: false``."""
    return deepcopy(ctx.args["value"]), frozenset()


PLAIN: dict[str, Function] = {
    "scheme": Function(_read_scheme, write_nothing),
    "fixed": Function(_read_fixed, _write_fixed),
    "prefixed": Function(_read_prefixed, write_nothing),
    "text": Function(read_text, write_text, lexical_plain, text_source),
    "attr": Function(_read_attr, _write_attr, lexical_plain, attr_source),
    "integer": Function(_read_number(int), _write_source, lexical_plain, attr_source),
    "decimal": Function(_read_number(float), _write_source, lexical_plain, attr_source),
    "boolean": Function(_read_boolean, _write_source, lexical_plain, attr_source),
    "constant": Function(_read_constant, write_nothing),
}
