"""The command line: every command answers --help, exit codes follow the documented contract."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from adapter.cli import main


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            found.extend(_commands(command, (*prefix, name)))
        else:
            found.append((*prefix, name))
    return found


@pytest.mark.parametrize("words", _commands(main), ids=lambda w: " ".join(w) or "samhandling")
def test_every_command_has_help(words: tuple[str, ...]) -> None:
    result = CliRunner().invoke(main, [*words, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    assert len(result.output.splitlines()) > 3


def test_expected_subcommands_exist() -> None:
    commands = {" ".join(w) for w in _commands(main)}
    assert {"profiles build", "profiles package", "examples check"} <= commands


def test_missing_standards_directory_is_a_setup_error_naming_the_folder(tmp_path) -> None:
    result = CliRunner().invoke(main, ["--standards", str(tmp_path / "nowhere"), "examples", "check"])
    assert result.exit_code == 2
    assert "ADP-0001" in result.output
    assert "nowhere" in result.output


def test_unknown_command_is_a_usage_error() -> None:
    assert CliRunner().invoke(main, ["frobnicate"]).exit_code == 2


@pytest.mark.parametrize(
    ("words", "option"),
    [
        (["--port", "0"], "--port"),
        (["--port", "65536"], "--port"),
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "http"], "--port"),
        (["--workers", "0"], "--workers"),
        (["--workers", "-3"], "--workers"),
        (["--threads", "0"], "--threads"),
        (["--threads", "-1"], "--threads"),
    ],
)
def test_serve_options_out_of_range_are_a_usage_error_before_anything_starts(
    words: list[str], option: str, tmp_path
) -> None:
    """Refused by click (exit 2, the option named) before the service is built or gunicorn binds a port."""
    result = CliRunner().invoke(main, ["serve", *words], env={"SAMHANDLING_DATA_DIR": str(tmp_path / "data")})
    assert result.exit_code == 2, result.output
    assert "Invalid value" in result.output and option in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output and not (tmp_path / "data").exists()
