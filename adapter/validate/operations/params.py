"""The input of a terminology operation: the URL's parameters and those of a ``Parameters`` body, checked.

Every operation names the parameters it takes; any other (but ``_format`` and ``_pretty``) is refused, as is one
given twice where one is allowed, a value of the wrong kind, or one longer than :data:`MAX_TEXT`: ADP-5061 (400).
A body that is no ``Parameters`` resource is ADP-5065 (400).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from adapter.errors import AdapterError, Issue

#: The longest text a parameter may have (a canonical URL, a code, a display, a filter).
MAX_TEXT = 1000
#: Parameters every operation takes and ignores (the answer's format).
_FORMAT = ("_format", "_pretty")
_TEXT_VALUES = ("valueString", "valueUri", "valueUrl", "valueCanonical", "valueCode", "valueId", "valueMarkdown")


class Params:
    """The parameters of one call of ``operation`` (``$expand``), by name, each a list of values: text from the URL,
    text, numbers, booleans or dicts (Coding, CodeableConcept) from a body."""

    def __init__(self, operation: str, allowed: Iterable[str], values: dict[str, list[Any]]) -> None:
        self.operation = operation
        unknown = [name for name in values if name not in allowed and name not in _FORMAT]
        if unknown:
            raise self.error(unknown[0], "not a parameter of this operation here; it takes " + ", ".join(allowed))
        self.values = values

    @classmethod
    def read(
        cls, operation: str, allowed: Iterable[str], query: list[tuple[str, str]], body: dict[str, Any] | None
    ) -> Params:
        """The parameters of the URL (``query``) and of a ``Parameters`` resource (``body``, None: a GET)."""
        values: dict[str, list[Any]] = {}
        for name, value in query:
            values.setdefault(name, []).append(value)
        if body is not None:
            for name, value in _body_values(operation, body):
                values.setdefault(name, []).append(value)
        return cls(operation, tuple(allowed), values)

    def error(self, name: str, detail: str) -> AdapterError:
        """The refusal of parameter ``name`` (ADP-5061)."""
        args = {"param": name[:100], "operation": self.operation, "detail": detail}
        return AdapterError([Issue("ADP-5061", "error", args=args)])

    def _one(self, name: str) -> Any:
        found = self.values.get(name, [])
        if len(found) > 1:
            raise self.error(name, "given more than once")
        return found[0] if found else None

    def text(self, name: str) -> str | None:
        """The one text value of ``name``, or None when it is not given."""
        value = self._one(name)
        if value is None:
            return None
        if not isinstance(value, str) or not value:
            raise self.error(name, "not a text value")
        if len(value) > MAX_TEXT:
            raise self.error(name, f"longer than {MAX_TEXT} characters")
        return value

    def required(self, name: str) -> str:
        """The one text value of ``name``, which must be given."""
        value = self.text(name)
        if value is None:
            raise self.error(name, "missing")
        return value

    def integer(self, name: str) -> int | None:
        """The one whole number ≥ 0 of ``name`` (text of digits from a URL), or None."""
        value = self._one(name)
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
            return int(value)
        if value is None or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        raise self.error(name, "not a whole number from 0 (at most 18 digits)")

    def boolean(self, name: str) -> bool:
        """The one boolean of ``name`` (``true``/``false`` from a URL); False when it is not given."""
        value = self._one(name)
        if value in (None, False, "false"):
            return False
        if value in (True, "true"):
            return True
        raise self.error(name, "not true or false")

    def coding(self, name: str) -> dict[str, Any] | None:
        """The one Coding (or CodeableConcept) of ``name``, or None; only a body can give one."""
        value = self._one(name)
        if value is None or isinstance(value, dict):
            return value
        raise self.error(name, "a Coding or CodeableConcept is given in a Parameters body (POST)")


def _body_values(operation: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, value) of each parameter of a Parameters resource."""
    if body.get("resourceType") != "Parameters":
        raise _not_parameters(operation, f"its resourceType is {str(body.get('resourceType'))[:64]!r}")
    found: list[tuple[str, Any]] = []
    for parameter in body.get("parameter", []) if isinstance(body.get("parameter"), list) else []:
        name = parameter.get("name") if isinstance(parameter, dict) else None
        if not isinstance(name, str):
            raise _not_parameters(operation, "a parameter without a name")
        kinds = [key for key in parameter if key.startswith("value")]
        if len(kinds) != 1 or "part" in parameter or "resource" in parameter:
            raise _not_parameters(operation, f"the parameter {name[:100]!r} has no single value[x]")
        value = parameter[kinds[0]]
        if kinds[0] not in (*_TEXT_VALUES, "valueInteger", "valueBoolean", "valueCoding", "valueCodeableConcept"):
            raise _not_parameters(operation, f"the parameter {name[:100]!r} has a {kinds[0]}, not taken here")
        found.append((name, value))
    return found


def _not_parameters(operation: str, detail: str) -> AdapterError:
    return AdapterError([Issue("ADP-5065", "error", args={"operation": operation, "detail": detail})])
