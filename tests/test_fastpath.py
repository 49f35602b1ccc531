"""The FHIRPath fast path gives the same answer as fhirpathpy on every invariant evaluation it takes over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fhirpathpy.parser import parse

from adapter.config import Settings
from adapter.validate import Validator, fastpath
from adapter.validate.invariants import Env, Invariants, _Compiled

EXAMPLES = Path(__file__).parent.parent / "examples" / "fhir"


class _BothWays(Invariants):
    """Evaluates every fast-path expression with fhirpathpy too and records disagreements."""

    def __init__(self) -> None:
        super().__init__()
        self.compared = 0
        self.differences: list[tuple[str, Any, Any]] = []

    def _evaluate(self, compiled: _Compiled, value: Any, fp_path: str, env: Env) -> bool | str:
        quick = fastpath.run(compiled.fast, value) if compiled.fast is not None else None
        slow = super()._evaluate(_Compiled(compiled.parsed, compiled.heads, None), value, fp_path, env)
        if quick is not None:
            self.compared += 1
            if quick != slow:
                self.differences.append((str(compiled.parsed), quick, slow))
        return slow


def test_fast_path_agrees_with_fhirpathpy(settings: Settings) -> None:
    validator = Validator(settings)
    both = _BothWays()
    validator.engine.invariants = both
    folder = settings.standards / "fhir" / "r4-examples" / "json"
    files = [*sorted(EXAMPLES.glob("*.json")), *sorted(folder.glob("*.json"))]
    for path in files:
        validator.validate_bytes(path.read_bytes(), "json")
    assert both.compared > 500
    assert not both.differences, both.differences[:5]


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("detail.empty() or reference.empty()", {"detail": {}, "reference": {}}, False),
        ("code.empty() or system.exists()", {"code": "x"}, False),
        ("value.exists() implies unit.exists()", {"valueQuantity": {"value": 1}}, False),
        ("fullUrl.contains('/_history/').not()", {"fullUrl": "Patient/1/_history/2"}, False),
        ("(identifier.count() + name.count()) > 0", {}, False),
        ("type = 'message' implies entry.first().resource.is(MessageHeader)", {"type": "document"}, True),
        ("a.where(b = 'x').exists()", {"a": [{"b": "y"}, {"b": "x"}]}, True),
        ("entry.first().resource is MessageHeader", {"entry": [{"resource": {"resourceType": "Patient"}}]}, False),
        ("p.exists($this = 'a' or $this.startsWith('b|'))", {"p": ["c", "b|1"]}, True),
        ("p.all($this = 'a')", {"p": ["a", "b"]}, False),
    ],
)
def test_fast_path_cases(expression: str, value: Any, expected: bool) -> None:
    compiled = fastpath.compile_tree(parse(expression))
    assert compiled is not None
    assert fastpath.run(compiled, value) is expected


def test_unsupported_expressions_fall_back() -> None:
    assert fastpath.compile_tree(parse("%resource.type = 'batch'")) is None
    assert fastpath.compile_tree(parse("member.resolve().iif(empty(), true, false)")) is None
