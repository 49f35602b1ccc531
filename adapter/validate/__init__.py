"""Profile validation against snapshots, and the OperationOutcome report.

``Validator(settings).validate(resource)`` returns every issue found; nothing stops at the first problem.
``validate_bytes`` reads JSON or XML first and gives each issue its source line and column. The walk itself is in
:mod:`adapter.validate.walker`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from adapter.config import Settings
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import Source, read_fhir
from adapter.validate.packages import Definitions, MemoryPackage, Resource
from adapter.validate.registry import load_definitions
from adapter.validate.state import DEFAULT_POLICY, Policy
from adapter.validate.walker import Engine


class Validator:
    """Validates resources against their core type and the profiles they claim. Build once, reuse."""

    def __init__(
        self, settings: Settings, definitions: Definitions | None = None, policy: Policy = DEFAULT_POLICY
    ) -> None:
        self.settings = settings
        self.definitions = definitions or load_definitions(settings)
        self.policy = policy
        self.engine = Engine(self.definitions, policy=policy)

    def with_resources(self, resources: Iterable[Resource]) -> Validator:
        """A validator that also knows ``resources`` (profiles, ValueSets, CodeSystems...), which win on a clash."""
        package = MemoryPackage("loaded", list(resources))
        return Validator(self.settings, self.definitions.with_packages([package]), self.policy)

    def with_policy(self, policy: Policy) -> Validator:
        """The same validator with another :class:`Policy`."""
        return self if policy == self.policy else Validator(self.settings, self.definitions, policy)

    def validate(self, resource: Any, profiles: tuple[str, ...] = ()) -> list[Issue]:
        """All issues for ``resource`` (plus ``profiles`` it must also conform to)."""
        try:
            found = self.engine.validate(resource, profiles)
        except RecursionError:  # a Bundle in a Bundle in a Bundle ...: refused, never a crash
            return [Issue("ADP-1009", "fatal")]
        unique: dict[tuple[str, str, str | None, str], Issue] = {}
        for issue in found:  # a rule shared by the core type and a profile is reported once
            unique.setdefault((issue.code, issue.severity, issue.expression, issue.text_en), issue)
        return list(unique.values())

    def validate_bytes(self, data: bytes, fmt: str | None = None, profiles: tuple[str, ...] = ()) -> list[Issue]:
        """Read JSON or XML (``fmt`` None: sniffed) and validate it; issues carry source line and column."""
        try:
            source = read_fhir(data, self.definitions, fmt)
        except AdapterError as error:
            return error.issues
        return self.validate_source(source, profiles)

    def validate_source(self, source: Source, profiles: tuple[str, ...] = ()) -> list[Issue]:
        """Validate a resource read by :func:`read_fhir`: its reading issues and its own, with line and column."""
        issues = [*source.issues, *_repeated(source.duplicates), *self.validate(source.resource, profiles)]
        located = []
        for issue in issues:
            if issue.line is None and issue.expression:
                position = source.locate(issue.expression)
                if position is not None:
                    issue = replace(issue, line=position[0], column=position[1])
            located.append(issue)
        return located


def _repeated(duplicates: list[tuple[str, int, int]]) -> list[Issue]:
    """An element that may occur once but is repeated in XML (JSON keeps the last one, so only XML has them):
    too many values, reported at the parent as the cardinality of any element is."""
    counts: dict[str, tuple[int, int, int]] = {}
    for path, line, column in duplicates:
        seen = counts.get(path)
        counts[path] = (seen[0] + 1, seen[1], seen[2]) if seen else (2, line, column)
    return [
        Issue("ADP-4002", "error", path.rpartition(".")[0], line, column, {"path": path, "max": 1, "count": count})
        for path, (count, line, column) in counts.items()
    ]
