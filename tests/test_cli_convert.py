"""``samhandling convert``: KITH -> FHIR, FHIR -> KITH and the AppRec, with the exit status its help states."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from adapter.cli import main

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "examples" / "kith" / "dialogmelding-kriseplan-ola.xml"


def convert(*words: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["convert", *words])
    return result.exit_code, result.stdout, result.stderr


def test_kith_to_fhir_and_back(tmp_path: Path) -> None:
    code, out, _ = convert(str(PLAN), "--to", "fhir")
    assert code == 0 and json.loads(out)["resourceType"] == "Bundle"
    bundle = tmp_path / "bundle.json"
    bundle.write_text(out, encoding="utf-8")
    code, out, _ = convert(str(bundle), "--to", "kith")
    assert code == 0 and "<MsgHead" in out


def test_the_apprec_of_a_message(tmp_path: Path) -> None:
    code, out, _ = convert(str(PLAN), "--to", "apprec", "--gen-date", "2026-06-01T12:00:00")
    assert code == 0 and "<AppRec" in out and "2026-06-01T12:00:00" in out


def test_a_message_too_broken_to_answer_is_said_so_without_a_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "headless.xml"
    broken.write_bytes(
        b'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><MsgHead>&x;</MsgHead>'
    )
    code, out, err = convert(str(broken), "--to", "apprec")
    assert code == 1 and out == ""
    assert "no AppRec can answer this message" in err and "Traceback" not in err
    missing = convert(str(tmp_path / "absent.xml"), "--to", "fhir")
    assert missing[0] == 2
