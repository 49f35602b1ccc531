"""A QuestionnaireResponse against its Questionnaire, when we hold that Questionnaire (a loaded definition, or a
resource contained in the response).

Every item of the response must answer an item of the Questionnaire at the same level: its ``linkId`` must be
among the linkIds of the Questionnaire's items there (the items of a group, or of the question an answer belongs
to). The issue is reported at the element that holds the unknown item, as the HL7 reference validator does.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapter.validate.state import Walk

Lookup = Callable[[str], Any]


def check_response(response: dict[str, Any], expr: str, walk: Walk, lookup: Lookup) -> None:
    """Add the issues of ``response`` (at ``expr``) to ``walk``; ``lookup`` finds a Questionnaire by canonical."""
    questionnaire = _questionnaire(response, lookup)
    if questionnaire is None:
        return
    _items(response.get("item"), questionnaire.get("item"), expr, walk)


def _questionnaire(response: dict[str, Any], lookup: Lookup) -> dict[str, Any] | None:
    url = response.get("questionnaire")
    if not isinstance(url, str):
        return None
    if url.startswith("#"):
        found = next(
            (c for c in _list(response.get("contained")) if isinstance(c, dict) and c.get("id") == url[1:]), None
        )
    else:
        found = lookup(url)
    if isinstance(found, dict) and found.get("resourceType") == "Questionnaire":
        return found
    return None


def _items(answered: Any, defined: Any, expr: str, walk: Walk) -> None:
    """Match the response items ``answered`` (below ``expr``) against the Questionnaire items ``defined``."""
    if not isinstance(answered, list):
        return
    # only string linkIds match: any other value is a type error the structure check reports
    by_link = {d["linkId"]: d for d in _list(defined) if isinstance(d, dict) and isinstance(d.get("linkId"), str)}
    for position, item in enumerate(answered):
        if not isinstance(item, dict):
            continue
        link_id = item.get("linkId")
        definition = by_link.get(link_id) if isinstance(link_id, str) else None
        if definition is None:
            if isinstance(link_id, str):
                walk.add("ADP-4060", "error", expr, link_id=link_id)
            continue
        item_expr = f"{expr}.item[{position}]"
        _items(item.get("item"), definition.get("item"), item_expr, walk)
        for index, answer in enumerate(_list(item.get("answer"))):
            if isinstance(answer, dict):
                _items(answer.get("item"), definition.get("item"), f"{item_expr}.answer[{index}]", walk)


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
