"""Every to-FHIR mapping is exercised by a real message: its root element is the root of a KITH sample that
tests/test_translate.py translates (read from the standards directory, never copied) or of an example in
examples/kith/, or the payload root of one (a child of RefDoc/Content). A mapping without a message is a mapping no
test runs: add a sample folder to test_translate.COVERED, or write an example (mappings/README.md, "How to add a
message type")."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from lxml import etree
from test_translate import SAMPLES, SETTINGS, _samples

from adapter.errors import AdapterError
from adapter.mapping import Mappings
from adapter.parse.xml_safe import parse_xml

EXAMPLES = SETTINGS.examples_dir / "kith"


def exercised(messages: Iterable[etree._Element]) -> set[str]:
    """The element names (Clark) a mapping can be chosen by in these messages: each message's root and each payload
    root in it (a child of a ``Content`` element, as in MsgHead's and Epikrise's RefDoc)."""
    found: set[str] = set()
    for root in messages:
        found.add(str(root.tag))
        for element in root.iter(etree.Element):
            parent = element.getparent()
            if parent is not None and etree.QName(parent).localname == "Content":
                found.add(str(element.tag))
    return found


def without_messages(roots: Iterable[str], messages: Iterable[etree._Element]) -> list[str]:
    """The mapping roots (Clark names) that no message exercises, sorted."""
    return sorted(set(roots) - exercised(messages))


def read(paths: Iterable[Path]) -> list[etree._Element]:
    """The root elements of the messages that can be read at all (a deliberately broken sample cannot)."""
    roots = []
    for path in paths:
        try:
            roots.append(parse_xml(path.read_bytes()).getroot())
        except AdapterError:
            continue
    return roots


def test_every_to_fhir_mapping_has_a_sample_or_an_example() -> None:
    mappings = Mappings.load(SETTINGS)
    messages = read([*(SAMPLES / s for s in _samples()), *sorted(EXAMPLES.glob("*.xml"))])
    missing = without_messages(mappings.by_root, messages)
    files = [mappings.by_root[root].file for root in missing]
    assert files == [], f"to-FHIR mappings that no sample or example exercises: {files}"


def _message(xml: str) -> etree._Element:
    return parse_xml(xml.encode("utf-8")).getroot()


def test_a_mapping_without_a_message_is_found() -> None:
    """The check itself: a fake list of mapping roots, one with a message (as its root), one as a payload inside
    a message, and one with none."""
    messages = [
        _message('<Message xmlns="urn:example:a"><MsgId>1</MsgId></Message>'),
        _message(
            '<Head xmlns="urn:example:h"><RefDoc><Content><Note xmlns="urn:example:n"/></Content></RefDoc></Head>'
        ),
    ]
    roots = ["{urn:example:a}Message", "{urn:example:h}Head", "{urn:example:n}Note", "{urn:example:z}Epicrisis"]
    assert without_messages(roots, messages) == ["{urn:example:z}Epicrisis"]
    assert without_messages(roots[:3], messages) == []
    # an element of the same name that is no payload root does not count
    nested = [_message('<Head xmlns="urn:example:h"><Body><Epicrisis xmlns="urn:example:z"/></Body></Head>')]
    assert without_messages(["{urn:example:z}Epicrisis"], nested) == ["{urn:example:z}Epicrisis"]
