"""References inside a Bundle resolved before it is validated, so any shape may come and none may raise."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolver = Callable[[str], dict[str, Any] | None]


def bundle_resolver(bundle: dict[str, Any]) -> Resolver:
    """Resolve a reference inside a Bundle: by an entry's fullUrl, or by ``Type/id`` of its resource."""
    found: dict[str, dict[str, Any]] = {}
    entries = bundle.get("entry")
    for entry in entries if isinstance(entries, list) else []:  # not yet validated: any shape may come
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            continue
        if entry.get("fullUrl"):
            found[str(entry["fullUrl"])] = resource
        if resource.get("id"):
            found[f"{resource.get('resourceType')}/{resource['id']}"] = resource
    return found.get
