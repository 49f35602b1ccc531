"""Checks on single values: primitive formats, fixed and pattern values, limits, invariants, bindings, displays,
identifiers and attachments.

These judge a value where it stands, whatever the element; the walk (:mod:`adapter.validate.walker`) decides which
apply and descends. Kept together because bindings, displays and invariants share the engine's terminology and
invariant caches.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from adapter.errors import Severity
from adapter.identifiers import check_identifier
from adapter.parse.fhir_model import Limits, Node, pattern_matches
from adapter.validate.limits import limit_problems
from adapter.validate.plan import ConstraintStep
from adapter.validate.state import Pass, Walk
from adapter.validate.terminology import codes_of, display_matches
from adapter.validate.walker_base import EngineBase
from adapter.validate.xhtml import inspect_xhtml, narrative_problems

_URLS = frozenset({"uri", "url", "canonical"})
_HTML_TAG = re.compile(r"(?<!\\)</?[A-Za-z!]")  # an unescaped tag start in markdown: <b, </p, <!--


class ValueRules(EngineBase):
    """The value checks of the engine."""

    def _primitive(self, value: Any, node: Node, code: str, expr: str, step: Pass) -> None:
        if value is None:
            return
        if step.structural:
            problem = self.primitives.problem(code, value)
            if problem is None and code == "xhtml":
                problem, links, anchors = inspect_xhtml(value)
                if links or anchors:
                    found = step.walk.narrative_links.setdefault(id(step.env.root), ([], set()))
                    found[0].extend((expr, link) for link in links)
                    found[1].update(anchors)
            if problem is not None:
                step.walk.add("ADP-1002", "error", expr, path=expr, detail=problem)
                return
            if code in _URLS and not self.policy.allow_examples and is_example(value):
                step.walk.add("ADP-4047", "error", expr, url=value)
            if code == "markdown" and (tag := _HTML_TAG.search(value)) is not None:
                severity: Severity = "error" if self.policy.no_html_in_markdown else "warning"
                step.walk.add("ADP-4019", severity, expr, start=value[tag.start() : tag.start() + 2])
        if node.fixed is not None or node.pattern is not None:
            self._fixed_and_pattern(value, node, expr, step)
        if node.limits is not None:
            self._limits(value, node.limits, code, expr, step)
        if node.binding and code == "code":
            self._binding(value, node, code, expr, step)

    def _fixed_and_pattern(self, value: Any, node: Node, expr: str, step: Pass) -> None:
        if node.fixed is not None and value != node.fixed[1]:
            self._value_issue(node, node.fixed[1], expr, step)
        if node.pattern is not None and not pattern_matches(node.pattern[1], value):
            self._value_issue(node, node.pattern[1], expr, step)

    def _narrative(self, div: str, control: tuple[str | None, bool], node: Node, expr: str, step: Pass) -> None:
        language = step.env.resource.get("language") if isinstance(step.env.resource, dict) else None
        found = narrative_problems(div, language if isinstance(language, str) else None, *control)
        for issue, detail in found:
            step.walk.add(issue, "error", expr, path=node.id, detail=detail, profile=step.profile.url)

    def _missing_value(self, ext: Any, node: Node, expr: str, step: Pass) -> None:
        """A primitive without a value (only an id or extensions) where the profile needs the value, or allows
        only some extensions in its place."""
        if node.must_have_value:
            step.walk.add("ADP-4017", "error", expr, path=node.id, profile=step.profile.url)
            return
        urls = (
            {e.get("url") for e in ext.get("extension", []) if isinstance(e, dict)} if isinstance(ext, dict) else set()
        )
        if not urls & set(node.value_alternatives):
            shown = ", ".join(node.value_alternatives)
            step.walk.add("ADP-4018", "error", expr, path=node.id, allowed=shown, profile=step.profile.url)

    def _limits(self, value: Any, limits: Limits, code: str, expr: str, step: Pass) -> None:
        for issue, args in limit_problems(limits, code, value):
            step.walk.add(issue, "error", expr, **args, profile=step.profile.url)

    def _value_issue(self, node: Node, wanted: Any, expr: str, step: Pass) -> None:
        shown = json.dumps(wanted, ensure_ascii=False)
        step.walk.add("ADP-4003", "error", expr, path=node.id, expected=shown, profile=step.profile.url)

    def _constraints(
        self, value: Any, node: Node, expr: str, fp_path: str, step: Pass, steps: tuple[ConstraintStep, ...] = ()
    ) -> None:
        """Evaluate the invariants of ``node`` on ``value`` (``steps``: only these of them), each once per
        expression in a walk."""
        if not steps:
            if not node.constraints:
                return
            steps = (self._plans.get(id(node)) or self.plan(node)).constraints
        evaluated, check, env = step.walk.evaluated, self.invariants.check_expression, step.env
        for constraint, native in steps:  # those the policy skips are not in the plan
            seen = (expr, constraint.key)
            if seen in evaluated:
                continue
            evaluated.add(seen)
            outcome: bool | str | None = native(value, env) if native is not None else None
            if outcome is None:
                outcome = check(constraint, value, fp_path, env)
            if outcome is True:
                continue
            args = {"key": constraint.key, "human": constraint.human, "profile": step.profile.url}
            if outcome is False:
                severity: Severity = "error" if constraint.severity == "error" else "warning"
                step.walk.add("ADP-4010", severity, expr, **args)
            else:
                step.walk.add("ADP-4011", "warning", expr, **args, detail=outcome)

    def _binding(self, value: Any, node: Node, code: str, expr: str, step: Pass) -> None:
        assert node.binding is not None  # noqa: S101 - the caller checked
        strength, valueset = node.binding
        if strength not in ("required", "extensible"):
            return
        pairs = codes_of(value)
        walk = step.walk
        if not pairs:
            if strength == "required" and code == "CodeableConcept" and isinstance(value, dict) and value.get("text"):
                walk.add("ADP-4004", "error", expr, path=node.id, code=repr(value["text"]), valueset=valueset)
            return
        expansion = self.terminology.expand(valueset)
        if expansion.displays and isinstance(value, dict):  # displays the bound value set gives are valid here
            for coding in value.get("coding", []) if isinstance(value.get("coding"), list) else [value]:
                if isinstance(coding, dict):
                    given = expansion.displays.get((str(coding.get("system", "")), str(coding.get("code"))))
                    if given:
                        walk.displays[id(coding)] = given
        verdict = expansion.verdict(valueset, pairs)
        if verdict:
            return
        if verdict is None:
            walk.add("ADP-4005", "warning", expr, path=node.id, system=", ".join(sorted(expansion.missing)))
            return
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        severity: Severity = "error" if strength == "required" else "warning"
        walk.add(
            "ADP-4004" if strength == "required" else "ADP-4012",
            severity,
            expr,
            path=node.id,
            code=shown,
            valueset=valueset,
        )

    def _member_of(self, value: Any, valueset: str) -> bool | None:
        """Is a code, Coding or CodeableConcept in the ValueSet? None when it cannot be told here."""
        pairs = codes_of(value)
        expansion = self.terminology.expand(valueset)
        if any(expansion.contains(s, c) for s, c in pairs):
            return True
        return False if expansion.complete else None

    def _additional_bindings(self, value: Any, node: Node, expr: str, step: Pass) -> None:
        """Additional bindings (R5 binding.additional): a required or maximum one is a required binding, an
        extensible or current one an extensible binding; the other purposes do not judge a value."""
        pairs = codes_of(value)
        for purpose, valueset in node.additional_bindings:
            if purpose not in ("required", "maximum", "extensible", "current") or not pairs:
                continue
            expansion = self.terminology.expand(valueset)
            if any(expansion.contains(s, c) for s, c in pairs) or not expansion.complete:
                continue
            severity: Severity = "error" if purpose in ("required", "maximum") else "warning"
            shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
            step.walk.add("ADP-4069", severity, expr, code=shown, valueset=valueset, purpose=purpose)

    def _display(self, coding: dict[str, Any], expr: str, walk: Walk) -> None:
        """The display of a code from a code system we hold whole must be its display or one of its designations
        (compared without case and with white space collapsed)."""
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            return
        allowed = self.terminology.displays(system, code)
        if allowed is not None and not display_matches(
            coding["display"], allowed | walk.displays.get(id(coding), set())
        ):
            shown = " | ".join(sorted(allowed))
            severity: Severity = "warning" if self.policy.display_issues_are_warnings else "error"
            walk.add(
                "ADP-4021",
                severity,
                f"{expr}.display",
                display=coding["display"],
                code=f"{system}#{code}",
                allowed=shown,
            )

    def _identifier(self, value: dict[str, Any], expr: str, walk: Walk) -> None:
        system, text = value.get("system"), value.get("value")
        if not isinstance(text, str) or not (system is None or isinstance(system, str)):
            return
        problem = check_identifier(system, text)
        if problem is not None:
            walk.add(
                "ADP-4020",
                "error",
                f"{expr}.value",
                path=f"{expr}.value",
                value=text,
                kind=problem.kind_en,
                kind_nb=problem.kind_nb,
                detail=problem.detail_en,
                detail_nb=problem.detail_nb,
            )


def is_example(url: str) -> bool:
    """An example URL (example.org, acme.com), as the reference validator recognises them."""
    return "example.org" in url or "acme.com" in url


def check_attachment(value: dict[str, Any], expr: str, walk: Walk) -> None:
    """Attachment.size must be the size of the data, when both are given."""
    data, size = value.get("data"), value.get("size")
    if not isinstance(data, str) or isinstance(size, bool) or not isinstance(size, int):
        return
    try:
        actual = len(base64.b64decode("".join(data.split()), validate=True))
    except (binascii.Error, ValueError):
        return  # reported as a base64 problem
    if actual != size:
        walk.add("ADP-4048", "error", expr, size=size, actual=actual)
