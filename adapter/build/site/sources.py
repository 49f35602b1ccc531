"""What the implementation guide is made from, read once: the package's conformance resources, the examples, the
guideline model (``profiles/model.yaml``), the project config, the snapshots and the mapping files.

Nothing here is written by hand for the site: every page is a view of one of these.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from adapter.build.package import project_config
from adapter.config import Settings
from adapter.errors import SetupError
from adapter.mapping import Mappings
from adapter.validate.packages import Definitions
from adapter.validate.registry import load_definitions

#: The resource types that get a page of their own, in the order the site lists them.
PAGE_TYPES = ("StructureDefinition", "Questionnaire", "CodeSystem", "ValueSet", "ConceptMap", "MessageDefinition")


@dataclass
class Sources:
    """The package and mappings the site is generated from."""

    config: dict[str, Any]
    resources: dict[str, list[dict[str, Any]]]  # resource type -> resources, by id
    examples: list[dict[str, Any]]
    model: list[dict[str, Any]]
    definitions: Definitions
    mappings: Mappings
    unmapped: list[dict[str, Any]]
    by_url: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, settings: Settings) -> Sources:
        """Read everything the site shows; a file that cannot be read is ADP-0003."""
        resources: dict[str, list[dict[str, Any]]] = {kind: [] for kind in PAGE_TYPES}
        for path in sorted((settings.profiles_dir / "resources").glob("*.json")):
            resource = _json(path)
            resources.setdefault(resource["resourceType"], []).append(resource)
        for found in resources.values():
            found.sort(key=lambda r: str(r.get("id", "")))
        examples = [_json(path) for path in sorted((settings.examples_dir / "fhir").glob("*.json"))]
        sources = cls(
            config=project_config(settings),
            resources=resources,
            examples=examples,
            model=read_model(settings.profiles_dir / "model.yaml"),
            definitions=load_definitions(settings),
            mappings=Mappings.load(settings),
            unmapped=_yaml_list(settings.home / "mappings" / "unmapped.yaml"),
        )
        sources.by_url = {r["url"]: r for found in resources.values() for r in found if "url" in r}
        return sources

    def page_of(self, url: str | None) -> str | None:
        """The file name of the page of the resource with canonical ``url`` (a ``|version`` ignored), else None."""
        if not url:
            return None
        resource = self.by_url.get(url.split("|", 1)[0])
        return None if resource is None else page_name(resource)

    def title_of(self, url: str) -> str:
        """The title (else name, else the URL) of the resource with canonical ``url``."""
        resource = self.by_url.get(url.split("|", 1)[0])
        if resource is None:
            return url
        return str(resource.get("title") or resource.get("name") or url)


def page_name(resource: dict[str, Any]) -> str:
    """``<type>-<id>.html``, the page of one conformance resource (a message event's: its place on the events
    page)."""
    if resource["resourceType"] == "MessageDefinition":
        return f"events.html#{resource['id']}"
    return f"{resource['resourceType']}-{resource['id']}.html"


def read_model(path: Path) -> list[dict[str, Any]]:
    """The guideline-to-FHIR model: a list of {guideline, en, resources: ["Type/id", ...], see: [...]}. A folder
    without the file (an image that does not ship it) gives an empty model, which the home page says."""
    if not path.is_file():
        return []
    model = _yaml_list(path)
    for entry in model:
        if not isinstance(entry, dict) or "guideline" not in entry or "resources" not in entry:
            raise SetupError.of("ADP-0003", path=str(path), detail=f"an entry without guideline or resources: {entry}")
    return model


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SetupError.of("ADP-0003", path=str(path), detail=str(exc)) from exc
    if not isinstance(data, dict):
        raise SetupError.of("ADP-0003", path=str(path), detail="not a JSON object")
    return data


def _yaml_list(path: Path) -> list[dict[str, Any]]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise SetupError.of("ADP-0003", path=str(path), detail=str(exc)) from exc
    if not isinstance(data, list):
        raise SetupError.of("ADP-0003", path=str(path), detail="not a list")
    return data
