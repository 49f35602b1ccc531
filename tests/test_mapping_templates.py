"""One mapping file for several versions or kinds of a message (``variants:``, ``only:``) and fragments with parameters
(``with:``): adapter/mapping/templates.py and how the loader uses it (mappings/README.md)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from test_translate import SETTINGS

from adapter.errors import AdapterError
from adapter.mapping import Mappings
from adapter.mapping.templates import TemplateError, fill, only_in, unfilled, variants_of

HENVISNING_10 = "{http://www.kith.no/xmlstds/henvisning/2005-07-08}Message"
HENVISNING_11 = "{http://www.kith.no/xmlstds/henvisning/2012-02-15}Message"


def test_a_placeholder_alone_is_the_value_itself_and_inside_text_its_text() -> None:
    values = {"samples": ["a.xml", "b.xml"], "version": "1.1", "po": None}
    assert fill({"samples": "${samples}", "po": "${po}"}, values, "f") == {"samples": ["a.xml", "b.xml"], "po": None}
    assert fill({"url": "http://x/henvisning-${version}.to-fhir"}, values, "f") == {
        "url": "http://x/henvisning-1.1.to-fhir"
    }
    assert fill({"${version}": "key"}, values, "f") == {"1.1": "key"}  # keys too (a table keyed by MIGversion)
    filled = fill({"list": "${samples}"}, values, "f")
    filled["list"].append("c.xml")
    assert values["samples"] == ["a.xml", "b.xml"], "each use gets its own copy"


def test_a_placeholder_without_a_value_is_an_error_that_names_it() -> None:
    with pytest.raises(TemplateError, match=r"\$\{mig\}.*given: version"):
        fill({"value": "${mig}"}, {"version": "1.0"}, "kith-x.to-fhir.yaml")
    assert unfilled([{"a": "${one} and ${two}"}, "${one}"]) == ["one", "two"]


def test_only_keeps_a_rule_in_the_variants_it_names() -> None:
    rules = [{"path": "a"}, {"path": "b", "only": ["1.1"]}, {"path": "c", "only": ["1.0"], "rules": [{"path": "d"}]}]
    known = frozenset({"1.0", "1.1"})
    assert only_in(rules, "1.1", "f", known) == [{"path": "a"}, {"path": "b"}]
    assert only_in(rules, "1.0", "f", known) == [{"path": "a"}, {"path": "c", "rules": [{"path": "d"}]}]
    with pytest.raises(TemplateError, match="without variants"):
        only_in(rules, None, "f")


def test_variants_are_named_once_each() -> None:
    body = {"url": "u-${variant}", "map": [{"path": "x", "only": ["b"]}]}
    found = variants_of("f.yaml", {**body, "variants": [{"variant": "a"}, {"variant": "b"}]})
    assert found == [("a", {"url": "u-a", "map": []}), ("b", {"url": "u-b", "map": [{"path": "x"}]})]
    with pytest.raises(TemplateError, match="declared twice"):
        variants_of("f.yaml", {**body, "variants": [{"variant": "a"}, {"variant": "a"}]})
    with pytest.raises(TemplateError, match="needs variant"):
        variants_of("f.yaml", {**body, "variants": [{"version": "1.0"}]})
    assert variants_of("f.yaml", {"url": "u"}) == [(None, {"url": "u"})]


def test_one_file_gives_each_version_its_own_mapping() -> None:
    """kith-henvisning-1.x.to-fhir.yaml: 1.0 and 1.1 with their namespaces; pårørende (poKomponent) in 1.1 only."""
    mappings = Mappings.load(SETTINGS)
    old, new = mappings.by_root[HENVISNING_10], mappings.by_root[HENVISNING_11]
    assert (old.file, new.file) == ("kith-henvisning-1.x.to-fhir.yaml (1.0)", "kith-henvisning-1.x.to-fhir.yaml (1.1)")
    assert old.definition == "http://samhandling.no/fhir/MessageDefinition/kith-henvisning-1.0"
    assert new.enveloped == "http://samhandling.no/fhir/MessageDefinition/kith-henvisning-1.1-msghead"
    assert "po" not in old.namespaces and "po" in new.namespaces
    resources = {n.resource for n in _walk(new.nodes)} - {n.resource for n in _walk(old.nodes)}
    assert resources == {"parorende"}
    assert all("standards:kith/samples/henvisning/v1.0/" in s for s in old.samples)


def _walk(nodes: list) -> list:
    found = []
    for node in nodes:
        found.append(node)
        found.extend(_walk(node.rules))
    return found


@pytest.fixture
def mappings_copy(tmp_path: Path) -> Path:
    """A copy of mappings/ to break, beside the project's profiles (the ConceptMaps the mappings name)."""
    shutil.copytree(SETTINGS.home / "mappings", tmp_path / "mappings")
    (tmp_path / "profiles").symlink_to(SETTINGS.profiles_dir)
    return tmp_path


def _load(home: Path) -> Mappings:
    return Mappings.load(dataclasses.replace(SETTINGS, home=home))


def test_a_fragment_used_without_a_parameter_is_refused(mappings_copy: Path) -> None:
    target = mappings_copy / "mappings" / "kith-epikrise-1.x.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    used = "{use: kith1-dept, ns: e, with: {resource: avsender-avdeling, of: avsender}}"
    assert used in text
    target.write_text(text.replace(used, "{use: kith1-dept, ns: e, with: {resource: avsender-avdeling}}"))
    with pytest.raises(AdapterError, match=r"ADP-3003.*kith1-dept.*\$\{of\}"):
        _load(mappings_copy)


def test_a_placeholder_left_in_a_file_is_refused(mappings_copy: Path) -> None:
    target = mappings_copy / "mappings" / "kith-msghead-1.2.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("title: ", "title: ${undeclared} ", 1), encoding="utf-8")
    with pytest.raises(AdapterError, match="undeclared"):
        _load(mappings_copy)


def test_a_version_is_added_as_one_entry_of_variants(mappings_copy: Path) -> None:
    """What adding a version costs: one entry (its namespace, MIGversion, samples). A made-up AppRec 1.9 loads as a
    mapping of its own root, with the rules of the others."""
    target = mappings_copy / "mappings" / "kith-apprec-1.x.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    entry = (
        '  - variant: "1.9"\n    code: "19"\n    namespace: urn:example:apprec-1.9\n    specification: none\n'
        '    mig: "v1.9"\n    samples: ["examples/kith/none.xml"]\n'
    )
    target.write_text(text.replace("variants:\n", "variants:\n" + entry, 1), encoding="utf-8")
    loaded = _load(mappings_copy)
    made_up, real = (
        loaded.by_root["{urn:example:apprec-1.9}AppRec"],
        loaded.by_root["{http://www.kith.no/xmlstds/apprec/2012-02-15}AppRec"],
    )
    assert made_up.definition == "http://samhandling.no/fhir/MessageDefinition/kith-apprec-1.9"
    assert len(_walk(made_up.nodes)) == len(_walk(real.nodes))


# --- found by the newcomer review: each first a failing test -------------------------------------------------------


def test_a_fragment_that_uses_itself_is_refused_not_a_recursion_error(mappings_copy: Path) -> None:
    fragments = mappings_copy / "mappings" / "_fragments.yaml"
    text = fragments.read_text(encoding="utf-8")
    fragments.write_text(text + "\nkith1-loop:\n  - {use: kith1-loop, ns: x, with: {ids: 9051}}\n", encoding="utf-8")
    target = mappings_copy / "mappings" / "kith-msghead-1.2.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\nmap:\n", "\nmap:\n  - {use: kith1-loop, ns: mh}\n", 1), encoding="utf-8")
    with pytest.raises(AdapterError, match="ADP-3003.*kith1-loop.*uses itself"):
        _load(mappings_copy)


def test_only_must_name_declared_variants_in_a_list() -> None:
    data = {"variants": [{"variant": "1.0"}, {"variant": "1.1"}], "map": [{"path": "a", "only": ["1.3"]}]}
    with pytest.raises(TemplateError, match=r"1\.3.*not a variant"):
        variants_of("f.yaml", data)
    with pytest.raises(TemplateError, match="list"):
        variants_of("f.yaml", {**data, "map": [{"path": "a", "only": "1.1"}]})
    with pytest.raises(TemplateError, match="variant"):
        variants_of("f.yaml", {"variants": [{"variant": [1]}], "map": []})


def test_a_variant_value_with_a_placeholder_is_named_as_such() -> None:
    with pytest.raises(TemplateError, match="values of a variant hold no placeholders"):
        variants_of("f.yaml", {"variants": [{"variant": "1", "mig": "${mig}"}], "title": "${mig}"})


@pytest.mark.parametrize("sample", ["../../../etc/passwd", "standards:../../etc/passwd", "/etc/passwd"])
def test_a_sample_outside_the_repo_or_the_standards_is_refused(mappings_copy: Path, sample: str) -> None:
    target = mappings_copy / "mappings" / "kith-msghead-1.2.to-fhir.yaml"
    text = target.read_text(encoding="utf-8")
    target.write_text(text.replace("\nsamples:\n", f'\nsamples:\n  - "{sample}"\n', 1), encoding="utf-8")
    with pytest.raises(AdapterError, match="ADP-3003.*sample"):
        _load(mappings_copy)
