"""Volume attacks on the KITH path, as an attacker would send them: a small message with thousands of stray elements
must not give an answer many times its size, and a document with more elements than any message needs is refused
before any work (T01, ADP-1010). Counts, never times."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from adapter.config import Settings
from adapter.parse.xml_safe import MAX_ELEMENTS
from adapter.receipt import receipt_for
from adapter.receipt.apprec import MAX_ERRORS
from adapter.translate import Translator
from adapter.validate import Validator

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "kith" / "dialogmelding-samtykke-ola.xml"


@pytest.fixture(scope="module")
def translator(settings: Settings, validator: Validator) -> Translator:
    """Scope: module. Type: Translator. Default: the project's mappings and the standards directory's XSDs."""
    return Translator(settings, validator)


def _with_stray(elements: bytes, count: int, where: bytes = b"<Notat") -> bytes:
    base = EXAMPLE.read_bytes()
    at = base.index(where)
    return base[:at] + elements * count + base[at:]


def _errors(receipt: bytes) -> list[str]:
    return [e.get("V", "") for e in etree.fromstring(receipt).iterfind("{*}Error")]


@pytest.mark.parametrize("stray", [b'<a x="1"/>', b'<Notat xmlns="urn:x"/>', b"<b/>"])
def test_thousands_of_stray_elements_give_a_small_receipt(translator: Translator, stray: bytes) -> None:
    data = _with_stray(stray, 5000)
    result = translator.kith_to_fhir(data)
    receipt = receipt_for(result, gen_date="2026-06-01T12:00:00")
    errors = _errors(receipt)
    assert errors and errors[0] in ("T02", "T10")
    assert len(errors) <= MAX_ERRORS + 2
    assert len(receipt) < len(data)


@pytest.mark.parametrize("stray", [b'<a x="1"/>', b'<a xmlns="urn:x"/>'])
def test_many_schema_errors_are_listed_up_to_the_limit_and_counted(translator: Translator, stray: bytes) -> None:
    """Each stray element right in RefDoc/Content breaks the schema on its own (as the outside tester found: 10,000
    of them gave an AppRec of 17 MB): the first errors are listed, then one more Error says how many were left out,
    and the stray elements are not mapped at all."""
    data = _with_stray(stray, 3000, where=b"<Dialogmelding")
    result = translator.kith_to_fhir(data)
    assert len(result.issues) < 300 and result.bundle is None
    receipt = receipt_for(result, gen_date="2026-06-01T12:00:00")
    errors = _errors(receipt)
    assert len(errors) == MAX_ERRORS + 1 and errors[0] in ("T02", "T10")
    assert b"feil til er ikke listet" in receipt


def test_more_elements_than_any_message_needs_is_refused_before_any_work(translator: Translator) -> None:
    data = _with_stray(b"<b/>", MAX_ELEMENTS + 1)
    result = translator.kith_to_fhir(data)
    assert [i.code for i in result.issues] == ["ADP-1010"]
    assert result.bundle is None
    assert _errors(receipt_for(result, gen_date="2026-06-01T12:00:00")) == ["T01"]
