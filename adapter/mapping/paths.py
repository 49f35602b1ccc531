"""The small FHIR path language of the mapping files: read and write JSON-form FHIR resources by path.

A path is a dotted list of steps; each step is an element name with an optional selector:

* ``name``: the member (an object, or every item when the member is a list);
* ``name[2]``: the item at that index (created on write, with empty objects before it);
* ``name[+]``: on write, a new item appended to the list; on read, every item;
* ``name[=]``: the last item of the list (created on write when the list is empty);
* ``extension('url')``: the extension items with that url. On write the first one is reused (or created); with
  ``[+]`` after it a new one is appended.

Reading returns a flat list of values (FHIRPath style: an absent member is the empty list). Writing creates what
is missing. Nothing here knows FHIR cardinalities: the mapping author writes ``[+]`` or ``[0]`` for lists, and the
profile validation of every translated Bundle catches a mistake.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

_STEP = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:\('(?P<url>[^']*)'\))?(?:\[(?P<sel>\d+|\+|=)\])?$")


@dataclass(frozen=True)
class Step:
    """One step of a path: member name, extension url (for ``extension('url')``) and list selector."""

    name: str
    url: str | None
    selector: str | None  # None, "+", "=" or a decimal index


@lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[Step, ...]:
    """Split a path into steps; a malformed path raises ValueError (mapping files are checked at load time)."""
    steps = []
    for part in _split(path):
        match = _STEP.match(part)
        if match is None:
            raise ValueError(f"bad path step {part!r} in {path!r}")
        steps.append(Step(match["name"], match["url"], match["sel"]))
    if not steps:
        raise ValueError("empty path")
    return tuple(steps)


def _split(path: str) -> list[str]:
    # Dots inside an extension url ('http://a.b/c') do not split.
    parts: list[str] = []
    current: list[str] = []
    depth = False
    for char in path:
        if char == "'":
            depth = not depth
        if char == "." and not depth:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def get(node: Any, path: str) -> list[Any]:
    """Every value at ``path`` below ``node`` (a dict), flattened."""
    values = [node]
    for step in parse_path(path):
        found: list[Any] = []
        for value in values:
            if not isinstance(value, dict) or step.name not in value:
                continue
            member = value[step.name]
            items = member if isinstance(member, list) else [member]
            if step.url is not None:
                items = [i for i in items if isinstance(i, dict) and i.get("url") == step.url]
            if step.selector is None or step.selector == "+":
                found.extend(items)
            elif step.selector == "=":
                found.extend(items[-1:])
            else:
                index = int(step.selector)
                found.extend(items[index : index + 1])
        values = found
    return values


def put(node: dict[str, Any], path: str, value: Any) -> None:
    """Write ``value`` at ``path`` below ``node``, creating objects and list items on the way."""
    steps = parse_path(path)
    current: dict[str, Any] = node
    for position, step in enumerate(steps):
        last = position == len(steps) - 1
        if step.url is not None:
            current = _extension(current, step, value if last else None)
            continue
        if step.selector is None:
            if last:
                current[step.name] = value
                return
            child = current.setdefault(step.name, {})
            if not isinstance(child, dict):
                raise ValueError(f"{step.name} is not an object in {path!r}")
            current = child
            continue
        items = current.setdefault(step.name, [])
        if not isinstance(items, list):
            raise ValueError(f"{step.name} is not a list in {path!r}")
        index = _index(items, step.selector)
        if last:
            if index == len(items):
                items.append(value)
            else:
                items[index] = value
            return
        if index == len(items):
            items.append({})
        current = items[index]


def _index(items: list[Any], selector: str) -> int:
    if selector == "+":
        return len(items)
    if selector == "=":
        return max(len(items) - 1, 0)
    index = int(selector)
    while len(items) < index:
        items.append({})
    return index


def _extension(current: dict[str, Any], step: Step, value: Any) -> dict[str, Any]:
    items = current.setdefault("extension", [])
    matching = [i for i in items if i.get("url") == step.url]
    if matching and step.selector != "+":
        found: dict[str, Any] = matching[-1] if step.selector == "=" else matching[0]
    else:
        found = {"url": step.url}
        items.append(found)
    if value is not None:
        raise ValueError("an extension step cannot be the last step: write extension('url').valueX")
    return found


def primitive_slot(path: str) -> tuple[str, str] | None:
    """For a path ending in a single primitive member (``a.b.code``), the parent path and the member name, so
    that the primitive's ``_code`` sibling can carry extensions; None when the last step is a list item."""
    steps = parse_path(path)
    last = steps[-1]
    if last.selector is not None or last.url is not None:
        return None
    parent = path[: len(path) - len(last.name)].rstrip(".")
    return parent, last.name
