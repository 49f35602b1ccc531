"""The validator's findings do not move: every issue (code, severity, expression, line, column, English text), in
order, on every input we hold, equals the snapshot in tests/data/validation_identity.json.

The inputs: the FHIR examples (examples/fhir), the negative examples (examples/negative/*/input.json), the Bundles
translated from our KITH examples (examples/kith), every step of the HL7 validator test suite (as
tests/test_reference_suite.py runs it, read from the standards directory) and the translation golden Bundles
(tests/translate/golden). It guards changes that must not change what is found, such as making the walk faster.

``python tests/test_validation_identity.py --update`` rewrites the snapshot from the current validator; do that
only for a change that is meant to change findings, and read the diff.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from adapter.config import Settings
from adapter.errors import Issue
from adapter.translate import Translator
from adapter.validate import Validator, suite

ROOT = Path(__file__).resolve().parent.parent
SNAPSHOT = ROOT / "tests" / "data" / "validation_identity.json"
EXAMPLES = ROOT / "examples"
GOLDEN = ROOT / "tests" / "translate" / "golden"


def _rows(issues: list[Issue]) -> list[list[Any]]:
    return [[i.code, i.severity, i.expression, i.line, i.column, i.text_en] for i in issues]


def _files(validator: Validator) -> Iterator[tuple[str, list[list[Any]]]]:
    """Every example, negative example and golden Bundle, read from its bytes (so issues carry line and column)."""
    paths = [
        *sorted((EXAMPLES / "fhir").glob("*.json")),
        *sorted((EXAMPLES / "negative").glob("*/input.json")),
        *sorted(GOLDEN.rglob("bundle.json")),
    ]
    assert len(paths) > 200, "the examples or the golden files are missing"
    for path in paths:
        yield str(path.relative_to(ROOT)), _rows(validator.validate_bytes(path.read_bytes()))


def _translated(settings: Settings, validator: Validator) -> Iterator[tuple[str, list[list[Any]]]]:
    """The Bundles our KITH examples translate to (a sample that gives no Bundle is recorded as such)."""
    translator = Translator(settings)
    paths = sorted((EXAMPLES / "kith").glob("*.xml"))
    assert paths, "no KITH examples"
    for path in paths:
        bundle = translator.kith_to_fhir(path.read_bytes()).bundle
        key = f"translated {path.relative_to(ROOT)}"
        yield key, [["no bundle"]] if bundle is None else _rows(validator.validate(bundle))


def _suite_steps(settings: Settings, validator: Validator) -> Iterator[tuple[str, list[list[Any]]]]:
    """Every step of the HL7 suite, set up as :func:`adapter.validate.suite.run_case` sets it up."""
    folder = suite.suite_folder(settings) / "cases"
    assert folder.is_dir(), f"the validator suite is not in the standards directory ({folder})"
    for case in suite.cases(settings):
        data = (folder / case["file"]).read_bytes()
        fmt = "xml" if case["file"].endswith(".xml") else "json"
        base = validator.with_policy(suite._policy(case))
        supporting = suite._load(folder, [*case.get("supporting", []), *case.get("profiles", [])], base)
        yield f"suite {case['name']}/base", _rows(base.with_resources(supporting).validate_bytes(data, fmt))
        profile = case.get("profile")
        if isinstance(profile, dict) and profile.get("source") and profile.get("java"):
            source = suite._load(folder, [profile["source"]], base)
            extra = [*source, *suite._load(folder, profile.get("supporting", []), base), *supporting]
            url = source[0].get("url") if source else None
            profiles = (url,) if isinstance(url, str) else ()
            step = base.with_resources(extra).with_policy(suite._policy(case, profile))
            yield f"suite {case['name']}/profile", _rows(step.validate_bytes(data, fmt, profiles))


def collect(settings: Settings, validator: Validator) -> dict[str, list[list[Any]]]:
    """Every input's issues as rows, by input name (a name seen twice, as suite cases can be, is numbered)."""
    found: dict[str, list[list[Any]]] = {}
    for source in (_files(validator), _translated(settings, validator), _suite_steps(settings, validator)):
        for key, rows in source:
            name, number = key, 1
            while name in found:
                number += 1
                name = f"{key} #{number}"
            found[name] = rows
    return found


def _normal(rows: dict[str, list[list[Any]]]) -> dict[str, list[list[Any]]]:
    """As JSON would give it back (tuples become lists)."""
    loaded: dict[str, list[list[Any]]] = json.loads(json.dumps(rows))
    return loaded


def test_every_issue_on_every_input_is_as_recorded(settings: Settings, validator: Validator) -> None:
    assert SNAPSHOT.is_file(), "no snapshot: run python tests/test_validation_identity.py --update"
    expected: dict[str, list[list[Any]]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = _normal(collect(settings, validator))
    assert sorted(actual) == sorted(expected), "the inputs differ from the snapshot's"
    changed = [name for name in expected if expected[name] != actual[name]]
    shown = {name: {"expected": expected[name], "actual": actual[name]} for name in changed[:3]}
    assert not changed, f"{len(changed)} input(s) give other issues, e.g. {json.dumps(shown, indent=1)[:6000]}"


def test_the_snapshot_covers_findings_of_every_kind() -> None:
    """The snapshot is not vacuous: it holds thousands of issues, errors among them, with lines and columns."""
    recorded: dict[str, list[list[Any]]] = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    rows = [row for found in recorded.values() for row in found]
    assert len(recorded) > 500
    assert sum(row[1] in ("error", "fatal") for row in rows) > 300
    assert any(row[3] is not None for row in rows)
    assert any(name.startswith("suite ") for name in recorded)
    assert any(name.startswith("translated ") for name in recorded)
    assert any(found for name, found in recorded.items() if name.startswith("examples/negative/"))


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python tests/test_validation_identity.py --update")
    here = Settings.from_env()
    rows = _normal(collect(here, Validator(here)))
    lines = [
        f"{json.dumps(name, ensure_ascii=False)}: ["
        + ",".join(f"\n  {json.dumps(r, ensure_ascii=False)}" for r in found)
        + "]"
        for name, found in sorted(rows.items())
    ]
    SNAPSHOT.write_text("{\n" + ",\n".join(lines) + "\n}\n", encoding="utf-8")  # one issue a line: readable diffs
    print(f"{SNAPSHOT.relative_to(ROOT)}: {len(rows)} inputs, {sum(map(len, rows.values()))} issues")
