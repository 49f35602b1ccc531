"""Caps on what one document may hold: elements, nesting depth and Bundle entries, checked right after the parse.

A document within the byte limit can still hold hundreds of thousands of tiny values (a JSON array of 300,000
numbers is 1.5 MB), and the validator, the mapping and the OperationOutcome work through every one of them: seconds
of CPU for one request. :func:`check_caps` counts them first, in one cheap pass over the parsed value, and refuses
the document (413, ADP-5100/5101/5102) before any of that work starts.

The caps in force are those of :data:`CAPS`: the service sets them for each request from its settings
(``SAMHANDLING_MAX_ELEMENTS``, ``_MAX_DEPTH``, ``_MAX_ENTRIES``); elsewhere (the CLI, tests) the defaults apply.
"""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from adapter.errors import AdapterError, Issue

#: The default caps: the service's settings default to the same numbers (tests/test_limits.py checks that).
MAX_ELEMENTS = 200_000
MAX_DEPTH = 64
MAX_ENTRIES = 5_000


@dataclass(frozen=True)
class Caps:
    """The most ``elements`` (every JSON value: object, array item, member), ``depth`` (objects and arrays inside
    each other) and ``entries`` (of any Bundle in it) one document may have."""

    elements: int = MAX_ELEMENTS
    depth: int = MAX_DEPTH
    entries: int = MAX_ENTRIES


#: The caps for the document being read now (per request in the service: a context variable, so per thread).
CAPS: ContextVar[Caps] = ContextVar("samhandling_parse_caps", default=Caps())  # noqa: B039 - frozen, never mutated


def check_caps(value: Any, caps: Caps | None = None) -> None:
    """Raise AdapterError ADP-5100 (too many elements), ADP-5101 (nested too deeply) or ADP-5102 (a Bundle with too
    many entries) when the parsed JSON form ``value`` goes beyond ``caps`` (default: :data:`CAPS`). Stops counting
    as soon as a cap is passed, and visits each value once without recursion, so a refused document costs little."""
    caps = caps or CAPS.get()
    count = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, dict):
            children: Any = current.values()
            count += len(current)
            entries = current.get("entry")
            if current.get("resourceType") == "Bundle" and isinstance(entries, list) and len(entries) > caps.entries:
                raise _refused("ADP-5102", count=len(entries), limit=caps.entries)
        elif isinstance(current, list):
            children = current
            count += len(current)
        else:
            continue
        if count > caps.elements:
            raise _refused("ADP-5100", limit=caps.elements)
        if depth > caps.depth:
            raise _refused("ADP-5101", limit=caps.depth)
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _refused(code: str, **args: Any) -> AdapterError:
    return AdapterError([Issue(code, "fatal", args=args)])
