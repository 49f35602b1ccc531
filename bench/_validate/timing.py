"""Interleaved timing: warm-up, then round-robin calls until each contestant has its time or repeat budget."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Measurement:
    """Seconds per call of one contestant on one input."""

    samples: list[float] = field(default_factory=list)
    warmups: int = 0

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    def as_json(self) -> dict[str, Any]:
        return {
            "median_ms": round(self.median * 1e3, 4),
            "min_ms": round(min(self.samples) * 1e3, 4),
            "max_ms": round(max(self.samples) * 1e3, 4),
            "repeats": len(self.samples),
            "warmups": self.warmups,
        }


def measure(
    calls: dict[str, Callable[[], Any]], *, warmup: int, min_time: float, max_repeats: int
) -> dict[str, Measurement]:
    """Time each call: ``warmup`` untimed calls each, then rounds of one timed call per contestant.

    A contestant drops out of the rounds once its timed calls add up to ``min_time`` seconds or it has
    ``max_repeats`` samples (at least one sample always). Rounds interleave the contestants, so a slow drift of the
    machine (frequency, other load) falls on all of them alike.
    """
    results = {key: Measurement(warmups=warmup) for key in calls}
    for _ in range(warmup):
        for call in calls.values():
            call()
    gc.collect()
    active = list(calls)
    spent = dict.fromkeys(calls, 0.0)
    while active:
        for key in list(active):
            start = time.perf_counter()
            calls[key]()
            took = time.perf_counter() - start
            results[key].samples.append(took)
            spent[key] += took
            if spent[key] >= min_time or len(results[key].samples) >= max_repeats:
                active.remove(key)
    return results
