"""Placeholders in mapping files: one description for several versions of a standard, and fragments with parameters.

A value may name a placeholder, ``${name}``. A string that is nothing but one placeholder becomes the value itself (a
list, a mapping, a number, or null); inside a longer string the placeholder is replaced by the value's text. The values
come from one entry of a file's ``variants:`` (see :func:`variants_of`) or from the ``with:`` of a rule that uses a
fragment. A placeholder no value is given for is an error, never left in the rules.

A rule (or any mapping in the tree) with ``only: [variant, ...]`` is kept in the variants it names and dropped from
the others, so the differences between versions are declared where they are.
"""

from __future__ import annotations

import copy
import re
from typing import Any

PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_-]*)\}")
#: The keys every entry of ``variants:`` needs: its name, as ``only:`` names it.
VARIANT_KEY = "variant"


class TemplateError(ValueError):
    """A placeholder without a value, or a malformed ``variants:`` or ``only:``; the message says which."""


def fill(data: Any, values: dict[str, Any], where: str) -> Any:
    """A copy of ``data`` with every ``${name}`` replaced by ``values[name]`` (``where`` names the place for errors)."""
    if isinstance(data, dict):
        return {fill(k, values, where): fill(v, values, where) for k, v in data.items()}
    if isinstance(data, list):
        return [fill(item, values, where) for item in data]
    if not isinstance(data, str) or "${" not in data:
        return data
    whole = PLACEHOLDER.fullmatch(data)
    if whole:
        return copy.deepcopy(_value(whole.group(1), values, where))
    return PLACEHOLDER.sub(lambda m: str(_value(m.group(1), values, where)), data)


def _value(name: str, values: dict[str, Any], where: str) -> Any:
    if name not in values:
        given = ", ".join(sorted(values)) or "none"
        raise TemplateError(f"{where}: no value for the placeholder ${{{name}}} (given: {given})")
    return values[name]


def unfilled(data: Any) -> list[str]:
    """The placeholders still in ``data`` (sorted), e.g. a fragment's parameters."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str):
            found.update(PLACEHOLDER.findall(value))

    walk(data)
    return sorted(found)


def only_in(data: Any, variant: str | None, where: str, known: frozenset[str] = frozenset()) -> Any:
    """``data`` as it is in ``variant``: every mapping with ``only:`` that does not name it is left out (from the list
    that holds it), and the ``only:`` keys are taken off. ``only:`` is a list of the ``known`` variants (a name that is
    not one would drop its rule from all of them unseen). ``variant`` None: the file has no variants, so an ``only:``
    is an error."""
    if isinstance(data, list):
        kept = []
        for item in data:
            if isinstance(item, dict) and "only" in item:
                if not _named(item["only"], variant, where, known):
                    continue
                item = {k: v for k, v in item.items() if k != "only"}
            kept.append(only_in(item, variant, where, known))
        return kept
    if isinstance(data, dict):
        if "only" in data:
            raise TemplateError(f"{where}: only: is for a rule in a list of rules, not {data}")
        return {k: only_in(v, variant, where, known) for k, v in data.items()}
    return data


def _named(only: Any, variant: str | None, where: str, known: frozenset[str]) -> bool:
    if variant is None:
        raise TemplateError(f"{where}: only: {only!r} in a file without variants")
    if not isinstance(only, list) or not only:
        raise TemplateError(f"{where}: only: must be a list of one or more variants, not {only!r}")
    unknown = sorted(str(n) for n in only if str(n) not in known)
    if unknown:
        raise TemplateError(f"{where}: only: names {unknown}, not a variant of the file ({sorted(known)})")
    return variant in {str(n) for n in only}


def variants_of(file: str, data: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """The mapping files ``data`` describes: itself (variant None) without ``variants:``; else one per entry of
    ``variants:`` (each a mapping with ``variant:``, its name, and the values of the placeholders), with the rules
    of other variants left out and the placeholders filled (so a variant need not give values for rules it has not)."""
    declared = data.get("variants")
    if declared is None:
        return [(None, only_in(data, None, file))]
    if not isinstance(declared, list) or not declared:
        raise TemplateError(f"{file}: variants: must list one or more mappings, each with {VARIANT_KEY}:")
    body = {k: v for k, v in data.items() if k != "variants"}
    for entry in declared:
        if not isinstance(entry, dict) or not isinstance(entry.get(VARIANT_KEY), str | int | float):
            raise TemplateError(f"{file}: every entry of variants: needs {VARIANT_KEY}: (its name), not {entry!r}")
        if unfilled(entry):
            raise TemplateError(f"{file}: the values of a variant hold no placeholders: {entry!r}")
    names = [str(entry[VARIANT_KEY]) for entry in declared]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice or not all(name.strip() for name in names):
        raise TemplateError(f"{file}: every variant needs a name of its own (declared twice or empty: {twice})")
    known = frozenset(names)
    found: list[tuple[str | None, dict[str, Any]]] = []
    for name, entry in zip(names, declared, strict=True):
        where = f"{file} ({name})"
        found.append((name, fill(only_in(body, name, where, known), {**entry, VARIANT_KEY: name}, where)))
    return found
