"""``bench/validate``: our profile validation against the structure-only floor and the pyrofile-validator peer."""

from __future__ import annotations

import argparse
import json
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from _validate import contestants, inputs
from _validate.report import (
    Cell,
    Row,
    Target,
    flatness_table,
    flatness_target,
    ratio_table,
    ratio_targets,
    row_json,
    target_json,
)
from _validate.timing import measure
from adapter.config import Settings
from adapter.errors import AdapterError

KEYS = ("ours", "floor", "peer")


@dataclass(frozen=True)
class Plan:
    """What one run measures, after --quick and the explicit options are applied."""

    quick: bool
    ratio_entries: int
    sizes: tuple[int, ...]
    min_time: float
    max_repeats: int
    warmup_max_entries: int
    peer_max_entries: int
    floor_max_entries: int
    peer_defs: str


def parse_args(argv: Sequence[str] | None) -> tuple[argparse.Namespace, Plan]:
    parser = argparse.ArgumentParser(
        prog="bench/validate",
        description=(
            "Time our profile validation of the crisis-plan CarePlan and of message bundles against the floor "
            "(fhir.resources R4B model_validate, structure only) and the peer (pyrofile-validator 0.3.0 with our "
            "profiles loaded), in one process, and print the ratios against the targets."
        ),
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: small bundles, few repeats (a few seconds)")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write every figure as JSON to PATH")
    parser.add_argument("--entries", type=int, help="bundle size of the ratio table (default 100; quick 20)")
    parser.add_argument(
        "--sizes", help="comma-separated bundle sizes of the flatness table (default 10,100,1000,10000; quick 10,20,40)"
    )
    parser.add_argument("--min-time", type=float, help="seconds of timed calls per contestant and input (default 0.5)")
    parser.add_argument("--repeats", type=int, help="at most this many timed calls per contestant and input (100)")
    parser.add_argument(
        "--peer-max-entries", type=int, help="time the peer only on bundles up to this size (default 1000; quick 20)"
    )
    parser.add_argument(
        "--floor-max-entries", type=int, help="time the floor only on bundles up to this size (default 10000)"
    )
    parser.add_argument(
        "--peer-defs",
        choices=("core", "minimal"),
        default="core",
        help="definitions the peer loads: 'core' = our profiles + no-basis + R4 core package, as ours uses "
        "(default); 'minimal' = our profiles + no-basis only",
    )
    args = parser.parse_args(argv)
    sizes = (10, 20, 40) if args.quick else (10, 100, 1000, 10000)
    if args.sizes:
        try:
            sizes = tuple(int(part) for part in args.sizes.split(","))
        except ValueError:
            parser.error("--sizes takes comma-separated whole numbers, e.g. 10,100,1000")
    plan = Plan(
        quick=args.quick,
        ratio_entries=args.entries or (20 if args.quick else 100),
        sizes=tuple(sorted(set(sizes))),
        min_time=args.min_time if args.min_time is not None else (0.05 if args.quick else 0.5),
        max_repeats=args.repeats or (3 if args.quick else 100),
        warmup_max_entries=1000,
        peer_max_entries=args.peer_max_entries or (20 if args.quick else 1000),
        floor_max_entries=args.floor_max_entries or 10000,
        peer_defs=args.peer_defs,
    )
    if plan.ratio_entries < 1 or min(plan.sizes) < 1 or plan.max_repeats < 1 or plan.min_time < 0:
        parser.error("sizes, entries and repeats must be at least 1, and --min-time not negative")
    return args, plan


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args, plan = parse_args(argv)
    settings = Settings.from_env()
    examples = settings.examples_dir / "fhir"
    with contestants.workdir() as scratch:
        try:
            progress("setting up ours, floor and peer (not timed) ...")
            players = {
                "ours": contestants.ours(settings),
                "floor": contestants.floor(),
                "peer": contestants.peer(settings, plan.peer_defs, Path(scratch)),
            }
        except AdapterError as exc:
            print(f"bench/validate: setup failed: {exc}", file=sys.stderr)
            return 2
        if players["peer"].call is None:
            print(f"bench/validate: {contestants.peer_missing_message()}", file=sys.stderr)
            if not plan.quick:
                return 2
            progress("--quick: going on with ours and floor only; the peer column says 'not installed'")
        return run(args, plan, settings, examples, players)


def run(
    args: argparse.Namespace,
    plan: Plan,
    settings: Settings,
    examples: Path,
    players: dict[str, contestants.Contestant],
) -> int:
    single = inputs.single_careplan(examples)
    bundle_sizes = sorted({plan.ratio_entries, *plan.sizes})
    bundles = {n: inputs.message_bundle(examples, n) for n in bundle_sizes}
    progress("profile check: the valid CarePlan and a copy that breaks only the profile ...")
    checks = profile_check(players, single.resource, bundles[plan.ratio_entries])

    todo = [single, *(bundles[n] for n in bundle_sizes)]
    rows: dict[str, Row] = {}
    for number, item in enumerate(todo, 1):
        rows[item.key] = time_input(number, len(todo), item, plan, players)

    ratio_rows = [rows[single.key], rows[bundles[plan.ratio_entries].key]]
    flat_rows = [rows[bundles[n].key] for n in plan.sizes]
    targets = ratio_targets(ratio_rows)
    flat = flatness_target(flat_rows)

    lines = header(plan, settings, players)
    lines += ["", "Median time per validate call (ms), one process, contestants interleaved:", ""]
    lines += ratio_table(ratio_rows, targets)
    lines += ["", "Flatness: message Bundle grown by copies of its entries; time per entry in microseconds:", ""]
    lines += flatness_table(flat_rows)
    lines += ["", *check_lines(checks)]
    lines += ["", "Targets:"]
    lines += [f"  {t.verdict:<4}  {t.name}: {fmt_target(t)}" for t in [*targets, flat]]
    print("\n".join(line.rstrip() for line in lines))

    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps(figures(plan, settings, players, ratio_rows, flat_rows, targets, flat, checks), indent=2) + "\n",
            encoding="utf-8",
        )
        progress(f"figures written to {args.json}")
    return 0


def time_input(
    number: int, total: int, item: inputs.Input, plan: Plan, players: dict[str, contestants.Contestant]
) -> Row:
    row = Row(item.key, item.label, item.entries, outside_references=item.outside_references)
    calls = {}
    for key in KEYS:
        player = players[key]
        note = skip_reason(key, player, item, plan)
        row.cells[key] = Cell(note=note or "")
        if note is None and player.call is not None:
            call = player.call
            calls[key] = lambda call=call, resource=item.resource: call(resource)
    warmup = 1 if item.entries <= plan.warmup_max_entries else 0
    progress(
        f"[{number}/{total}] {item.label}: timing {', '.join(calls)}"
        + ("" if warmup else " (no warm-up at this size: the smaller inputs warmed the same code)")
        + " ..."
    )
    results = measure(calls, warmup=warmup, min_time=plan.min_time, max_repeats=plan.max_repeats)
    for key, result in results.items():
        row.cells[key].measurement = result
    progress(
        "        "
        + ", ".join(f"{key} {row.cells[key].text()} ms ({len(result.samples)}x)" for key, result in results.items())
    )
    return row


def skip_reason(key: str, player: contestants.Contestant, item: inputs.Input, plan: Plan) -> str | None:
    if player.call is None:
        return player.status
    if key == "peer" and item.entries > plan.peer_max_entries:
        return f"skipped: too slow above {plan.peer_max_entries} entries"
    if key == "floor" and item.entries > plan.floor_max_entries:
        return f"skipped: above {plan.floor_max_entries} entries"
    return player.refuses(item.resource)


def profile_check(
    players: dict[str, contestants.Contestant], careplan: dict[str, Any], bundle: inputs.Input
) -> dict[str, dict[str, Any]]:
    """Per contestant: issue counts on the valid inputs, and whether the profile-only breakage is caught."""
    broken = inputs.broken_careplan(careplan)
    out: dict[str, dict[str, Any]] = {}
    for key in KEYS:
        player = players[key]
        if player.call is None:
            out[key] = {"status": player.status}
            continue
        valid = player.outcome(careplan)
        new = player.outcome(broken).error_keys - valid.error_keys
        entry: dict[str, Any] = {
            "careplan_errors": valid.errors,
            "careplan_warnings": valid.warnings,
            "broken_new_errors": sorted(" ".join(part for part in k if part) for k in new),
            "enforces_profile": bool(new),
        }
        if player.refuses(bundle.resource) is None:
            on_bundle = player.outcome(bundle.resource)
            entry["bundle_errors"], entry["bundle_warnings"] = on_bundle.errors, on_bundle.warnings
        out[key] = entry
    out["bundle_entries"] = {"entries": bundle.entries}
    return out


def check_lines(checks: dict[str, dict[str, Any]]) -> list[str]:
    entries = checks["bundle_entries"]["entries"]
    lines = [
        "Profile check (untimed). Errors/warnings on the valid CarePlan and the valid "
        f"{entries}-entry bundle, and on a broken",
        "copy of the CarePlan without the category slice 'plantype' (the profile requires it, core CarePlan does not):",
    ]
    for key in KEYS:
        check = checks[key]
        if "status" in check:
            lines.append(f"  {key:<6} {check['status']}")
            continue
        verdict = "enforces the profile" if check["enforces_profile"] else "does not see the profile breakage"
        caught = ", ".join(check["broken_new_errors"][:3]) or "no new error"
        bundle = f"{check['bundle_errors']}/{check['bundle_warnings']}" if "bundle_errors" in check else "not validated"
        lines.append(
            f"  {key:<6} valid CarePlan {check['careplan_errors']}/{check['careplan_warnings']}, "
            f"valid bundle {bundle}; broken copy: {verdict} ({caught})"
        )
    return lines


def fmt_target(target: Target) -> str:
    value = "not measured" if target.value is None else f"{target.value:.2f}"
    return f"{value} (target {target.limit})"


def versions() -> dict[str, str]:
    found = {}
    for dist in ("fhir.resources", "fhir-core", "pydantic", "fhirpathpy", contestants.PEER_DIST):
        try:
            found[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            found[dist] = "not installed"
    return found


def header(plan: Plan, settings: Settings, players: dict[str, contestants.Contestant]) -> list[str]:
    peer = players["peer"]
    peer_text = (
        f"{peer.label}, definitions '{plan.peer_defs}' ({peer.detail.get('structureDefinitionsLoaded')} "
        f"StructureDefinitions), validate_resource"
        if peer.call is not None
        else f"{contestants.PEER_DIST}: {peer.status} (pip install -r bench/requirements.txt)"
    )
    mode = "quick smoke run" if plan.quick else "full run"
    return [
        f"bench/validate ({mode}; Python {platform.python_version()}, {platform.machine()})",
        f"  ours : {players['ours'].label}",
        f"  floor: {players['floor'].label}",
        f"  peer : {peer_text}",
        f"  timing: warm-up 1 call (bundles up to {plan.warmup_max_entries} entries), then interleaved calls until "
        f"{plan.min_time:g} s or {plan.max_repeats} calls per contestant; median",
    ]


def figures(
    plan: Plan,
    settings: Settings,
    players: dict[str, contestants.Contestant],
    ratio_rows: list[Row],
    flat_rows: list[Row],
    targets: list[Target],
    flat: Target,
    checks: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    return {
        "run": {
            "quick": plan.quick,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "versions": versions(),
            "min_time_s": plan.min_time,
            "max_repeats": plan.max_repeats,
            "peer": {"status": players["peer"].status, **players["peer"].detail},
        },
        "ratios": [row_json(row) for row in ratio_rows],
        "flatness": [row_json(row) for row in flat_rows],
        "profile_check": checks,
        "targets": [target_json(t) for t in [*targets, flat]],
    }
