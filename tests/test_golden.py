"""Golden files: the FHIR Bundle and the AppRec of every covered KITH sample, kept in the repo
(tests/translate/golden/<sample path without .xml>/{bundle.json,apprec.xml}); the inputs are read from the standards
directory, never copied. Compared on parsed JSON and on C14N, so formatting does not matter; the outputs are
byte-stable anyway (ids from the message, timestamps from the message, the AppRec's own GenDate fixed here).

``python -m pytest tests/test_golden.py --regen-golden`` rewrites them and prints the diff of each changed file.
Besides the comparison, every output passes the rule-based checks: the Bundle's (tests/test_translate.py
``check_rules``, and no validator error unless the sample is listed as faulty) and the AppRec's XSD.
"""

from __future__ import annotations

import contextlib
import difflib
import json
from pathlib import Path

import pytest
from lxml import etree
from test_translate import EXPECTATIONS, RECEIPT_DATE, SAMPLES, SETTINGS, _samples, canonical, check_rules

from adapter.parse.xsd import SchemaRegistry
from adapter.receipt import ReceiptImpossible, receipt_for
from adapter.translate import Translator

GOLDEN = Path(__file__).parent / "translate" / "golden"


@pytest.fixture(scope="module")
def translator() -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings, the standards directory's XSDs."""
    return Translator(SETTINGS)


def _outputs(translator: Translator, sample: str) -> dict[str, str]:
    result = translator.kith_to_fhir((SAMPLES / sample).read_bytes())
    outputs: dict[str, str] = {}
    if result.bundle is not None:
        outputs["bundle.json"] = json.dumps(result.bundle, indent=1, ensure_ascii=False) + "\n"
        if sample not in EXPECTATIONS:
            check_rules(result.bundle)
    with contextlib.suppress(ReceiptImpossible):  # an AppRec input, or no header to answer
        outputs["apprec.xml"] = receipt_for(result, gen_date=RECEIPT_DATE).decode("utf-8")
    return outputs


def _same(name: str, expected: str, actual: str) -> bool:
    if name.endswith(".json"):
        return bool(json.loads(expected) == json.loads(actual))
    return canonical(expected) == canonical(actual)


@pytest.mark.parametrize("sample", _samples())
def test_outputs_equal_their_golden_files(translator: Translator, sample: str, request: pytest.FixtureRequest) -> None:
    outputs = _outputs(translator, sample)
    folder = GOLDEN / sample.removesuffix(".xml")
    regen = bool(request.config.getoption("--regen-golden"))
    if regen:
        diffs: list[str] = request.config.__dict__.setdefault("golden_diffs", [])
        folder.mkdir(parents=True, exist_ok=True)
        for stale in sorted(set(p.name for p in folder.iterdir()) - set(outputs)):
            (folder / stale).unlink()
            diffs.append(f"removed {folder / stale}\n")
        for name, text in outputs.items():
            path = folder / name
            old = path.read_text(encoding="utf-8") if path.is_file() else ""
            if old != text:
                rel = str(path.relative_to(GOLDEN))
                diffs.append("".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), rel, rel, n=2)))
                path.write_text(text, encoding="utf-8")
        return
    assert folder.is_dir(), f"no golden files for {sample}: run pytest tests/test_golden.py --regen-golden"
    assert sorted(p.name for p in folder.iterdir()) == sorted(outputs), "golden files and outputs differ in kind"
    for name, text in outputs.items():
        expected = (folder / name).read_text(encoding="utf-8")
        if not _same(name, expected, text):
            diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), n=2))
            pytest.fail(
                f"{folder.name}/{name} differs from its golden file (--regen-golden rewrites it):\n{diff[:4000]}"
            )


def test_no_golden_folder_without_a_sample() -> None:
    wanted = {sample.removesuffix(".xml") for sample in _samples()}
    found = {str(p.parent.relative_to(GOLDEN)) for p in GOLDEN.rglob("*") if p.is_file()}
    assert found <= wanted, sorted(found - wanted)


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    """Scope: module. Type: SchemaRegistry. Default: from the project's settings."""
    return SchemaRegistry.from_settings(SETTINGS)


@pytest.mark.parametrize("sample", _samples())
def test_every_receipt_passes_its_xsd(translator: Translator, registry: SchemaRegistry, sample: str) -> None:
    receipt = _outputs(translator, sample).get("apprec.xml")
    if receipt is None:  # an AppRec is never answered; a listed sample may have no header to answer
        answers_nothing = EXPECTATIONS.get(sample, {}).get("apprec") == "none"
        assert answers_nothing or sample.startswith("apprec/"), "no AppRec for a message that must get one"
        return
    root = etree.fromstring(receipt.encode("utf-8"))  # our own output
    assert registry.validate(etree.ElementTree(root)) == []
