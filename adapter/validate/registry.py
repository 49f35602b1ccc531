"""The definitions the adapter validates against: our compiled profiles, HL7 Norway no-basis and R4 core."""

from __future__ import annotations

from adapter import standards
from adapter.config import Settings
from adapter.validate.packages import Definitions, Package

#: The folders of fhir/no-basis/json that hold conformance resources.
NO_BASIS_FOLDERS = ("StructureDefinition", "CodeSystem", "ValueSet", "NamingSystem", "SearchParameter")


def load_definitions(settings: Settings) -> Definitions:
    """Lookup over profiles/resources, no-basis and core, searched in that order (ours win on a clash); our own
    profiles (profiles/resources) are also the ones a resource's category or type implies."""
    no_basis = standards.no_basis_json(settings)
    own = Package.open(settings.profiles_dir / "resources")
    held = [own, *(Package.open(no_basis / folder) for folder in NO_BASIS_FOLDERS)]
    return Definitions([*held, Package.open(standards.core_package(settings))], canonical_bases(held), own)


def canonical_bases(packages: list[Package]) -> tuple[str, ...]:
    """The canonical bases of the StructureDefinitions in ``packages`` (``http://samhandling.no/fhir/``), read from
    their URLs, so re-basing the profiles in sushi-config.yaml needs no change here."""
    marker = "/StructureDefinition/"
    return tuple(sorted({url.split(marker, 1)[0] + "/" for pkg in packages for url in pkg.files if marker in url}))
