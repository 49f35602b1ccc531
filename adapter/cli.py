"""The ``samhandling`` command line.

Every subcommand has ``--help``. Exit status: 0 when all went well, 1 when the work found problems (stale
profiles, failing examples), 2 on usage errors or a broken setup (missing standards folder, missing tool).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from adapter import __version__
from adapter.config import Settings
from adapter.errors import AdapterError


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.ensure_object(dict).setdefault("settings", Settings.from_env())
    return settings


def _fail_setup(error: AdapterError) -> None:
    for issue in error.issues:
        click.echo(f"{issue.code}: {issue.text_en}", err=True)
    sys.exit(2)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="samhandling")
@click.option(
    "--standards",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SAMHANDLING_STANDARDS",
    help="Standards directory with fhir/ and kith/ (default: ../shared/standards beside the checkout).",
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
        _fail_setup(error)
        return
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


if __name__ == "__main__":  # pragma: no cover
    main()
