"""What every part of the profile walk shares: the engine's state and its definition lookups.

The walk is one class, :class:`adapter.validate.walker.Engine`, assembled from mixins by what they check (values,
references, extensions), because the checks call each other and share caches. This base declares what the
mixins may rely on, so that each can be type-checked on its own; the engine sets it all in its constructor.
"""

from __future__ import annotations

from adapter.errors import AdapterError
from adapter.parse.fhir_model import CORE_PREFIX, Profile
from adapter.validate.invariants import Invariants
from adapter.validate.packages import Definitions
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
    #: constraint keys not evaluated under the engine's policy
    _skipped: frozenset[str]

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
