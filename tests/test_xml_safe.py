"""The hardened XML entry point: what it refuses (and with which code), and what it must still accept."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from local_http import LocalHttp
from lxml import etree

from adapter.errors import AdapterError, Issue
from adapter.parse.xml_safe import MAX_BYTES, parse_xml, safe_parser


def _refusal(data: bytes, **kwargs: int) -> Issue:
    """The single issue parse_xml raises for ``data``."""
    with pytest.raises(AdapterError) as caught:
        parse_xml(data, **kwargs)
    assert len(caught.value.issues) == 1
    issue = caught.value.issues[0]
    assert issue.severity == "fatal"
    return issue


@pytest.fixture
def http_hits(local_http: LocalHttp) -> tuple[str, list[str]]:
    """Scope: function. Type: (base URL, list of requested paths). Default: conftest's local server, answering
    an entity declaration (what an external DTD or entity would fetch)."""
    local_http.body = b'<!ENTITY x "fetched">'
    return local_http.url, local_http.hits


def test_plain_document_parses() -> None:
    tree = parse_xml(b'<?xml version="1.0"?>\n<a xmlns="urn:x"><b c="1">text</b></a>')
    assert tree.getroot().tag == "{urn:x}a"
    assert tree.getroot()[0].get("c") == "1"
    assert tree.getroot()[0].sourceline == 2


def test_xxe_file_entity_is_refused(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    data = f'<?xml version="1.0"?>\n<!DOCTYPE a [<!ENTITY x SYSTEM "{secret.as_uri()}">]>\n<a>&x;</a>'.encode()
    issue = _refusal(data)
    assert issue.code == "ADP-1005"
    assert (issue.line, issue.column) == (2, 1)
    assert "TOP SECRET" not in str(issue.args)


def test_xxe_http_entity_is_refused_without_a_request(http_hits: tuple[str, list[str]]) -> None:
    base, hits = http_hits
    data = f'<!DOCTYPE a [<!ENTITY x SYSTEM "{base}/x">]><a>&x;</a>'.encode()
    assert _refusal(data).code == "ADP-1005"
    # The parser settings alone (without the DOCTYPE refusal) must not fetch either.
    root = etree.fromstring(data, safe_parser())
    assert "fetched" not in etree.tostring(root, encoding="unicode")
    assert hits == []


def test_external_dtd_is_refused_without_a_request(http_hits: tuple[str, list[str]]) -> None:
    base, hits = http_hits
    assert _refusal(f'<!DOCTYPE a SYSTEM "{base}/a.dtd"><a/>'.encode()).code == "ADP-1005"
    data = f'<!DOCTYPE a [<!ENTITY % p SYSTEM "{base}/p.dtd"> %p;]><a/>'.encode()
    assert _refusal(data).code == "ADP-1005"
    with pytest.raises(etree.XMLSyntaxError):  # the parser alone refuses the network too
        etree.fromstring(data, safe_parser())
    assert hits == []


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)]
    data = f'<?xml version="1.0"?><!DOCTYPE lolz [{"".join(levels)}]><lolz>&l9;</lolz>'.encode()
    started = time.perf_counter()
    assert _refusal(data).code == "ADP-1005"
    assert time.perf_counter() - started < 1


def test_entity_references_are_refused() -> None:
    issue = _refusal(b"<a>\n  caf&eacute;</a>")
    assert issue.code == "ADP-1005"
    assert issue.line == 2


def test_doctype_in_utf16_is_refused() -> None:
    data = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a/>'.encode("utf-16")
    assert _refusal(data).code == "ADP-1005"


def test_doctype_text_inside_content_is_fine() -> None:
    tree = parse_xml(b"<a><!-- <!DOCTYPE x> --><![CDATA[<!DOCTYPE html>]]></a>")
    assert tree.getroot()[0].tail == "<!DOCTYPE html>"


def test_oversized_input_is_refused_before_parsing() -> None:
    issue = _refusal(b"<a>" + b"x" * 100 + b"</a>", max_bytes=50)
    assert issue.code == "ADP-1006"
    assert issue.args == {"size": 107, "limit": 50}
    assert "107" in issue.text_en and "50" in issue.text_en
    assert MAX_BYTES == 20 * 1024 * 1024


def test_truncated_document_gives_line_and_column() -> None:
    issue = _refusal(b'<a>\n  <b c="1">\n    <d/>')
    assert issue.code == "ADP-1004"
    assert issue.line == 3
    assert issue.column is not None and issue.column > 0
    assert issue.args["detail"]  # lxml's own message


@pytest.mark.parametrize(
    "data",
    [b"", b"   ", b'{"resourceType": "Patient"}', b"<a></b>", b"<a>Tom & Jerry</a>", b"<a/><b/>"],
    ids=["empty", "blank", "json", "mismatched", "bare-ampersand", "two-roots"],
)
def test_not_well_formed(data: bytes) -> None:
    issue = _refusal(data)
    assert issue.code == "ADP-1004"
    assert issue.line is not None


@pytest.mark.parametrize(
    "data",
    [
        b'\xef\xbb\xbf<?xml version="1.0" encoding="UTF-8"?>\n<a>bl\xc3\xa5b\xc3\xa6r</a>',
        b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<a>bl\xe5b\xe6r</a>',
        '<?xml version="1.0" encoding="UTF-16"?>\n<a>blåbær</a>'.encode("utf-16"),
    ],
    ids=["utf8-bom", "latin1", "utf16"],
)
def test_encodings_and_bom(data: bytes) -> None:
    assert parse_xml(data).getroot().text == "blåbær"


def test_processing_instructions_and_comments_are_kept_not_run(http_hits: tuple[str, list[str]]) -> None:
    base, hits = http_hits
    data = f'<?xml-stylesheet type="text/xsl" href="{base}/s.xsl"?>\n<a><?app do-something?><!-- note --></a>'
    tree = parse_xml(data.encode())
    root = tree.getroot()
    before = root.getprevious()
    assert isinstance(before, etree._ProcessingInstruction)
    assert before.target == "xml-stylesheet"
    assert [type(child).__name__ for child in root] == ["_ProcessingInstruction", "_Comment"]
    assert hits == []


def test_safe_parser_settings() -> None:
    parser = safe_parser()
    assert parser is not safe_parser()  # one per caller: lxml parsers are not thread-safe
    # Entities stay unresolved even where a DOCTYPE declares them: nothing is expanded.
    root = etree.fromstring(b'<!DOCTYPE a [<!ENTITY x "expanded">]><a>&x;</a>', parser)
    assert "expanded" not in "".join(root.itertext())
