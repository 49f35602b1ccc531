"""FHIR search as this service serves it: the types and their R4 search parameters, and reading a query (REST
search, Subscription criteria) into what the store searches by. One reading for both, so a Subscription matches
exactly what the same search would find."""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from adapter.errors import AdapterError, Issue

#: The resource types the REST API serves, each with the R4 search parameters it supports besides _id, _profile,
#: _lastUpdated, _count and _offset (token, or reference for patient and subject; these two also take
#: ``:identifier``). The CapabilityStatement is built from this table.
SEARCH_PARAMS: dict[str, tuple[str, ...]] = {
    "CarePlan": ("identifier", "patient", "subject", "category", "status", "intent"),
    "EpisodeOfCare": ("identifier", "patient", "status", "type"),
    "CareTeam": ("identifier", "patient", "subject", "category", "status"),
    "ServiceRequest": ("identifier", "patient", "subject", "category", "status", "intent", "code"),
    "Task": ("identifier", "patient", "subject", "status", "intent", "code"),
    "RiskAssessment": ("identifier", "patient", "subject"),
    "Consent": ("identifier", "patient", "category", "status"),
    "QuestionnaireResponse": ("identifier", "patient", "subject", "status"),
    "ClinicalImpression": ("identifier", "patient", "subject", "status"),
    "DocumentReference": ("identifier", "patient", "subject", "type", "status"),
    "Goal": ("identifier", "patient", "subject", "category"),
    "Patient": ("identifier", "gender"),
    "Subscription": ("status",),
}
TYPES = tuple(SEARCH_PARAMS)
#: The ``_include`` each type's search follows (``Type:param``, optionally ``:TargetType``), and the
#: ``_revinclude``: what of another type refers to the matches. Anything else is an error (ADP-5023).
INCLUDES: dict[str, tuple[str, ...]] = {
    "CarePlan": ("CarePlan:goal", "CarePlan:care-team", "CarePlan:patient", "CarePlan:subject", "CarePlan:author")
}
REVINCLUDES: dict[str, tuple[str, ...]] = {"Patient": ("CarePlan:patient", "CarePlan:subject")}
#: What ``_sort`` sorts by (each also descending, ``-_lastUpdated``).
SORTS = ("_lastUpdated", "_id")
_ELEMENT = re.compile(r"^[a-z][A-Za-z0-9]{0,63}$")


@dataclass(frozen=True)
class Shape:
    """The result parameters of a search: ``_summary`` (``count``, ``true``; None: the whole resources),
    ``_elements``, ``_sort`` (key, descending) and the ``_include`` and ``_revinclude`` to follow."""

    summary: str | None = None
    elements: tuple[str, ...] = ()
    sort: tuple[tuple[str, bool], ...] = ()
    include: tuple[str, ...] = ()
    revinclude: tuple[str, ...] = ()


def result_shape(query: list[tuple[str, str]], rtype: str) -> tuple[Shape, list[tuple[str, str]]]:
    """The result parameters of a search of ``rtype`` and the rest of the query (for :func:`parse_query`); a value
    this service does not serve is an error (ADP-5023), never silently ignored."""

    def refused(name: str, detail: str) -> AdapterError:
        return AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": detail})])

    found: dict[str, list[str]] = {}
    rest: list[tuple[str, str]] = []
    for name, value in query:
        if name in ("_summary", "_elements", "_sort", "_include", "_revinclude"):
            found.setdefault(name, []).append(value)
        else:
            rest.append((name, value))
    summary = _one(found, "_summary", refused)
    if summary not in (None, "count", "true", "false"):
        raise refused("_summary", "supported: count, true, false")
    elements = tuple(e.strip() for v in found.get("_elements", []) for e in v.split(",") if e.strip())
    if summary not in (None, "false") and elements:
        raise refused("_elements", "not together with _summary")
    for element in elements:
        if not _ELEMENT.match(element):
            raise refused("_elements", f"not an element name: {element[:64]}")
    sort: list[tuple[str, bool]] = []
    for key in (k for v in found.get("_sort", []) for k in v.split(",")):
        if key.removeprefix("-") not in SORTS:
            raise refused("_sort", "supported: " + ", ".join((*SORTS, *(f"-{s}" for s in SORTS))))
        sort.append((key.removeprefix("-"), key.startswith("-")))
    include = tuple(found.get("_include", []))
    revinclude = tuple(found.get("_revinclude", []))
    for name, values, served in (
        ("_include", include, INCLUDES.get(rtype, ())),
        ("_revinclude", revinclude, REVINCLUDES.get(rtype, ())),
    ):
        for value in values:
            if _path_of(value) not in served:
                raise refused(name, "supported: " + (", ".join(served) or "none for " + rtype))
    shape = Shape(None if summary == "false" else summary, elements, tuple(sort), include, revinclude)
    return shape, rest


#: Parameters never ignored under ``Prefer: handling=lenient``, whatever their modifier or chain, even where R4 does
#: not define them on the type: each would restrict a search to a patient or a record, and a search that silently
#: dropped it would give a client that believes it asked for one patient the records of every patient it may see.
RESTRICTING = frozenset(
    {"patient", "subject", "beneficiary", "identifier", "_id", "_has", "_list", "_filter", "_query"}
)
#: The search parameters R4 defines on every resource (Resource, DomainResource) and for every search (``_has``,
#: ``_type``, ``_list``, ``_query``, ``_filter``): never ignored under lenient handling.
R4_EVERY_TYPE = frozenset(
    {
        "_id", "_lastupdated", "_tag", "_profile", "_security", "_source", "_text", "_content",
        "_list", "_has", "_type", "_query", "_filter",
    }
)  # fmt: skip
_RESULT_PARAMS = (
    "_summary",
    "_elements",
    "_sort",
    "_include",
    "_revinclude",
    "_count",
    "_offset",
    "_format",
    "_pretty",
)
#: The R4 result parameters this service does not serve that change what a search returns (``_contained`` gives the
#: contained resources, not their containers): never ignored. ``_total`` only asks how exact the total may be (it
#: always is), so lenient handling may ignore it.
_RESULTS_UNSERVED = frozenset({"_contained", "_containedtype"})


@functools.cache
def r4_search_parameters(package: Path) -> Mapping[str, frozenset[str]]:
    """Resource type -> the codes (lower case) of the SearchParameters the R4 core package ``package`` defines on it
    (``base``), read once per package: the parameters lenient handling must never ignore."""
    index = package / ".index.json"
    if index.is_file():
        listed = json.loads(index.read_text(encoding="utf-8")).get("files", [])
        names = [str(f["filename"]) for f in listed if f.get("resourceType") == "SearchParameter"]
    else:  # a package without its index: the files' own names, as the package writes them
        names = [path.name for path in package.glob("SearchParameter-*.json")]
    found: dict[str, set[str]] = {}
    for name in names:
        parameter = json.loads((package / name).read_text(encoding="utf-8"))
        for base in parameter.get("base") or []:
            found.setdefault(str(base), set()).add(str(parameter.get("code", "")).lower())
    return {rtype: frozenset(codes) for rtype, codes in found.items()}


def lenient_query(
    query: list[tuple[str, str]], rtype: str, defined: frozenset[str] | None = None
) -> tuple[list[tuple[str, str]], list[str]]:
    """The query of a search of ``rtype`` under ``Prefer: handling=lenient`` (R4 3.1.1.5.2.1): the terms whose
    parameter the service knows, and the names of those it ignores (each once, as given). Ignored is only a name
    R4 does not define for the type: an R4 search parameter the service does not serve (``defined``: the lower-case
    codes of the type's, see :func:`r4_search_parameters`; None: every name counts as one), compared without case,
    modifier or chain, is an error (ADP-5056), as is one that restricts to a patient or a record
    (:data:`RESTRICTING`), and a result parameter that would change what is returned (ADP-5023): dropped, each
    would give more than was asked for. A bad value of a known parameter stays an error too."""
    references = [p for p in SEARCH_PARAMS[rtype] if p in ("patient", "subject")]
    known = {*SEARCH_PARAMS[rtype], *(f"{p}:identifier" for p in references), "_id", "_profile", "_lastUpdated"}
    results = {*_RESULTS_UNSERVED, *(p.lower() for p in _RESULT_PARAMS)}
    kept: list[tuple[str, str]] = []
    ignored: list[str] = []
    for name, value in query:
        if name in known or name in _RESULT_PARAMS:
            kept.append((name, value))
            continue
        base = re.split(r"[:.]", name, maxsplit=1)[0].lower()
        lowered = name.lower()
        if base in results:
            detail = "it changes what the search returns, and is not ignored even with Prefer: handling=lenient"
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name[:100], "detail": detail})])
        restricting = base in RESTRICTING or "patient" in lowered or "subject" in lowered
        if defined is None or base in defined or base in R4_EVERY_TYPE or restricting:
            raise AdapterError([Issue("ADP-5056", "error", args={"param": name[:100]})])
        if name not in ignored:
            ignored.append(name)
    return kept, ignored


def _one(found: dict[str, list[str]], name: str, refused: Callable[[str, str], AdapterError]) -> str | None:
    values = found.get(name, [])
    if len(values) > 1:
        raise refused(name, "given more than once")
    return values[0] if values else None


def _path_of(value: str) -> str:
    """``CarePlan:author:Practitioner`` -> ``CarePlan:author`` (a target type given); else the value itself, so
    that a malformed one is not served."""
    parts = value.split(":")
    if len(parts) == 3 and parts[2].isalpha() and parts[2][:1].isupper():
        return ":".join(parts[:2])
    return value if len(parts) == 2 else ""


def include_target(value: str) -> str | None:
    """The target type an ``_include`` names (``CarePlan:author:Practitioner``), None when it names none."""
    parts = value.split(":")
    return parts[2] if len(parts) == 3 else None


_DATE_PREFIX = re.compile(r"^(eq|lt|le|gt|ge)?(\d{4}(-\d{2}(-\d{2}(T[0-9:.]+(Z|[+-]\d{2}:\d{2})?)?)?)?)$")
_OPERATOR = {"eq": ">=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}


def parse_query(
    query: list[tuple[str, str]], rtype: str
) -> tuple[list[tuple[str, list[str]]], list[tuple[str, str]], int, int]:
    """Search parameters -> (param, values) pairs, lastUpdated comparisons, _count and _offset; an unknown
    parameter or a bad value is an error (ADP-5023), never silently ignored."""
    params: list[tuple[str, list[str]]] = []
    updated: list[tuple[str, str]] = []
    count, offset = 50, 0
    if rtype == "AuditEvent":
        allowed: tuple[str, ...] = ("patient",)
    else:
        references = [p for p in SEARCH_PARAMS[rtype] if p in ("patient", "subject")]
        allowed = (*SEARCH_PARAMS[rtype], *(f"{p}:identifier" for p in references), "_id", "_profile")
    date_param = "date" if rtype == "AuditEvent" else "_lastUpdated"
    for name, value in query:
        if name in ("_format", "_pretty"):
            continue
        if name in ("_count", "_offset"):
            if not (value.isascii() and value.isdigit()):
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": "not a number"})])
            if name == "_count":
                count = min(int(value), 500)  # 0: the total only
            else:
                offset = min(int(value), 2**62)  # a database integer, whatever was asked
            continue
        if name == date_param:
            match = _DATE_PREFIX.match(value)
            if not match:
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": f"bad date {value}"})])
            prefix, stamp = match.group(1) or "eq", match.group(2)
            if not _real_date(stamp):
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": f"bad date {value}"})])
            updated.append((_OPERATOR[prefix], stamp))
            if prefix == "eq":
                updated.append(("<", _next(stamp)))
            continue
        if name not in allowed:
            detail = "supported: " + ", ".join((*allowed, date_param, "_count", "_offset", *_shaping(rtype)))
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": detail})])
        values = [_reference_value(name, v) for v in value.split(",") if v]
        if not values:
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": "no value"})])
        params.append((name, values))
    return params, updated, count, offset


def _shaping(rtype: str) -> tuple[str, ...]:
    """The result parameters a search of ``rtype`` takes besides ``_count`` and ``_offset`` (for the hint of an
    unknown parameter): none for AuditEvent, ``_include`` and ``_revinclude`` only where they lead somewhere."""
    if rtype == "AuditEvent":
        return ()
    return (
        "_sort",
        "_summary",
        "_elements",
        *(("_include",) if INCLUDES.get(rtype) else ()),
        *(("_revinclude",) if REVINCLUDES.get(rtype) else ()),
    )


def _reference_value(name: str, value: str) -> str:
    if name in ("patient", "subject") and "/" not in value:
        return f"Patient/{value}"
    return value


def own_references(params: list[tuple[str, list[str]]], base: str) -> list[tuple[str, list[str]]]:
    """``params`` with every reference at the service's own ``base`` (``https://host/fhir/Patient/x``) as the
    relative reference it is (``Patient/x``, R4 3.1.1.4.2); another server's absolute URL is kept, and so finds
    nothing here."""
    prefix = base.rstrip("/") + "/"

    def local(name: str, value: str) -> str:
        return _reference_value(name, value[len(prefix) :]) if value.startswith(prefix) else value

    return [
        (name, [local(name, v) for v in values] if name in ("patient", "subject") else values)
        for name, values in params
    ]


def read_shape(query: list[tuple[str, str]], rtype: str) -> Shape:
    """The shape of a read (``GET [type]/[id]``, also a vread): ``_summary`` (``true``, ``false``) and
    ``_elements`` as a search's matches take them, ``_format`` and ``_pretty``; any other parameter is an error
    (ADP-5023): a read that ignored it would answer something other than was asked."""
    detail = "a read takes only _summary (true, false), _elements, _format and _pretty"
    for name, value in query:
        taken = name in ("_elements", "_format", "_pretty") or (name == "_summary" and value in ("true", "false"))
        if not taken:
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name[:100], "detail": detail})])
    shape, _ = result_shape([(k, v) for k, v in query if k in ("_summary", "_elements")], rtype)
    return shape


def _real_date(stamp: str) -> bool:
    """Whether a (partial) date or instant names a real moment (no month 13, no hour 25)."""
    padded = stamp + "-01-01"[len(stamp) - 4 :] if len(stamp) < 10 else stamp
    try:
        datetime.datetime.fromisoformat(padded.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def _next(stamp: str) -> str:
    """Text that sorts after every instant in the period a partial date names (``2026`` covers ``2026-12-31T...``
    but not ``2027``): the upper bound of ``eq``."""
    return stamp + "\uffff"


def parse_criteria(criteria: str) -> tuple[str, list[tuple[str, str]]] | None:
    """``CarePlan?patient=Patient/x&category=...`` -> (type, [(param, value)]); None when unusable."""
    parts = urlsplit(criteria)
    rtype = parts.path.strip("/")
    if not rtype or "/" in rtype or not rtype[:1].isupper():
        return None
    try:  # read as strictly as a search: an empty or malformed term is an error, not dropped
        return rtype, parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        return None


def paging(query: list[tuple[str, str]]) -> tuple[int, int, str | None]:
    """``_count``, ``_offset`` and ``_since`` of a history request (the only parameters it takes besides
    ``_format`` and ``_pretty``; any other is an error, ADP-5023). ``_since`` (an instant, or a date: its start in
    UTC) comes back as the UTC instant the store's ``lastUpdated`` compares with as text."""
    wanted = [(k, v) for k, v in query if k not in ("_format", "_pretty")]
    since = None
    for name, value in wanted:
        if name == "_since":
            if since is not None:
                raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": "given more than once"})])
            since = _utc_instant(value)
        elif name not in ("_count", "_offset"):
            detail = "supported: _count, _offset, _since"
            raise AdapterError([Issue("ADP-5023", "error", args={"param": name, "detail": detail})])
    paged = [(k, v) for k, v in wanted if k != "_since"]
    _, _, count, offset = parse_query(paged, "AuditEvent")  # the paging terms only: read as a search reads them
    return count, offset, since


_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$")


def _utc_instant(value: str) -> str:
    """``_since`` as a UTC instant with milliseconds (``2026-06-01T10:00:00.000Z``, the store's form): an instant
    with its zone, or a date (from its start, UTC); anything else is an error (ADP-5023)."""
    moment = None
    if _INSTANT.match(value):
        digits = re.sub(r"\.(\d{1,6})\d*", r".\1", value)  # Python reads microseconds at most
        try:
            moment = datetime.datetime.fromisoformat(digits.replace("Z", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        detail = f"not an instant (2026-06-01T10:00:00Z) or a date: {value[:64]}"
        raise AdapterError([Issue("ADP-5023", "error", args={"param": "_since", "detail": detail})])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    stamp = moment.astimezone(datetime.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def form_query(data: bytes) -> list[tuple[str, str]]:
    """The search parameters of a form body (``POST [type]/_search``, UTF-8 ``application/x-www-form-urlencoded``);
    a body that is no form is an error (ADP-5023), never read as no parameters."""
    try:
        text = data.decode("utf-8")
        return parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text.strip()))
    except (UnicodeDecodeError, ValueError):
        detail = "the body is not a UTF-8 form (application/x-www-form-urlencoded: name=value&...)"
        raise AdapterError([Issue("ADP-5023", "error", args={"param": "(the form)", "detail": detail})]) from None


def condition_query(rtype: str, condition: str) -> list[tuple[str, str]]:
    """The search of an ``If-None-Exist`` header (``identifier=x``, ``?identifier=x``, ``CarePlan?identifier=x``
    or a URL ending in that): its parameters, read as strictly as a search. One that names another type, is no
    query, or has no criterion (which would match every resource of the type) is an error (ADP-5023)."""

    def refused(detail: str) -> AdapterError:
        return AdapterError([Issue("ADP-5023", "error", args={"param": "If-None-Exist", "detail": detail})])

    if not condition.strip():
        raise refused("the header is empty: give the search that must find nothing (identifier=...), or leave it out")
    path, mark, text = condition.strip().rpartition("?")
    named = path.rstrip("/").rsplit("/", 1)[-1] if mark else ""
    if named and named != rtype:
        raise refused(f"it searches {named[:64]}, not {rtype}")
    try:
        query = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise refused("not a search query (name=value&...)") from None
    if not [k for k, _ in query if k not in ("_format", "_pretty", "_count", "_offset")]:
        raise refused("it names no search criterion, and would match every resource")
    return query
