"""Small text helpers of the site: the two languages of a text, cardinalities, values shown compactly."""

from __future__ import annotations

import json
from typing import Any, NamedTuple

#: How the package writes a text in both languages: Norwegian first, then `` / `` and English.
_SEPARATOR = " / "


class Bilingual(NamedTuple):
    """A text in Norwegian (``nb``) and, when the source gives it, in English (``en``)."""

    nb: str
    en: str | None


def bilingual(text: Any) -> Bilingual:
    """Split ``"norsk / English"`` (the package's convention) into its two languages. A text with no separator, or
    with several (a slash inside one of the languages), stays whole as Norwegian."""
    value = " ".join(str(text or "").split())
    if value.count(_SEPARATOR) == 1:
        nb, en = value.split(_SEPARATOR)
        return Bilingual(nb.strip(), en.strip())
    return Bilingual(value, None)


def cardinality(element: dict[str, Any], fallback: dict[str, Any] | None = None) -> str:
    """``min..max`` of an element (taken from ``fallback``, the snapshot element, where the element has none)."""
    fallback = fallback or {}
    low = element.get("min", fallback.get("min", ""))
    high = element.get("max", fallback.get("max", ""))
    return f"{low}..{high}" if low != "" or high != "" else ""


def compact(value: Any) -> str:
    """A JSON value on one line, non-ASCII kept (fixed and pattern values)."""
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def pretty(value: Any) -> str:
    """A resource as indented JSON (the examples)."""
    return json.dumps(value, ensure_ascii=False, indent=2)


def fixed_values(element: dict[str, Any]) -> list[tuple[str, str]]:
    """The fixed[x] and pattern[x] values of an element, as (key, compact JSON)."""
    return [(key, compact(value)) for key, value in element.items() if key.startswith(("fixed", "pattern"))]


def local(clark: str) -> str:
    """The local name of a Clark name (``{ns}Notat`` -> ``Notat``)."""
    return clark.rsplit("}", 1)[-1]
