"""Rules for Bundles beyond their invariants, as the HL7 reference validator applies them.

* ``entry.fullUrl`` must be an absolute URL, and every entry needs one except in transactions and batches (and
  their responses) and in the results of searches and histories (R4 ``Bundle.entry.fullUrl``: "results from
  operations might involve resources that are not identified"; R5 names searches and histories).
* A fullUrl that looks like a RESTful server URL (``[base/]Type/id[/_history/v]`` with a resource type) is the
  identity of the entry's resource: the resource must have an id, and the URL must end with ``/Type/id``.
* Links: a relation may occur once (``self`` in every Bundle; ``first``, ``previous``, ``next`` and ``last`` in
  searchsets and histories, where they belong), and the paging relations belong to searchsets and histories only.
  A relative ``stylesheet`` link of a document must point at a resource of the Bundle.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from adapter.validate.resolution import incomplete_url, is_absolute_url
from adapter.validate.state import Walk

# As in the reference validator: an optional http(s) base whose segments have no '-', then Type/id[/_history/v].
_RESTFUL = re.compile(
    r"(?:https?://(?:[A-Za-z0-9\\.:%$]*/)*)?([A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/[A-Za-z0-9\-.]{1,64})?"
)
_T = TypeVar("_T")
_PAGING = ("first", "previous", "next", "last")
_TRANSACTIONS = frozenset({"transaction", "transaction-response", "batch", "batch-response"})
_FULL_URL_OPTIONAL = frozenset({*_TRANSACTIONS, "searchset", "history"})
_NO_PAGING = frozenset({"document", "message", "collection", "subscription-notification", *_TRANSACTIONS})


def check_bundle(bundle: dict[str, Any], expr: str, walk: Walk, is_resource_type: Callable[[str], bool]) -> None:
    """Add the issues of ``bundle`` (at ``expr``) to ``walk``."""
    kind = _typed(bundle.get("type"), str, "")
    entries = _typed(bundle.get("entry"), list, [])
    links = _typed(bundle.get("link"), list, [])
    _links(links, kind, entries, expr, walk)
    for position, entry in enumerate(entries):
        if isinstance(entry, dict):
            _entry(entry, kind, f"{expr}.entry[{position}]", walk, is_resource_type)


def _typed(value: Any, kind: type[_T], default: _T) -> _T:
    return value if isinstance(value, kind) else default


def _entry(entry: dict[str, Any], kind: str, expr: str, walk: Walk, is_resource_type: Callable[[str], bool]) -> None:
    full_url = entry.get("fullUrl")
    resource = entry.get("resource") if isinstance(entry.get("resource"), dict) else None
    if not isinstance(full_url, str) or not full_url:
        if kind not in _FULL_URL_OPTIONAL:
            walk.add("ADP-4050", "error", expr)
        return
    if not is_absolute_url(full_url) or incomplete_url(full_url) is not None:
        walk.add("ADP-4051", "error", expr, url=full_url)
        return
    rtype = resource.get("resourceType") if resource else None
    match = _RESTFUL.fullmatch(full_url)
    if not isinstance(rtype, str) or match is None or not is_resource_type(match.group(1)):
        return
    rid = resource.get("id") if resource else None
    if not isinstance(rid, str):
        walk.add("ADP-4052", "error", expr, url=full_url)
    elif not full_url.endswith(f"/{rtype}/{rid}"):
        walk.add("ADP-4053", "error", expr, url=full_url, expected=f"/{rtype}/{rid}")


def _links(links: list[Any], kind: str, entries: list[Any], expr: str, walk: Walk) -> None:
    seen: set[str] = set()
    searching = kind in ("searchset", "history")
    for position, link in enumerate(links):
        relation = link.get("relation") if isinstance(link, dict) else None
        if not isinstance(relation, str):
            continue
        where = f"{expr}.link[{position}]"
        if relation in _PAGING and kind in _NO_PAGING:
            walk.add("ADP-4054", "error", f"{where}.relation", relation=relation, type=kind)
        elif relation in seen and (relation == "self" or (searching and relation in _PAGING)):
            walk.add("ADP-4055", "error", where if searching else f"{where}.relation", relation=relation)
        seen.add(relation)
        url = link.get("url")
        if kind == "document" and relation == "stylesheet" and isinstance(url, str) and not is_absolute_url(url):
            found = any(
                isinstance(e, dict)
                and isinstance(e.get("resource"), dict)
                and f"{e['resource'].get('resourceType')}/{e['resource'].get('id')}" == url
                for e in entries
            )
            if not found:
                walk.add("ADP-4056", "error", f"{where}.url", url=url)
