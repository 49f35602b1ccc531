"""Primitive values: the JSON type each FHIR primitive needs, the R4 regexes and the checks a regex cannot make.

The regexes are read from the core StructureDefinitions (the ``regex`` extension on ``<type>.value``), so the
rules are R4's own. On top come what R4 states in prose: integer ranges, real calendar dates, base64 that decodes,
no empty strings, no string longer than 1 MB.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Callable
from typing import Any

from adapter.validate.packages import Definitions

REGEX_EXT = "http://hl7.org/fhir/StructureDefinition/regex"
_INTEGERS = {"integer": -(2**31), "unsignedInt": 0, "positiveInt": 1}
_DATE_PART = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
#: the types whose JSON value is not a string, or a string checked otherwise (see Primitives.problem)
_NOT_PLAIN_STRINGS = frozenset({"boolean", "decimal", "xhtml", "base64Binary", *_INTEGERS})
_MAX_LENGTH = 1024 * 1024  # R4 (datatypes.html#string): strings SHALL NOT exceed 1 MB; base64Binary may


class Primitives:
    """Checks primitive values; regexes are compiled once per type."""

    def __init__(self, defs: Definitions) -> None:
        self.defs = defs
        self._regex: dict[str, re.Pattern[str] | None] = {}
        #: the string types' own checks (regex, extra rule), by type: most values are strings, so they skip the tests
        #: of the other JSON types below
        self._strings: dict[str, tuple[re.Pattern[str] | None, Callable[[str], str | None] | None]] = {}

    def problem(self, code: str, value: Any) -> str | None:
        """Why ``value`` is not a valid JSON value of primitive type ``code``, or None when it is."""
        checks = self._strings.get(code) if value.__class__ is str else None
        if checks is not None:
            if value == "":
                return "the value is empty (leave the element out instead)"
            if len(value) > _MAX_LENGTH // 4 and len(value.encode("utf-8")) > _MAX_LENGTH:
                return f"the value is longer than the maximum of 1 MB ({_MAX_LENGTH} bytes)"
            regex, extra = checks
            if regex is not None and not regex.fullmatch(value):
                return f"{value!r} does not match the format of {code}"
            return extra(value) if extra else None
        if code not in _NOT_PLAIN_STRINGS and code not in self._strings:
            self._strings[code] = (self.regex(code), _EXTRA.get(code))
        if code == "boolean":
            return None if isinstance(value, bool) else f"a boolean must be true or false, not {_shown(value)}"
        if code in _INTEGERS:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"an {code} must be a JSON number without a fraction, not {_shown(value)}"
            if not _INTEGERS[code] <= value <= 2**31 - 1:
                return f"{value} is outside the range of {code}"
            return None
        if code == "decimal":
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"a decimal must be a JSON number, not {_shown(value)}"
            return None
        if not isinstance(value, str):
            return f"a {code} must be a JSON string, not {_shown(value)}"
        if value == "":
            return "the value is empty (leave the element out instead)"
        if code == "xhtml":
            return None  # checked as XHTML by the narrative rules
        if code != "base64Binary" and len(value) > _MAX_LENGTH // 4 and len(value.encode("utf-8")) > _MAX_LENGTH:
            return f"the value is longer than the maximum of 1 MB ({_MAX_LENGTH} bytes)"
        regex = self.regex(code)
        if regex is not None and not regex.fullmatch(value):
            return f"{value!r} does not match the format of {code}"
        extra = _EXTRA.get(code)
        return extra(value) if extra else None

    def regex(self, code: str) -> re.Pattern[str] | None:
        """The compiled R4 regex of a primitive type (None when the type has none)."""
        if code not in self._regex:
            self._regex[code] = _read_regex(self.defs, code)
        return self._regex[code]


def _read_regex(defs: Definitions, code: str) -> re.Pattern[str] | None:
    sd = defs.get("http://hl7.org/fhir/StructureDefinition/" + code)
    if sd is None:
        return None
    for element in sd.get("snapshot", {}).get("element", []):
        if element.get("path") == f"{code}.value":
            for type_element in element.get("type", []):
                for extension in type_element.get("extension", []):
                    if extension.get("url") == REGEX_EXT:
                        return re.compile(extension["valueString"])
    return None


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    return repr(value)


def _real_date(value: str) -> str | None:
    match = _DATE_PART.match(value)
    if match is None:
        return None
    year, month, day = (int(g) for g in match.groups())
    try:
        datetime.date(year, month, day)
    except ValueError:
        return f"{match.group(0)} is not a calendar date"
    return None


def _base64(value: str) -> str | None:
    compact = "".join(value.split())
    try:
        base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return f"{value[:40]!r} is not valid base64"
    return None


_EXTRA: dict[str, Callable[[str], str | None]] = {
    "date": _real_date,
    "dateTime": _real_date,
    "instant": _real_date,
    "base64Binary": _base64,
}
