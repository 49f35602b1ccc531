"""Questionnaires, and a QuestionnaireResponse against its Questionnaire when we hold that Questionnaire (a loaded
definition, or a resource contained in the response).

* Every item of the response must answer an item of the Questionnaire at the same level: its ``linkId`` must be
  among the linkIds of the Questionnaire's items there (the items of a group, or of the question an answer belongs
  to). The issue is reported at the element that holds the unknown item, as the HL7 reference validator does.
* ``enableWhen`` is evaluated (``enableBehavior`` any/all; the operators exists, =, !=, >, <, >=, <=), as are the
  enableWhen expressions (the SDC ``enableWhenExpression`` extension, and the Kanta PHR one the reference validator
  also reads). An item that is not enabled must have no answer.
* In a completed response, an enabled required item must be there, and a required question must have an answer.
  The issue is reported at the element that should hold the item.
* In a Questionnaire, an enableWhen may not depend on a question inside the item itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from adapter.validate.state import Walk

Lookup = Callable[[str], Any]
#: Evaluates a FHIRPath expression on the response: its result, or a text when it cannot be evaluated.
Evaluate = Callable[[str], "list[Any] | str"]
EXPRESSION_EXTENSIONS = (
    "http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-enableWhenExpression",
    "http://phr.kanta.fi/StructureDefinition/fiphr-ext-questionnaire-enablewhen",
)
_ORDERED = {">": lambda a, b: a > b, "<": lambda a, b: a < b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b}


def check_response(response: dict[str, Any], expr: str, walk: Walk, lookup: Lookup, evaluate: Evaluate) -> None:
    """Add the issues of ``response`` (at ``expr``) to ``walk``; ``lookup`` finds a Questionnaire by canonical."""
    questionnaire = _questionnaire(response, lookup)
    if questionnaire is None:
        return
    completed = response.get("status") == "completed"
    _Response(walk, evaluate, completed).items(response.get("item"), questionnaire.get("item"), expr, [])


def check_questionnaire(questionnaire: dict[str, Any], expr: str, walk: Walk) -> None:
    """Add the issues of ``questionnaire`` (at ``expr``) to ``walk``: enableWhen on a question of the item itself."""
    for item, item_expr in _walk_items(questionnaire.get("item"), expr):
        inner = {i.get("linkId") for i, _ in _walk_items(item.get("item"), item_expr)}
        for condition in _list(item.get("enableWhen")):
            question = condition.get("question") if isinstance(condition, dict) else None
            if isinstance(question, str) and question in inner:
                walk.add("ADP-4062", "error", item_expr, link_id=item.get("linkId"), question=question)


def _walk_items(items: Any, expr: str) -> Iterator[tuple[dict[str, Any], str]]:
    for position, item in enumerate(_list(items)):
        if isinstance(item, dict):
            item_expr = f"{expr}.item[{position}]"
            yield item, item_expr
            yield from _walk_items(item.get("item"), item_expr)


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


class _Response:
    """One response's walk. ``scopes`` are the lists of response items from the top down to the current level,
    where the answers an enableWhen asks about are looked for, nearest first."""

    def __init__(self, walk: Walk, evaluate: Evaluate, completed: bool) -> None:
        self.walk = walk
        self.evaluate = evaluate
        self.completed = completed

    def items(
        self, answered: Any, defined: Any, expr: str, scopes: list[list[Any]], check_required: bool = True
    ) -> None:
        """Match the response items ``answered`` (below ``expr``) against the Questionnaire items ``defined``
        (``check_required``: whether required items must be among them)."""
        answered = _list(answered)
        definitions = [d for d in _list(defined) if isinstance(d, dict)]
        # only string linkIds match: any other value is a type error the structure check reports
        by_link = {d["linkId"]: d for d in definitions if isinstance(d.get("linkId"), str)}
        scopes = [*scopes, answered]
        for position, item in enumerate(answered):
            if not isinstance(item, dict):
                continue
            link_id = item.get("linkId")
            definition = by_link.get(link_id) if isinstance(link_id, str) else None
            if definition is None:
                if isinstance(link_id, str):
                    self.walk.add("ADP-4060", "error", expr, link_id=link_id)
                continue
            item_expr = f"{expr}.item[{position}]"
            if _list(item.get("answer")) and not self.enabled(definition, scopes):
                self.walk.add("ADP-4061", "error", item_expr, link_id=link_id)
            # the items of a group sit in item.item, those below a question in each answer's item
            group = definition.get("type") == "group"
            self.items(item.get("item"), definition.get("item"), item_expr, scopes, group)
            for index, answer in enumerate(_list(item.get("answer"))):
                if isinstance(answer, dict):
                    self.items(answer.get("item"), definition.get("item"), f"{item_expr}.answer[{index}]", scopes)
        if self.completed and check_required:
            for definition in definitions:
                if definition.get("required") is True and self.enabled(definition, scopes):
                    self.required(definition, answered, expr)

    def required(self, definition: dict[str, Any], answered: list[Any], expr: str) -> None:
        """A required item (of a completed response) must be there; a required question must have an answer."""
        link_id = definition.get("linkId")
        found = [i for i in answered if isinstance(i, dict) and i.get("linkId") == link_id]
        if definition.get("type") not in ("group", "display"):
            found = [i for i in found if _list(i.get("answer"))]
        if not found and definition.get("type") != "display":
            self.walk.add("ADP-4063", "error", expr, link_id=link_id)

    def enabled(self, definition: dict[str, Any], scopes: list[list[Any]]) -> bool:
        """Is the item enabled, by its enableWhen conditions or its enableWhen expression?"""
        for extension in _list(definition.get("extension")):
            if isinstance(extension, dict) and extension.get("url") in EXPRESSION_EXTENSIONS:
                expression = extension.get("valueString") or (extension.get("valueExpression") or {}).get("expression")
                if isinstance(expression, str):
                    result = self.evaluate(expression)
                    return isinstance(result, str) or result == [True]  # not evaluable: do not judge
        conditions = [c for c in _list(definition.get("enableWhen")) if isinstance(c, dict)]
        if not conditions:
            return True
        results = (self.condition(c, scopes) for c in conditions)
        return any(results) if definition.get("enableBehavior") == "any" else all(results)

    def condition(self, condition: dict[str, Any], scopes: list[list[Any]]) -> bool:
        answers = _answers(condition.get("question"), scopes)
        operator = condition.get("operator")
        wanted = next((v for k, v in condition.items() if k.startswith("answer")), None)
        if operator == "exists":
            return bool(answers) == (wanted is True)
        if not answers:
            return False
        if operator == "=":
            return any(_equal(a, wanted) for a in answers)
        if operator == "!=":
            return not any(_equal(a, wanted) for a in answers)
        compare = _ORDERED.get(str(operator))
        if compare is None:
            return True  # an unknown operator is the Questionnaire's problem, reported by its binding
        for answer in answers:
            left, right = _comparable(answer), _comparable(wanted)
            if left is not None and right is not None and type(left) is type(right) and compare(left, right):
                return True
        return False


def _answers(question: Any, scopes: list[list[Any]]) -> list[Any]:
    """The answer values of the nearest response item with linkId ``question`` (innermost level first)."""
    for scope in reversed(scopes):
        found = list(_find(question, scope))
        if found:
            return [v for item in found for a in _list(item.get("answer")) for v in _values(a)]
    return []


def _find(link_id: Any, items: list[Any]) -> Iterator[dict[str, Any]]:
    for item in items:
        if not isinstance(item, dict):
            continue
        if item.get("linkId") == link_id:
            yield item
        yield from _find(link_id, _list(item.get("item")))
        for answer in _list(item.get("answer")):
            if isinstance(answer, dict):
                yield from _find(link_id, _list(answer.get("item")))


def _values(answer: Any) -> list[Any]:
    if not isinstance(answer, dict):
        return []
    return [v for k, v in answer.items() if k.startswith("value")]


def _equal(answer: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict) and isinstance(answer, dict):
        if "code" in wanted or "system" in wanted:  # Coding: system and code
            return bool(answer.get("system") == wanted.get("system") and answer.get("code") == wanted.get("code"))
        if "value" in wanted:  # Quantity
            return bool(answer.get("value") == wanted.get("value") and answer.get("code") == wanted.get("code"))
        if "reference" in wanted:
            return bool(answer.get("reference") == wanted.get("reference"))
    return bool(answer == wanted)


def _comparable(value: Any) -> Any:
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return value if isinstance(value, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
