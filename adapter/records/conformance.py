"""The conformance resources and the terminology operations over REST, read-only and outside the patient records.

The served resources are those of :class:`~adapter.validate.catalogue.Catalogue` (our package, its
ImplementationGuide, the core and no-basis terminology it uses); ``$expand``, ``$lookup``, ``$validate-code`` and
``$translate`` are :mod:`adapter.validate.operations` over the validator's own definitions and expansions, so a
code ``$validate-code`` takes is one the validator takes. Nothing here is patient data: any verified caller may read
it (the API's token check), nothing is audited as a disclosure, and the records' access rules are not asked. Writes
are refused (ADP-5064, 405). Every answer is a :class:`~adapter.reply.Reply`.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

from adapter import __version__
from adapter.errors import AdapterError, Issue
from adapter.parse.fhir_source import read_fhir
from adapter.records.history import bundle
from adapter.records.include import SUBSETTED, summary_elements
from adapter.reply import Reply
from adapter.search import Shape, form_query, paging, result_shape
from adapter.validate import Validator
from adapter.validate.catalogue import SEARCH_PARAMS, SERVED_TYPES, Catalogue
from adapter.validate.operations import codes, expand, translate
from adapter.validate.operations.params import Params
from adapter.validate.packages import Resource

__all__ = ["OPERATIONS", "SERVED_TYPES", "Conformance"]

#: The operations served: (type, name) -> whether an instance (``[type]/[id]/$name``) takes it too.
OPERATIONS: dict[tuple[str, str], bool] = {
    ("ValueSet", "expand"): True,
    ("ValueSet", "validate-code"): True,
    ("CodeSystem", "lookup"): False,
    ("CodeSystem", "validate-code"): True,
    ("ConceptMap", "translate"): True,
}
_PAGING = ("_count", "_offset")
#: When the TerminologyCapabilities last changed.
_CAPABILITIES_DATE = "2026-12-02"
_IGNORED = ("_format", "_pretty")
#: What shapes the resources of a search (as the records' searches read them: adapter.search.result_shape).
_SHAPING = ("_summary", "_elements")
#: What a subset always keeps.
_MANDATORY = ("resourceType", "id", "meta")


class Conformance:
    """Read, search and the terminology operations over the served conformance resources; one per app."""

    def __init__(self, validator: Validator, clock: Callable[[], float] = time.time) -> None:
        self.validator = validator
        self.catalogue = Catalogue(validator.definitions, validator.settings.profiles_dir)
        self.terminology = validator.engine.terminology  # the validator's expansions, shared and cached
        self.clock = clock

    def read(self, rtype: str, rid: str) -> Reply:
        """GET [type]/[id]."""
        found = self.catalogue.read(rtype, rid)
        if found is None:
            return Reply.refused([_missing(rtype, f"{rtype}/{rid}")])
        return Reply(200, found)

    def search(self, rtype: str, query: list[tuple[str, str]], base: str) -> Reply:
        """GET [type]?url=&version=&name=...: a searchset Bundle, paged with ``_count`` and ``_offset``, its
        resources shaped by ``_summary`` (``true``: the elements R4 marks isSummary, without the snapshots;
        ``count``: the total only) or ``_elements``, as the records' searches shape theirs (tagged SUBSETTED)."""
        criteria = [(k, v) for k, v in query if k not in (*_PAGING, *_IGNORED, *_SHAPING)]
        for name, value in criteria:
            if name not in SEARCH_PARAMS or not value or len(value) > 1000:
                detail = "supported: " + ", ".join((*SEARCH_PARAMS, *_PAGING, *_SHAPING))
                return Reply.refused([Issue("ADP-5023", "error", args={"param": name[:100], "detail": detail})])
        try:
            count, offset = paging([(k, v) for k, v in query if k in _PAGING])[:2]  # read as a history's
            shape = result_shape([(k, v) for k, v in query if k in _SHAPING], rtype)[0]
        except AdapterError as error:
            return Reply.refused(error.issues)
        found = self.catalogue.search(rtype, criteria)
        shown = [] if shape.summary == "count" else found[offset : offset + count]
        entries = [
            {"fullUrl": f"{base}/{rtype}/{r['id']}", "resource": self._shaped(r, shape), "search": {"mode": "match"}}
            for r in shown
        ]
        return Reply(200, bundle("searchset", f"{base}/{rtype}", query, len(found), count, offset, entries))

    def _shaped(self, resource: Resource, shape: Shape) -> Resource:
        """A served resource as ``_summary=true`` or ``_elements`` asks, tagged SUBSETTED (R4); else as it is."""
        if shape.summary == "true":
            kept = set(summary_elements(self.validator.definitions, str(resource["resourceType"])))
        elif shape.elements:
            kept = set(shape.elements)
        else:
            return resource
        body = {k: v for k, v in resource.items() if k in kept or k in _MANDATORY}
        meta = dict(body.get("meta") or {})
        meta["tag"] = [*(meta.get("tag") or []), SUBSETTED]
        body["meta"] = meta
        return body

    def terminology_capabilities(self, base: str) -> Reply:
        """GET /metadata?mode=terminology: the TerminologyCapabilities of this server at ``base`` (R4): the code
        systems it answers for (those served with concepts: SNOMED CT, which core holds without any, is not one),
        the expansion parameters taken, ``$translate`` without naming a map, ``$validate-code`` without
        translations."""
        systems = [
            {
                "uri": str(cs["url"]),
                **({"version": [{"code": cs["version"], "isDefault": True}]} if "version" in cs else {}),
            }
            for cs in self.catalogue.search("CodeSystem", [])
            if cs.get("content") != "not-present" and isinstance(cs.get("url"), str)
        ]
        parameters = [name for name in expand.EXPAND_PARAMS if name not in ("url", "valueSetVersion")]
        return Reply(
            200,
            {
                "resourceType": "TerminologyCapabilities",
                "name": "SamhandlingTerminology",
                "title": "The terminology of samhandling-adapter, offline",
                "status": "active",
                "date": _CAPABILITIES_DATE,
                "kind": "instance",
                "software": {"name": "samhandling-adapter", "version": __version__},
                "implementation": {"description": "samhandling-adapter: terminology offline", "url": base},
                "lockedDate": False,
                "codeSystem": sorted(systems, key=lambda s: s["uri"]),
                "expansion": {
                    "hierarchical": False,
                    "paging": True,
                    "incomplete": False,  # what cannot be expanded whole is refused (ADP-5062), never given in part
                    "parameter": [{"name": name} for name in parameters],
                    "textFilter": "Plain text, case-insensitive, on the code, the display and the designations",
                },
                "validateCode": {"translations": False},
                "translation": {"needsMap": False},  # without url: every ConceptMap served
            },
        )

    def search_form(self, rtype: str, query: list[tuple[str, str]], data: bytes, base: str) -> Reply:
        """POST [type]/_search: the same search with its parameters in a form body."""
        try:
            form = form_query(data)
        except AdapterError as error:
            return Reply.refused(error.issues)
        return self.search(rtype, [*query, *form], base)

    @staticmethod
    def refuse_write(method: str, path: str, allowed: str) -> Reply:
        """A write (or any interaction but read and search) of a served conformance resource: 405, ADP-5064."""
        issue = Issue("ADP-5064", "error", args={"method": method, "path": path[:200], "allowed": allowed})
        return Reply.refused([issue], headers={"Allow": allowed})

    def operation(
        self,
        rtype: str,
        name: str,
        rid: str | None,
        query: list[tuple[str, str]],
        data: bytes | None = None,
        fmt: str | None = None,
    ) -> Reply:
        """``[type]/$name`` or ``[type]/[id]/$name`` by GET (``data`` None) or POST (a Parameters body)."""
        try:
            return Reply(200, self._operation(rtype, name, rid, query, data, fmt))
        except AdapterError as error:
            return Reply.refused(error.issues)

    def _operation(
        self, rtype: str, name: str, rid: str | None, query: list[tuple[str, str]], data: bytes | None, fmt: str | None
    ) -> Resource:
        instance = None
        if rid is not None:
            instance = self.catalogue.read(rtype, rid)
            if instance is None:
                raise AdapterError([_missing(rtype, f"{rtype}/{rid}")])
        body = self._body(name, data, fmt)
        warns = self.validator.policy.display_issues_are_warnings
        if (rtype, name) == ("ValueSet", "expand"):
            params = Params.read("$expand", _at(expand.EXPAND_PARAMS, instance), query, body)
            valueset = instance or self._valueset(params)
            return expand.expand(self.terminology, valueset, params, self._now())
        if (rtype, name) == ("ValueSet", "validate-code"):
            params = Params.read("$validate-code", _at(codes.VALUESET_VALIDATE_PARAMS, instance), query, body)
            url = str((instance or self._valueset(params)).get("url"))
            return codes.validate_in_valueset(self.terminology, url, params, warns)
        if (rtype, name) == ("CodeSystem", "lookup"):
            return codes.lookup(self.terminology, Params.read("$lookup", codes.LOOKUP_PARAMS, query, body))
        if (rtype, name) == ("CodeSystem", "validate-code"):
            params = Params.read("$validate-code", _at(codes.CODESYSTEM_VALIDATE_PARAMS, instance), query, body)
            url = str(instance.get("url")) if instance is not None else params.required("url")
            return codes.validate_in_codesystem(self.terminology, url, params, warns)
        params = Params.read("$translate", _at(translate.TRANSLATE_PARAMS, instance), query, body)
        return translate.translate([instance] if instance is not None else self._conceptmaps(params), params)

    def _body(self, operation: str, data: bytes | None, fmt: str | None) -> dict[str, Any] | None:
        """The Parameters of a POST (None for a GET)."""
        if data is None:
            return None
        if not data.strip():
            args = {"operation": f"${operation}", "detail": "the body is empty"}
            raise AdapterError([Issue("ADP-5065", "error", args=args)])
        resource = read_fhir(data, self.validator.definitions, fmt).resource
        if not isinstance(resource, dict):
            args = {"operation": f"${operation}", "detail": "the body is no resource"}
            raise AdapterError([Issue("ADP-5065", "error", args=args)])
        return resource

    def _valueset(self, params: Params) -> Resource:
        """The ValueSet a type-level call names (``url``, ``valueSetVersion``): a served one, else any held."""
        url = params.required("url")
        version = params.text("valueSetVersion")
        if "|" in url:
            url, _, version = url.partition("|")
        wanted = f"{url}|{version}" if version else url
        found = self.catalogue.by_url("ValueSet", wanted) or self.validator.definitions.get(wanted)
        if found is None or found.get("resourceType") != "ValueSet" or (version and found.get("version") != version):
            raise AdapterError([_missing("ValueSet", wanted)])
        return found

    def _conceptmaps(self, params: Params) -> list[Resource]:
        """The ConceptMaps a type-level ``$translate`` may use: the one ``url`` names, else all served."""
        url = params.text("url")
        if url is None:
            return self.catalogue.search("ConceptMap", [])
        version = params.text("conceptMapVersion")
        found = self.catalogue.by_url("ConceptMap", f"{url}|{version}" if version else url)
        if found is None:
            raise AdapterError([_missing("ConceptMap", f"{url}|{version}" if version else url)])
        return [found]

    def _now(self) -> str:
        moment = datetime.datetime.fromtimestamp(self.clock(), datetime.UTC)
        return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _at(allowed: tuple[str, ...], instance: Resource | None) -> tuple[str, ...]:
    """The parameters of an operation at the type level, or at an instance (which names the resource itself)."""
    own = ("url", "valueSetVersion", "conceptMapVersion")
    return allowed if instance is None else tuple(name for name in allowed if name not in own)


def _missing(rtype: str, ref: str) -> Issue:
    return Issue("ADP-5060", "error", args={"type": rtype, "ref": ref[:300]})


def capability_entries() -> list[dict[str, Any]]:
    """The CapabilityStatement's ``rest.resource`` entries of the served conformance types: read and search (by
    :data:`~adapter.validate.catalogue.SEARCH_PARAMS`), and the terminology operations with their R4 definitions."""
    kinds = {"_id": "token", "url": "uri", "version": "token", "name": "string", "title": "string", "status": "token"}
    return [
        {
            "type": rtype,
            "documentation": "Read-only: our package's conformance resources and the core and no-basis terminology "
            "it uses, offline; any write is refused (405). Searches page with _count and _offset and take _summary "
            "(true: the isSummary elements, tagged SUBSETTED; count; false) and _elements.",
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": kinds[name]} for name in SEARCH_PARAMS],
            **(
                {
                    "operation": [
                        {"name": op, "definition": f"http://hl7.org/fhir/OperationDefinition/{rtype}-{op}"}
                        for (kind, op) in OPERATIONS
                        if kind == rtype
                    ]
                }
                if any(kind == rtype for kind, _ in OPERATIONS)
                else {}
            ),
        }
        for rtype in SERVED_TYPES
    ]
