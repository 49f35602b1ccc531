"""Value limits of an element: ``minValue[x]`` / ``maxValue[x]``, ``maxLength`` and the ``minLength`` extension.

* Numbers (integer, decimal and their kinds) compare as numbers.
* Dates, times and instants compare on the time line; a ``Duration`` limit on one of them is relative to now: the
  value may lie at most that far in the past (``minValueDuration``) or in the future (``maxValueDuration``).
* Quantities compare after converting both to the same UCUM unit (``g`` against ``kg``, ``min`` against ``h``).
  Units we cannot convert are not compared: a limit we cannot apply is no pass and no failure.
* Strings (and other text primitives) are measured in characters.

Limits are read from the snapshot once (:func:`adapter.parse.fhir_model.limits_of`, with the rest of the compiled
model) and checked only on elements that have them.

Also here: the time budget of one validation (``SAMHANDLING_VALIDATION_SECONDS``). The service starts it for each
request (:func:`start_budget`); the walker calls :func:`spend` once for every object it checks, which looks at the
clock every :data:`CLOCK_EVERY` calls and raises ADP-5103 (422) once the budget is spent: a document that is cheap to
parse but slow to check does not hold a thread for long.
"""

from __future__ import annotations

import datetime
import re
import time
from contextvars import ContextVar, Token
from decimal import Decimal, InvalidOperation
from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_model import Limits

_UCUM = "http://unitsofmeasure.org"
_NUMBERS = frozenset({"integer", "decimal", "positiveInt", "unsignedInt", "integer64"})
_TIMES = frozenset({"date", "dateTime", "instant", "time"})
_MOMENT = re.compile(
    r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?"
)

# UCUM units we convert: (dimension, factor to the dimension's base unit). Metric ones take the SI prefixes.
_METRIC = {"g": ("mass", Decimal(1)), "m": ("length", Decimal(1)), "L": ("volume", Decimal(1)),
           "l": ("volume", Decimal(1)), "s": ("time", Decimal(1)), "mol": ("amount", Decimal(1)),
           "Pa": ("pressure", Decimal(1)), "eq": ("equivalents", Decimal(1))}  # fmt: skip
_PLAIN = {
    "min": ("time", Decimal(60)),
    "h": ("time", Decimal(3600)),
    "d": ("time", Decimal(86400)),
    "wk": ("time", Decimal(604800)),
    "mo": ("time", Decimal("2629800")),  # the mean Julian month, as UCUM defines it
    "a": ("time", Decimal(31557600)),  # the mean Julian year
    "mm[Hg]": ("pressure", Decimal("133.322")),
    "%": ("fraction", Decimal("0.01")),
    "1": ("fraction", Decimal(1)),
}
_PREFIXES = {"k": 3, "h": 2, "da": 1, "d": -1, "c": -2, "m": -3, "u": -6, "n": -9, "p": -12, "M": 6, "G": 9}
_SECONDS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 604800}  # a Duration on a date: exact time units

#: How many :func:`spend` calls pass between two looks at the clock (a power of two, minus one, as a mask).
CLOCK_EVERY = 255


class Budget:
    """The time budget of the validation running in this context: its deadline (``time.monotonic``) and limit."""

    __slots__ = ("calls", "deadline", "seconds")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.calls = 0


_BUDGET: ContextVar[Budget | None] = ContextVar("samhandling_validation_budget", default=None)


def start_budget(seconds: float | None) -> Token[Budget | None]:
    """Give the validations of this context (a request) ``seconds`` from now (None or 0: no budget); the token
    ends it (:func:`end_budget`)."""
    return _BUDGET.set(Budget(seconds) if seconds else None)


def end_budget(token: Token[Budget | None]) -> None:
    """End the budget :func:`start_budget` started."""
    _BUDGET.reset(token)


def spend() -> None:
    """One more object checked: raises AdapterError ADP-5103 once the budget of this context is spent. Cheap
    (a context lookup and a count; the clock only every :data:`CLOCK_EVERY` + 1 calls)."""
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.calls += 1
    if budget.calls & CLOCK_EVERY == 0 and time.monotonic() > budget.deadline:
        raise AdapterError([Issue("ADP-5103", "fatal", args={"limit": f"{budget.seconds:g}"})])


def limit_problems(limits: Limits, code: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
    """(issue code, arguments) for each limit ``value`` (of type ``code``) breaks."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(value, str) and code not in _TIMES:
        if limits.min_length is not None and len(value) < limits.min_length:
            found.append(("ADP-4015", {"value": value, "length": len(value), "limit": limits.min_length}))
        if limits.max_length is not None and len(value) > limits.max_length:
            found.append(("ADP-4016", {"value": value, "length": len(value), "limit": limits.max_length}))
    for bound, issue in ((limits.min_value, "ADP-4013"), (limits.max_value, "ADP-4014")):
        if bound is None:
            continue
        order = _compare(code, value, bound, upper=issue == "ADP-4014")
        if order is not None and (order < 0 if issue == "ADP-4013" else order > 0):
            found.append((issue, {"value": _shown(value), "limit": _shown(bound[1])}))
    return found


def _compare(code: str, value: Any, bound: tuple[str, Any], upper: bool) -> int | None:
    """-1, 0 or 1 as ``value`` is below, at or above the limit; None when they cannot be compared."""
    kind, limit = bound
    if code in _NUMBERS:
        return _order(_number(value), _number(limit))
    if code in _TIMES:
        moment = _moment(value)
        if kind == "Duration":
            span = _span(limit)
            if moment is None or span is None:
                return None
            now = datetime.datetime.now(datetime.UTC)
            return _order(moment, now + span if upper else now - span)
        return _order(moment, _moment(limit))
    if code in ("Quantity", "Age", "Duration", "Distance", "Count", "SimpleQuantity", "MoneyQuantity"):
        return _compare_quantities(value, limit)
    return None


def _compare_quantities(value: Any, limit: Any) -> int | None:
    if not isinstance(value, dict) or not isinstance(limit, dict):
        return None
    amount, wanted = _number(value.get("value")), _number(limit.get("value"))
    if amount is None or wanted is None:
        return None
    if value.get("code") == limit.get("code") and value.get("system") == limit.get("system"):
        return _order(amount, wanted)
    if value.get("system") != _UCUM or limit.get("system") != _UCUM:
        return None
    mine, theirs = _ucum(value.get("code")), _ucum(limit.get("code"))
    if mine is None or theirs is None or mine[0] != theirs[0]:
        return None
    return _order(amount * mine[1], wanted * theirs[1])


def _ucum(code: Any) -> tuple[str, Decimal] | None:
    """(dimension, factor to its base unit) of a simple UCUM unit, None when we do not know it."""
    if not isinstance(code, str):
        return None
    if code in _PLAIN:
        return _PLAIN[code]
    if code in _METRIC:
        return _METRIC[code]
    for prefix, power in _PREFIXES.items():
        if code.startswith(prefix) and code[len(prefix) :] in _METRIC:
            dimension, factor = _METRIC[code[len(prefix) :]]
            return dimension, factor * Decimal(10) ** power
    return None


def _span(duration: Any) -> datetime.timedelta | None:
    """A Duration as a span of time (years and months as UCUM's mean Julian ones)."""
    if not isinstance(duration, dict):
        return None
    amount = _number(duration.get("value"))
    unit = _ucum(duration.get("code")) if duration.get("code") not in _SECONDS else ("time", None)
    if amount is None or unit is None or unit[0] != "time":
        return None
    seconds = amount * (Decimal(_SECONDS[duration["code"]]) if unit[1] is None else unit[1])
    return datetime.timedelta(seconds=float(seconds))


def _moment(value: Any) -> datetime.datetime | None:
    """The start of a date, dateTime or instant (a partial date starts at its first day), in UTC."""
    if not isinstance(value, str):
        return None
    match = _MOMENT.fullmatch(value)
    if match is None:
        return None
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime.datetime(
            int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0)
        )
    except ValueError:
        return None
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        moment -= sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6]))
    return moment.replace(tzinfo=datetime.UTC)


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _order(left: Any, right: Any) -> int | None:
    if left is None or right is None:
        return None
    return int(left > right) - int(left < right)


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        amount, unit = value.get("value"), value.get("code") or value.get("unit") or ""
        return f"{amount} {unit}".strip()
    return str(value)
