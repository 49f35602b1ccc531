"""Every to-FHIR mapping declares the messages that exercise it (``samples:``), and each of them does: its root element
is the mapping's root, or a payload root in it (a child of RefDoc/Content). Samples are read from the standards
directory (``standards:<path>``, never copied) or are our examples in examples/kith/. A mapping without a message is a
mapping no test runs (mappings/README.md, "How to add a message type"); the loader refuses a file that declares none,
and this test one whose samples do not exercise it. Every sample must also be among the messages
tests/test_translate.py translates, or an example."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path

import pytest
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


def sample_path(sample: str) -> Path:
    """Where a declared sample is: ``standards:<path>`` under the standards directory, else in the repo."""
    prefix = "standards:"
    return SETTINGS.standards / sample[len(prefix) :] if sample.startswith(prefix) else SETTINGS.home / sample


def test_every_to_fhir_mapping_declares_samples_that_exercise_it() -> None:
    mappings = Mappings.load(SETTINGS)
    translated = {SAMPLES / s for s in _samples()} | set(EXAMPLES.glob("*.xml"))
    for root, mapping in mappings.by_root.items():
        paths = [sample_path(s) for s in mapping.samples]
        assert all(p.is_file() for p in paths), f"{mapping.file}: a declared sample does not exist: {paths}"
        assert set(paths) <= translated, f"{mapping.file}: a sample the translation tests do not run: {paths}"
        assert without_messages([root], read(paths)) == [], f"{mapping.file}: its samples do not exercise it"


def test_every_to_fhir_mapping_has_a_sample_or_an_example() -> None:
    """Beside the declarations: every mapping is exercised by some message the translation tests run."""
    mappings = Mappings.load(SETTINGS)
    messages = read([*(SAMPLES / s for s in _samples()), *sorted(EXAMPLES.glob("*.xml"))])
    missing = without_messages(mappings.by_root, messages)
    files = [mappings.by_root[root].file for root in missing]
    assert files == [], f"to-FHIR mappings that no sample or example exercises: {files}"


def test_a_mapping_that_declares_no_sample_is_refused(tmp_path: Path) -> None:
    """The loader itself: a copy of the mappings where one file declares no samples does not load."""
    import shutil

    folder = tmp_path / "mappings"
    shutil.copytree(SETTINGS.home / "mappings", folder)
    (tmp_path / "profiles").symlink_to(SETTINGS.profiles_dir)  # the ConceptMaps the mappings name
    target = folder / "kith-msghead-1.2.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    start = text.index("\nsamples:\n")
    end = text.index("\nmap:", start)
    target.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(AdapterError, match="samples"):
        Mappings.load(dataclasses.replace(SETTINGS, home=tmp_path))


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
