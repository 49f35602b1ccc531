"""Where things are in a FHIR resource's text: JSON paths, their expression-like names, and the FHIRPath-like
expressions validators report, resolved back to JSON paths.

Kept apart from the JSON and XML readers because both record positions by JSON path and both need the same
offset-to-line arithmetic, and because :class:`adapter.parse.fhir_source.Source` resolves expressions the same way
whichever format the resource came in.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from typing import Any, NamedTuple

Key = str | int
JsonPath = tuple[Key, ...]
Position = tuple[int, int]

_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_STEP = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)(?:\(([^()]*)\))?((?:\[\d+\])*)\s*(?:\.|\Z)")


def format_path(root_type: str, path: JsonPath) -> str:
    """The expression-like text of a JSON path: ``Patient.name[0]._given[1]``."""
    text = root_type
    for key in path:
        text = f"{text}[{key}]" if isinstance(key, int) else (f"{text}.{key}" if text else key)
    return text


class LineIndex:
    """Offsets to 1-based (line, column); lines end at ``\\n`` (libxml2 and the json module count the same way)."""

    def __init__(self, text: str) -> None:
        self.starts = [0, *(match.end() for match in re.finditer("\n", text))]

    def position(self, offset: int) -> Position:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def line_start(self, line: int) -> int:
        return self.starts[min(max(line, 1), len(self.starts)) - 1]


# --- expressions ----------------------------------------------------------------------------------------------


class _Step(NamedTuple):
    name: str
    arg: str | None
    indices: tuple[int, ...]


def _parse_steps(expression: str) -> list[_Step] | None:
    text = _COMMENT.sub("", expression).strip()
    steps: list[_Step] = []
    pos = 0
    while pos < len(text):
        match = _STEP.match(text, pos)
        if match is None or match.end() == pos:
            return None
        name, arg, indices = match.groups()
        numbers = tuple(int(number) for number in re.findall(r"\d+", indices))
        steps.append(_Step(name, arg.strip() if arg is not None else None, numbers))
        pos = match.end()
    return steps or None


def resolve_expression(resource: Any, expression: str) -> JsonPath | None:
    """The JSON path of the deepest part of ``expression`` that exists in ``resource``; None if unparseable.

    Understands indices, ``ofType(T)`` and choice names, the ``_name`` twin of primitives, nested resources
    (``.resource``, ``.contained[n]``, with or without a repeated type name) and ``extension('url')``.
    """
    steps = _parse_steps(expression)
    if steps is None:
        return None
    path: list[Key] = []
    node = resource
    i = _skip_type(steps, 0, node)
    while i < len(steps) and isinstance(node, dict):
        step = steps[i]
        name, indices = step.name, step.indices
        if step.arg is not None:
            if step.name in ("extension", "modifierExtension") and step.arg[:1] in "'\"":
                index = _extension_index(node.get(step.name), step.arg.strip("'\""))
                if index is None:
                    break
                indices = (index, *indices)
            else:
                break  # a function we do not follow: the prefix is as close as we get
        if name not in node and i + 1 < len(steps) and steps[i + 1].name == "ofType" and steps[i + 1].arg:
            type_name = steps[i + 1].arg or ""
            name += type_name[:1].upper() + type_name[1:]
            i += 1
        key = _member(node, name)
        if key is None:
            break
        more = i + 1 < len(steps)
        found = None
        if more and not key.startswith("_") and "_" + key in node and not _is_complex(node[key]):
            found = _descend(node["_" + key], indices, more)
            if found is not None:
                key = "_" + key
        if found is None:
            found = _descend(node[key], indices, more)
        if found is None:
            path.append(key)
            break
        path.append(key)
        path.extend(found[0])
        node = found[1]
        i = _skip_type(steps, i + 1, node)
    return tuple(path)


def _skip_type(steps: list[_Step], i: int, node: Any) -> int:
    """Step over a resource type name (``Patient`` or ``ofType(Patient)``) that repeats the node's resourceType."""
    if i < len(steps) and isinstance(node, dict) and "resourceType" in node:
        step = steps[i]
        if (step.name == node["resourceType"] and step.arg is None) or (
            step.name == "ofType" and step.arg == node["resourceType"]
        ):
            return i + 1
    return i


def _member(node: dict[str, Any], name: str) -> str | None:
    """The key for ``name``: itself, a choice expansion (``value`` -> ``valueQuantity``) or its ``_`` twin."""
    if name in node:
        return name
    for prefix in (name, "_" + name):
        for key in node:
            if key.startswith(prefix) and len(key) > len(prefix) and key[len(prefix)].isupper():
                return key
    return "_" + name if "_" + name in node else None


def _descend(value: Any, indices: tuple[int, ...], more: bool) -> tuple[list[int], Any] | None:
    """Apply ``indices`` to ``value``; with more steps to go, an unindexed array continues in its first item."""
    taken: list[int] = []
    for index in indices:
        if isinstance(value, list):
            if index >= len(value) or value[index] is None:
                return None
            taken.append(index)
            value = value[index]
        elif index != 0:
            return None
    if not indices and more and isinstance(value, list) and value:
        taken.append(0)
        value = value[0]
    return taken, value


def _is_complex(value: Any) -> bool:
    if isinstance(value, list):
        return any(isinstance(item, dict) for item in value)
    return isinstance(value, dict)


def _extension_index(extensions: Any, url: str) -> int | None:
    if isinstance(extensions, list):
        for index, extension in enumerate(extensions):
            if isinstance(extension, dict) and extension.get("url") == url:
                return index
    return None
