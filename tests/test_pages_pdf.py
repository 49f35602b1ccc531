"""A server without WeasyPrint or without the system's pango cannot make the crisis plan's PDF: that is a setup
problem with a clear code (ADP-0008, HTTP 503) that says what to install, never a 500 with a stack trace."""

from __future__ import annotations

import sys

import pytest

from adapter.errors import AdapterError, http_status
from adapter.pages import to_pdf


def test_a_missing_pdf_library_is_a_setup_error_that_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint now raises ImportError
    with pytest.raises(AdapterError) as caught:
        to_pdf("<html lang='nb'><body><p>Ring først</p></body></html>")
    issue = caught.value.issues[0]
    assert issue.code == "ADP-0008" and http_status([issue]) == 503
    assert "libpango-1.0-0" in issue.text_en and "HTML" in issue.text_nb
