"""JSON reading: the stdlib parser for the value, and positions found only when they are asked for.

The stdlib parser is the fast path; positions cost a second look at the text, so :class:`JsonScanner` reads only the
objects and arrays on the way to an element located (skipping the rest with the stdlib's C scanner), and the full
tokenizer (:func:`json_positions`) runs only when the parse noticed a repeated key, which then has to be located.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from typing import Any, NamedTuple

from adapter.errors import AdapterError, Issue
from adapter.parse.caps import check_caps
from adapter.parse.fhir_paths import JsonPath, Key, LineIndex, Position, format_path

_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[{}\[\]:,]|[^\s{}\[\]:,"]+', re.DOTALL)


class JsonRead(NamedTuple):
    """What :func:`read_json` found: positions are None unless a repeated key made the tokenizer run anyway."""

    resource: Any
    text: str
    duplicates: list[tuple[str, int, int]]
    positions: dict[JsonPath, Position] | None


def read_json(data: bytes) -> JsonRead:
    """Parse UTF-8 JSON ``data``; raises ADP-1001 (with line and column) for anything the stdlib would not take
    or would take too leniently (NaN, lone surrogates), and ADP-5100/5101/5102 for a document beyond the caps of
    :mod:`adapter.parse.caps`. Repeated keys are located here, when there are any."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        prefix = data[: exc.start].decode("utf-8")
        line, column = LineIndex(prefix).position(len(prefix))
        raise _json_error(f"not UTF-8 ({exc.reason})", line, column) from None
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        obj = dict(items)
        if len(obj) != len(items):
            duplicated = True
        return obj

    try:
        resource = json.loads(text, object_pairs_hook=pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise _json_error(exc.msg, exc.lineno, exc.colno) from None
    except RecursionError:
        raise _json_error("nested too deeply", 1, 1) from None
    except _ConstantError as exc:
        line, column = _constant_position(text, exc.token)
        raise _json_error(f"{exc.token} is not a JSON number", line, column) from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise _json_error(str(exc).split(";")[0], 1, 1) from None
    check_caps(resource)  # too many values, too deep, too many entries: refused before any work on them
    if _SURROGATE_ESCAPE.search(text):  # rare: only then check that every string is real Unicode
        try:
            json.dumps(resource, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise _json_error("a \\u escape is a lone surrogate, not a character", 1, 1) from None
    if not duplicated:
        return JsonRead(resource, text, [], None)
    # rare: only now pay for the tokenizer
    root = resource.get("resourceType") if isinstance(resource, dict) else None
    positions, found = json_positions(text)
    name = root if isinstance(root, str) else ""
    duplicates = [(format_path(name, path), line, column) for path, (line, column) in found]
    return JsonRead(resource, text, duplicates, positions)


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _ConstantError(ValueError):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


def _no_constant(token: str) -> Any:
    raise _ConstantError(token)


def _constant_position(text: str, token: str) -> Position:
    for match in _JSON_TOKEN.finditer(text):
        if match.group() == token:
            return LineIndex(text).position(match.start())
    return (1, 1)


def _json_error(detail: str, line: int, column: int) -> AdapterError:
    return AdapterError([Issue("ADP-1001", "fatal", None, line, column, {"detail": detail})])


class _Frame:
    """An open JSON object or array while tokenizing: its path, the current key, the next index, keys seen."""

    __slots__ = ("count", "key", "object", "path", "seen")

    def __init__(self, path: JsonPath, is_object: bool) -> None:
        self.path = path
        self.object = is_object
        self.key: JsonPath | None = None
        self.count = 0
        self.seen: set[str] = set()


def json_positions(text: str) -> tuple[dict[JsonPath, Position], list[tuple[JsonPath, Position]]]:
    """Positions of every key and array item of well-formed JSON ``text``, and the repeated keys."""
    lines = LineIndex(text)
    positions: dict[JsonPath, Position] = {}
    duplicates: list[tuple[JsonPath, Position]] = []
    stack: list[_Frame] = []
    for match in _JSON_TOKEN.finditer(text):
        token = match.group()
        first = token[0]
        if first == ",":
            if stack[-1].object:
                stack[-1].key = None
            continue
        if first == ":":
            continue
        if first in "}]":
            stack.pop()
            continue
        top = stack[-1] if stack else None
        if top is not None and top.object and top.key is None:
            name = json.loads(token) if "\\" in token else token[1:-1]
            path = (*top.path, name)
            positions[path] = lines.position(match.start())
            if name in top.seen:
                duplicates.append((path, positions[path]))
            top.seen.add(name)
            top.key = path
            continue
        if top is None:
            path = ()
            positions[path] = lines.position(match.start())
        elif top.object:
            path = top.key or top.path
        else:
            path = (*top.path, top.count)
            top.count += 1
            positions[path] = lines.position(match.start())
        if first in "{[":
            stack.append(_Frame(path, first == "{"))
    return positions, duplicates


class JsonScanner:
    """Positions in well-formed JSON text found on demand, the same as :func:`json_positions` gives: the position
    of a path is that of its key (in an object) or of its value (an array item; the root). Only the objects and
    arrays on the way to a path are read, each at most once and only as far as needed; the values passed over are
    skipped by the stdlib's C scanner. So locating a few issues does not cost a Python-level pass over every token
    of the text. ``unique_keys``: no object repeats a key (as :func:`read_fhir` knows from its parse), so an object
    is read only up to the key looked for; otherwise to its end, where a repeated key's last occurrence wins."""

    def __init__(self, text: str, unique_keys: bool = False) -> None:
        self.text = text
        self.unique_keys = unique_keys
        self.root = _past_white(text, 0)
        self.read: dict[JsonPath, _Members] = {}
        self.lines: list[tuple[int, int]] = [(0, 1)]  # (offset, its line), ascending

    def position(self, path: JsonPath) -> Position:
        """1-based (line, column) of ``path``, or of its deepest prefix that is in the text."""
        here: JsonPath = ()
        token = value = self.root
        for key in path:
            members = self.read.get(here)
            if members is None:
                members = self.read[here] = _Members(self.text, value)
            found = members.find(key, self.unique_keys)
            if found is None:
                break
            token, value = found
            here = (*here, key)
        return self._line_column(token)

    def _line_column(self, offset: int) -> Position:
        """1-based (line, column) of ``offset``: lines are counted on from the nearest offset already seen
        before it, so that locating many issues counts through the text about once."""
        seen = self.lines
        nearest = bisect_right(seen, (offset, 1 << 62)) - 1
        since, line = seen[nearest]
        line += self.text.count("\n", since, offset)
        if nearest == len(seen) - 1:
            seen.append((offset, line))
        line_start = self.text.rfind("\n", 0, offset) + 1
        return line, offset - line_start + 1


class _Members:
    """The members of one JSON object or array, read as far as they were needed."""

    __slots__ = ("at", "found", "index", "object", "text", "unread")

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.object = text[start] == "{"
        #: key or index -> (offset of the key or item, offset of its value)
        self.found: dict[Key, tuple[int, int]] = {}
        self.index = 0
        self.at: int | None = None  # where the next member (or, when ``unread``, the last one's value) starts
        self.unread = False  # the value at ``at`` is yet to be skipped (not skipped before it was needed)
        if text[start] in "{[":
            at = _past_white(text, start + 1)
            self.at = None if text[at] in "}]" else at

    def find(self, key: Key, unique_keys: bool) -> tuple[int, int] | None:
        """(offset of the key or item, offset of its value) of member ``key``, None when there is none."""
        found = self.found
        if key in found and (unique_keys or not self.object):
            return found[key]
        text, white = self.text, _past_white
        while self.at is not None:
            at = self.at
            if self.unread:  # skip the value found last time, to the next member
                _, end = _SCAN_VALUE(text, at)
                at = white(text, end)
                next_at = white(text, at + 1) if text[at] == "," else None
                self.at = next_at
                self.unread = False
                if next_at is None:
                    break
                at = next_at
            if self.object:
                name, end = _scanstring(text, at + 1)
                value = white(text, white(text, end) + 1)  # past the colon
                found[name] = (at, value)
            else:
                name = self.index
                value = at
                found[name] = (at, at)
                self.index += 1
            self.at, self.unread = value, True
            if name == key and (unique_keys or not self.object):
                return found[name]
        return found.get(key)


_WHITE = re.compile(r"[ \t\n\r]*")  # white space in JSON
#: (value, offset after it) of the JSON value that starts at an offset: the stdlib's C scanner
_SCAN_VALUE = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_scanstring = json.decoder.scanstring  # type: ignore[attr-defined]


def _past_white(text: str, at: int) -> int:
    """The offset after the JSON white space that starts at ``at``."""
    found = _WHITE.match(text, at)
    return found.end() if found else at
