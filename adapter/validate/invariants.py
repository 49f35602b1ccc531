"""FHIRPath invariants: fhirpathpy, each expression parsed once, with what fhirpathpy lacks added.

* Type tests against System types (``answer is Boolean``) are written as tests of the FHIR type, which
  fhirpathpy needs.
* ``hasValue()``, ``htmlChecks()`` and ``resolve()`` are supplied as user functions. ``resolve()`` finds the
  target in the Bundle or among the contained resources; ``htmlChecks()`` is true here because the XHTML rules
  are checked natively, with precise messages (see :mod:`adapter.validate.xhtml`).
* Four core invariants that are evaluated on nearly every element are computed natively (same meaning, a
  hundred times faster): ``ele-1``, ``ext-1``, and ``dom-3`` in the corrected form (R4's expression misses
  references from inside the contained resources, and from the narrative: ``<img src="#id">``, as the reference
  validator counts them), and ``ref-1``. So are the Bundle rules bdl-3, bdl-4 and bdl-7, which walk every entry
  and cost fhirpathpy milliseconds per message Bundle, and ctm-1 (CareTeam members) and per-1 (Period dates),
  which the fast path cannot take (``resolve()``, ``iif()``, date comparison); for a value of unusual shape each
  leaves it to fhirpathpy.
* Expressions of the common shape (member paths, ``empty()``, ``exists()``, ``where()``, ``=``, ``and``/``or``...)
  run as compiled closures (:mod:`adapter.validate.fastpath`); fhirpathpy evaluates the rest.
* Expressions published wrongly in R4 are evaluated in their corrected form, as the reference validator does
  (:data:`CORRECTED`: que-12 counts "more than one" enableWhen as ``> 2``).
* An expression whose every path starts at a member the value does not have gives the same result on every
  such value, so that result is computed once and reused (the analysis is on the parse tree; any ``$this``,
  ``%variable`` or function called on the focus itself turns it off).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fhirpathpy import apply_parsed_path
from fhirpathpy.engine.nodes import ResourceNode
from fhirpathpy.models import models
from fhirpathpy.parser import parse

from adapter.parse.fhir_model import Constraint
from adapter.validate import fastpath

_MODEL = models["r4"]
# ``answer is Boolean``: a FHIR primitive is also of the System type it carries (as in the reference engine);
# fhirpathpy only matches the FHIR type, so type tests name that one.
_SYSTEM_TYPE_TEST = re.compile(
    r"\b(is|as|ofType\()(\s*)(?:System\.)?(Boolean|String|Integer|Decimal|Date|DateTime|Time)\b"
)
Resolver = Callable[[Any], Any]
CORRECTED = {
    # que-12, "If there are more than one enableWhen, enableBehavior must be specified"
    "enableWhen.count() > 2 implies enableBehavior.exists()": "enableWhen.count() >= 2 implies enableBehavior.exists()",
}
"""Expressions of R4 constraints that say something else than their text, with the expression that says it."""


@dataclass
class Env:
    """What an expression may refer to: the resource (``%resource``), the root (``%rootResource``) and how
    references resolve (``%context`` is the value the expression is evaluated on)."""

    resource: Any
    root: Any
    resolve: Resolver
    #: memberOf(): is the code, Coding or CodeableConcept in the ValueSet (None: cannot tell)
    member_of: Callable[[Any, str], bool | None] | None = None


@dataclass
class _Compiled:
    parsed: Any
    #: member names every path starts from (as a set and as a tuple); None when the analysis cannot tell
    heads: tuple[frozenset[str], tuple[str, ...]] | None
    fast: fastpath.Compiled | None  # closures for the common subset, see adapter.validate.fastpath


class Invariants:
    """Evaluates constraints; parse trees and constant results are cached for the life of the object."""

    def __init__(self) -> None:
        self._compiled: dict[str, _Compiled | str] = {}
        self._constant: dict[str, bool | str] = {}

    def check(self, constraint: Constraint, value: Any, fp_path: str, env: Env) -> bool | str:
        """True when ``value`` meets the constraint, False when not, a text when it could not be evaluated."""
        native = native_check(constraint)
        if native is not None:
            verdict = native(value, env)
            if verdict is not None:
                return verdict
        return self.check_expression(constraint, value, fp_path, env)

    def check_expression(self, constraint: Constraint, value: Any, fp_path: str, env: Env) -> bool | str:
        """Like :meth:`check`, without trying the native check first (the walk's plans have tried it)."""
        compiled = self._compile(constraint.expression)
        if isinstance(compiled, str):
            return compiled
        if compiled.heads is not None and isinstance(value, dict) and not _touches(value, *compiled.heads):
            found = self._constant.get(constraint.expression)
            if found is None:
                found = self._evaluate(compiled, {}, fp_path, env)
                self._constant[constraint.expression] = found
            return found
        return self._evaluate(compiled, value, fp_path, env)

    def select(
        self, expression: str, value: Any, fp_path: str, env: Env, extra: dict[str, Any] | None = None
    ) -> list[Any] | str:
        """The result of ``expression`` on ``value`` (typed as ``fp_path``; ``extra``: more %variables), or a text
        when it cannot be evaluated. Results are copies: compare them with ``==``, not ``is``."""
        compiled = self._compile(expression)
        if isinstance(compiled, str):
            return compiled
        options = {"userInvocationTable": _functions(env), "traceFn": _quiet}
        variables = {"resource": _typed(env.resource), "rootResource": _typed(env.root), **(extra or {})}
        try:
            # a resource goes in as it is, so that paths may start with its type name (``Patient.active``)
            resource = isinstance(value, dict) and "resourceType" in value
            node = value if resource else ResourceNode.create_node(value, fp_path)  # type: ignore[no-untyped-call]
            return list(apply_parsed_path(node, compiled.parsed, variables, _MODEL, options))  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - an engine failure is reported, never raised
            return f"{type(exc).__name__}: {exc}"

    def _compile(self, expression: str) -> _Compiled | str:
        found = self._compiled.get(expression)
        if found is None:
            try:
                corrected = CORRECTED.get(expression, expression)
                parsed = parse(_SYSTEM_TYPE_TEST.sub(_fhir_type, corrected))  # type: ignore[no-untyped-call]
            except Exception as exc:  # noqa: BLE001 - the parser raises bare Exceptions on syntax errors
                found = f"the expression cannot be parsed: {exc}"
            else:
                heads = _heads(parsed)
                both = (heads, tuple(sorted(heads))) if heads is not None else None
                found = _Compiled(parsed, both, fastpath.compile_tree(parsed))
            self._compiled[expression] = found
        return found

    def _evaluate(self, compiled: _Compiled, value: Any, fp_path: str, env: Env) -> bool | str:
        if compiled.fast is not None:
            quick = fastpath.run(compiled.fast, value)
            if quick is not None:
                return quick
        options = {"userInvocationTable": _functions(env), "traceFn": _quiet}
        try:
            node = ResourceNode.create_node(value, fp_path)  # type: ignore[no-untyped-call]
            variables = {"resource": _typed(env.resource), "rootResource": _typed(env.root), "context": node}
            result: Any = apply_parsed_path(node, compiled.parsed, variables, _MODEL, options)  # type: ignore[no-untyped-call]
        except Exception as exc:  # noqa: BLE001 - an engine failure is reported, never raised
            return f"{type(exc).__name__}: {exc}"
        # Only a false result fails: an empty one means the rule does not apply (fhirpathpy gives empty where the
        # reference engine's operators give false, e.g. ``{} is decimal``).
        return bool(result != [False])


def _typed(resource: Any) -> Any:
    """A resource as a typed node, so that ``%resource.type()`` names its type."""
    if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
        return ResourceNode.create_node(resource, resource["resourceType"])  # type: ignore[no-untyped-call]
    return resource


def _functions(env: Env) -> dict[str, Any]:
    return {
        "hasValue": {"fn": _has_value, "arity": {0: []}},
        "htmlChecks": {"fn": lambda inputs: [True], "arity": {0: []}},
        "resolve": {"fn": lambda inputs: _resolved(inputs, env), "arity": {0: []}},
        "memberOf": {"fn": lambda inputs, url: _member_of(inputs, url, env), "arity": {1: ["String"]}},
    }


def _fhir_type(match: re.Match[str]) -> str:
    name = match.group(3)
    return f"{match.group(1)}{match.group(2)}{name[0].lower()}{name[1:]}"


def _quiet(*_: Any) -> None:
    """trace() writes nothing."""


def _resolved(inputs: list[Any], env: Env) -> list[Any]:
    """The resources the references point to, typed so that ``ofType()`` and ``is`` work on them."""
    found = []
    for item in inputs:
        target = env.resolve(item)
        if isinstance(target, dict) and isinstance(target.get("resourceType"), str):
            found.append(ResourceNode.create_node(target, target["resourceType"]))  # type: ignore[no-untyped-call]
    return found


def _member_of(inputs: list[Any], url: Any, env: Env) -> list[bool]:
    """FHIRPath memberOf(): true when the single input (code, Coding or CodeableConcept) is in the ValueSet, empty
    when there is no single input or the ValueSet cannot be expanded here."""
    if env.member_of is None or len(inputs) != 1 or not isinstance(url, str):
        return []
    value = inputs[0]
    value = value.data if isinstance(value, ResourceNode) else value
    found = env.member_of(value, url)
    return [] if found is None else [found]


def _has_value(inputs: list[Any]) -> list[bool]:
    return [len(inputs) == 1 and inputs[0] is not None and not isinstance(inputs[0], dict | list)]


def _touches(value: dict[str, Any], heads: frozenset[str], prefixes: tuple[str, ...]) -> bool:
    """Does a key of ``value`` name one of ``heads`` (also as a choice: ``value`` -> ``valueString``)?
    ``prefixes`` are the heads as a tuple, for one ``startswith`` call that rules most keys out."""
    for key in value:
        stem = key[1:] if key[:1] == "_" else key
        if stem in heads:
            return True
        if stem.startswith(prefixes):
            for head in prefixes:
                if stem.startswith(head) and stem[len(head) : len(head) + 1].isupper():
                    return True
    return False


def _heads(tree: Any) -> frozenset[str] | None:
    """Member names that start the paths of the expression, or None when some path starts at the focus itself
    (a function on ``$this``, ``$this``, ``$index``, ``%constant``)."""
    heads: set[str] = set()

    def visit(node: dict[str, Any]) -> bool:
        kind = node.get("type")
        if kind in ("ExternalConstantTerm", "ThisInvocation", "IndexInvocation", "TotalInvocation"):
            return False
        if kind == "TermExpression":
            term = node["children"][0]
            if term.get("type") == "InvocationTerm":
                invocation = term["children"][0]
                if invocation.get("type") == "FunctionInvocation":
                    return False
                if invocation.get("type") == "MemberInvocation":
                    heads.add(invocation["children"][0]["text"].strip("`"))
        return all(visit(child) for child in node.get("children", []))

    return frozenset(heads) if visit(tree) else None


def _ele_1(value: Any, env: Env) -> bool:
    if isinstance(value, dict):  # a key other than "id": more than one key, or one that is not "id"
        return len(value) > 1 or (len(value) == 1 and "id" not in value)
    return value is not None


def _ext_1(value: Any, env: Env) -> bool:
    if not isinstance(value, dict):
        return True
    has_value = any(key.startswith("value") and key[5:6].isupper() for key in value)
    return ("extension" in value) != has_value


def _ref_1(value: Any, env: Env) -> bool:
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference.startswith("#") or reference == "#":
        return True  # "#" alone points at the container
    contained = env.root.get("contained", []) if isinstance(env.root, dict) else []
    return any(isinstance(c, dict) and c.get("id") == reference[1:] for c in contained)


def _dom_3(value: Any, env: Env) -> bool:
    contained = value.get("contained") if isinstance(value, dict) else None
    if not isinstance(contained, list):
        return True
    strings = _strings(value)
    pointers = {s for s in strings if s.startswith("#")}
    # the narrative may point at a contained resource too (<img src="#id">, <a href="#id">)
    pointers.update(m for s in strings if "<" in s and "#" in s for m in _LOCAL_LINK.findall(s))
    for resource in contained:
        if not isinstance(resource, dict):
            continue
        if "#" + str(resource.get("id")) not in pointers and "#" not in set(_strings(resource)):
            return False
    return True


_LOCAL_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["'](#[^"']+)["']""")


def _strings(value: Any) -> list[str]:
    found: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict):
            stack.extend(v for k, v in item.items() if k != "id")
        elif isinstance(item, list):
            stack.extend(item)
    return found


def _entry_parts(member: str, types: frozenset[str]) -> Callable[[Any, Env], bool | None]:
    """bdl-3 (``member`` request) and bdl-4 (response): every entry has it exactly when %resource.type is one of
    ``types``. None (fhirpathpy decides) for any shape but the usual one: a string type, entries that are
    objects, the member absent or a non-empty object, no primitive extensions on type."""

    def rule(value: Any, env: Env) -> bool | None:
        resource = env.resource
        if not isinstance(value, dict) or not isinstance(resource, dict) or "_type" in resource:
            return None
        bundle_type, entries = resource.get("type"), value.get("entry", [])
        if not isinstance(bundle_type, str) or not isinstance(entries, list):
            return None
        wanted = bundle_type in types
        verdict = True
        for entry in entries:
            part = entry.get(member) if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or not (part is None or (isinstance(part, dict) and part)):
                return None
            verdict = verdict and (part is not None) == wanted
        return verdict

    return rule


def _bdl_7(value: Any, env: Env) -> bool | None:
    """bdl-7: unless the Bundle is a history, no two entries share fullUrl and meta.versionId. None (fhirpathpy
    decides) for any shape but the usual one."""
    if not isinstance(value, dict) or "_type" in value or not isinstance(value.get("type"), str):
        return None
    if value["type"] == "history":
        return True
    entries = value.get("entry", [])
    if not isinstance(entries, list):
        return None
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or "_fullUrl" in entry:
            return None
        url, resource = entry.get("fullUrl"), entry.get("resource")
        if url is None:
            continue
        meta = resource.get("meta") if isinstance(resource, dict) else None
        version = meta.get("versionId", "") if isinstance(meta, dict) else ""
        if (
            not isinstance(url, str)
            or not isinstance(resource, dict | None)
            or not isinstance(meta, dict | None)
            or not isinstance(version, str)
            or (isinstance(meta, dict) and "_versionId" in meta)
        ):
            return None
        keys.append(url + version)
    return len(set(keys)) == len(keys)


def _ctm_1(value: Any, env: Env) -> bool | None:
    """ctm-1: a CareTeam participant acting on behalf of an organisation is a Practitioner, when the member
    resolves. None (fhirpathpy decides) for any shape but the usual one: onBehalfOf absent or a non-empty object,
    member absent or a non-empty object, no other key that starts with either name."""
    if not isinstance(value, dict):
        return None
    for key in value:
        stem = key[1:] if key[:1] == "_" else key
        if stem.startswith(("onBehalfOf", "member")) and key not in ("onBehalfOf", "member"):
            return None
    on_behalf_of, member = value.get("onBehalfOf", _ABSENT), value.get("member", _ABSENT)
    if any(part is not _ABSENT and not (isinstance(part, dict) and part) for part in (on_behalf_of, member)):
        return None
    if on_behalf_of is _ABSENT or member is _ABSENT:
        return True
    target = env.resolve(member)
    if not isinstance(target, dict) or not isinstance(target.get("resourceType"), str):
        return True  # not resolved here: nothing to judge
    return bool(target["resourceType"] == "Practitioner")


_ABSENT = object()
#: A calendar date of year, month or day precision, as R4 writes them (no year 0000)
_DATE_SHAPES = (
    re.compile(r"(?!0000)[0-9]{4}"),
    re.compile(r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])"),
    re.compile(r"(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"),
)


def _per_1(value: Any, env: Env) -> bool | None:
    """per-1: a Period's start is not after its end. Computed for dates of the same precision (year, month or
    day; for these the text order is the time order); None (fhirpathpy decides) for anything else: times, mixed
    precisions, impossible days, extensions on start or end."""
    if not isinstance(value, dict) or "_start" in value or "_end" in value:
        return None
    start, end = value.get("start"), value.get("end")
    if start is None or end is None:
        return True  # no start or no end value: nothing to compare
    if not isinstance(start, str) or not isinstance(end, str) or len(start) != len(end) or len(start) > 10:
        return None
    shape = _DATE_SHAPES[(len(start) - 4) // 3] if len(start) in (4, 7, 10) else None
    if shape is None or not shape.fullmatch(start) or not shape.fullmatch(end):
        return None
    if len(start) == 10:
        try:
            datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
        except ValueError:
            return None  # February 30th and the like
    return start <= end


#: Constraints computed natively: key -> (the expression they stand for, the rule). A rule that returns None
#: leaves the value to fhirpathpy (shapes the rule was not written for).
_NATIVE: dict[str, tuple[str, Callable[[Any, Env], bool | None]]] = {
    "bdl-3": (
        "entry.all(request.exists() = (%resource.type = 'batch' or %resource.type = 'transaction' or "
        "%resource.type = 'history'))",
        _entry_parts("request", frozenset({"batch", "transaction", "history"})),
    ),
    "bdl-4": (
        "entry.all(response.exists() = (%resource.type = 'batch-response' or %resource.type = "
        "'transaction-response' or %resource.type = 'history'))",
        _entry_parts("response", frozenset({"batch-response", "transaction-response", "history"})),
    ),
    "bdl-7": (
        "(type = 'history') or entry.where(fullUrl.exists()).select(fullUrl&resource.meta.versionId).isDistinct()",
        _bdl_7,
    ),
    "ctm-1": (
        "onBehalfOf.exists() implies (member.resolve().iif(empty(), true, ofType(Practitioner).exists()))",
        _ctm_1,
    ),
    "per-1": ("start.hasValue().not() or end.hasValue().not() or (start <= end)", _per_1),
    "ele-1": ("hasValue() or (children().count() > id.count())", _ele_1),
    "ext-1": ("extension.exists() != value.exists()", _ext_1),
    "ref-1": (
        "reference.startsWith('#').not() or (reference.substring(1).trace('url') in %rootResource.contained.id"
        ".trace('ids'))",
        _ref_1,
    ),
    "dom-3": (
        "contained.where((('#'+id in (%resource.descendants().reference | %resource.descendants().as(canonical) | "
        "%resource.descendants().as(uri) | %resource.descendants().as(url))) or descendants().where(reference = '#')"
        ".exists() or descendants().where(as(canonical) = '#').exists() or descendants().where(as(canonical) = '#')"
        ".exists()).not()).trace('unmatched', id).empty()",
        _dom_3,
    ),
}


def native_check(constraint: Constraint) -> Callable[[Any, Env], bool | None] | None:
    """The native rule for ``constraint``, when there is one for its key and it says what the rule stands for."""
    native = _NATIVE.get(constraint.key)
    return native[1] if native is not None and native[0] == constraint.expression else None
