"""``$lookup`` and ``$validate-code``: a code's details, and whether it is valid, as the validator judges it.

``$validate-code`` takes the validator's own steps (:mod:`adapter.validate.values`): the codes of a code, Coding or
CodeableConcept (:func:`~adapter.validate.terminology.codes_of`), the ValueSet's offline expansion and its
:meth:`~adapter.validate.terminology.Expansion.verdict`, then each Coding's display against its code system's
displays and designations and those the ValueSet gives (:meth:`~adapter.validate.terminology.Terminology.displays`,
:func:`~adapter.validate.terminology.display_matches`). Its message is the validator's issue (ADP-4004 not in the
ValueSet, ADP-4021 a wrong display; a wrong display is an error unless the validator's policy makes it a warning,
and then the result stays true). Where the validator says "not checked" (ADP-4005: a part we do not hold), this
refuses to answer (ADP-5063, 422) rather than guess.

``$lookup`` answers from any CodeSystem we hold, a fragment (KITH 8279) too, for the codes it has; a code it lacks
is not in a complete one (ADP-5080), and only not among the codes held of any other (ADP-5081): we cannot say it is
no code of it. Both are 404; no such code system is ADP-5060.
"""

from __future__ import annotations

from typing import Any

from adapter.errors import AdapterError, Issue
from adapter.reply import operation_outcome
from adapter.validate.operations.expand import terminology_concepts
from adapter.validate.operations.params import Params
from adapter.validate.packages import Resource
from adapter.validate.terminology import Expansion, Terminology, codes_of, display_matches

LOOKUP_PARAMS = ("system", "code", "version", "coding", "displayLanguage")
VALUESET_VALIDATE_PARAMS = (
    "url",
    "valueSetVersion",
    "code",
    "system",
    "systemVersion",
    "display",
    "coding",
    "codeableConcept",
)
CODESYSTEM_VALIDATE_PARAMS = ("url", "version", "code", "display", "coding", "codeableConcept")


def lookup(terminology: Terminology, params: Params) -> Resource:
    """The Parameters of ``$lookup``: name, version, display, designations and properties of a code."""
    coding = params.coding("coding")
    system = str(coding.get("system") or "") if coding else params.required("system")
    code = str(coding.get("code") or "") if coding else params.required("code")
    if not system or not code:
        raise params.error("coding", "a Coding with a system and a code")
    codesystem = _codesystem(terminology, system, params.text("version"))
    concept = terminology_concepts(terminology, system).get(code)
    if concept is None:
        raise AdapterError([_not_in(codesystem, system, code)])
    found = concept[1]
    parts: list[dict[str, Any]] = [{"name": "name", "valueString": str(codesystem.get("name", system))}]
    if isinstance(codesystem.get("version"), str):
        parts.append({"name": "version", "valueString": codesystem["version"]})
    display = _display_in(found, params.text("displayLanguage"))
    if display is not None:
        parts.append({"name": "display", "valueString": display})
    if isinstance(found.get("definition"), str):
        parts.append({"name": "definition", "valueString": found["definition"]})
    for designation in found.get("designation", []):
        if isinstance(designation, dict) and isinstance(designation.get("value"), str):
            part = [{"name": "value", "valueString": designation["value"]}]
            if isinstance(designation.get("language"), str):
                part.insert(0, {"name": "language", "valueCode": designation["language"]})
            if isinstance(designation.get("use"), dict):
                part.insert(-1, {"name": "use", "valueCoding": designation["use"]})
            parts.append({"name": "designation", "part": part})
    for prop in found.get("property", []):
        values = [k for k in prop if k.startswith("value")] if isinstance(prop, dict) else []
        if values and isinstance(prop.get("code"), str):
            part = [{"name": "code", "valueCode": prop["code"]}, {"name": "value", values[0]: prop[values[0]]}]
            parts.append({"name": "property", "part": part})
    return {"resourceType": "Parameters", "parameter": parts}


def _display_in(concept: dict[str, Any], language: str | None) -> str | None:
    """The display of a concept; in ``language`` the value of a designation in it, where it has one."""
    wanted = (language or "").lower().split("-")[0]
    for designation in concept.get("designation", []) if wanted else []:
        if isinstance(designation, dict) and str(designation.get("language", "")).lower().split("-")[0] == wanted:
            return str(designation.get("value"))
    display = concept.get("display")
    return display if isinstance(display, str) else None


def _codesystem(terminology: Terminology, system: str, version: str | None) -> Resource:
    """The CodeSystem ``system`` (in ``version``), held whole or in part (a fragment answers for the codes it has);
    else ADP-5060 (404)."""
    found = terminology.defs.get(f"{system}|{version}" if version else system)
    if (
        found is None
        or found.get("resourceType") != "CodeSystem"
        or (version is not None and found.get("version") != version)
    ):
        ref = f"{system}|{version}" if version else system
        raise AdapterError([Issue("ADP-5060", "error", args={"type": "CodeSystem", "ref": ref})])
    return found


def _not_in(codesystem: Resource, system: str, code: str) -> Issue:
    """A code the CodeSystem we hold lacks: not in it (ADP-5080) when we hold it whole, else not among the codes we
    hold of it (ADP-5081: a fragment, an example, or none at all, as core holds SNOMED CT), which says nothing of
    whether the code is one of it."""
    content = codesystem.get("content")
    if content in ("complete", None):
        return Issue("ADP-5080", "error", args={"code": code[:200], "system": system[:300]})
    args = {"code": code[:200], "system": system[:300], "content": str(content)[:40]}
    return Issue("ADP-5081", "error", args=args)


def validate_in_valueset(terminology: Terminology, url: str, params: Params, display_warns: bool = False) -> Resource:
    """The Parameters of ``ValueSet/$validate-code`` against the ValueSet ``url`` (``display_warns``: the
    validator's policy of taking a wrong display as a warning)."""
    value, name = _value(params, system_param="system")
    pairs = codes_of(value)
    if not pairs:
        raise params.error(name, "no code in it")
    expansion = terminology.expand(url)
    verdict = expansion.verdict(url, pairs)
    if verdict is None:
        detail = "it includes " + ", ".join(sorted(expansion.missing)) + ", which is not held whole offline"
        raise AdapterError([Issue("ADP-5063", "error", args={"url": url, "detail": detail})])
    if not verdict:
        shown = ", ".join(f"{s}#{c}" if s else c for s, c in pairs)
        issue = Issue("ADP-4004", "error", name, args={"path": name, "code": shown, "valueset": url})
        return _result(False, [issue], terminology, [])
    issues = _display_issues(terminology, value, name, expansion, display_warns)
    ok = not any(i.severity == "error" for i in issues)
    found = sorted((s, c) for s, c in expansion.codes if any(w in (s, None) and v == c for w, v in pairs))
    return _result(ok, issues, terminology, found)


def validate_in_codesystem(terminology: Terminology, url: str, params: Params, display_warns: bool = False) -> Resource:
    """The Parameters of ``CodeSystem/$validate-code``: is the code in the CodeSystem ``url`` (in ``version``, when
    given), and its display right."""
    version = params.text("version")
    found = terminology.defs.get(f"{url}|{version}" if version else url)
    if found is None or found.get("resourceType") != "CodeSystem" or (version and found.get("version") != version):
        ref = f"{url}|{version}" if version else url
        raise AdapterError([Issue("ADP-5060", "error", args={"type": "CodeSystem", "ref": ref})])
    codes = terminology.codesystem_codes(url)
    if codes is None:
        detail = "the code system is not held whole offline"
        raise AdapterError([Issue("ADP-5063", "error", args={"url": url, "detail": detail})])
    value, name = _value(params, system_param=None, system=url)
    pairs = [(s, c) for s, c in codes_of(value) if s in (url, None)]
    if not pairs:
        raise params.error(name, f"no code of {url} in it")
    matched = [(url, c) for _, c in pairs if c in codes]
    if not matched:
        shown = ", ".join(f"{url}#{c}" for _, c in pairs)
        issue = Issue("ADP-4004", "error", name, args={"path": name, "code": shown, "valueset": url})
        return _result(False, [issue], terminology, [])
    issues = _display_issues(terminology, value, name, None, display_warns)
    return _result(not any(i.severity == "error" for i in issues), issues, terminology, matched)


def _value(params: Params, system_param: str | None, system: str | None = None) -> tuple[Any, str]:
    """What is to be checked: a Coding (``code`` with ``system`` and ``display``), a ``coding`` or a
    ``codeableConcept``, exactly one of them; and the name of the parameter it came as."""
    given = [name for name in ("code", "coding", "codeableConcept") if params.values.get(name)]
    if len(given) != 1:
        raise params.error("code", "give one of code (with system), coding and codeableConcept")
    if given[0] != "code":
        return params.coding(given[0]), given[0]
    system = params.text(system_param) if system_param else system
    coding: dict[str, Any] = {"code": params.required("code")}
    if system is not None:
        coding["system"] = system
    display = params.text("display")
    if display is not None:
        coding["display"] = display
    if "system" not in coding and display is None:
        return coding["code"], "code"
    return coding, "code"


def _display_issues(
    terminology: Terminology, value: Any, name: str, expansion: Expansion | None, warns: bool
) -> list[Issue]:
    """ADP-4021 for each Coding whose display is not one its code system (or the ValueSet) gives it, as the
    validator reports it."""
    codings = value.get("coding", []) if isinstance(value, dict) and "coding" in value else [value]
    issues = []
    for index, coding in enumerate(codings if isinstance(codings, list) else []):
        if not isinstance(coding, dict) or not isinstance(coding.get("display"), str):
            continue
        system, code = coding.get("system"), coding.get("code")
        if not isinstance(system, str) or not isinstance(code, str):
            continue
        allowed = terminology.displays(system, code)
        extra = expansion.displays.get((system, code), frozenset()) if expansion is not None else frozenset()
        if allowed is not None and not display_matches(coding["display"], allowed | extra):
            # compared without case, but shown as the code system writes them
            shown = " | ".join(terminology.display_texts(system, code)) or " | ".join(sorted(allowed))
            args = {"display": coding["display"], "code": f"{system}#{code}", "allowed": shown}
            issues.append(Issue("ADP-4021", "warning" if warns else "error", _display_at(name, index), args=args))
    return issues


def _display_at(name: str, index: int) -> str:
    """Where a wrong display is, as R4's ``$validate-code`` issues name it: in the Coding of a ``codeableConcept``
    (``CodeableConcept.coding[1].display``), of a ``coding`` (``Coding.display``), or the ``display`` parameter."""
    if name == "codeableConcept":
        return f"CodeableConcept.coding[{index}].display"
    return "Coding.display" if name == "coding" else "display"


def _result(ok: bool, issues: list[Issue], terminology: Terminology, pairs: list[tuple[str, str]]) -> Resource:
    """The answer of ``$validate-code``: result, message (the issues' English text), the code's display and the
    issues as an OperationOutcome (``issues``, as R5 names it)."""
    parts: list[dict[str, Any]] = [{"name": "result", "valueBoolean": ok}]
    if issues:
        parts.append({"name": "message", "valueString": "; ".join(i.text_en for i in issues)})
    for system, code in pairs[:1]:
        concept = terminology_concepts(terminology, system).get(code)
        display = concept[1].get("display") if concept else None
        if isinstance(display, str):
            parts.append({"name": "display", "valueString": display})
    if issues:
        parts.append({"name": "issues", "resource": operation_outcome(issues)})
    return {"resourceType": "Parameters", "parameter": parts}
