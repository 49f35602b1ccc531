"""FHIR values as short Norwegian text: codes, names, periods, quantities, references, identifiers, statuses.

Every function takes any JSON value (a sender's resource may be malformed in any way) and gives a string, empty
when there is nothing to show.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolver = Callable[[str], dict[str, Any] | None]

#: Status codes of many resources (request, event, clinical and administrative statuses), in bokmål.
STATUS = {
    "draft": "utkast",
    "active": "aktiv",
    "inactive": "inaktiv",
    "on-hold": "satt på vent",
    "revoked": "avsluttet",
    "completed": "fullført",
    "entered-in-error": "registrert ved feil",
    "unknown": "ukjent",
    "proposed": "foreslått",
    "planned": "planlagt",
    "accepted": "akseptert",
    "cancelled": "avlyst",
    "rejected": "avvist",
    "in-progress": "pågår",
    "not-started": "ikke startet",
    "scheduled": "planlagt",
    "stopped": "stoppet",
    "preparation": "under forberedelse",
    "suspended": "stanset",
    "aborted": "avbrutt",
    "not-done": "ikke utført",
    "final": "endelig",
    "preliminary": "foreløpig",
    "amended": "endret",
    "corrected": "korrigert",
    "registered": "registrert",
    "current": "gjeldende",
    "superseded": "erstattet",
    "finished": "avsluttet",
    "arrived": "ankommet",
    "triaged": "vurdert",
    "onleave": "permisjon",
    "waitlist": "venteliste",
    "received": "mottatt",
    "ready": "klar",
    "requested": "bedt om",
    "failed": "mislyktes",
    "off": "av",
    "error": "feil",
    "intended": "planlagt",
    "not-taken": "ikke tatt",
    "achieved": "oppnådd",
    "sustaining": "opprettholdes",
}


def status(value: Any) -> str:
    """A status code in bokmål (the code itself when we have no word for it)."""
    return STATUS.get(str(value), str(value)) if isinstance(value, str) else ""


def text(value: Any) -> str:
    """A string value (empty for anything else)."""
    return value if isinstance(value, str) else ""


def obj(value: Any) -> dict[str, Any]:
    """An object value (an empty one for anything else)."""
    return value if isinstance(value, dict) else {}


def listed(value: Any) -> list[dict[str, Any]]:
    """The objects of a list value (an absent or malformed list gives none)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def concept(value: Any) -> str:
    """A CodeableConcept (or Coding) as text: its text, else the first coding's display or code."""
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("text"), str) and value["text"]:
        return str(value["text"])
    for coding in [value, *listed(value.get("coding"))]:
        shown = coding.get("display") or coding.get("code")
        if isinstance(shown, str) and shown:
            return shown
    return ""


def concepts(value: Any) -> str:
    """A list of CodeableConcepts as one comma-separated text."""
    return ", ".join(filter(None, (concept(c) for c in listed(value))))


def human_name(resource: Any) -> str:
    """The first name of a person (or an organisation's or location's name)."""
    if not isinstance(resource, dict):
        return ""
    names = resource.get("name")
    if isinstance(names, str):
        return names
    for name in listed(names):
        if isinstance(name.get("text"), str) and name["text"]:
            return str(name["text"])
        given = (
            [str(g) for g in name.get("given", []) if isinstance(g, str)] if isinstance(name.get("given"), list) else []
        )
        return " ".join([*given, text(name.get("family"))]).strip()
    return ""


def identifiers(value: Any) -> str:
    """The values of a list of Identifiers (or of one), comma-separated."""
    items = listed(value) if isinstance(value, list) else [value] if isinstance(value, dict) else []
    return ", ".join(str(i["value"]) for i in items if isinstance(i.get("value"), str | int) and i["value"] != "")


def period(value: Any) -> str:
    """A Period as ``start - end`` (either may be missing)."""
    if not isinstance(value, dict):
        return ""
    return f"{text(value.get('start'))} - {text(value.get('end'))}".strip(" -")


def quantity(value: Any) -> str:
    """A Quantity as ``value unit``."""
    if not isinstance(value, dict):
        return ""
    unit = value.get("unit") or value.get("code") or ""
    return f"{value.get('value', '')} {unit}".strip()


def value_x(element: dict[str, Any], prefix: str = "value") -> str:
    """The first ``value[x]`` (or ``<prefix>[x]``) of ``element`` as text."""
    for key, value in element.items():
        if not key.startswith(prefix) or key == prefix:
            continue
        if isinstance(value, bool):
            return "ja" if value else "nei"
        kind = key[len(prefix) :]
        if kind in ("Coding", "CodeableConcept"):
            return concept(value)
        if kind in ("Quantity", "Age", "Duration", "SimpleQuantity"):
            return quantity(value)
        if kind == "Reference":
            return str(value.get("display") or value.get("reference", "")) if isinstance(value, dict) else ""
        if kind == "Period":
            return period(value)
        if kind == "Attachment":
            return str(value.get("title") or value.get("url") or "") if isinstance(value, dict) else ""
        return str(value) if isinstance(value, str | int | float) else ""
    return ""


def reference(value: Any, resolve: Resolver | None) -> str:
    """Who or what a Reference names: its display, else the name of the resource it resolves to, else the
    reference itself."""
    if not isinstance(value, dict):
        return ""
    if isinstance(value.get("display"), str) and value["display"]:
        return str(value["display"])
    target = resolved(value, resolve)
    if target is not None:
        shown = label_of(target)
        if shown:
            return shown
    return text(value.get("reference")) or identifiers(value.get("identifier"))


def references(value: Any, resolve: Resolver | None) -> str:
    """A list of References, comma-separated."""
    return ", ".join(filter(None, (reference(r, resolve) for r in listed(value))))


def resolved(value: Any, resolve: Resolver | None) -> dict[str, Any] | None:
    """The resource a Reference names, when ``resolve`` finds it."""
    if resolve is None or not isinstance(value, dict) or not isinstance(value.get("reference"), str):
        return None
    found = resolve(value["reference"])
    return found if isinstance(found, dict) else None


def label_of(resource: dict[str, Any]) -> str:
    """A short name for a resource another one refers to: a name, title, description or code."""
    name = human_name(resource)
    if name:
        return name
    for key in ("title", "description"):
        if isinstance(resource.get(key), str) and resource[key]:
            return str(resource[key])
    return concept(resource.get("code")) or concept(resource.get("description"))


def person(resource: dict[str, Any] | None) -> str:
    """A person and their identifiers: ``Ola Nordmann (15838510075)``."""
    if not resource:
        return ""
    ids = identifiers(resource.get("identifier"))
    return human_name(resource) + (f" ({ids})" if ids else "")


def telecom(value: Any) -> str:
    """ContactPoints: ``tlf. 55 00 01 01, e-post x@y.no``."""
    kinds = {"phone": "tlf. ", "email": "e-post ", "fax": "faks ", "sms": "sms ", "url": ""}
    shown = []
    for point in listed(value):
        if isinstance(point.get("value"), str) and point["value"]:
            shown.append(kinds.get(str(point.get("system")), "") + point["value"])
    return ", ".join(shown)


def address(value: Any) -> str:
    """The first Address as one line."""
    for item in listed(value):
        if isinstance(item.get("text"), str) and item["text"]:
            return str(item["text"])
        lines = (
            [str(line) for line in item.get("line", []) if isinstance(line, str)]
            if isinstance(item.get("line"), list)
            else []
        )
        place = " ".join(filter(None, (text(item.get("postalCode")), text(item.get("city")))))
        return ", ".join(filter(None, [*lines, place]))
    return ""


def notes(value: Any) -> list[str]:
    """The texts of Annotations."""
    return [str(n["text"]) for n in listed(value) if isinstance(n.get("text"), str) and n["text"]]


def first(resource: dict[str, Any], keys: tuple[str, ...]) -> str:
    """The first of ``keys`` that holds a string (a date, most often)."""
    return next((str(resource[k]) for k in keys if isinstance(resource.get(k), str) and resource[k]), "")
