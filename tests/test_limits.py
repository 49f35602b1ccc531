"""The caps on one document (adapter.parse.caps), the validation time budget (adapter.validate.limits) and the
turns of expensive requests (adapter.api.limits), tried as an abuser would: many tiny values, deep nesting, a Bundle
of many entries, in JSON and in XML; a check that runs past its budget; more requests than turns."""

from __future__ import annotations

import json
import multiprocessing
import threading
from pathlib import Path
from typing import Any

import pytest

from adapter.api.limits import Gate, rate_items
from adapter.config import Settings
from adapter.errors import AdapterError
from adapter.parse import caps
from adapter.parse.caps import CAPS, Caps, check_caps
from adapter.parse.fhir_source import read_fhir
from adapter.validate import Validator
from adapter.validate.limits import CLOCK_EVERY, end_budget, spend, start_budget


def _code(error: pytest.ExceptionInfo[AdapterError]) -> str:
    return error.value.issues[0].code


def test_the_settings_default_to_the_caps_defaults() -> None:
    defaults = Settings()
    assert (defaults.max_elements, defaults.max_depth, defaults.max_entries) == (
        caps.MAX_ELEMENTS,
        caps.MAX_DEPTH,
        caps.MAX_ENTRIES,
    )


def test_elements_are_counted_exactly_up_to_the_cap() -> None:
    limit = Caps(elements=10)
    check_caps({"resourceType": "Patient", "name": [{"given": ["a"] * 6}]}, limit)  # 2 + 1 + 1 + 6 = 10
    with pytest.raises(AdapterError) as error:
        check_caps({"resourceType": "Patient", "name": [{"given": ["a"] * 7}]}, limit)
    assert _code(error) == "ADP-5100"
    assert error.value.issues[0].args == {"limit": 10}


def test_depth_and_entries_have_their_own_caps() -> None:
    nested: Any = "deepest"
    for _ in range(5):
        nested = {"extension": [nested]}  # two levels each
    check_caps(nested, Caps(depth=10))
    with pytest.raises(AdapterError) as error:
        check_caps(nested, Caps(depth=9))
    assert _code(error) == "ADP-5101"
    inner = {"resourceType": "Bundle", "entry": [{}] * 4}
    outer = {"resourceType": "Bundle", "entry": [{"resource": inner}]}  # a Bundle inside counts too
    check_caps(outer, Caps(entries=4))
    with pytest.raises(AdapterError) as error:
        check_caps(outer, Caps(entries=3))
    assert _code(error) == "ADP-5102"
    assert error.value.issues[0].args == {"count": 4, "limit": 3}


def test_a_300000_element_json_array_is_refused_while_reading(validator: Validator) -> None:
    data = json.dumps({"resourceType": "Patient", "name": [{"given": ["a"] * 300_000}]}).encode()
    with pytest.raises(AdapterError) as error:
        read_fhir(data, validator.definitions)
    assert _code(error) == "ADP-5100"
    assert validator.validate_bytes(data)[0].code == "ADP-5100"  # the CLI's path: the same refusal


def test_xml_meets_the_same_caps_as_json(validator: Validator) -> None:
    entries = "".join("<entry><resource><Patient><active value='true'/></Patient></resource></entry>" for _ in range(4))
    data = f"<Bundle xmlns='http://hl7.org/fhir'><type value='collection'/>{entries}</Bundle>".encode()
    read_fhir(data, validator.definitions)
    token = CAPS.set(Caps(entries=3))
    try:
        with pytest.raises(AdapterError) as error:
            read_fhir(data, validator.definitions)
        assert _code(error) == "ADP-5102"
        CAPS.set(Caps(elements=10))
        with pytest.raises(AdapterError) as error:
            read_fhir(data, validator.definitions)
        assert _code(error) == "ADP-5100"
    finally:
        CAPS.reset(token)


def test_the_budget_is_spent_only_where_one_was_started() -> None:
    for _ in range(3 * (CLOCK_EVERY + 1)):
        spend()  # no budget: nothing happens
    token = start_budget(1e-9)
    try:
        for _ in range(CLOCK_EVERY):
            spend()  # the clock is looked at only on the next call
        with pytest.raises(AdapterError) as error:
            spend()
        assert _code(error) == "ADP-5103"
    finally:
        end_budget(token)
    spend()


def test_a_validation_over_its_budget_stops_with_adp_5103(validator: Validator) -> None:
    resource = {"resourceType": "Patient", "name": [{"family": "Nordmann"}] * 2000}
    token = start_budget(1e-9)
    try:
        with pytest.raises(AdapterError) as error:
            validator.validate(resource)
        assert _code(error) == "ADP-5103"
    finally:
        end_budget(token)
    assert not [i for i in validator.validate(resource) if i.code == "ADP-5103"]


def test_a_rate_setting_that_is_no_rate_is_refused_by_name() -> None:
    assert [str(item) for item in rate_items("2/second; 10/minute", "rate_limit")] == [
        "2 per 1 second",
        "10 per 1 minute",
    ]
    assert rate_items(" ", "rate_limit") == []
    with pytest.raises(ValueError, match="SAMHANDLING_RATE_LIMIT_ANONYMOUS"):
        rate_items("lots", "rate_limit_anonymous")


def test_the_gate_lets_running_through_keeps_waiting_and_refuses_the_rest(tmp_path: Path) -> None:
    gate = Gate(running=1, waiting=1, folder=tmp_path, wait=5.0)
    first = gate.enter()
    assert first is not None
    waited: list[int | None] = []
    waiter = threading.Thread(target=lambda: waited.append(gate.enter()))
    waiter.start()
    while gate._waiting == 0:  # noqa: SLF001 - the waiting room is what is tried here
        threading.Event().wait(0.001)
    assert gate.enter() is None  # one runs, one waits: the third is refused at once
    gate.leave(first)
    waiter.join(5)
    assert waited and waited[0] is not None
    gate.leave(waited[0])


def _take_turn(folder: str, held: Any, release: Any) -> None:
    gate = Gate(running=1, waiting=0, folder=Path(folder), wait=5.0)
    turn = gate.enter()
    held.set()
    release.wait(10)
    if turn is not None:
        gate.leave(turn)


def test_the_turns_are_shared_by_the_worker_processes(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=_take_turn, args=(str(tmp_path), held, release))
    other.start()
    try:
        assert held.wait(30)
        gate = Gate(running=1, waiting=0, folder=tmp_path, wait=0.05)
        assert gate.enter() is None  # the other process holds the host's one turn
        release.set()
        other.join(30)
        turn = gate.enter()
        assert turn is not None
        gate.leave(turn)
    finally:
        release.set()
        other.join(30)
