"""The one error family of the adapter, and the table of stable issue codes.

Every problem the adapter reports is an :class:`Issue` with a stable code (``ADP-xyyy``; ``x`` says where it arises:

* 0 setup: the standards directory, external tools, conformance resources, the database URL;
* 1 parse: reading JSON and XML (well-formedness, refused constructs, size and depth limits, FHIR structure);
* 2 schema: KITH XML Schema validation;
* 3 mapping: KITH <-> FHIR translation (the envelope, the mapping files, what is carried verbatim);
* 4 profile: FHIR validation against the profiles (cardinality, types, bindings, invariants, references ...);
* 5 service: the routing table (50xx below 5010), FHIR messaging and the KITH endpoints (5010-5018, 5031), the
  HTTP API and REST interactions (5020-5028, 5040-5043), and the check of references while validating (5030);
* 6 delivery: application receipts for what we delivered, the NHN message service;
* 7 security: authentication (7001-7007) and access: parties, consent, the patient's deny, emergency access
  (7008-7022).

Texts may change; codes never do (tests/data/issued_codes.txt lists every code issued). The codes live in
``errors.yaml`` beside this module: per code its FHIR issue type, the HTTP status it gives where one clearly
applies, the AppRec error code (list 8221) where one applies, and an English and Norwegian (bokmål) text, which
may carry ``{placeholders}`` filled from the issue's arguments. :func:`load_codes` reads and checks it when this
module is imported, so a broken table stops the adapter at once with a :class:`CodeTableError` that says why.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Literal

import yaml

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class CodeInfo:
    """What a stable issue code means: FHIR issue type, the text in both languages, and where they apply the HTTP
    status it is answered with, its AppRec error code (list 8221), and why an unused code is kept."""

    type: str
    en: str
    nb: str
    http: int | None = None
    apprec: str | None = None
    unused: str | None = None


class CodeTableError(ValueError):
    """The code table (``errors.yaml``) is broken; the message lists every problem found."""


#: The value set issue-type of FHIR R4 (OperationOutcome.issue.code).
ISSUE_TYPES = frozenset(
    {
        *("invalid", "structure", "required", "value", "invariant", "security", "login", "unknown", "expired"),
        *("forbidden", "suppressed", "processing", "not-supported", "duplicate", "multiple-matches", "not-found"),
        *("deleted", "too-long", "code-invalid", "extension", "too-costly", "business-rule", "conflict"),
        *("transient", "lock-error", "no-store", "exception", "timeout", "incomplete", "throttled", "informational"),
    }
)
CODE_PATTERN = re.compile(r"ADP-[0-9]{4}")
_APPREC_PATTERN = re.compile(r"[A-Z][0-9]{2}")
_KEYS = frozenset({"code", "type", "http", "apprec", "unused", "en", "nb"})


def _placeholders(text: str, language: str) -> set[str]:
    """The argument names ``text`` uses, a language suffix taken off (``kind_nb`` in the Norwegian text is the
    ``kind`` or ``kind_en`` of the English one); ValueError when the text is not a valid format string."""
    names = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    return {name.removesuffix(f"_{language}") for name in names}


def _check_row(row: Any, where: str) -> list[str]:
    """The problems of one entry of the table (empty when it is well-formed)."""
    if not isinstance(row, dict):
        return [f"{where}: an entry must be a mapping with code, type, en and nb"]
    problems = [f"{where}: unknown key {key!r}" for key in sorted(set(row) - _KEYS, key=str)]
    code = row.get("code")
    if not (isinstance(code, str) and CODE_PATTERN.fullmatch(code)):
        problems.append(f"{where}: the code {code!r} is not of the form ADP-xyyy")
    if row.get("type") not in ISSUE_TYPES:
        problems.append(f"{where}: the type {row.get('type')!r} is not a FHIR issue type")
    http = row.get("http")
    if http is not None and not (type(http) is int and 400 <= http <= 599):
        problems.append(f"{where}: http {http!r} is not an HTTP error status (400-599)")
    apprec = row.get("apprec")
    if apprec is not None and not (isinstance(apprec, str) and _APPREC_PATTERN.fullmatch(apprec)):
        problems.append(f"{where}: apprec {apprec!r} is not a code of list 8221 (like T01)")
    unused = row.get("unused")
    if unused is not None and not (isinstance(unused, str) and unused.strip()):
        problems.append(f"{where}: unused must say why the code is kept")
    names: dict[str, set[str]] = {}
    for language in ("en", "nb"):
        text = row.get(language)
        if not (isinstance(text, str) and text.strip()):
            problems.append(f"{where}: the {language} text is missing")
            continue
        try:
            names[language] = _placeholders(text, language)
        except ValueError as error:
            problems.append(f"{where}: the {language} text is not a valid format string ({error})")
    if len(names) == 2 and names["en"] != names["nb"]:
        only = sorted(names["en"] ^ names["nb"])
        problems.append(f"{where}: the placeholders differ between en and nb: {', '.join(only)}")
    return problems


def load_codes(text: str, source: str = "errors.yaml") -> dict[str, CodeInfo]:
    """The code table in ``text`` (YAML: a list of entries), checked: raises :class:`CodeTableError` listing every
    unknown key, missing text, bad type, status or AppRec code, placeholder mismatch and duplicate code."""
    try:
        rows = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CodeTableError(f"{source} is not valid YAML: {error}") from error
    if not isinstance(rows, list):
        raise CodeTableError(f"{source} must be a list of entries (- code: ..., type: ..., en: ..., nb: ...)")
    codes: dict[str, CodeInfo] = {}
    problems: list[str] = []
    seen: set[str] = set()
    for number, row in enumerate(rows, 1):
        code = row.get("code") if isinstance(row, dict) else None
        where = f"{source} entry {number} ({code})"
        found = _check_row(row, where)
        if isinstance(code, str) and code in seen:
            found.append(f"{where}: duplicate code {code}")
        seen.add(str(code))
        problems += found
        if not found:
            fields = {key: row[key] for key in ("http", "apprec", "unused") if key in row}
            codes[str(code)] = CodeInfo(row["type"], row["en"], row["nb"], **fields)
    if problems:
        raise CodeTableError(f"the code table {source} is broken:\n  " + "\n  ".join(problems))
    return codes


#: Every stable issue code, from ``errors.yaml``.
CODES: dict[str, CodeInfo] = load_codes(resources.files("adapter").joinpath("errors.yaml").read_text(encoding="utf-8"))


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


#: Where each kind of code arises (the first digit of ``ADP-xyyy``), for the list of codes.
_RANGES = {
    "0": "Setup / oppsett",
    "1": "Reading JSON and XML / lesing",
    "2": "KITH XML Schema / skjema",
    "3": "Translation KITH <-> FHIR / oversetting",
    "4": "Profile validation / profilvalidering",
    "5": "Service, routing, REST / tjenesten",
    "6": "Delivery and receipts / levering og kvitteringer",
    "7": "Security and access / sikkerhet og tilgang",
}


def codes_markdown(codes: dict[str, CodeInfo] | None = None) -> str:
    """Every stable code as a Markdown page for the implementation guide (``samhandling errors``, committed as
    docs/error-codes.md): per code its FHIR issue type, HTTP status, AppRec error code and both texts."""
    codes = CODES if codes is None else codes

    def cell(text: str | int | None) -> str:
        return "" if text is None else " ".join(str(text).replace("|", "\\|").split())

    lines = [
        "# Error codes / Feilkoder",
        "",
        "Every problem the adapter reports has a stable code (`ADP-xyyy`), in the OperationOutcome (issue.details) and",
        "in the AppRec (Error, list 8221 where a code is given). Texts may change; codes never do. Generated from",
        "`adapter/errors.yaml` by `samhandling errors`; `{name}` in a text is filled from the issue.",
    ]
    for digit, title in _RANGES.items():
        rows = [(code, info) for code, info in sorted(codes.items()) if code[4] == digit]
        if not rows:
            continue
        lines += [
            "",
            f"## {digit}xxx {title}",
            "",
            "| code | type | HTTP | AppRec | English | norsk |",
            "|---|---|---|---|---|---|",
        ]
        for code, info in rows:
            values = (code, info.type, info.http, info.apprec, info.en, info.nb)
            lines.append("| " + " | ".join(cell(v) for v in values) + " |")
    return "\n".join(lines) + "\n"


#: The severities that refuse what they are found in.
BLOCKING: frozenset[str] = frozenset({"fatal", "error"})


def http_status(issues: Iterable[Issue], default: int = 400) -> int:
    """The HTTP status of an answer that refuses a request for ``issues``: the code table's ``http`` of the first
    issue of severity fatal or error whose code has one, else ``default`` (the interaction's own)."""
    for issue in issues:
        if issue.severity in BLOCKING and issue.info.http is not None:
            return issue.info.http
    return default


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


class RouteError(AdapterError):
    """The routing table is invalid (ADP-5001) or has no route for a message (ADP-5002)."""


class AuthError(AdapterError):
    """The caller is not authenticated (ADP-7001..7005, HTTP 401) or not allowed (ADP-7006, HTTP 403): the status is
    the code's ``http`` in the code table (401 for a code without one).

    :attr:`status` and :attr:`www_authenticate` give the HTTP status and the RFC 6750 ``WWW-Authenticate`` header
    that the API sends with the OperationOutcome.
    """

    def __init__(self, code: str, **args: Any) -> None:
        super().__init__([Issue(code, "error", args=args)])

    @property
    def code(self) -> str:
        """The stable code of the (single) issue."""
        return self.issues[0].code

    @property
    def status(self) -> int:
        """401 when the token is missing or unacceptable, 403 when it is valid but lacks a scope (the code table's
        ``http`` of the code)."""
        return http_status(self.issues, 401)

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header value (RFC 6750 section 3) for this error."""
        issue = self.issues[0]
        if issue.code == "ADP-7006":
            return f'Bearer realm="samhandling", error="insufficient_scope", scope="{issue.args.get("scope", "")}"'
        if issue.code == "ADP-7001" and issue.args.get("missing"):
            return 'Bearer realm="samhandling"'  # no credentials at all: RFC 6750 says give no error code
        error = "invalid_request" if issue.code == "ADP-7001" else "invalid_token"
        return f'Bearer realm="samhandling", error="{error}"'
