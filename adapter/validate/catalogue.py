"""The conformance resources the server serves read-only: our published package and the terminology it uses.

What is served: every resource of ``profiles/resources`` (the package ``samhandling profiles build`` publishes:
StructureDefinitions with their snapshots, as the package ships them; ValueSets, CodeSystems, ConceptMaps,
MessageDefinitions, the Questionnaire), the ImplementationGuide made from ``sushi-config.yaml`` (the single source of
the package's id, version and canonical), and the core and no-basis terminology our profiles use: every ValueSet a
binding (any strength) of an element of their snapshots names, such as core's ``request-status`` (CarePlan.status),
and the ValueSets and CodeSystems those and ours include, recursively, found through the same :class:`Definitions`
the validator uses. What no package holds (LOINC, BCP 47) is not served. Nothing here is patient data. The whole
catalogue is some 160 resources, indexed once per process (about 0.1 s).

Ids are those of the packages. Where two resources of one type have the same id, the first keeps it, in the order
the validator looks a canonical URL up (ours, then no-basis, then core); a later one is served under
:func:`clash_id` (its id, a hyphen and 8 hex digits of the SHA-256 of its canonical URL: stable, and found by its
``url`` as before). None clashes today.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from adapter.validate.packages import Definitions, Resource, project_config

#: The resource types served here, and the only ones: the REST records serve none of them.
SERVED_TYPES = (
    "StructureDefinition",
    "ValueSet",
    "CodeSystem",
    "ConceptMap",
    "ImplementationGuide",
    "MessageDefinition",
    "Questionnaire",
)
#: The search parameters of every served type (besides ``_count``, ``_offset``, ``_summary``, ``_elements``,
#: ``_format``, ``_pretty``).
SEARCH_PARAMS = ("_id", "url", "version", "name", "title", "status")


class Catalogue:
    """The served conformance resources by type and id, and their search."""

    def __init__(self, definitions: Definitions, profiles_dir: Path | None = None) -> None:
        """Index our package (``definitions.own``), its ImplementationGuide (when ``profiles_dir`` is given) and
        the terminology it uses."""
        self.definitions = definitions
        self._by_key: dict[tuple[str, str], Resource] = {}
        own = definitions.own
        for url in own.urls() if own is not None else []:
            self._add(own.get(url) if own is not None else None)
        if profiles_dir is not None:
            self._add(implementation_guide(profiles_dir, list(self._by_key.values())))
        for url in self._used_terminology():
            self._add(definitions.get(url))

    def _add(self, resource: Resource | None) -> None:
        if resource is None or resource.get("resourceType") not in SERVED_TYPES:
            return
        rid, rtype = resource.get("id"), str(resource["resourceType"])
        if not isinstance(rid, str):
            return
        taken = self._by_key.get((rtype, rid))
        if taken is None:
            self._by_key[(rtype, rid)] = resource
        elif taken.get("url") != resource.get("url"):  # an id of two resources: the first keeps it
            moved = clash_id(rid, str(resource.get("url")))
            self._by_key.setdefault((rtype, moved), {**resource, "id": moved})

    def _used_terminology(self) -> list[str]:
        """The canonical URLs of the ValueSets the snapshots of our profiles bind to and of the ValueSets and
        CodeSystems those and our ValueSets include, recursively, in the order the validator looks them up (the
        package that holds one, then the URL): those not in our package are core's or no-basis'."""
        wanted: set[str] = set()
        structures = self._of_type("StructureDefinition")
        pending = [url for sd in structures for url in _bound(self._as_served(sd))]
        pending += [url for vs in self._of_type("ValueSet") for url in _included(vs)]
        while pending:
            url = pending.pop().split("|", 1)[0]
            if url in wanted or "#" in url:  # a contained ValueSet is served inside its resource
                continue
            wanted.add(url)
            found = self.definitions.get(url)
            if found is not None and found.get("resourceType") == "ValueSet":
                pending.extend(_included(found))
        return sorted(wanted, key=lambda url: (self._precedence(url), url))

    def _precedence(self, url: str) -> int:
        """The place of the first package that holds ``url`` in the validator's lookup order (none: last)."""
        packages = self.definitions.packages
        return next((i for i, pkg in enumerate(packages) if pkg.get(url) is not None), len(packages))

    def _of_type(self, rtype: str) -> list[Resource]:
        return [r for (kind, _), r in self._by_key.items() if kind == rtype]

    def read(self, rtype: str, rid: str) -> Resource | None:
        """The served resource ``rtype/rid`` (a StructureDefinition with its snapshot), or None."""
        found = self._by_key.get((rtype, rid))
        return None if found is None else self._as_served(found)

    def search(self, rtype: str, criteria: Iterable[tuple[str, str]]) -> list[Resource]:
        """The served resources of ``rtype`` that meet every criterion (names from :data:`SEARCH_PARAMS`; several
        values of one parameter, comma separated, are alternatives), in id order. ``url`` and ``version`` match
        exactly (``url`` may carry ``|version``), ``name`` and ``title`` match case-insensitively from the start,
        as FHIR string parameters do."""
        found = sorted(self._of_type(rtype), key=lambda r: str(r.get("id")))
        for name, value in criteria:
            alternatives = value.split(",")
            found = [r for r in found if any(_meets(r, name, wanted) for wanted in alternatives)]
        return [self._as_served(r) for r in found]

    def by_url(self, rtype: str, url: str) -> Resource | None:
        """The served resource of ``rtype`` with canonical ``url`` (``|version`` picks a version), or None."""
        base, _, version = url.partition("|")
        for resource in self._of_type(rtype):
            if resource.get("url") == base and (not version or _meets(resource, "version", version)):
                return self._as_served(resource)
        return None

    def _as_served(self, resource: Resource) -> Resource:
        if resource.get("resourceType") == "StructureDefinition" and "snapshot" not in resource:
            return self.definitions.snapshot(str(resource["url"]))
        return resource


def _meets(resource: Resource, name: str, wanted: str) -> bool:
    if name == "_id":
        return resource.get("id") == wanted
    if name == "url":
        base, _, version = wanted.partition("|")
        return resource.get("url") == base and (not version or resource.get("version") == version)
    value = resource.get(name)
    if not isinstance(value, str):
        return False
    if name in ("name", "title"):
        return value.casefold().startswith(wanted.casefold())
    return value == wanted


def clash_id(rid: str, url: str) -> str:
    """The id a resource is served under when an earlier one of its type has its id ``rid``: the id (cut to fit
    FHIR's 64 characters), a hyphen and the first 8 hex digits of the SHA-256 of its canonical ``url``."""
    return f"{rid[:55]}-{hashlib.sha256(url.encode('utf-8')).hexdigest()[:8]}"


def _bound(structure: Resource) -> list[str]:
    """The ValueSets the elements of a StructureDefinition bind to, any strength: those of its snapshot (what it
    inherits too), and of its differential."""
    elements = [
        *(structure.get("snapshot") or {}).get("element", []),
        *(structure.get("differential") or {}).get("element", []),
    ]
    return [
        str(e["binding"]["valueSet"])
        for e in elements
        if isinstance(e, dict) and isinstance(e.get("binding"), dict) and isinstance(e["binding"].get("valueSet"), str)
    ]


def _included(valueset: Resource) -> list[str]:
    """The CodeSystems and ValueSets a ValueSet's compose includes or excludes."""
    compose = valueset.get("compose") or {}
    found: list[str] = []
    for part in [*compose.get("include", []), *compose.get("exclude", [])]:
        if isinstance(part, dict):
            if isinstance(part.get("system"), str):
                found.append(part["system"])
            found.extend(str(url) for url in part.get("valueSet", []) if isinstance(url, str))
    return found


def implementation_guide(profiles_dir: Path, resources: Iterable[Resource]) -> Resource:
    """The ImplementationGuide of our package, from ``sushi-config.yaml`` (id, canonical, version, name, title,
    status, publisher, dependencies) and the resources it defines (``resources``)."""
    config = project_config(profiles_dir)
    package_id, canonical = str(config["id"]), str(config["canonical"])
    depends = [
        {"packageId": str(name), "version": str(version), "uri": _dependency_uri(str(name))}
        for name, version in (config.get("dependencies") or {}).items()
    ]
    return {
        "resourceType": "ImplementationGuide",
        "id": package_id,
        "url": f"{canonical}/ImplementationGuide/{package_id}",
        "version": str(config["version"]),
        "name": str(config["name"]),
        "title": str(config.get("title", config["name"])),
        "status": str(config.get("status", "draft")),
        "publisher": str((config.get("publisher") or {}).get("name", "")),
        "description": " ".join(str(config.get("description", "")).split()),
        "packageId": package_id,
        "license": "CC0-1.0",
        "fhirVersion": [str(config["fhirVersion"])],
        "dependsOn": depends,
        "definition": {"resource": [_guide_entry(r) for r in resources if "id" in r]},
    }


def _dependency_uri(package_id: str) -> str:
    """The canonical of a package we depend on (only no-basis is named in sushi-config.yaml)."""
    return {"hl7.fhir.no.basis": "http://hl7.no/fhir/ig/ImplementationGuide/hl7.fhir.no.basis"}.get(
        package_id, f"http://hl7.org/fhir/ImplementationGuide/{package_id}"
    )


def _guide_entry(resource: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {"reference": {"reference": f"{resource['resourceType']}/{resource['id']}"}}
    if isinstance(resource.get("title") or resource.get("name"), str):
        entry["name"] = resource.get("title") or resource.get("name")
    entry["exampleBoolean"] = False
    return entry
