"""What every part of the profile walk shares: the engine's state and its definition lookups.

The walk is one class, :class:`adapter.validate.walker.Engine`, assembled from mixins by what they check (values,
references, extensions), because the checks call each other and share caches. This base declares what the
mixins may rely on, so that each can be type-checked on its own; the engine sets it all in its constructor.
"""

from __future__ import annotations

from adapter.errors import AdapterError
from adapter.parse.fhir_model import CORE_PREFIX, Node, Profile, TypeRef
from adapter.validate.invariants import Invariants
from adapter.validate.packages import Definitions
from adapter.validate.plan import ConstraintStep, ElementPlan, make_plan
from adapter.validate.primitives import Primitives
from adapter.validate.slicing import SliceMatcher
from adapter.validate.state import Policy
from adapter.validate.terminology import Terminology

ANY_RESOURCE = frozenset({"Resource", "DomainResource"})


class EngineBase:
    """The state of one engine (set by :class:`adapter.validate.walker.Engine`) and the lookups of definitions."""

    defs: Definitions
    policy: Policy
    terminology: Terminology
    primitives: Primitives
    invariants: Invariants
    slices: SliceMatcher
    #: target profiles per (targets, type) of a reference, see ReferenceRules._target_profiles
    _wanted: dict[tuple[tuple[str, ...], str], list[str]]
    #: id of a reference's type -> (the type, the resource types it may point to), see ReferenceRules._target_types
    _targets: dict[int, tuple[TypeRef, frozenset[str]]]
    #: constraint keys not evaluated under the engine's policy
    _skipped: frozenset[str]
    #: id of a snapshot element -> its plan (the plan holds the element, so the id stays its own)
    _plans: dict[int, ElementPlan]
    #: (id of an element, id of its type's root) -> (both, the root's invariants left), see :meth:`unseen`
    _unseen: dict[tuple[int, int], tuple[Node, Node, tuple[ConstraintStep, ...]]]

    def unseen(self, element: Node, root: Node) -> tuple[ConstraintStep, ...]:
        """The invariants of a type's ``root`` that the ``element`` a value of that type sits in does not have under
        the same key: the walk evaluates the element's first, at the same expression, so only these are left."""
        found = self._unseen.get((id(element), id(root)))
        if found is None:
            keys = {c.key for c, _ in self.plan(element).constraints}
            rest = tuple(s for s in self.plan(root).constraints if s[0].key not in keys)
            found = self._unseen[(id(element), id(root))] = (element, root, rest)
        return found[2]

    def plan(self, node: Node) -> ElementPlan:
        """What the walk needs of ``node``, worked out on first use (see :mod:`adapter.validate.plan`)."""
        found = self._plans.get(id(node))
        if found is None:
            found = self._plans[id(node)] = make_plan(node, self._skipped)
        return found

    def profile(self, url: str) -> Profile:
        """The compiled profile or type at ``url``; AdapterError when unknown or its snapshot cannot be made."""
        return self.defs.compiled(url)

    def maybe_profile(self, url: str) -> Profile | None:
        """Like :meth:`profile`, None when it cannot be had."""
        try:
            return self.profile(url)
        except AdapterError:
            return None

    def _is_resource_type(self, name: str) -> bool:
        profile = self.maybe_profile(CORE_PREFIX + name)
        return profile is not None and profile.kind == "resource"
