"""Norwegian identifier checks: the cases in tests/cases/identifiers.yaml, and a property test over generated
person numbers whose check digits are computed here, independently of the module."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from adapter.identifiers import (
    DNR_SYSTEM,
    FHN_SYSTEM,
    FNR_SYSTEM,
    IDENTIFIER_KINDS,
    IdentifierProblem,
    check_identifier,
)

CASES = Path(__file__).parent / "cases" / "identifiers.yaml"


def _cases() -> list[Any]:
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    return [
        pytest.param(case, id=f"{IDENTIFIER_KINDS.get(case['system'] or '', 'unchecked')}-{case['value']}")
        for case in cases
    ]


@pytest.mark.parametrize("case", _cases())
def test_case(case: dict[str, Any]) -> None:
    """A valid value gives no problem; an invalid one gives a problem whose English detail says what is wrong."""
    problem = check_identifier(case["system"], case["value"])
    if case["valid"]:
        assert problem is None, problem
        return
    assert isinstance(problem, IdentifierProblem)
    assert all((problem.kind_en, problem.kind_nb, problem.detail_en, problem.detail_nb))
    assert problem.detail_en != problem.detail_nb
    if "contains" in case:
        assert case["contains"] in problem.detail_en


def test_every_kind_has_cases() -> None:
    """The case file has valid and invalid values for every kind of identifier."""
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))
    covered = {(IDENTIFIER_KINDS.get(c["system"] or ""), c["valid"]) for c in cases}
    for kind in set(IDENTIFIER_KINDS.values()):
        assert (kind, True) in covered and (kind, False) in covered, kind


# --- Property test: generated numbers --------------------------------------------------------------------------------


def _check_digit(digits: str, weights: tuple[int, ...]) -> int | None:
    """Modulus 11 as the standard writes it: 11 - (sum mod 11), where 11 means 0 and 10 means "no digit fits"."""
    digit = 11 - sum(int(d) * w for d, w in zip(digits, weights, strict=True)) % 11
    return {11: 0, 10: None}.get(digit, digit)


def _with_check_digits(nine: str) -> str | None:
    """The nine digits followed by the two check digits, or None when either cannot be computed."""
    k1 = _check_digit(nine, (3, 7, 6, 1, 8, 9, 4, 5, 2))
    if k1 is None:
        return None
    k2 = _check_digit(nine + str(k1), (5, 4, 3, 2, 7, 6, 5, 4, 3, 2))
    return None if k2 is None else f"{nine}{k1}{k2}"


def _individual_range(year: int) -> range:
    """Individual numbers the series hand out for a birth year (so the century read back is the right one)."""
    if year < 1900:
        return range(500, 750)
    if year < 1940:
        return range(0, 500)
    if year < 2000:
        return range(900, 1000)  # 000–499 is drawn by the caller as well
    return range(500, 1000)


@st.composite
def person_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A (system, value): a fødselsnummer, D-nummer, felles hjelpenummer or H-nummer with correct check digits."""
    kind = draw(st.sampled_from(["fnr", "dnr", "fh", "h"]))
    if kind == "fh":
        nine = draw(st.sampled_from("89")) + draw(st.text("0123456789", min_size=8, max_size=8))
    else:
        born = draw(st.dates(datetime.date(1854, 1, 1), datetime.date(2039, 12, 31)))
        if 1900 <= born.year < 2000 and draw(st.booleans()):
            individual = draw(st.integers(0, 499))
        else:
            individual = draw(st.sampled_from(_individual_range(born.year)))
        day = born.day + (40 if kind == "dnr" else 0)
        month = born.month + (40 if kind == "h" else draw(st.sampled_from([0, 40, 80])))
        nine = f"{day:02}{month:02}{born.year % 100:02}{individual:03}"
    value = _with_check_digits(nine)
    assume(value is not None)
    assert value is not None
    system = {"fnr": FNR_SYSTEM, "dnr": DNR_SYSTEM}.get(kind, FHN_SYSTEM)
    return system, value


@settings(database=None, max_examples=300)
@given(person_numbers())
def test_generated_numbers(number: tuple[str, str]) -> None:
    """Every generated number is accepted, and every other last digit is rejected as a wrong second check digit."""
    system, value = number
    assert check_identifier(system, value) is None
    for digit in "0123456789":
        if digit == value[-1]:
            continue
        problem = check_identifier(system, value[:-1] + digit)
        assert problem is not None
        assert f"second check digit (digit 11) is wrong (expected {value[-1]}" in problem.detail_en
