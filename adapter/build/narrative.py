"""The examples carry narrative: each example resource that SUSHI writes without ``text`` gets the generated
narrative of :mod:`adapter.narrative` (the one renderer), as the service gives every resource it stores, sends or
returns. A step of ``samhandling profiles build``, so the committed examples stay equal to a fresh build.

References resolve within a Bundle first, then among all examples (``Type/id``), so a plan names its patient.
The output is SUSHI's own format (two-space indent, UTF-8, a final newline): deterministic.
"""

from __future__ import annotations

import json
from typing import Any

from adapter.narrative import bundle_with_narrative, with_narrative


def _index(examples: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Every example resource (those in Bundles too) by ``Type/id``."""
    found: dict[str, dict[str, Any]] = {}
    for resource in examples.values():
        inner = [e.get("resource") for e in resource.get("entry", []) if isinstance(e, dict)]
        for item in [resource, *inner]:
            if isinstance(item, dict) and isinstance(item.get("id"), str):
                found.setdefault(f"{item.get('resourceType')}/{item['id']}", item)
    return found


def with_example_narrative(files: dict[str, str]) -> dict[str, str]:
    """The example files (name -> JSON text) with generated narrative on every resource without ``text``."""
    examples = {name: json.loads(text) for name, text in files.items()}
    index = _index(examples)

    def resolve(reference: str) -> dict[str, Any] | None:
        return index.get("/".join(reference.rsplit("/", 2)[-2:]))

    out: dict[str, str] = {}
    for name, resource in examples.items():
        if resource.get("resourceType") == "Bundle":
            resource = bundle_with_narrative(resource, resolve)
        else:
            resource = with_narrative(resource, resolve)
        out[name] = json.dumps(resource, indent=2, ensure_ascii=False) + "\n"
    return out
