"""The ``samhandling`` command line.

Every subcommand has ``--help``. Exit status: 0 when all went well, 1 when the work found problems (stale
profiles, failing examples), 2 on usage errors or a broken setup (missing standards folder, missing tool).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click

from adapter import __version__
from adapter.config import Settings
from adapter.errors import AdapterError, SetupError


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def _fail(error: AdapterError) -> NoReturn:
    """Print the issues; exit 2 for a broken setup, 1 when the work itself is wrong (e.g. an FSH error)."""
    for issue in error.issues:
        click.echo(f"{issue.code}: {issue.text_en}", err=True)
    sys.exit(2 if isinstance(error, SetupError) else 1)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="samhandling")
@click.option(
    "--standards",
    type=click.Path(file_okay=False, path_type=Path),
    help="Standards directory with fhir/ and kith/ (default: $SAMHANDLING_STANDARDS, else ../shared/standards).",
)
@click.pass_context
def main(ctx: click.Context, standards: Path | None) -> None:
    """Samhandling adapter: FHIR profiles, validation and KITH translation for shared care plans."""
    settings = Settings.from_env()
    if standards is not None:
        settings = Settings(home=settings.home, standards=standards.resolve(), cache=settings.cache)
    ctx.ensure_object(dict)["settings"] = settings


@main.group()
def profiles() -> None:
    """Build, check and publish the FHIR profiles in profiles/."""


@profiles.command("build")
@click.option("--check", is_flag=True, help="Do not write; exit 1 when the committed JSON differs from a fresh build.")
@click.pass_context
def profiles_build(ctx: click.Context, check: bool) -> None:
    """Compile profiles/input/fsh with SUSHI (offline) into profiles/resources and examples/fhir."""
    from adapter.build import sushi

    settings = _settings(ctx)
    try:
        result = sushi.build(settings)
    except AdapterError as error:
        _fail(error)
    for warning in result.warnings:
        click.echo(warning, err=True)
    if check:
        found = sushi.differences(settings, result)
        for difference in found:
            click.echo(difference)
        if found:
            click.echo(f"{len(found)} file(s) differ from a fresh build: run `samhandling profiles build`.", err=True)
            sys.exit(1)
        click.echo(f"Up to date: {len(result.resources)} conformance resources, {len(result.examples)} examples.")
        return
    count = sushi.write(settings, result)
    click.echo(f"Wrote {count} files ({len(result.resources)} conformance resources, {len(result.examples)} examples).")


@profiles.command("package")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist"),
    show_default=True,
    help="Folder to write the .tgz into.",
)
@click.pass_context
def profiles_package(ctx: click.Context, out_dir: Path) -> None:
    """Write the profiles as a FHIR npm package (.tgz) that SUSHI, HAPI or Firely can load as a dependency."""
    from adapter.build.package import write_package

    try:
        target = write_package(_settings(ctx), out_dir)
    except AdapterError as error:
        _fail(error)
    click.echo(str(target))


@main.group()
def examples() -> None:
    """Check the examples in examples/ against their stated outcomes."""


@examples.command("check")
@click.option("-v", "--verbose", is_flag=True, help="Show every issue, warnings included.")
@click.pass_context
def examples_check(ctx: click.Context, verbose: bool) -> None:
    """Validate every example offline and print a summary; exit 1 when any example differs from its expectation."""
    from adapter import examples as catalogue
    from adapter.validate import Validator

    settings = _settings(ctx)
    try:
        validator = Validator(settings)
        found = list(catalogue.discover(settings.examples_dir))
    except AdapterError as error:
        _fail(error)
    outcomes = []
    with click.progressbar(found, label="Checking examples", file=sys.stderr, show_pos=True) as bar:
        for example in bar:
            outcomes.append(catalogue.check(example, validator))
    width = max((len(o.example.name) for o in outcomes), default=10)
    for outcome in outcomes:
        mark = click.style("PASS", fg="green") if outcome.passed else click.style("FAIL", fg="red")
        click.echo(f"{mark}  {outcome.example.name:<{width}}  {outcome.detail}")
        if verbose or not outcome.passed:
            for issue in outcome.found:
                click.echo(f"      {issue}")
    failed = sum(not o.passed for o in outcomes)
    negatives = sum(o.example.negative for o in outcomes)
    click.echo(
        f"{len(outcomes) - failed} passed, {failed} failed "
        f"({len(outcomes) - negatives} valid examples, {negatives} negative examples)"
    )
    sys.exit(1 if failed or not outcomes else 0)


if __name__ == "__main__":  # pragma: no cover
    main()
