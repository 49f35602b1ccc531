"""The parts a referral written in FHIR is shaped from (adapter/mapping/referral.py puts them together): the
sender, receiver, patient and referrer as the MsgHead writes them, the Conditions and Observations its reasons and
supporting information become, the shaped Bundle's entries with deterministic ids, the check of what the target
requires, and the issues that say what the target (Henvisning 2.0) left out (ADP-3012), wrote more simply
(ADP-3013) or lacks (ADP-3014). Profiles, the elements sent, the requirements and the target's name are the
``shape:`` block of the to-KITH mapping file (:class:`adapter.mapping.shapers.Shape`).
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any, TypeGuard

from adapter.errors import Issue
from adapter.mapping.references import bundle_resolver

if TYPE_CHECKING:
    from adapter.mapping.shapers import Requirement, Shape

#: A FHIR date or dateTime: it begins with a full date.
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_NAMESPACE = uuid.UUID("5d2e8c41-7b3a-5f69-9e0d-1a4c6b8f2e37")


class Shaping:
    """A referral being shaped: the message it comes from, the entries and issues so far, and how each part of it
    is written; the steps that use the parts are in :class:`adapter.mapping.referral._Shaper`."""

    def __init__(
        self, bundle: dict[str, Any], header: dict[str, Any], tables: dict[str, dict[str, Any]], shape: Shape
    ) -> None:
        self.bundle, self.header, self.tables, self.block = bundle, header, tables, shape
        self.resolve = bundle_resolver(bundle)
        self.seed = str(bundle.get("id", "")) + "|" + str(as_dict(bundle.get("identifier")).get("value", ""))
        self.entries: list[dict[str, Any]] = []
        self.issues: list[Issue] = []
        self.typed = tables.get("identifier-typeid", {})
        self.shaped: dict[int, dict[str, Any]] = {}  # id(resource of the message) -> its shaped copy

    # --- resources ----------------------------------------------------------------------------------------------

    def party(self, resource: dict[str, Any]) -> dict[str, Any]:
        """A patient, organisation or professional as the MsgHead writes it: identifiers of a KITH id type, one
        name (given names together), one address (its lines together), telecom as URLs (tel:, mailto:)."""
        if id(resource) in self.shaped:
            return self.shaped[id(resource)]
        rtype = str(resource["resourceType"])
        self.unsent(resource, rtype)
        shaped: dict[str, Any] = {
            "resourceType": rtype,
            "id": str(resource.get("id") or self.new_id(rtype)),
            "meta": {"profile": [self.block.profiles[rtype]]},
        }
        identifiers = self.identifiers(resource)
        for index, identifier in enumerate(as_dict(i) for i in as_list(resource.get("identifier"))):
            if identifier not in identifiers:
                self.lost(f"{rtype}.identifier[{index}]")
        shaped["identifier"] = [{"system": i["system"], "value": str(i["value"])} for i in identifiers]
        if rtype == "Organization":
            shaped["name"] = as_text(resource.get("name"))
        else:
            names = human_names(resource)
            if names:
                shaped["name"] = [names[0]]
            for index in range(1, len(as_list(resource.get("name")))):
                self.lost(f"{rtype}.name[{index}]")
        if rtype == "Patient":
            if resource.get("gender") in self.tables.get("gender", {}).values():
                shaped["gender"] = resource["gender"]
            elif resource.get("gender"):
                self.lost("Patient.gender")
            birth = str(resource.get("birthDate") or "")
            if len(birth) == 10:
                shaped["birthDate"] = birth
            elif birth:
                self.lost("Patient.birthDate")
        addresses = [as_dict(a) for a in as_list(resource.get("address"))]
        if addresses:
            first = addresses[0]
            lines = ", ".join(str(line) for line in as_list(first.get("line")) if line)
            address = {k: v for k, v in (("postalCode", first.get("postalCode")), ("city", first.get("city"))) if v}
            if first.get("country"):
                address["country"] = first["country"]
            shaped["address"] = [{**({"line": [lines]} if lines else {}), **address}]
        for index in range(1, len(addresses)):
            self.lost(f"{rtype}.address[{index}]")
        telecom = [telecom_url(as_dict(t), self.tables) for t in as_list(resource.get("telecom"))]
        for index, contact in enumerate(telecom):
            if contact is None:
                self.lost(f"{rtype}.telecom[{index}]")
        if any(telecom):
            shaped["telecom"] = [{"value": c} for c in telecom if c]
        self.shaped[id(resource)] = shaped
        return shaped

    def identifiers(self, resource: dict[str, Any] | None) -> list[dict[str, Any]]:
        """The identifiers the MsgHead can carry: a value in a system with a KITH id type (identifier-typeid)."""
        found = [as_dict(i) for i in as_list((resource or {}).get("identifier"))]
        return [i for i in found if i.get("system") in self.typed and i.get("value")]

    def condition(self, patient: str, coding: dict[str, Any], text: Any) -> dict[str, str]:
        code: dict[str, Any] = {"coding": [{k: coding[k] for k in ("system", "code", "display") if coding.get(k)}]}
        if text:
            code["text"] = str(text)
        condition = {
            "resourceType": "Condition",
            "id": self.new_id(f"diagnose|{len(self.entries)}"),
            "meta": {"profile": [self.block.profiles["Condition"]]},
            "subject": {"reference": patient},
            "code": code,
        }
        return {"reference": self.add(condition)}

    def observation(self, patient: str, coding: dict[str, Any], text: str, *, register: bool = True) -> dict[str, Any]:
        observation = {
            "resourceType": "Observation",
            "id": self.new_id(f"opplysning|{len(self.entries)}"),
            "meta": {"profile": [self.block.profiles["Observation"]]},
            "status": "final",
            "subject": {"reference": patient},
            "code": {"coding": [dict(coding)]},
            "valueString": text,
        }
        return {"reference": self.add(observation)} if register else observation

    # --- what the target requires -------------------------------------------------------------------------------

    def require(self, roots: dict[str, dict[str, Any] | None]) -> None:
        """Check the requirements of the ``shape:`` block in their order (ADP-3014 for each one not met). ``roots``
        are the resources their paths start at (Bundle, MessageHeader, the ServiceRequest); a requirement whose root
        is missing is not checked (an earlier one says it is missing)."""
        for requirement in self.block.requires:
            root, _, path = requirement.value.partition(".")
            start = roots.get(root)
            if start is not None and not self.met(requirement, walk(start, path)):
                self.issues.append(self.missing(requirement.at, requirement.what))

    def met(self, requirement: Requirement, value: Any) -> bool:
        """``value`` (at ``requirement.value``) passes the requirement's one test."""
        if value is None and requirement.optional:
            return True
        if requirement.resource is not None:
            found = map(self.ref, value if isinstance(value, list) else [value])
            return any(self.having(r, requirement) for r in found if is_type(r, requirement.resource))
        if requirement.table is not None:
            return str(value) in self.tables[requirement.table]
        text = "" if value is None else str(value)
        if requirement.test == "date":
            return bool(DATE.match(text))
        if requirement.test == "date-time":
            return "T" in text
        return bool(value)  # present

    def having(self, resource: dict[str, Any], requirement: Requirement) -> bool:
        """The resource has all of ``all_of`` and one of ``any_of``: a name (text or HumanName), an identifier of a
        KITH id type."""
        has = {
            "name": bool(as_text(resource.get("name")) or human_names(resource)),
            "identifier": bool(self.identifiers(resource)),
        }
        return all(has[k] for k in requirement.all_of) and (
            not requirement.any_of or any(has[k] for k in requirement.any_of)
        )

    # --- helpers ------------------------------------------------------------------------------------------------

    def destination(self) -> Any:
        destinations = as_list(self.header.get("destination"))
        return destinations[0] if destinations else {}

    def ref(self, reference: Any) -> dict[str, Any] | None:
        found = self.resolve(str(reference.get("reference", ""))) if isinstance(reference, dict) else None
        return found if isinstance(found, dict) else None

    def add(self, resource: dict[str, Any], *, front: bool = False) -> str:
        """Put a resource in the shaped Bundle (once) and give its fullUrl."""
        url = f"urn:uuid:{uuid.uuid5(_NAMESPACE, self.seed + '|' + resource['resourceType'] + '/' + resource['id'])}"
        for entry in self.entries:
            if entry["resource"] is resource:
                return str(entry["fullUrl"])
        self.entries.insert(0 if front else len(self.entries), {"fullUrl": url, "resource": resource})
        return url

    def new_id(self, role: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, f"{self.seed}|{role}"))

    def unsent(self, resource: dict[str, Any], rtype: str) -> None:
        for key in sorted(set(resource) - self.block.sent.get(rtype, frozenset())):
            if not key.startswith("_"):
                self.lost(f"{rtype}.{key}")

    def lost(self, where: str) -> None:
        args = {"element": where, "target": self.block.target}
        self.issues.append(Issue("ADP-3012", "information", expression=where, args=args))

    def simpler(self, where: str, how_en: str, how_nb: str) -> None:
        args = {"element": where, "target": self.block.target, "how_en": how_en, "how_nb": how_nb}
        self.issues.append(Issue("ADP-3013", "information", expression=where, args=args))

    def missing(self, where: str, what: tuple[str, str]) -> Issue:
        args = {"element": where, "target": self.block.target, "what_en": what[0], "what_nb": what[1]}
        return Issue("ADP-3014", "error", expression=where, args=args)


def walk(value: Any, path: str) -> Any:
    """The value at ``path`` (``element`` or ``element[index]`` steps, dot-separated) of a resource, or None."""
    for step in path.split(".") if path else []:
        name, _, index = step.partition("[")
        value = as_dict(value).get(name)
        if index:
            items, position = as_list(value), int(index.rstrip("]"))
            value = items[position] if position < len(items) else None
    return value


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def is_type(resource: Any, rtype: str) -> TypeGuard[dict[str, Any]]:
    return isinstance(resource, dict) and resource.get("resourceType") == rtype


def as_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def human_names(resource: dict[str, Any] | None) -> list[dict[str, Any]]:
    """HumanNames as the MsgHead writes them: family and all given names as one GivenName."""
    found = []
    for name in (as_dict(n) for n in as_list((resource or {}).get("name"))):
        given = " ".join(str(g) for g in as_list(name.get("given")) if g)
        shaped = {k: v for k, v in (("family", name.get("family")), ("given", [given] if given else None)) if v}
        if shaped:
            found.append(shaped)
    return found


def telecom_url(contact: dict[str, Any], tables: dict[str, dict[str, Any]]) -> str | None:
    """A ContactPoint as a KITH TeleAddress URL: the scheme of its system (the table telecom-system read
    backwards), no spaces; None when it has no value or a system without a scheme."""
    value = "".join(str(contact.get("value") or "").split())
    schemes = {system: scheme for scheme, system in reversed(tables.get("telecom-system", {}).items())}
    scheme = schemes.get(str(contact.get("system")))
    if not value or scheme is None:
        return None
    return value if value.lower().startswith(scheme + ":") or scheme in ("http", "https") else f"{scheme}:{value}"
