"""Benchmark inputs: the crisis-plan CarePlan, a broken copy of it, and message bundles grown to N entries.

A bundle of N entries keeps the example's MessageHeader first and fills the other N - 1 places by cycling through
the example's content entries (CarePlan, Patient, Goal, CareTeam, ...). Cycle 0 is the original entries; cycle k
is copies with ids ``<id>-k<k>`` and matching fullUrls, whose references point at the same cycle's copies where
those are in the bundle and at the originals otherwise. So every N has about the same mix of resource types (the
time per entry compares like with like) and no id or fullUrl repeats. Below the example's own size (14 entries) the
bundle is a prefix of the example, and references to the entries left out point outside the bundle: that count is
reported with each input.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Resource = dict[str, Any]

CAREPLAN_FILE = "CarePlan-krise-og-mestringsplan-ola.json"
BUNDLE_FILE = "Bundle-melding-kriseplan-ola.json"


@dataclass(frozen=True)
class Input:
    """One benchmark input: what it is, the JSON, how many bundle entries (1 for a single resource)."""

    key: str
    label: str
    resource: Resource
    entries: int
    outside_references: int = 0


def load_json(path: Path) -> Resource:
    """Read one example file."""
    with path.open(encoding="utf-8") as handle:
        data = json.load(handle)
    if not isinstance(data, dict):
        raise ValueError(f"{path} is not a JSON object")
    return data


def single_careplan(examples: Path) -> Input:
    """The crisis-plan CarePlan example as it is."""
    return Input("careplan", "CarePlan krise-og-mestringsplan", load_json(examples / CAREPLAN_FILE), 1)


def broken_careplan(careplan: Resource) -> Resource:
    """A copy that breaks the profile only: the category slice ``plantype`` (min 1) is gone; core CarePlan allows it."""
    broken = copy.deepcopy(careplan)
    broken["category"] = [{"text": "annen plan"}]
    return broken


def message_bundle(examples: Path, entries: int) -> Input:
    """The crisis-plan message bundle grown (or cut) to ``entries`` entries."""
    bundle, outside = grow_bundle(load_json(examples / BUNDLE_FILE), entries)
    return Input(f"bundle-{entries}", f"message Bundle, {entries} entries", bundle, entries, outside)


def grow_bundle(bundle: Resource, entries: int) -> tuple[Resource, int]:
    """``bundle`` with exactly ``entries`` entries, and how many references point outside it."""
    if entries < 1:
        raise ValueError("a message bundle needs at least its MessageHeader")
    header, *content = bundle["entry"]
    if not content:
        raise ValueError("the example bundle has no entries besides the MessageHeader")
    plan = [(slot // len(content), content[slot % len(content)]) for slot in range(entries - 1)]
    present = {(cycle, _key(entry["resource"])) for cycle, entry in plan}
    grown = {key: value for key, value in bundle.items() if key != "entry"}
    grown["entry"] = [copy.deepcopy(header)] + [_copy_entry(entry, cycle, present) for cycle, entry in plan]
    in_bundle = {_key(entry["resource"]) for entry in grown["entry"]}
    outside = sum(1 for ref in _references(grown) if _relative(ref) not in in_bundle)
    return grown, outside


def _key(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


def _copy_entry(entry: Resource, cycle: int, present: set[tuple[int, str]]) -> Resource:
    if cycle == 0:
        return copy.deepcopy(entry)
    new = copy.deepcopy(entry)
    resource = new["resource"]
    old_key = _key(resource)
    resource["id"] = f"{resource['id']}-k{cycle}"
    base = entry["fullUrl"][: -len(old_key)] if entry["fullUrl"].endswith(old_key) else ""
    new["fullUrl"] = base + _key(resource)
    _rewrite_references(resource, cycle, present)
    return new


def _rewrite_references(node: Any, cycle: int, present: set[tuple[int, str]]) -> None:
    if isinstance(node, dict):
        for field, value in node.items():
            if field == "reference" and isinstance(value, str):
                target = _relative(value)
                if (cycle, target) in present:
                    node[field] = value[: len(value) - len(target)] + f"{target}-k{cycle}"
            else:
                _rewrite_references(value, cycle, present)
    elif isinstance(node, list):
        for item in node:
            _rewrite_references(item, cycle, present)


def _relative(reference: str) -> str:
    """``Type/id`` of a relative or absolute literal reference."""
    parts = reference.split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else reference


def _references(node: Any) -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for field, value in node.items():
            if field == "reference" and isinstance(value, str):
                found.append(value)
            else:
                found.extend(_references(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_references(item))
    return found
