"""Dates and times: KITH local times as FHIR dateTimes with Norway's offset at that moment, and back to local time
(the KITH convention); the message's own time for elements that have none.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from lxml import etree

from adapter.mapping.functions.base import TEXT, Context, Function, Used, text_of, text_source, write_nothing

OSLO = ZoneInfo("Europe/Oslo")
_LOCAL_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_ZONED_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _fhir_datetime(text: str) -> str | None:
    """KITH dateTime -> FHIR dateTime: zoned values as they are, local ones with Norway's offset at that time."""
    if _ZONED_DATETIME.match(text) or _DATE.match(text):
        return text
    if not _LOCAL_DATETIME.match(text):
        return None
    try:
        local = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if len(text) == 16:
        text += ":00"
    offset = OSLO.utcoffset(local) or datetime.timedelta(0)
    hours, minutes = divmod(int(offset.total_seconds()) // 60, 60)
    return f"{text}{'+' if offset.total_seconds() >= 0 else '-'}{abs(hours):02d}:{minutes:02d}"


def _kith_datetime(value: str) -> str:
    """FHIR dateTime -> KITH: Norwegian local time without offset (the KITH convention)."""
    if not _ZONED_DATETIME.match(value):
        return value
    moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment.astimezone(OSLO).replace(tzinfo=None).isoformat()


def _datetime_reader(source: str) -> Callable[[etree._Element, Context], tuple[Any, Used]]:
    def read(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
        raw = text_of(element) if source == TEXT else element.get(source)
        if raw is None or not raw.strip():
            return None, frozenset()
        value = _fhir_datetime(raw.strip())
        return (value, frozenset({source})) if value is not None else (None, frozenset())

    return read


def _datetime_writer(source: str) -> Callable[[Any, etree._Element, Context], None]:
    def write(value: Any, element: etree._Element, ctx: Context) -> None:
        text = _kith_datetime(str(value))
        if source == TEXT:
            element.text = text
        else:
            element.set(source, text)

    return write


def _read_message_datetime(element: etree._Element, ctx: Context) -> tuple[Any, Used]:
    """A derived value: the date and time of the message the element is part of, at ``value`` (local names of
    elements from the message's root, ``MsgInfo/GenDate``; the element's text, or its V), as ``datetime`` reads it.
    A date without a time gives nothing (it is meant for instants such as DocumentReference.date); one way (write
    it with ``reverse: false``), uses nothing."""
    current: etree._Element | None = element.getroottree().getroot()
    for name in str(ctx.args["value"]).split("/"):
        children = current.iterchildren(etree.Element) if current is not None else iter(())
        current = next((child for child in children if etree.QName(child).localname == name), None)
    if current is None:
        return None, frozenset()
    raw = current.get("V") if current.get("V") is not None else text_of(current)
    value = _fhir_datetime(raw.strip()) if raw and "T" in raw else None
    return (value, frozenset()) if value is not None else (None, frozenset())


DATES: dict[str, Function] = {
    "datetime": Function(
        _datetime_reader(TEXT), _datetime_writer(TEXT), lambda v, c: _kith_datetime(str(v)), text_source
    ),
    "datetime-attr": Function(
        _datetime_reader("V"), _datetime_writer("V"), lambda v, c: _kith_datetime(str(v)), lambda c: "V"
    ),
    "message-datetime": Function(_read_message_datetime, write_nothing),
}
