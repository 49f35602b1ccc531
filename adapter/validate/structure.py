"""Structure check with the fhir.resources R4B models (R4 and R4B agree on the resources we use).

This catches unknown elements, wrong JSON types and malformed primitives. pydantic's error locations become
FHIRPath expressions with indices (``('activity', 0, 'detail', 'kind')`` -> ``CarePlan.activity[0].detail.kind``).
"""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError

from adapter.errors import Issue


def check_structure(resource: dict[str, Any]) -> list[Issue]:
    """Issues for everything the R4B model of the resource's type rejects."""
    rtype = resource.get("resourceType")
    if not isinstance(rtype, str):
        return [Issue("ADP-1002", "fatal", None, args={"path": "resourceType", "detail": "missing"})]
    try:
        model = get_fhir_model_class(rtype)
    except (KeyError, ValueError):
        return [
            Issue(
                "ADP-1002", "fatal", "resourceType", args={"path": "resourceType", "detail": f"unknown type {rtype!r}"}
            )
        ]
    try:
        model.model_validate(resource)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            if err["type"] == "missing":
                continue  # a missing required element is a cardinality issue, reported by the profile rules
            path = _expression(rtype, err["loc"])
            if err["type"] == "extra_forbidden":
                issues.append(Issue("ADP-1003", "error", path, args={"path": path}))
            else:
                issues.append(Issue("ADP-1002", "error", path, args={"path": path, "detail": err["msg"]}))
        return issues
    return []


def _expression(root: str, loc: tuple[Any, ...]) -> str:
    text = root
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not str(part).startswith("function-"):
            text += f".{part}"
    return text
