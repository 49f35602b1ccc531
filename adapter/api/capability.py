"""The CapabilityStatement: built from what the service really serves (types, interactions, search parameters,
operations, the messages of our MessageDefinitions and the profiles in profiles/resources)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from adapter import __version__
from adapter.records.bundle import MAX_ENTRIES
from adapter.records.conformance import capability_entries
from adapter.records.write import DELETE_INSTEAD
from adapter.search import INCLUDES, REVINCLUDES, SEARCH_PARAMS, SORTS
from adapter.service import Service

_INTERACTIONS = ("read", "vread", "search-type", "create", "update", "history-instance", "history-type")
#: What the server does at its base: ``POST [base]`` with a transaction or batch Bundle, ``GET [base]/_history``.
_SYSTEM_INTERACTIONS = (
    (
        "transaction",
        f"All or nothing in one store transaction (at most {MAX_ENTRIES} entries): POST (ifNoneExist), PUT "
        "(ifMatch), GET; DELETE refused; fullUrl references resolved; a failing entry's OperationOutcome answers it.",
    ),
    (
        "batch",
        f"Each entry on its own (at most {MAX_ENTRIES}); the batch-response gives each one's status and outcome.",
    ),
    ("history-system", "The versions of every served type the caller may read; _count, _offset, _since."),
)
_OPERATIONS = (
    ("validate", "http://hl7.org/fhir/OperationDefinition/Resource-validate"),
    ("process-message", "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"),
    ("convert", "http://hl7.org/fhir/OperationDefinition/Resource-convert"),  # here: KITH <-> FHIR
)


_REST_DOCUMENTATION = (
    "JSON and XML by _format (json, xml, or a FHIR media type; html: the pages) and Accept; a format this server "
    "cannot give is answered 406, a body it cannot read 415; so is a media type naming a fhirVersion other than 4.0 "
    "(4.0.1). Search by GET [type]?... or POST [type]/_search with a form body (application/x-www-form-urlencoded), "
    "the same search; the links of a POST _search carry no identifier (a privacy choice over R4's self link as the "
    "search performed): self is [type]/_search without its query, and the paging links name the patient by id "
    "when patient:identifier (subject:) names exactly one the caller may read, else are left out (ADP-5085). A read "
    "takes _summary (true, false) and _elements (tagged SUBSETTED), _format and _pretty, any other parameter is a "
    "400. A reference searched by this server's own absolute URL is the relative one. Create and update take Prefer: "
    "return=minimal|representation|OperationOutcome. A conditional create (If-None-Exist) searches as the caller: "
    "what it may not read is no match; one match is answered 200 with it, several 412. A read (and vread) is "
    "conditional: If-None-Match naming its version (or *), or If-Modified-Since not before its Last-Modified, is "
    "answered 304, after the same access check and audit as the read. An update with If-None-Match: * (or naming the "
    "current version) is refused 412; a PUT [type]/[id] never creates. A conditional update, PUT [type]?[search], "
    "searches as the caller: no match is a create with the server's id, one match an update of it (If-Match "
    "required, as for every update), several 412. History at three levels ([type]/[id]/_history, "
    "[type]/_history, /_history) gives only versions of what the caller may read, newest first, and pages with "
    "_count and _offset, from _since. Nothing is deleted: DELETE is refused (405, ADP-5048) with the status change "
    "to make instead. Searches are strict by default (an unknown parameter is a 400); Prefer: handling=lenient "
    "ignores one and names it in an OperationOutcome entry (search mode outcome), but only a name R4 does not define "
    "for the type: an R4 search parameter not served here (of the type, or of every resource: _tag, _security, "
    "_has, ..., whatever its case, modifier or chain), a result parameter that changes what is returned (_contained) "
    "and one that restricts to a patient or a record stay a 400 (ADP-5056, ADP-5023). "
    "Searches take _sort ("
    + ", ".join((*SORTS, *(f"-{key}" for key in SORTS)))
    + "), _summary (count: the total only; true: the elements R4 marks isSummary, tagged SUBSETTED; false), "
    "_elements (the named top-level elements of the matches and resourceType, id and meta, tagged SUBSETTED; not "
    "with _summary), _include and _revinclude (those listed per type; any other is a 400). An included resource is "
    "of the match's patient or of none and one the caller may read (a deny wins); each is audited as disclosed."
)

_EMERGENCY = {
    "name": "krise",
    "definition": "http://samhandling.no/fhir/OperationDefinition/Patient-krise",
    "documentation": "GET [base]/Patient/$krise?identifier=<fødselsnummer>&reason=<why>: the emergency read of the "
    "patient's current crisis-and-coping plan and its contacts (scope samhandling/emergency), audited with purpose "
    "of use ETREAT and the reason; the patient's deny blocks it.",
}


def capability_statement(service: Service, base: str) -> dict[str, Any]:
    """The CapabilityStatement of this server at ``base``."""
    profiles, messages = _published(service.settings.profiles_dir / "resources")
    rest_resources = [*_rest_resources(profiles), *capability_entries()]  # the records', then the conformance types
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-01",
        "publisher": "samhandling-adapter",
        "kind": "instance",
        "software": {"name": "samhandling-adapter", "version": __version__},
        "implementation": {"description": "samhandling-adapter: FHIR R4 and KITH messaging", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "application/fhir+xml"],
        "rest": [
            {
                "mode": "server",
                "documentation": _REST_DOCUMENTATION,
                "security": _security(service),
                "resource": rest_resources,
                "interaction": [{"code": code, "documentation": text} for code, text in _SYSTEM_INTERACTIONS],
                "operation": [{"name": name, "definition": url} for name, url in _OPERATIONS],
            }
        ],
        "messaging": _messaging(base, messages),
    }


def _rest_resources(profiles: dict[str, tuple[str, ...]]) -> list[dict[str, Any]]:
    """The resource types served, with their interactions, search parameters and operations."""
    rest_resources = [
        {
            "type": rtype,
            **({"supportedProfile": list(profiles[rtype])} if rtype in profiles else {}),
            "interaction": [{"code": code} for code in _INTERACTIONS],
            "versioning": "versioned-update",
            "readHistory": True,
            "updateCreate": False,  # ids are the server's: PUT never creates (nobody can take an id first)
            "conditionalCreate": True,  # If-None-Exist, searched as the caller (what it may not read is no match)
            "conditionalRead": "full-support",  # If-None-Match and If-Modified-Since
            "conditionalUpdate": True,  # PUT [type]?search: the caller's matches; none: a create, one: If-Match
            "conditionalDelete": "not-supported",
            "documentation": f"Not deleted (DELETE is refused, 405, ADP-5048): withdraw one with PUT, {rtype}."
            + DELETE_INSTEAD[rtype]
            + ".",
            "searchParam": [
                {"name": name, "type": "reference" if name in ("patient", "subject") else "token"} for name in params
            ]
            + [
                {"name": "_id", "type": "token"},
                {"name": "_lastUpdated", "type": "date"},
                {"name": "_profile", "type": "uri"},
            ],
            **({"searchInclude": list(INCLUDES[rtype])} if rtype in INCLUDES else {}),
            **({"searchRevInclude": list(REVINCLUDES[rtype])} if rtype in REVINCLUDES else {}),
            **({"operation": [_EMERGENCY]} if rtype == "Patient" else {}),
        }
        for rtype, params in SEARCH_PARAMS.items()
    ]
    rest_resources.append(
        {
            "type": "AuditEvent",
            "interaction": [{"code": "search-type"}],
            "searchParam": [{"name": "patient", "type": "reference"}, {"name": "date", "type": "date"}],
        }
    )
    return rest_resources


def _security(service: Service) -> dict[str, Any]:
    """How callers authenticate and what decides access (with SMART's oauth-uris when a token endpoint is known)."""
    from adapter.api.smart import token_endpoint  # beside this module; imported here to keep the two apart

    system = "http://terminology.hl7.org/CodeSystem/restful-security-service"
    token_url = token_endpoint(service)
    oauth_uris = {
        "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
        "extension": [{"url": "token", "valueUri": token_url}],
    }
    return {
        **({"extension": [oauth_uris]} if token_url else {}),
        "cors": bool(service.settings.cors_origin_list),
        "service": [{"coding": [{"system": system, "code": code}]} for code in ("OAuth", "SMART-on-FHIR")],
        "description": "OAuth2 JWT access tokens, as Bearer or DPoP-bound (RFC 9449: Authorization: DPoP with a "
        f"DPoP proof); issuer {service.settings.token_issuer}, audience {service.settings.token_audience}; how to "
        "get one: /.well-known/smart-configuration. Scopes "
        "samhandling/messages, plans.read, plans.write, validate, audit, admin, emergency. A resource "
        "goes to or is read by an organisation that is not party to it only under the patient's active "
        "Consent that permits it (actor, class, action, period) or a stated legal basis (MessageHeader."
        "reason, delingsgrunnlag#hpl-45); a deny wins. Updates need If-Match.",
    }


def _messaging(base: str, messages: tuple[str, ...]) -> list[dict[str, Any]]:
    """The messaging endpoint and the messages of our MessageDefinitions."""
    return [
        {
            "endpoint": [
                {
                    "protocol": {
                        "system": "http://terminology.hl7.org/CodeSystem/message-transport",
                        "code": "http",
                    },
                    "address": f"{base}/$process-message",
                }
            ],
            "documentation": "Duplicates (same sender and MessageHeader.id) get the original acknowledgement "
            "for as long as the store keeps the message (it deletes none). "
            "KITH messages (MsgHead 1.2) are taken at /kith/messages and answered with an AppRec.",
            "supportedMessage": [
                {"mode": mode, "definition": url} for url in messages for mode in ("receiver", "sender")
            ],
        }
    ]


@cache
def _published(resources_dir: Path) -> tuple[dict[str, tuple[str, ...]], tuple[str, ...]]:
    """Our profiles by resource type and our MessageDefinition urls, read once from the compiled resources."""
    profiles: dict[str, tuple[str, ...]] = {}
    messages: list[str] = []
    for path in sorted(resources_dir.glob("*.json")):
        resource = json.loads(path.read_text(encoding="utf-8"))
        kind = resource.get("resourceType")
        if kind == "StructureDefinition" and resource.get("kind") == "resource":
            if resource.get("derivation") == "constraint":
                rtype = str(resource.get("type"))
                profiles[rtype] = (*profiles.get(rtype, ()), str(resource["url"]))
        elif kind == "MessageDefinition":
            messages.append(str(resource["url"]))
    return profiles, tuple(messages)
