"""Resolving references inside a Bundle (R4 bundle.html, "Resolving references in Bundles") or a Parameters.

* An absolute reference (``http://...``, ``urn:uuid:...``) matches the entries whose ``fullUrl`` is that URL.
* A relative reference (``Type/id``) from an entry whose fullUrl is a RESTful URL (``[base]/Type/id``, and the
  resource has an id) is read against that base: ``[base]/Observation/1`` must be an entry's fullUrl (without
  the id there is no base to read it against). From an entry whose fullUrl is a URN it matches the entries whose
  fullUrl is a RESTful URL ending in ``/Type/id``, else the entry whose fullUrl is ``urn:uuid:<id>``; an entry
  whose fullUrl is a URN is not found by the type and id of its resource. These are the rules as the HL7
  reference validator reads them. Where entries have no fullUrl (transactions, searches, Parameters),
  ``Type/id`` matches the type and id of the resource.
* A version-specific reference (``.../_history/2``) matches only the entries with that ``meta.versionId``.
* More than one match is an ambiguity, not a choice.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*")
Status = Literal["found", "missing", "ambiguous", "elsewhere"]
# an http(s) base, then Type/id: the RESTful form of a fullUrl (the base is group 1)
_RESTFUL = re.compile(r"(https?://.*?)/?([A-Z][A-Za-z]+/[A-Za-z0-9\-.]{1,64})(?:/_history/[A-Za-z0-9\-.]{1,64})?")


_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_TYPE_NAME = re.compile(r"[A-Z][A-Za-z]{1,63}")  # the shape of a resource type's name, checked before the type
_BAD_CHARACTER = re.compile(r"[\s\x00-\x1f\x7f]")
#: (English, Norwegian) reasons why a reference is malformed
Problem = tuple[str, str]


def reference_problem(
    reference: str, is_resource_type: Callable[[str], bool], *, contained: bool, conditional: bool
) -> Problem | None:
    """Why ``reference`` (a Reference.reference) is not a well-formed literal reference, or None when it is one: a
    local ``#id`` (``#`` alone only from a contained resource, for its container), an absolute URL (an http(s) URL
    with a host, a ``urn:uuid:``/``urn:oid:`` with a value), or ``[path/]Type/id[/_history/version]`` with a
    resource type and FHIR ids; ``Type?search`` only where conditional references are (transactions and
    batches). Whether it resolves is another question (see :class:`Index`)."""
    if _BAD_CHARACTER.search(reference):
        return "it contains white space or a control character", "den inneholder mellomrom eller et kontrolltegn"
    if reference.startswith("#"):
        if reference == "#" and not contained:
            return (
                "'#' refers to the container of a contained resource, and this is not one",
                "'#' viser til den som inneholder en inneholdt ressurs, og dette er ikke en slik",
            )
        return None
    if is_absolute_url(reference):
        return incomplete_url(reference)
    if conditional and "?" in reference:
        rtype = reference.partition("?")[0]
        if _TYPE_NAME.fullmatch(rtype) and is_resource_type(rtype):
            return None
        return f"{rtype[:70]!r} is not a resource type", f"{rtype[:70]!r} er ikke en ressurstype"
    parts = reference.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        version, parts = parts[-1], parts[:-2]
        if not _ID.fullmatch(version):
            return f"the version {version!r} is not a FHIR id", f"versjonen {version!r} er ikke en FHIR-id"
    if len(parts) < 2 or "" in parts:
        return "a relative reference is Type/id", "en relativ referanse er Type/id"
    if not (_TYPE_NAME.fullmatch(parts[-2]) and is_resource_type(parts[-2])):
        return f"{parts[-2][:70]!r} is not a resource type", f"{parts[-2][:70]!r} er ikke en ressurstype"
    if not _ID.fullmatch(parts[-1]):
        return f"{parts[-1][:70]!r} is not a FHIR id", f"{parts[-1][:70]!r} er ikke en FHIR-id"
    return None


def incomplete_url(url: str) -> Problem | None:
    """Why an absolute URL lacks what its scheme needs (an http(s) URL its host, a ``urn:uuid:`` or ``urn:oid:``
    its value), or None."""
    scheme, _, rest = url.partition(":")
    if scheme in ("http", "https"):
        try:
            host = urlsplit(url).netloc
        except ValueError:  # such as an unclosed [ of an IPv6 host
            return "the URL cannot be read", "URL-en kan ikke leses"
        if not host:
            return "the URL has no host", "URL-en har ingen vert"
    if scheme == "urn" and rest in ("uuid:", "oid:"):
        return f"the {rest[:-1]} is missing", f"{rest[:-1]} mangler"
    return None


def is_absolute_url(url: str) -> bool:
    """A URL with a scheme (``http:``, ``urn:``...) and something after it, without spaces."""
    scheme, colon, rest = url.partition(":")
    return bool(colon) and _SCHEME.fullmatch(scheme) is not None and bool(rest) and " " not in rest


@dataclass
class Index:
    """The resources of one Bundle (or Parameters) by fullUrl and by type and id."""

    kind: str = ""  # Bundle.type, "" for Parameters
    by_url: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    by_type_id: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # entries without a fullUrl
    full_url: dict[int, str] = field(default_factory=dict)  # id of an entry's resource -> its fullUrl
    members: set[int] = field(default_factory=set)  # ids of the entries' resources
    by_tail: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "Type/id" of RESTful fullUrls

    @classmethod
    def of_bundle(cls, bundle: dict[str, Any]) -> Index:
        """The index of a Bundle's entries."""
        index = cls(kind=str(bundle.get("type", "")))
        for entry in _listed(bundle.get("entry")):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict):
                continue
            index.members.add(id(resource))
            url = entry.get("fullUrl")
            if isinstance(url, str) and url:
                index.by_url.setdefault(url, []).append(resource)
                index.full_url[id(resource)] = url
                restful = _RESTFUL.fullmatch(url)
                if restful is not None:
                    index.by_tail.setdefault(restful.group(2), []).append(resource)
            else:
                index.add_local(resource)
        return index

    @classmethod
    def of_parameters(cls, parameters: dict[str, Any]) -> Index:
        """The index of the resources of a Parameters (at any depth of parts)."""
        index = cls()
        for resource in _parameter_resources(parameters.get("parameter")):
            index.add_local(resource)
        return index

    def add_local(self, resource: dict[str, Any]) -> None:
        """Index a resource without a fullUrl by its type and id."""
        rtype, rid = resource.get("resourceType"), resource.get("id")
        if isinstance(rtype, str) and isinstance(rid, str):
            self.by_type_id.setdefault(f"{rtype}/{rid}", []).append(resource)

    def locate(self, reference: str, source: Any) -> tuple[dict[str, Any] | None, Status]:
        """The resource ``reference`` (made in the entry whose resource is ``source``) points to, and how it went:
        found, missing (it should be here but is not), ambiguous, or elsewhere (an absolute URL not in the
        Bundle, or a relative one the Bundle does not say how to resolve)."""
        target, _, version = reference.partition("/_history/")
        if is_absolute_url(target):
            candidates = self.by_url.get(target, [])
            status: Status = "missing" if target.startswith("urn:") else "elsewhere"
        else:
            origin = self.full_url.get(id(source))
            restful = _RESTFUL.fullmatch(origin) if origin else None
            if restful is not None and isinstance(source.get("id"), str):
                candidates = self.by_url.get(f"{restful.group(1).rstrip('/')}/{target}", [])
            elif origin is not None and restful is None:  # a URN: RESTful fullUrls ending in the reference match,
                # and an entry whose fullUrl is the URN of the reference's id (Type/<uuid> and urn:uuid:<uuid>)
                uuid = target.rsplit("/", 1)[-1]
                candidates = self.by_tail.get(target, []) or self.by_url.get(f"urn:uuid:{uuid}", [])
            else:  # a RESTful fullUrl whose resource has no id: no base to read the reference against
                candidates = []
            candidates = candidates or self.by_type_id.get(target, [])
            # only a reference made by an entry's resource is looked for in the Bundle; the Bundle's own (its
            # signature) may point anywhere
            status = "missing" if self.kind and id(source) in self.members else "elsewhere"
        if version:
            candidates = [c for c in candidates if _version(c) == version]
        if len(candidates) == 1:
            return candidates[0], "found"
        if len(candidates) > 1:
            return None, "ambiguous"
        return None, status

    def resources(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """(fullUrl, resource) of the entries that have a fullUrl, in no particular order."""
        for url, found in self.by_url.items():
            for resource in found:
                yield url, resource


def _version(resource: dict[str, Any]) -> Any:
    meta = resource.get("meta")
    return meta.get("versionId") if isinstance(meta, dict) else None


def _parameter_resources(parameters: Any) -> Iterator[dict[str, Any]]:
    for parameter in _listed(parameters):
        if isinstance(parameter, dict):
            if isinstance(parameter.get("resource"), dict):
                yield parameter["resource"]
            yield from _parameter_resources(parameter.get("part"))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
