"""The one error family of the adapter, and the table of stable issue codes.

Every problem the adapter reports is an :class:`Issue` with a stable code (``ADP-xyyy``; ``x`` is the stage:
0 setup, 1 parse, 2 schema, 3 mapping, 4 profile, 5 route, 6 delivery). Texts may change; codes never do.
Codes are listed in :data:`CODES` with their FHIR issue type and an English and Norwegian (bokmål) text, which
may carry ``{placeholders}`` filled from the issue's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class CodeInfo:
    """What a stable issue code means: FHIR issue type and the text in both languages."""

    type: str
    en: str
    nb: str


CODES: dict[str, CodeInfo] = {
    "ADP-0001": CodeInfo(
        "not-found",
        "The standards directory has no {what} at {path}. Set SAMHANDLING_STANDARDS to the folder that holds "
        "fhir/ and kith/ (by default ../shared/standards beside the checkout).",
        "Standardkatalogen mangler {what} i {path}. Sett SAMHANDLING_STANDARDS til mappen med fhir/ og kith/ "
        "(som standard ../shared/standards ved siden av kodebasen).",
    ),
    "ADP-0002": CodeInfo(
        "exception",
        "The external tool {tool} failed: {detail}",
        "Eksternt verktøy {tool} feilet: {detail}",
    ),
    "ADP-0003": CodeInfo(
        "not-found",
        "Cannot read {path}: {detail}",
        "Kan ikke lese {path}: {detail}",
    ),
    "ADP-0004": CodeInfo(
        "invariant",
        "The committed conformance resources are stale: {detail}. Run `samhandling profiles build` and commit.",
        "De innsjekkede konformitetsressursene er utdaterte: {detail}. Kjør `samhandling profiles build` og sjekk inn.",
    ),
    "ADP-0005": CodeInfo(
        "not-found",
        "No definition for {url}: it is neither in the core package, no-basis nor our profiles.",
        "Ingen definisjon for {url}: den finnes verken i kjernepakken, no-basis eller våre profiler.",
    ),
    "ADP-0006": CodeInfo(
        "structure",
        "Cannot build the snapshot of {url}: {detail}",
        "Kan ikke lage snapshot for {url}: {detail}",
    ),
    "ADP-1001": CodeInfo(
        "structure",
        "The content is not valid JSON: {detail}",
        "Innholdet er ikke gyldig JSON: {detail}",
    ),
    "ADP-1002": CodeInfo(
        "structure",
        "{path}: the value has the wrong type or format ({detail})",
        "{path}: verdien har feil type eller format ({detail})",
    ),
    "ADP-1003": CodeInfo(
        "structure",
        "{path}: there is no such element in FHIR R4",
        "{path}: dette elementet finnes ikke i FHIR R4",
    ),
    "ADP-4001": CodeInfo(
        "required",
        "{path}: minimum required = {min}, but only found {count}",
        "{path}: minst {min} påkrevd, men fant {count}",
    ),
    "ADP-4002": CodeInfo(
        "structure",
        "{path}: maximum allowed = {max}, but found {count}",
        "{path}: høyst {max} tillatt, men fant {count}",
    ),
    "ADP-4003": CodeInfo(
        "value",
        "{path}: the value must be {expected} (fixed or pattern in {profile})",
        "{path}: verdien må være {expected} (fast verdi eller mønster i {profile})",
    ),
    "ADP-4004": CodeInfo(
        "code-invalid",
        "{path}: the code {code} is not in the required value set {valueset}",
        "{path}: koden {code} er ikke i det påkrevde verdisettet {valueset}",
    ),
    "ADP-4005": CodeInfo(
        "not-supported",
        "{path}: code system {system} is not available offline; the code was not checked",
        "{path}: kodeverket {system} er ikke tilgjengelig lokalt; koden ble ikke kontrollert",
    ),
    "ADP-4006": CodeInfo(
        "not-found",
        "The resource claims profile {profile}, which is not known",
        "Ressursen oppgir profilen {profile}, som ikke er kjent",
    ),
    "ADP-4008": CodeInfo(
        "structure",
        "This element does not match any slice of {path}, and the slicing is closed",
        "Elementet passer ikke til noen av delene (slices) av {path}, og oppdelingen er lukket",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One finding: stable code, severity, where (FHIRPath expression, source line/column) and its arguments."""

    code: str
    severity: Severity = "error"
    expression: str | None = None
    line: int | None = None
    column: int | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> CodeInfo:
        """The code table row for this issue."""
        return CODES[self.code]

    @property
    def text_en(self) -> str:
        """The English text with the arguments filled in."""
        return self.info.en.format(**self.args)

    @property
    def text_nb(self) -> str:
        """The Norwegian (bokmål) text with the arguments filled in."""
        return self.info.nb.format(**self.args)

    def __str__(self) -> str:
        where = f" at {self.expression}" if self.expression else ""
        line = f" (line {self.line})" if self.line else ""
        return f"{self.severity} {self.code}{where}{line}: {self.text_en}"


class AdapterError(Exception):
    """Raised when a stage cannot go on; carries every issue found so far."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues

    @classmethod
    def of(cls, code: str, **args: Any) -> AdapterError:
        """A one-issue error with severity ``fatal``."""
        return cls([Issue(code, "fatal", args=args)])


class SetupError(AdapterError):
    """The installation or the standards directory is incomplete; nothing can be processed."""
