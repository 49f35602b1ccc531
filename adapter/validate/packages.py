"""FHIR packages on disk and the canonical-URL lookup over them.

A :class:`Package` is a folder of JSON conformance resources (a FHIR npm package's ``package/`` folder, or
our compiled ``profiles/resources``). Files are indexed by canonical URL once and read lazily, so opening the
4,581-file core package costs one index read, not 4,581 JSON parses. A :class:`Definitions` searches several
packages in order and hands out StructureDefinitions with a snapshot (generated on first use for
differential-only ones, see :mod:`adapter.validate.snapshot`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adapter.errors import AdapterError, SetupError
from adapter.parse.fhir_model import Profile, compile_profile
from adapter.validate.snapshot import generate_snapshot

Resource = dict[str, Any]

#: Resource types that carry a canonical ``url`` and are worth indexing.
CONFORMANCE_TYPES = frozenset(
    {
        "StructureDefinition",
        "ValueSet",
        "CodeSystem",
        "ConceptMap",
        "NamingSystem",
        "SearchParameter",
        "Questionnaire",
        "MessageDefinition",
        "OperationDefinition",
        "CapabilityStatement",
        "ImplementationGuide",
        "Measure",
        "Library",
    }
)


def read_json(path: Path) -> Resource:
    """Read one JSON file; a broken or missing file is a SetupError naming it."""
    try:
        with path.open(encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as exc:
        raise SetupError.of("ADP-0003", path=str(path), detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise SetupError.of("ADP-0003", path=str(path), detail="not a JSON object")
    return data


@dataclass
class Package:
    """One folder of conformance resources, indexed by canonical URL."""

    name: str
    version: str
    folder: Path
    files: dict[str, Path] = field(default_factory=dict)
    _loaded: dict[str, Resource] = field(default_factory=dict, repr=False)

    @classmethod
    def open(cls, folder: Path) -> Package:
        """Index ``folder``: use its ``.index.json`` when there is one, else read each JSON file's header once."""
        if not folder.is_dir():
            raise SetupError.of("ADP-0003", path=str(folder), detail="not a folder")
        manifest = folder / "package.json"
        meta = read_json(manifest) if manifest.exists() else {}
        pkg = cls(str(meta.get("name", folder.name)), str(meta.get("version", "")), folder)
        index_file = folder / ".index.json"
        if index_file.exists():
            for row in read_json(index_file).get("files", []):
                if row.get("url") and row.get("resourceType") in CONFORMANCE_TYPES:
                    pkg.files.setdefault(row["url"], folder / row["filename"])
        else:
            for path in sorted(folder.glob("*.json")):
                if path.name == "package.json":
                    continue
                res = read_json(path)
                if res.get("url") and res.get("resourceType") in CONFORMANCE_TYPES:
                    pkg.files.setdefault(res["url"], path)
                    pkg._loaded[res["url"]] = res
        return pkg

    def urls(self) -> list[str]:
        """The canonical URLs this package holds (indexed on disk or held in memory)."""
        return list(dict.fromkeys([*self.files, *self._loaded]))

    def version_of(self, url: str, version: str) -> Resource | None:
        """The resource with canonical ``url`` in ``version`` (or a version it is the start of: ``0.2`` finds
        ``0.2.1``); the resources of a folder are taken to be of the version they state."""
        res = self.get(url)
        return res if res is not None and _version_matches(res.get("version"), version) else None

    def get(self, url: str) -> Resource | None:
        """The resource with canonical ``url``, read on first use."""
        if url in self._loaded:
            return self._loaded[url]
        path = self.files.get(url)
        if path is None:
            return None
        res = read_json(path)
        self._loaded[url] = res
        return res


class MemoryPackage(Package):
    """Resources held in memory (loaded by the user, or a test's supporting files), indexed by canonical URL; when
    several versions of one URL are loaded, the first is the one an unversioned URL finds."""

    def __init__(self, name: str, resources: Iterable[Resource]) -> None:
        super().__init__(name, "", Path("."))
        self._versions: dict[str, list[Resource]] = {}
        for resource in resources:
            url = resource.get("url")
            if isinstance(url, str) and resource.get("resourceType") in CONFORMANCE_TYPES:
                self._loaded.setdefault(url, resource)
                self._versions.setdefault(url, []).append(resource)

    def version_of(self, url: str, version: str) -> Resource | None:
        """Any loaded version of ``url`` that ``version`` names."""
        return next((r for r in self._versions.get(url, []) if _version_matches(r.get("version"), version)), None)

    def guides(self) -> list[Resource]:
        """The ImplementationGuides held."""
        return [r for r in self._loaded.values() if r.get("resourceType") == "ImplementationGuide"]


def _version_matches(actual: Any, wanted: str) -> bool:
    """Is ``actual`` the version ``wanted`` names: the same, or ``wanted`` is its start (``0.2`` and ``0.2.1``)?"""
    return isinstance(actual, str) and (actual == wanted or actual.startswith(wanted + "."))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


class Definitions:
    """Canonical-URL lookup over packages, searched in order, with snapshots generated on demand."""

    def __init__(
        self, packages: Iterable[Package], held_canonicals: tuple[str, ...] = (), own: Package | None = None
    ) -> None:
        self.packages = list(packages)
        #: Canonical bases whose profiles we hold in full: an unknown profile there is a mistake, not a gap.
        self.held_canonicals = held_canonicals
        #: The package of our own profiles (profiles/resources): the profiles a resource's category or type implies
        #: (see :mod:`adapter.validate.implied`); None: no profile is implied.
        self.own = own
        self._snapshots: dict[str, Resource] = {}
        self._compiled: dict[str, Profile | AdapterError] = {}
        self._globals: dict[str, tuple[str, ...]] | None = None
        self._keys: dict[str, str] = {}  # versioned url -> cache key

    def with_packages(self, packages: Iterable[Package]) -> Definitions:
        """A lookup that searches ``packages`` first, then these (fresh caches, same canonical bases and own
        package)."""
        return Definitions([*packages, *self.packages], self.held_canonicals, self.own)

    def get(self, url: str) -> Resource | None:
        """The resource for ``url``, or None. A ``|version`` suffix picks that version when one is held (``|0.2``
        finds 0.2.1); when none is, the unversioned URL's resource is taken."""
        url, _, version = url.partition("|")
        if version:
            for pkg in self.packages:
                res = pkg.version_of(url, version)
                if res is not None:
                    return res
        for pkg in self.packages:
            res = pkg.get(url)
            if res is not None:
                return res
        return None

    def global_profiles(self, resource_type: str) -> tuple[str, ...]:
        """The profiles every resource of ``resource_type`` must meet: ``ImplementationGuide.global`` of the guides
        loaded in memory (the packages we ship declare none)."""
        if self._globals is None:
            found: dict[str, list[str]] = {}
            for pkg in self.packages:
                guides = pkg.guides() if isinstance(pkg, MemoryPackage) else []
                for rule in (r for guide in guides for r in _listed(guide.get("global"))):
                    if (
                        isinstance(rule, dict)
                        and isinstance(rule.get("type"), str)
                        and isinstance(rule.get("profile"), str)
                    ):
                        found.setdefault(rule["type"], []).append(rule["profile"])
            self._globals = {k: tuple(dict.fromkeys(v)) for k, v in found.items()}
        return self._globals.get(resource_type, ())

    def require(self, url: str) -> Resource:
        """Like :meth:`get` but a missing definition is an error that names the URL."""
        res = self.get(url)
        if res is None:
            raise AdapterError.of("ADP-0005", url=url)
        return res

    def type_definition(self, type_code: str) -> Resource:
        """The core StructureDefinition of a FHIR type (``Identifier``, ``Patient``, ...)."""
        if type_code.startswith("http://hl7.org/fhirpath/System."):
            type_code = type_code.rsplit(".", 1)[1].lower()
        return self.snapshot(type_code if "/" in type_code else "http://hl7.org/fhir/StructureDefinition/" + type_code)

    def snapshot(self, url: str) -> Resource:
        """The StructureDefinition for ``url`` with a snapshot; differential-only ones get one generated once."""
        url = self._key(url)
        cached = self._snapshots.get(url)
        if cached is not None:
            return cached
        sd = self.require(url)
        if "snapshot" not in sd:
            sd = generate_snapshot(sd, self)
        self._snapshots[url] = sd
        return sd

    def _key(self, url: str) -> str:
        """The cache key of ``url``: without its version, unless the version picks another resource than the
        unversioned URL does."""
        base, _, version = url.partition("|")
        if not version:
            return base
        key = self._keys.get(url)
        if key is None:
            found = self.get(url)
            key = base if found is None or found is self.get(base) else f"{base}|{found.get('version')}"
            if found is not None:  # a URL no package knows (any a sender invents) is not remembered
                self._keys[url] = key
        return key

    def compiled(self, url: str) -> Profile:
        """The compiled snapshot of ``url`` (see :mod:`adapter.parse.fhir_model`), built once; a definition that
        is missing or whose snapshot cannot be made raises the same AdapterError every time. Only definitions the
        packages hold are remembered, so URLs a sender makes up cannot grow the cache without bound."""
        found = self._compiled.get(url)  # as asked: the common case, one lookup
        if found is None:
            key = self._key(url)
            found = self._compiled.get(key)
            if found is None:
                try:
                    found = compile_profile(self.snapshot(key))
                except AdapterError as error:
                    found = error
                if self.get(key) is not None:
                    self._compiled[key] = found
            if self.get(url) is not None:
                self._compiled[url] = found
        if isinstance(found, AdapterError):
            raise found
        return found


def project_config(profiles_dir: Path) -> dict[str, Any]:
    """The parsed ``sushi-config.yaml`` of the FSH project in ``profiles_dir``: the single source of the package
    id, version, canonical and dependencies (the package build and the served ImplementationGuide read it here)."""
    path = profiles_dir / "sushi-config.yaml"
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SetupError.of("ADP-0003", path=str(path), detail=str(exc)) from exc
    if not isinstance(config, dict):
        raise SetupError.of("ADP-0003", path=str(path), detail="not a mapping")
    return config
