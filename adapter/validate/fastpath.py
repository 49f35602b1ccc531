"""A fast path for the common shape of FHIRPath invariants: compiled to Python closures over plain JSON.

Most invariants only walk member paths (from the focus or ``$this``) and test them with ``empty()``, ``exists()``,
``not()``, ``hasValue()``, ``count()``, ``where()``/``all()``/``exists(criteria)``, ``is`` a resource type and
``=``/``!=`` against literals, joined by ``and``/``or``/``xor``/``implies``. Those are compiled here from
fhirpathpy's parse tree; any other construct
makes :func:`compile_tree` return None, and fhirpathpy evaluates the expression as before. Semantics follow the
FHIRPath specification: collections are lists, the empty collection is ``[]``, and boolean operators use
three-valued logic.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Collection = list[Any]
Compiled = Callable[[Collection], Collection]


class Unsupported(Exception):
    """The expression uses something the fast path does not compile."""


def compile_tree(tree: dict[str, Any]) -> Compiled | None:
    """Closures for the parse tree of a whole expression, or None when it needs fhirpathpy."""
    try:
        return _expr(tree["children"][0])
    except (Unsupported, KeyError, IndexError):
        return None


def _expr(node: dict[str, Any]) -> Compiled:
    kind = node.get("type")
    children = node.get("children", [])
    if kind == "TermExpression":
        return _term(children[0])
    if kind == "InvocationExpression":
        return _invocation(_expr(children[0]), children[1])
    if kind in _LOGIC:
        return _logic(kind, node.get("terminalNodeText", [""])[0], _expr(children[0]), _expr(children[1]))
    if kind == "EqualityExpression":
        return _equality(node["terminalNodeText"][0], _expr(children[0]), _expr(children[1]))
    if kind in ("InequalityExpression", "AdditiveExpression"):
        return _arithmetic(node["terminalNodeText"][0], _expr(children[0]), _expr(children[1]))
    if kind == "TypeExpression" and node.get("terminalNodeText") == ["is"]:
        return _is_resource(_expr(children[0]), str(children[1].get("text", "")))
    raise Unsupported(kind)


def _term(node: dict[str, Any]) -> Compiled:
    kind = node.get("type")
    if kind == "ParenthesizedTerm":
        return _expr(node["children"][0])
    if kind == "LiteralTerm":
        value = _literal(node["children"][0])
        return lambda focus: [value]
    if kind == "InvocationTerm":
        invocation = node["children"][0]
        if invocation.get("type") == "MemberInvocation":
            return _member(_identifier(invocation))
        if invocation.get("type") == "FunctionInvocation":
            return _function(invocation, lambda focus: focus)
        if invocation.get("type") == "ThisInvocation":  # the focus: the item a criterion is evaluated on
            return lambda focus: focus
    raise Unsupported(kind)


def _invocation(left: Compiled, node: dict[str, Any]) -> Compiled:
    kind = node.get("type")
    if kind == "MemberInvocation":
        step = _member(_identifier(node))
        return lambda focus: step(left(focus))
    if kind == "FunctionInvocation":
        return _function(node, left)
    raise Unsupported(kind)


def _identifier(node: dict[str, Any]) -> str:
    return str(node["children"][0]["text"]).strip("`")


def _member(name: str) -> Compiled:
    if name[:1].isupper():
        raise Unsupported("type names")

    def step(focus: Collection) -> Collection:
        found: Collection = []
        for item in focus:
            if not isinstance(item, dict):
                continue
            if name in item:
                _extend(found, item[name])
                continue
            for key, value in item.items():  # a choice: value -> valueString, valueQuantity...
                if key.startswith(name) and key[len(name) : len(name) + 1].isupper():
                    _extend(found, value)
        return found

    return step


def _extend(found: Collection, value: Any) -> None:
    if isinstance(value, list):
        found.extend(v for v in value if v is not None)
    elif value is not None:
        found.append(value)


def _function(node: dict[str, Any], left: Compiled) -> Compiled:
    functn = node["children"][0]
    name = _identifier(functn)
    params = functn["children"][1]["children"] if len(functn["children"]) > 1 else []
    if not params:
        simple = _SIMPLE.get(name)
        if simple is None:
            raise Unsupported(name)
        return lambda focus: simple(left(focus))
    if name in _STRING_TESTS and len(params) == 1:
        argument = _expr(params[0])
        test = _STRING_TESTS[name]

        def string_test(focus: Collection) -> Collection:
            items, args = left(focus), argument(focus)
            if not items or not args:
                return []
            if len(items) != 1 or not isinstance(items[0], str) or not isinstance(args[0], str):
                raise _Fallback
            return [test(items[0], args[0])]

        return string_test
    if name == "is" and len(params) == 1:
        return _is_resource(left, str(params[0].get("text", "")))
    if name in ("where", "all", "exists") and len(params) == 1:
        criteria = _expr(params[0])
        if name == "where":
            return lambda focus: [i for i in left(focus) if criteria([i]) == [True]]
        if name == "all":
            return lambda focus: [all(criteria([i]) == [True] for i in left(focus))]
        return lambda focus: [any(criteria([i]) == [True] for i in left(focus))]
    raise Unsupported(name)


def _is_resource(left: Compiled, type_name: str) -> Compiled:
    """``is(T)`` and ``is T`` for a resource type ``T``, on a single resource."""
    if not type_name[:1].isupper() or "." in type_name:
        raise Unsupported("is() of a non-resource type")

    def is_type(focus: Collection) -> Collection:
        items = left(focus)
        if not items:
            return []
        if len(items) != 1 or not isinstance(items[0], dict) or "resourceType" not in items[0]:
            raise _Fallback
        return [items[0]["resourceType"] == type_name]

    return is_type


def _not(items: Collection) -> Collection:
    if len(items) == 1 and isinstance(items[0], bool):
        return [not items[0]]
    if not items:
        return []
    raise _Fallback


def _has_value(items: Collection) -> Collection:
    return [len(items) == 1 and not isinstance(items[0], dict | list)]


_SIMPLE: dict[str, Callable[[Collection], Collection]] = {
    "empty": lambda items: [not items],
    "exists": lambda items: [bool(items)],
    "not": _not,
    "hasValue": _has_value,
    "count": lambda items: [len(items)],
    "first": lambda items: items[:1],
    # txt-1/txt-2: true here, as in adapter.validate.invariants, because the XHTML rules are checked natively
    "htmlChecks": lambda items: [True],
}


class _Fallback(Exception):
    """Raised at run time when a value falls outside what the fast path handles (e.g. not() on a non-boolean)."""


_STRING_TESTS: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda text, part: part in text,
    "startsWith": lambda text, part: text.startswith(part),
    "endsWith": lambda text, part: text.endswith(part),
    "matches": lambda text, pattern: re.search(pattern, text) is not None,
}


def _arithmetic(operator: str, left: Compiled, right: Compiled) -> Compiled:
    """``<``, ``<=``, ``>``, ``>=`` and ``+`` on numbers (anything else goes to fhirpathpy)."""
    if operator not in ("<", "<=", ">", ">=", "+"):
        raise Unsupported(operator)

    def run(focus: Collection) -> Collection:
        a, b = left(focus), right(focus)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1 or not _number(a[0]) or not _number(b[0]):
            raise _Fallback
        x, y = a[0], b[0]
        if operator == "+":
            return [x + y]
        return [x < y if operator == "<" else x <= y if operator == "<=" else x > y if operator == ">" else x >= y]

    return run


_LOGIC = {"OrExpression", "AndExpression", "ImpliesExpression", "XorExpression"}


def _truth(items: Collection) -> bool | None:
    if not items:
        return None
    if len(items) == 1 and isinstance(items[0], bool):
        return items[0]
    if len(items) == 1:
        return True  # a single non-boolean value counts as true
    raise _Fallback


def _logic(kind: str, operator: str, left: Compiled, right: Compiled) -> Compiled:
    def run(focus: Collection) -> Collection:
        a, b = _truth(left(focus)), _truth(right(focus))
        if operator == "and":
            result = False if a is False or b is False else (None if a is None or b is None else True)
        elif operator == "or":
            result = True if a is True or b is True else (None if a is None or b is None else False)
        elif operator == "xor":
            result = None if a is None or b is None else a != b
        elif operator == "implies":
            result = True if a is False or b is True else (None if a is None or b is None else False)
        else:
            raise _Fallback
        return [] if result is None else [result]

    if kind == "OrExpression" and operator not in ("or", "xor"):
        raise Unsupported(operator)
    return run


def _equality(operator: str, left: Compiled, right: Compiled) -> Compiled:
    if operator not in ("=", "!="):
        raise Unsupported(operator)

    def run(focus: Collection) -> Collection:
        a, b = left(focus), right(focus)
        if not a or not b:
            return []
        if len(a) != 1 or len(b) != 1 or isinstance(a[0], dict | list) or isinstance(b[0], dict | list):
            raise _Fallback
        same = a[0] == b[0] and type(a[0]) is type(b[0]) or (_number(a[0]) and _number(b[0]) and a[0] == b[0])
        return [same if operator == "=" else not same]

    return run


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _literal(node: dict[str, Any]) -> Any:
    kind, text = node.get("type"), str(node.get("text", ""))
    if kind == "StringLiteral" and "\\" not in text:
        return text[1:-1]
    if kind == "BooleanLiteral":
        return text == "true"
    if kind == "NumberLiteral":
        return float(text) if "." in text else int(text)
    raise Unsupported(kind)


def run(compiled: Compiled, value: Any) -> bool | None:
    """Evaluate on one value: True/False, or None when the fast path cannot decide (use fhirpathpy)."""
    try:
        result = compiled([value] if value is not None else [])
    except _Fallback:
        return None
    return result != [False]
