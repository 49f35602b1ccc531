"""The ratio table, the flatness table, the profile check and the targets, as text and as JSON."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from _validate.timing import Measurement

#: Targets from the benchmark issue.
MAX_OURS_OVER_FLOOR = 3.0
MIN_PEER_OVER_OURS = 10.0
MAX_FLATNESS = 1.5


@dataclass
class Cell:
    """One contestant on one input: a measurement, or why there is none."""

    measurement: Measurement | None = None
    note: str = ""

    @property
    def ms(self) -> float | None:
        return None if self.measurement is None else self.measurement.median * 1e3

    def text(self, scale: float = 1e3, digits: int = 2) -> str:
        if self.measurement is None:
            return self.note or "-"
        return f"{self.measurement.median * scale:.{digits}f}"


@dataclass
class Row:
    """One input with its cells by contestant key."""

    key: str
    label: str
    entries: int
    cells: dict[str, Cell] = field(default_factory=dict)
    outside_references: int = 0


@dataclass
class Target:
    name: str
    value: float | None
    limit: str
    passed: bool | None  # None: not measured

    @property
    def verdict(self) -> str:
        return "n/a" if self.passed is None else "PASS" if self.passed else "FAIL"


def ratio(top: float | None, bottom: float | None) -> float | None:
    if top is None or bottom is None or bottom == 0:
        return None
    return top / bottom


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def ratio_targets(rows: Sequence[Row]) -> list[Target]:
    """ours/floor <= 3 and peer/ours >= 10 for each ratio row."""
    targets = []
    for row in rows:
        ours, floor, peer = (row.cells[k].ms for k in ("ours", "floor", "peer"))
        of = ratio(ours, floor)
        targets.append(
            Target(f"{row.label}: ours/floor", of, f"<= {MAX_OURS_OVER_FLOOR:g}", _le(of, MAX_OURS_OVER_FLOOR))
        )
        po = ratio(peer, ours)
        targets.append(Target(f"{row.label}: peer/ours", po, f">= {MIN_PEER_OVER_OURS:g}", _ge(po, MIN_PEER_OVER_OURS)))
    return targets


def _le(value: float | None, limit: float) -> bool | None:
    return None if value is None else value <= limit


def _ge(value: float | None, limit: float) -> bool | None:
    return None if value is None else value >= limit


def per_entry_us(cell: Cell, entries: int) -> float | None:
    return None if cell.ms is None else cell.ms * 1e3 / entries


def flatness(rows: Sequence[Row], key: str) -> float | None:
    """max/min of the time per entry over the bundle sizes where ``key`` was measured (None below two sizes)."""
    values = [v for row in rows if (v := per_entry_us(row.cells[key], row.entries)) is not None]
    return max(values) / min(values) if len(values) >= 2 else None


def ratio_table(rows: Sequence[Row], targets: Sequence[Target]) -> list[str]:
    head = (
        f"{'input':<34} {'ours ms':>9} {'floor ms':>9} {'peer ms':>13}  "
        f"{'ours/floor (<=3)':<17} {'peer/ours (>=10)':<17}"
    )
    lines = [head, "-" * len(head)]
    for row, (of, po) in zip(rows, zip(targets[::2], targets[1::2], strict=True), strict=True):
        cells = [row.cells[k] for k in ("ours", "floor", "peer")]
        lines.append(
            f"{row.label:<34} {cells[0].text():>9} {cells[1].text():>9} {_short(cells[2]):>13}  "
            f"{_pair(of, 2):<17} {_pair(po, 1):<17}"
        )
    return lines


def _pair(target: Target, digits: int) -> str:
    return target.verdict if target.value is None else f"{target.value:.{digits}f} {target.verdict}"


def _short(cell: Cell) -> str:
    return cell.text() if cell.measurement is not None else (cell.note.split(":")[0] or "-")


def flatness_table(rows: Sequence[Row]) -> list[str]:
    head = (
        f"{'entries':>8} {'ours ms/call':>13} {'ours us/entry':>14} {'floor us/entry':>15} {'peer us/entry':>14}  note"
    )
    lines = [head, "-" * len(head)]
    for row in rows:
        us = {k: per_entry_us(row.cells[k], row.entries) for k in ("ours", "floor", "peer")}
        notes = [f"{k}: {row.cells[k].note}" for k in ("ours", "floor", "peer") if row.cells[k].measurement is None]
        if row.outside_references:
            notes.append(f"{row.outside_references} references point outside the bundle (prefix of the example)")
        lines.append(
            f"{row.entries:>8} {row.cells['ours'].text():>13} {_fmt(us['ours'], 0):>14} {_fmt(us['floor'], 0):>15} "
            f"{_fmt(us['peer'], 0):>14}  {'; '.join(notes)}"
        )
    flat = {k: flatness(rows, k) for k in ("ours", "floor", "peer")}
    lines.append(
        f"{'max/min':>8} {'':>13} {_fmt(flat['ours']):>14} {_fmt(flat['floor']):>15} {_fmt(flat['peer']):>14}"
        "  (time per entry; target for ours <= 1.5)"
    )
    return lines


def flatness_target(rows: Sequence[Row]) -> Target:
    value = flatness(rows, "ours")
    sizes = ", ".join(str(row.entries) for row in rows if row.cells["ours"].measurement is not None)
    return Target(
        f"ours time per entry flat over {sizes} entries", value, f"<= {MAX_FLATNESS:g}", _le(value, MAX_FLATNESS)
    )


def row_json(row: Row) -> dict[str, Any]:
    return {
        "input": row.key,
        "label": row.label,
        "entries": row.entries,
        "outside_references": row.outside_references,
        **{
            key: (cell.measurement.as_json() | {"us_per_entry": round(cell.ms * 1e3 / row.entries, 3)})
            if cell.measurement is not None and cell.ms is not None
            else {"skipped": cell.note}
            for key, cell in row.cells.items()
        },
    }


def target_json(target: Target) -> dict[str, Any]:
    return {
        "target": target.name,
        "value": None if target.value is None else round(target.value, 4),
        "limit": target.limit,
        "result": target.verdict,
    }
