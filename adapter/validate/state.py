"""The state of a validation walk, shared by the walker and the slice matcher."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from adapter.errors import Issue, Severity
from adapter.parse.fhir_model import Node, Profile
from adapter.validate.invariants import Env
from adapter.validate.resolution import Index


@dataclass(frozen=True)
class Policy:
    """Choices where validators may differ, with our defaults (the HL7 reference validator's equivalents in
    brackets).

    * ``allow_examples``: an extension at an example URL (example.org, acme.com) may be unknown, a warning; when
      False it is an error like any other unknown extension [``examples``, default true].
    * ``trust_reference_types``: the type in a reference URL that does not resolve (``Group/1``) is checked against
      the allowed targets; when False only resolved targets are checked [``assumeValidRestReferences``, default
      false there].
    * ``missing_urn_is_error``: a ``urn:uuid:``/``urn:oid:`` reference that is not in its Bundle is an error (a URN
      can resolve nowhere else); when False a warning [the reference validator warns].
    * ``references_must_resolve``: a relative or local reference that does not resolve (to a contained resource, or
      a resource of the Bundle or Parameters it is in) is an error; absolute URLs may point at a server and are not
      judged. When False only a ``urn:`` reference inside a Bundle must resolve [``validateReference``
      CHECK_EXISTS / CHECK_EXISTS_AND_TYPE, default off].
    * ``bundle_profiles``: (rule, profile) pairs: the entries of a Bundle that a rule picks must also meet the
      profile. A rule is a resource type (every entry of that type), an entry position (``2``, from 0), or both
      (``Patient:0``: the entry at that position, when it is of that type) [the ``-bundle`` parameter].
    * ``validate_contained``: contained resources are validated (as resources, with the dom-2..dom-5 rules about
      them); when False they are passed over [``validateContains`` IGNORE].
    * ``malformed_reference_is_error``: a Reference.reference that is not a well-formed literal reference (``#id``,
      an absolute URL with what its scheme needs, ``Type/id[/_history/version]`` with a resource type and ids,
      ``Type?search`` in transactions and batches) is an error; when False a warning [the reference validator warns
      that "the syntax of the reference looks incorrect"].
    * ``display_issues_are_warnings``: a display that is not the code's display or designation is a warning; when
      False an error [``-display-issues-are-warnings``, default off].
    * ``no_html_in_markdown``: what looks like an HTML tag in a markdown value is an error; when False a warning
      (a presentation layer should escape it) [``noHtmlInMarkdown``, default false].
    """

    allow_examples: bool = True
    trust_reference_types: bool = True
    no_html_in_markdown: bool = False
    references_must_resolve: bool = False
    bundle_profiles: tuple[tuple[str, str], ...] = ()
    validate_contained: bool = True
    missing_urn_is_error: bool = True
    malformed_reference_is_error: bool = True
    display_issues_are_warnings: bool = False


DEFAULT_POLICY = Policy()


@dataclass
class Walk:
    """The state of one ``validate`` call."""

    issues: list[Issue] = field(default_factory=list)
    evaluated: set[tuple[str, str]] = field(default_factory=set)  # (expression, constraint key)
    index: Index | None = None  # the resources of the Bundle or Parameters being validated, for references
    #: (id of a resource, profile url) -> does it meet the profile; shared with the quiet walks of one validation,
    #: set to True while the check runs, so that resources that point at each other end the recursion
    meets: dict[tuple[int, str], bool] = field(default_factory=dict)
    #: id of a Coding -> more displays it may show (given by the expansion of the value set it is bound to)
    displays: dict[int, frozenset[str]] = field(default_factory=dict)
    #: id of an entry's resource -> the profiles the policy's bundle rules add for it
    entry_profiles: dict[int, tuple[str, ...]] = field(default_factory=dict)
    #: id of a resource -> (its expression, the element ids seen in it)
    element_ids: dict[int, tuple[str, set[str]]] = field(default_factory=dict)
    #: id of a resource -> (internal links of its narratives as (expression, target), the anchors they offer)
    narrative_links: dict[int, tuple[list[tuple[str, str]], set[str]]] = field(default_factory=dict)

    def add(self, code: str, severity: Severity, expr: str | None, /, **args: Any) -> None:
        """Record one issue."""
        self.issues.append(Issue(code, severity, expr, args=args))


class Host(NamedTuple):
    """Where a value sits, for extension contexts: its paths (from the resource, and within its type), whether it
    is a resource, the url of the extension it is part of, and the element itself (the JSON object that holds
    the extension, for FHIRPath contexts and context invariants). A named tuple: one is made for every object
    walked, and a tuple is made several times faster than a frozen dataclass."""

    paths: tuple[str, ...]  # path from the resource, path within the type, the element's path and type
    resource: bool = False
    extension_url: str | None = None
    value: Any = None


class Pass(NamedTuple):
    """One walk of a resource against one profile (a named tuple, as :class:`Host` is: one is made for every
    value whose type the walk continues in)."""

    walk: Walk
    profile: Profile
    env: Env
    structural: bool


def count_issues(count: int, node: Node, expr: str, walk: Walk) -> None:
    """Cardinality of an element or a slice (``node``), reported at the parent ``expr``."""
    if count < node.min:
        walk.add("ADP-4001", "error", expr, path=node.id, min=node.min, count=count)
    if node.max is not None and count > node.max:
        walk.add("ADP-4002", "error", expr, path=node.id, max=node.max, count=count)
