"""The pages of the site, planned from the sources and written with the Jinja2 templates."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from adapter.build.site import mappings, profiles, terminology
from adapter.build.site.sources import Sources, page_name
from adapter.build.site.text import bilingual
from adapter.config import Settings
from adapter.errors import CODES

#: The stylesheet every page links to, written beside them.
STYLESHEET = "style.css"
#: The top navigation: (page, label).
NAV = (
    ("index.html", "Hjem"),
    ("profiles.html", "Profiler"),
    ("terminology.html", "Terminologi"),
    ("events.html", "Meldingshendelser"),
    ("mappings.html", "KITH-mapping"),
    ("errors.html", "Feilkoder"),
)


@dataclass
class Page:
    """One page: its file name, template, title (Norwegian) and what the template shows."""

    name: str
    template: str
    title: str
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Site:
    """The planned site: the sources, the template environment and every page."""

    sources: Sources
    environment: Environment
    pages: list[Page]

    def write_page(self, out_dir: Path, page: Page) -> Path:
        """Render ``page`` into ``out_dir``; return the file written."""
        template = self.environment.get_template(page.template)
        target = out_dir / page.name
        target.write_text(template.render(page=page, **page.context), encoding="utf-8")
        return target

    def write_static(self, out_dir: Path) -> Path:
        """Copy the stylesheet into ``out_dir``; return the file written."""
        target = out_dir / STYLESHEET
        source = resources.files("adapter.build.site").joinpath("static", STYLESHEET)
        with source.open("rb") as read, target.open("wb") as write:
            shutil.copyfileobj(read, write)
        return target


def write_site(settings: Settings, out_dir: Path) -> list[Path]:
    """Generate the whole site into ``out_dir`` (made if missing); return the files written, pages first."""
    site = plan_site(settings)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [site.write_page(out_dir, page) for page in site.pages]
    return [*written, site.write_static(out_dir)]


def plan_site(settings: Settings) -> Site:
    """Read the sources and plan every page (nothing is written yet)."""
    sources = Sources.load(settings)
    environment = _environment(sources)
    pages = [
        _home(sources),
        *_profile_pages(sources),
        *_terminology_pages(sources),
        Page("events.html", "events.html", "Meldingshendelser", terminology.events_context(sources)),
        *_mapping_pages(sources, settings.home / "mappings"),
        Page("errors.html", "errors.html", "Feilkoder", {"codes": sorted(CODES.items())}),
    ]
    return Site(sources, environment, pages)


def _environment(sources: Sources) -> Environment:
    environment = Environment(
        loader=PackageLoader("adapter.build.site", "templates"),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    config = sources.config
    environment.filters["breakable"] = breakable
    environment.globals.update(
        page_of=sources.page_of,
        title_of=sources.title_of,
        nav=NAV,
        stylesheet=STYLESHEET,
        guide={
            "title": str(config.get("title", config.get("name", ""))),
            "id": str(config.get("id", "")),
            "version": str(config.get("version", "")),
            "canonical": str(config.get("canonical", "")),
            "fhir_version": str(config.get("fhirVersion", "")),
        },
    )
    return environment


def breakable(text: str) -> Markup:
    """``text`` escaped, with a line-break opportunity after each dot and colon (long element ids and paths)."""
    return Markup("<wbr>").join(escape(part) for part in re.split(r"(?<=[.:/])", text))


def _home(sources: Sources) -> Page:
    counts = {kind: len(found) for kind, found in sources.resources.items()}
    model = []
    for entry in sources.model:
        model.append(
            {
                "guideline": entry["guideline"],
                "en": entry.get("en"),
                "resources": [_model_link(ref, sources) for ref in entry.get("resources", [])],
                "see": [_model_link(ref, sources) for ref in entry.get("see", [])],
            }
        )
    context = {
        "description": bilingual(sources.config.get("description")),
        "model": model,
        "counts": counts,
        "mapping_count": len(sources.mappings.by_root),
        "code_count": len(CODES),
    }
    return Page("index.html", "index.html", "Implementasjonsguide", context)


def _model_link(ref: str, sources: Sources) -> dict[str, str]:
    """A ``Type/id`` of profiles/model.yaml (or ``page/<name>``) as {href, label, kind}."""
    kind, _, ident = ref.partition("/")
    if kind == "page":
        label = dict(NAV).get(f"{ident}.html", ident)
        return {"href": f"{ident}.html", "label": label, "kind": "side"}
    resource = next((r for r in sources.resources.get(kind, []) if r.get("id") == ident), None)
    if resource is None:
        raise ValueError(f"profiles/model.yaml names {ref}, which is not in profiles/resources")
    title = str(resource.get("title") or resource.get("name") or ident)
    label = resource.get("type", kind) if kind == "StructureDefinition" else kind
    return {"href": page_name(resource), "label": title, "kind": str(label), "id": ident}


def _profile_pages(sources: Sources) -> list[Page]:
    pages = [Page("profiles.html", "profiles.html", "Profiler", {"sds": sources.resources["StructureDefinition"]})]
    for sd in sources.resources["StructureDefinition"]:
        title = str(sd.get("title") or sd["name"])
        pages.append(Page(page_name(sd), "profile.html", title, profiles.profile_context(sd, sources)))
    for q in sources.resources["Questionnaire"]:
        title = str(q.get("title") or q["name"])
        pages.append(Page(page_name(q), "questionnaire.html", title, terminology.questionnaire_context(q)))
    return pages


def _terminology_pages(sources: Sources) -> list[Page]:
    found = sources.resources
    listing = {"code_systems": found["CodeSystem"], "value_sets": found["ValueSet"], "maps": found["ConceptMap"]}
    pages = [Page("terminology.html", "terminology.html", "Terminologi", listing)]
    for cs in found["CodeSystem"]:
        context = terminology.code_system_context(cs, sources)
        pages.append(Page(page_name(cs), "codesystem.html", str(cs.get("title") or cs["name"]), context))
    for vs in found["ValueSet"]:
        context = terminology.value_set_context(vs, sources)
        pages.append(Page(page_name(vs), "valueset.html", str(vs.get("title") or vs["name"]), context))
    for cm in found["ConceptMap"]:
        context = terminology.concept_map_context(cm)
        pages.append(Page(page_name(cm), "conceptmap.html", str(cm.get("title") or cm["name"]), context))
    return pages


def _mapping_pages(sources: Sources, folder: Path) -> list[Page]:
    contexts = mappings.mapping_pages(sources, folder)
    index = {"mappings": contexts, "unmapped": sources.unmapped}
    pages = [Page("mappings.html", "mappings.html", "KITH-mapping", index)]
    for context in contexts:
        title = f"{context['standard']} {context['version']} og FHIR"
        pages.append(Page(context["file"], "mapping.html", title, context))
    return pages
