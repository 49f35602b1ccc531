"""FHIR values as a Norwegian reader wants them: names, phone numbers, dates, periods, codings, references."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: Finds a resource by its reference (``Practitioner/x``): the resource as a dict, or None when the reader may not
#: see it or it does not exist. The API gives one that reads through the records (access check and audit).
Resolve = Callable[[str], "dict[str, Any] | None"]

FNR_SYSTEMS = ("urn:oid:2.16.578.1.12.4.1.4.1", "urn:oid:2.16.578.1.12.4.1.4.2")
_PHONE_IN_TEXT = re.compile(r",?\s*(?:tlf|telefon)\.?:?\s*(\+?[\d][\d ]{6,}\d)", re.IGNORECASE)

try:
    OSLO: datetime.tzinfo = ZoneInfo("Europe/Oslo")
except ZoneInfoNotFoundError:  # an image without tzdata: UTC is still right, only less familiar
    OSLO = datetime.UTC


def text(value: Any) -> str:
    """``value`` when it is a non-empty string, else the empty string (resources come from outside)."""
    return value.strip() if isinstance(value, str) else ""


def items(value: Any) -> list[dict[str, Any]]:
    """The dicts of a list element (anything else of it is ignored)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def child(value: Any, name: str) -> dict[str, Any]:
    """``value[name]`` when it is a dict, else an empty dict."""
    found = value.get(name) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def codes(concept: Any) -> list[tuple[str, str, str]]:
    """(system, code, display) of each coding of a CodeableConcept."""
    codings = items(concept.get("coding")) if isinstance(concept, dict) else []
    return [(text(c.get("system")), text(c.get("code")), text(c.get("display"))) for c in codings]


def concept_text(concept: Any) -> str:
    """What a CodeableConcept says to a reader: its text, else the display of its first coding that has one."""
    if isinstance(concept, dict) and text(concept.get("text")):
        return text(concept.get("text"))
    return next((display for _, _, display in codes(concept) if display), "")


def human_name(resource: dict[str, Any]) -> str:
    """The first name of a Patient, Practitioner or RelatedPerson as "Given Family" (or its text); an
    Organization's, Location's or CareTeam's name."""
    name = resource.get("name")
    if isinstance(name, str):
        return name.strip()
    for entry in items(name):
        if text(entry.get("text")):
            return text(entry.get("text"))
        given = [text(g) for g in entry.get("given") or [] if text(g)]
        whole = " ".join([*given, text(entry.get("family"))]).strip()
        if whole:
            return whole
    return ""


def phone(resource: dict[str, Any] | None) -> str:
    """The first phone number of a resource's telecom, formatted (see :func:`format_phone`)."""
    for telecom in items((resource or {}).get("telecom")):
        if telecom.get("system") == "phone" and text(telecom.get("value")):
            return format_phone(text(telecom.get("value")))
    return ""


def format_phone(number: str) -> str:
    """A Norwegian phone number the way it is read aloud: mobile ``900 00 002``, landline ``55 00 01 00``;
    anything else as given."""
    digits = re.sub(r"[^\d+]", "", number)
    if digits.startswith("+47"):
        digits = digits[3:]
    elif digits.startswith("0047"):
        digits = digits[4:]
    if len(digits) == 8 and digits.isdigit():
        if digits[0] in "49":
            return f"{digits[:3]} {digits[3:5]} {digits[5:]}"
        return f"{digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    return number.strip()


def tel_uri(number: str) -> str:
    """A ``tel:`` URI for a formatted number (Norwegian when it has 8 digits)."""
    digits = re.sub(r"[^\d+]", "", number)
    if len(digits) == 8 and digits.isdigit():
        return f"tel:+47{digits}"
    return f"tel:{digits}" if digits else ""


def split_phone(label: str) -> tuple[str, str]:
    """A label such as "Kari Nordmann, søster, tlf. 900 00 002" as ("Kari Nordmann, søster", "900 00 002")."""
    found = _PHONE_IN_TEXT.search(label)
    if not found:
        return label, ""
    rest = (label[: found.start()] + label[found.end() :]).strip(" ,")
    return rest, format_phone(found.group(1))


def national_id(patient: dict[str, Any]) -> str:
    """The patient's fødselsnummer or D-nummer, as ``DDMMYY NNNNN``."""
    for identifier in items(patient.get("identifier")):
        value = text(identifier.get("value"))
        if identifier.get("system") in FNR_SYSTEMS and value:
            return f"{value[:6]} {value[6:]}" if len(value) == 11 and value.isdigit() else value
    return ""


def date(value: Any) -> str:
    """A FHIR date or dateTime as ``dd.mm.yyyy`` (a dateTime with ``kl. HH.MM``, in Norwegian time)."""
    raw = text(value)
    if not raw:
        return ""
    try:
        if "T" in raw:
            moment = datetime.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if moment.tzinfo is not None:
                moment = moment.astimezone(OSLO)
            return moment.strftime("%d.%m.%Y kl. %H.%M")
        parts = raw.split("-")
        if len(parts) == 3:
            return f"{parts[2]}.{parts[1]}.{parts[0]}"
        if len(parts) == 2:
            return f"{parts[1]}.{parts[0]}"
    except ValueError:
        return raw
    return raw


def period(value: Any) -> str:
    """A FHIR Period as ``01.03.2026–31.08.2026`` (``fra 01.03.2026`` when open-ended)."""
    if not isinstance(value, dict):
        return ""
    start, end = date(value.get("start")), date(value.get("end"))
    if start and end:
        return f"{start}–{end}"
    if start:
        return f"fra {start}"
    return f"til {end}" if end else ""


def reference(value: Any) -> str:
    """The literal reference (``Type/id``) of a Reference, or the empty string."""
    found = value.get("reference") if isinstance(value, dict) else None
    return found if isinstance(found, str) and found.count("/") == 1 else ""


def label(value: Any, resolve: Resolve) -> tuple[str, dict[str, Any] | None]:
    """What a Reference names: its display, else the name of the resource it points to (when the reader may see
    it); with the resource (or None)."""
    ref = reference(value)
    resource = resolve(ref) if ref else None
    display = text(value.get("display")) if isinstance(value, dict) else ""
    return display or (human_name(resource) if resource else ""), resource
