"""The definitions the adapter validates against: our compiled profiles, HL7 Norway no-basis and R4 core."""

from __future__ import annotations

from adapter import standards
from adapter.config import Settings
from adapter.validate.packages import Definitions, Package

#: The folders of fhir/no-basis/json that hold conformance resources.
NO_BASIS_FOLDERS = ("StructureDefinition", "CodeSystem", "ValueSet", "NamingSystem", "SearchParameter")


def load_definitions(settings: Settings) -> Definitions:
    """Lookup over profiles/resources, no-basis and core, searched in that order (ours win on a clash)."""
    no_basis = standards.no_basis_json(settings)
    return Definitions(
        [
            Package.open(settings.profiles_dir / "resources"),
            *(Package.open(no_basis / folder) for folder in NO_BASIS_FOLDERS),
            Package.open(standards.core_package(settings)),
        ]
    )
