"""Small modules and short functions (docs/architecture.md): no module of adapter/ over 500 lines, no function over
60. A module or function that grows past them is split along its seams, not let grow."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ADAPTER = Path(__file__).resolve().parent.parent / "adapter"
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60


def too_long(source: str, max_module: int = MAX_MODULE_LINES, max_function: int = MAX_FUNCTION_LINES) -> list[str]:
    """What in ``source`` is over the limits: the module (its line count) and each function (name, line count)."""
    found = []
    lines = len(source.splitlines())
    if lines > max_module:
        found.append(f"module: {lines} lines")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > max_function:
                found.append(f"{node.name}: {length} lines")
    return found


@pytest.mark.parametrize("path", sorted(ADAPTER.rglob("*.py")), ids=lambda p: str(p.relative_to(ADAPTER)))
def test_module_and_functions_are_small(path: Path) -> None:
    assert too_long(path.read_text(encoding="utf-8")) == []


def test_the_check_finds_a_long_function_and_a_long_module() -> None:
    body = "\n".join(f"    x{i} = {i}" for i in range(70))
    assert too_long(f"def f() -> None:\n{body}\n") == ["f: 71 lines"]
    assert too_long("x = 1\n" * 501) == ["module: 501 lines"]
