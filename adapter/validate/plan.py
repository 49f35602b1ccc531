"""What the walk needs of one snapshot element, worked out once per element rather than once per value.

The walk visits every JSON object against an element of a compiled snapshot (:class:`Node`); the answers that
depend on the element alone (which JSON keys it takes, including the ``_name`` keys of primitives; which of its
children must be there; which of its invariants are evaluated, and how) are the element's plan. Plans are made on
first use and kept by the engine for the life of its definitions, so a message of thousands of entries looks each
element up once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from adapter.parse.fhir_model import Constraint, Node, TypeRef
from adapter.validate.invariants import Env, native_check

#: (child, its type for this key, the child's position among the element's children, the key without ``_``)
KeyEntry = tuple[Node, TypeRef, int, str]
#: a constraint with its native check when it has one (see :func:`adapter.validate.invariants.native_check`)
ConstraintStep = tuple[Constraint, Callable[[Any, Env], bool | None] | None]


class ElementPlan(NamedTuple):
    """The per-element answers of the walk (``node`` is kept so that the plan's key, its id(), stays its own)."""

    node: Node
    keys: dict[str, KeyEntry]
    #: positions of the children whose absence is an issue (the child, or one of its slices, is required)
    required: frozenset[int]
    children: tuple[Node, ...]
    constraints: tuple[ConstraintStep, ...]


def make_plan(node: Node, skipped: frozenset[str]) -> ElementPlan:
    """The plan of ``node``; ``skipped``: the constraint keys the engine's policy does not evaluate."""
    children = tuple(node.children)
    position = {id(child): index for index, child in enumerate(children)}
    keys: dict[str, KeyEntry] = {}
    for key, (child, type_ref) in node.keys.items():
        if key[:1] != "_":  # a JSON key with "_" always names the primitive's own id and extensions
            keys[key] = (child, type_ref, position[id(child)], key)
    for key, (child, type_ref) in node.keys.items():
        if type_ref.primitive:  # its id and extensions: {"birthDate": "...", "_birthDate": {"extension": [...]}}
            keys["_" + key] = (child, type_ref, position[id(child)], key)
    required = frozenset(index for index, child in enumerate(children) if child.required)
    steps = tuple((c, native_check(c)) for c in node.constraints if c.key not in skipped)
    return ElementPlan(node, keys, required, children, steps)
