"""Narrative: the readable Norwegian (bokmål) text of every resource, as FHIR XHTML and as plain text.

One renderer: per resource type a small function builds a :class:`~adapter.narrative.doc.Doc` (a title,
label/value rows, paragraphs, lists, sections) from the resource, using ``resolve`` (``reference -> resource or
None``: within a Bundle, or the store) for the names of what it refers to. The same Doc gives the Narrative
``div`` of the resource (:func:`with_narrative`, ``text.status = generated``) and the plain text of an outgoing
Dialogmelding (:func:`render_text`). A resource that already has ``text`` keeps it: a sender's narrative is
theirs. Beside the flow: this package imports nothing of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.narrative import clinical, people, plans, records, service
from adapter.narrative.doc import Doc, to_text, to_xhtml
from adapter.narrative.values import Resolver

__all__ = [
    "Resolver",
    "bundle_resolver",
    "bundle_with_narrative",
    "has_text",
    "render",
    "render_div",
    "render_text",
    "stale",
    "with_narrative",
]

Renderer = Callable[[dict[str, Any], Resolver | None], Doc]

RENDERERS: dict[str, Renderer] = {
    "CarePlan": plans.careplan,
    "Goal": plans.goal,
    "CareTeam": plans.careteam,
    "Patient": people.patient,
    "Practitioner": people.practitioner,
    "PractitionerRole": people.practitioner_role,
    "RelatedPerson": people.related_person,
    "Organization": people.organization,
    "Location": people.location,
    "EpisodeOfCare": records.episode,
    "ServiceRequest": records.service_request,
    "Task": records.task,
    "Consent": records.consent,
    "Encounter": records.encounter,
    "DocumentReference": records.document,
    "Composition": records.composition,
    "Communication": records.communication,
    "CommunicationRequest": records.communication,
    "MessageHeader": service.message_header,
    "OperationOutcome": service.operation_outcome,
    "AuditEvent": service.audit_event,
    "Provenance": service.provenance,
    "Subscription": service.subscription,
    **{rtype: clinical.clinical for rtype in clinical.KIND},
}
#: Resources that are no DomainResource, and so have no narrative.
NO_NARRATIVE = frozenset({"Bundle", "Binary", "Parameters"})


def render(resource: dict[str, Any], resolve: Resolver | None = None) -> Doc:
    """The narrative structure of ``resource`` (the generic rendering for a type without its own)."""
    renderer = RENDERERS.get(str(resource.get("resourceType")), service.generic)
    return renderer(resource, resolve)


def render_text(resource: dict[str, Any], resolve: Resolver | None = None) -> str:
    """The plain text (bokmål, ends with a newline) of ``resource``."""
    return to_text(render(resource, resolve))


def render_div(resource: dict[str, Any], resolve: Resolver | None = None) -> str:
    """The Narrative ``div`` (FHIR XHTML) of ``resource``."""
    return to_xhtml(render(resource, resolve))


def has_text(resource: dict[str, Any]) -> bool:
    """Whether ``resource`` needs no generated narrative: it has its own ``text``, or it is no DomainResource."""
    return "text" in resource or resource.get("resourceType") in NO_NARRATIVE


def with_narrative(
    resource: dict[str, Any], resolve: Resolver | None = None, previous: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``resource`` with a generated narrative (a copy, ``text`` placed after ``meta`` as FHIR orders it), or the
    resource itself when it has text already (a sender's own is kept) or cannot have any. A generated text that
    is the one of the ``previous`` version (a client sent back what it read, changed) is made afresh."""
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        return resource
    if stale(resource, previous):
        resource = {k: v for k, v in resource.items() if k != "text"}
    if has_text(resource):
        return resource
    text = {"status": "generated", "div": render_div(resource, resolve)}
    out: dict[str, Any] = {}
    placed = False
    for key, value in resource.items():
        if not placed and key not in ("resourceType", "id", "meta", "implicitRules", "language"):
            out["text"], placed = text, True
        out[key] = value
    if not placed:
        out["text"] = text
    return out


def stale(resource: dict[str, Any], previous: dict[str, Any] | None) -> bool:
    """Whether ``resource`` carries the generated narrative of its ``previous`` version unchanged (so it no longer
    says what the resource says)."""
    text = resource.get("text")
    return (
        previous is not None
        and isinstance(text, dict)
        and text.get("status") == "generated"
        and text == previous.get("text")
        and {k: v for k, v in resource.items() if k not in ("meta", "text")}
        != {k: v for k, v in previous.items() if k not in ("meta", "text")}
    )


def bundle_resolver(bundle: dict[str, Any], fallback: Resolver | None = None) -> Resolver:
    """References within ``bundle``: by fullUrl, by ``Type/id`` and by a fullUrl's ``Type/id`` tail; else
    ``fallback`` (the store)."""
    index: dict[str, dict[str, Any]] = {}
    for entry in bundle.get("entry", []) if isinstance(bundle.get("entry"), list) else []:
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        url = entry.get("fullUrl")
        if isinstance(url, str):
            index[url] = resource
            index.setdefault("/".join(url.rsplit("/", 2)[-2:]), resource)
        if isinstance(resource.get("id"), str):
            index.setdefault(f"{resource.get('resourceType')}/{resource['id']}", resource)

    def resolve(reference: str) -> dict[str, Any] | None:
        found = index.get(reference)
        if found is None and fallback is not None:
            return fallback(reference)
        return found

    return resolve


def bundle_with_narrative(bundle: dict[str, Any], fallback: Resolver | None = None) -> dict[str, Any]:
    """A copy of ``bundle`` whose every entry's resource has a narrative (a sender's own is kept); the Bundle
    itself when every one has. References resolve within the Bundle, else through ``fallback``."""
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return bundle
    missing = {
        id(e)
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("resource"), dict) and not has_text(e["resource"])
    }
    if not missing:
        return bundle
    resolve = bundle_resolver(bundle, fallback)
    out = []
    for entry in entries:
        out.append({**entry, "resource": with_narrative(entry["resource"], resolve)} if id(entry) in missing else entry)
    return {**bundle, "entry": out}
