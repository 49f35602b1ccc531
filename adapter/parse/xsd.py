"""The KITH XSD registry: validates a KITH message (MsgHead with its payload, or a standalone AppRec or payload)
against the published schemas in the standards directory, offline, and turns libxml2's findings into Issues.

Why a registry and not one schema per file: MsgHead v1.2 declares ``RefDoc/Content`` as
``<any processContents="strict"/>``, so a message validates only when MsgHead is compiled together with the schema
of every KITH namespace that occurs in it (``kith/SOURCES.md``, "How the checks were run"). For each *set* of
namespaces the registry writes a driver schema in memory that ``xs:import``s each namespace's schema file,
compiles it once and keeps the :class:`lxml.etree.XMLSchema` (a bounded LRU cache, so messages that combine
namespaces in new ways cannot make it grow without limit).

Where the schema of a namespace is found:

* ``kith/meta/sarepta/ehelseCatalog.xml`` (Sarepta's namespace -> schema catalog, paths relative to the ``xsd/``
  folder); entries whose file is not in the standards directory (eResept, NAV, SYSVAK ...) are left out;
* :data:`EXTRA_SCHEMAS`, a short table for what that catalog lacks or names wrongly; it wins over the catalog.

The XSDs import ``http://www.kith.no/xmlstds/kith.xsd`` and the xmldsig schema by absolute URL. Those URLs are
mapped to the local copies by ``kith/xsd/catalog.xml`` (an OASIS catalog), which this module reads itself and
applies through an :class:`lxml.etree.Resolver` on the parser of the driver schema (lxml routes every import of
the compilation, also nested ones, to that parser's resolvers). ``XML_CATALOG_FILES`` is not used. Any other
location is refused before libxml2 can open it: a URL that is not in the catalog (no network fetch, ever), and a
file outside the ``xsd/`` folder or missing; the compilation then fails with ADP-2003 naming the location.

Issues of :meth:`SchemaRegistry.validate`:

* ADP-2001 (``error``; ``warning`` for libxml2 warnings): one per entry of the schema's ``error_log``, with its
  line, the lxml message as ``detail`` and an XPath-like ``expression`` for the failing element. libxml2 writes
  elements in a default namespace as ``*`` (``/*/*[2]/*``); the expression is rebuilt from the element itself
  instead: namespace prefixes are stripped, each step is the local name, with a 1-based ``[n]`` only when the
  parent has several children of that name (``/MsgHead/Document[2]/RefDoc/Content/Dialogmelding``). An error about
  an attribute points at the element that carries it; should the element not be found, libxml2's own path is
  kept. libxml2 gives no column for validation errors, so ``column`` is None.
* ADP-2002: the root element is in a namespace that is neither MsgHead, AppRec nor a known payload (``fatal``;
  nothing is validated); or, below the root, a strict wildcard demanded a declaration for an element whose
  namespace has no schema here (``error``, beside the ADP-2001 that libxml2 reports for it). Unknown namespaces
  where the schema allows anything laxly (XHTML in Epikrise's ``anyType`` elements) are fine and give nothing.
* ADP-2003 (``fatal``): the schema set could not be loaded or compiled; the result is cached like a schema.

Threads: a compiled schema is read-only in libxml2 and each validation gets its own validation context, but lxml
keeps one ``error_log`` per :class:`~lxml.etree.XMLSchema` object and clears it at the start of every call, so
each cached schema has its own lock around the call and the reading of its log (validations against different
schemas run in parallel). Compilation holds one process-wide lock: lxml swaps libxml2's process-global external
entity loader while it compiles, and the cache must not compile the same set twice. (lxml itself does not
serialise that swap against parses in other threads; a parse ending mid-compilation could hand an import to
libxml2's default loader. The lxml wheels' libxml2 has no HTTP client, ``"http" not in etree.LIBXML_FEATURES``,
so the worst case there is a failed import, reported as ADP-2003. Warm the cache at start-up with
:meth:`SchemaRegistry.prepare` to keep compilation out of request threads.)

Timing: :attr:`SchemaRegistry.compile_times` holds the seconds each namespace set took to compile.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import quoteattr

from lxml import etree

from adapter.config import Settings
from adapter.errors import AdapterError, Issue, SetupError, Severity
from adapter.parse.xml_safe import parse_xml, safe_parser

MSGHEAD_NS = "http://www.kith.no/xmlstds/msghead/2006-05-24"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
CATALOG_NS = "urn:oasis:names:tc:entity:xmlns:xml:catalog"

#: Namespace -> schema file (relative to ``kith/xsd``) for what ehelseCatalog.xml lacks or names wrongly.
EXTRA_SCHEMAS: Mapping[str, str] = MappingProxyType(
    {
        # AppRec 1.1: the catalog says "Apprec-v1.1.xsd", but the file is "AppRec-v1.1.xsd" (in the Sarepta
        # archive too), which a case-sensitive file system does not find.
        "http://www.kith.no/xmlstds/apprec/2012-02-15": "applikasjonskvittering/AppRec-v1.1.xsd",
        # PLO 2.0: the catalog lists only poKomponent 2.0, not the message schemas that use it.
        "http://ehelse.no/xmlstds/po/HelseopplysningerSaksbehandling/2016-05-30": (
            "plo/v2.0/HelseopplysningerSaksbehandling-v2.0.xsd"
        ),
        "http://ehelse.no/xmlstds/po/Pasientlogistikk/2016-05-30": "plo/v2.0/Pasientlogistikk-v2.0.xsd",
        "http://ehelse.no/xmlstds/po/Sammenfatning/2016-05-30": "plo/v2.0/Sammenfatning-v2.0.xsd",
        # Dialogmelding 1.2 was withdrawn and dropped from the catalog; its schema is kept so that a message in
        # that namespace is checked against it rather than reported as unknown.
        "http://www.kith.no/xmlstds/dialog/2015-05-04": "dialogmelding/2015-05-04/dialogmelding-v1.2.xsd",
    }
)

#: Namespaces of shared building blocks: they have schemas, but a document whose root is in one of them is
#: neither MsgHead, AppRec nor a payload, so it gets ADP-2002.
COMPONENT_NAMESPACES = frozenset(
    {
        "http://www.kith.no/xmlstds",
        "http://www.kith.no/xmlstds/felleskomponent1",
        "http://www.kith.no/xmlstds/base64container",
        "http://www.kith.no/xmlstds/epj/epj1/2008-02-20",
        "http://www.kith.no/xmlstds/epj/epj2/2008-02-20",
        "http://www.kith.no/xmlstds/epj/epj3/2008-02-20",
        "http://www.kith.no/xmlstds/epj/meta/2008-02-20",
        "http://www.kith.no/xmlstds/po/poKomponent/2009-06-30",
        "http://www.kith.no/xmlstds/po/poKomponent/2012-04-01",
        "http://ehelse.no/xmlstds/po/poKomponent/2017-11-30",
        "http://www.w3.org/2000/09/xmldsig#",
        "http://www.w3.org/XML/1998/namespace",
    }
)

#: How many compiled namespace sets are kept; the least recently used one is dropped beyond that.
MAX_SCHEMAS = 64

# libxml2 warning while compiling that is expected: the first import of a namespace wins, later ones are skipped
# (the KITH folders hold identical copies of kith.xsd, felleskomponent1.xsd, EPJ-*.xsd and poKomponent-*.xsd).
_EXPECTED_COMPILE_WARNINGS = frozenset({"SCHEMAP_WARN_SKIP_SCHEMA"})
# libxml2: "No matching global element declaration available, but demanded by the strict wildcard."
_NO_DECLARATION = "SCHEMAV_CVC_ELT_1"
# Only so many compile messages go into the ADP-2003 detail.
_DETAIL_ENTRIES = 5

_COMPILE_LOCK = threading.Lock()


class _CatalogResolver(etree.Resolver):
    """Maps catalog URLs to local files, lets through files inside the xsd folder, and refuses everything else.

    A refused location is answered with a tiny non-schema document (answering None would hand it to libxml2's
    default loader) and recorded in :attr:`refused`, which the compiler turns into ADP-2003.
    """

    def __init__(self, root: Path, catalog: Mapping[str, Path]) -> None:
        super().__init__()
        self._root = root
        self._catalog = catalog
        self.refused: list[str] = []

    # lxml calls resolve(url, public_id, context); lxml-stubs 0.5 leaves out the context and resolve_filename.
    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:  # type: ignore[override]
        """Answer every load of the compilation (lxml asks the parser's resolvers first)."""
        url = system_url or ""
        local = self._catalog.get(url)
        if local is None:
            local = self._local_file(url)
        answer: Any = self
        if local is not None and local.is_file():
            return answer.resolve_filename(str(local), context)
        if local is not None:
            self.refused.append(f"{url} (no such file)")
        elif "://" in url and not url.startswith("file:"):
            self.refused.append(f"{url} (not in catalog.xml, and schemas are never fetched from the network)")
        else:
            self.refused.append(f"{url} (outside {self._root})")
        return answer.resolve_string("<refused/>", context)

    def _local_file(self, url: str) -> Path | None:
        """The file ``url`` names when it is a path (or file: URL) inside the xsd folder, else None."""
        if url.startswith("file:"):
            url = unquote(urlsplit(url).path)
        elif "://" in url or not url:
            return None
        path = Path(url).resolve()
        return path if path.is_relative_to(self._root) else None


@dataclass
class _Compiled:
    """A compiled namespace set: the schema, its compile time, and the lock that guards its error log."""

    schema: etree.XMLSchema
    seconds: float
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class _Failed:
    """A namespace set that could not be compiled: the ADP-2003 issue and the seconds spent finding out."""

    issue: Issue
    seconds: float


class SchemaRegistry:
    """Compiles and caches one XMLSchema per set of KITH namespaces, and validates messages against them.

    Build it once per application with :meth:`from_settings` and share it; it is safe to use from several threads.
    """

    def __init__(
        self, xsd_dir: Path, schemas: Mapping[str, Path], catalog: Mapping[str, Path], *, max_schemas: int = MAX_SCHEMAS
    ) -> None:
        """``schemas`` maps namespace -> schema file, ``catalog`` absolute URL -> local file; all inside ``xsd_dir``."""
        self._root = xsd_dir.resolve()
        self._schemas = MappingProxyType(dict(schemas))
        self._catalog = MappingProxyType(dict(catalog))
        self._max = max_schemas
        self._cache: OrderedDict[frozenset[str], _Compiled | _Failed] = OrderedDict()

    @classmethod
    def from_settings(cls, settings: Settings) -> SchemaRegistry:
        """The registry over ``<standards>/kith/xsd`` with its catalog.xml and Sarepta's ehelseCatalog.xml.

        Raises :class:`SetupError` (ADP-0001) when the folder or a catalog is missing, ADP-0003 when one cannot be
        read. Reads the two catalogs only; no schema is compiled until it is needed.
        """
        kith = settings.standards / "kith"
        xsd_dir = kith / "xsd"
        if not xsd_dir.is_dir():
            raise SetupError.of("ADP-0001", what="KITH XML Schemas (kith/xsd)", path=str(xsd_dir))
        catalog = _read_catalog(xsd_dir / "catalog.xml", "the XML catalog of the KITH schemas (kith/xsd/catalog.xml)")
        ehelse = _read_catalog(
            kith / "meta" / "sarepta" / "ehelseCatalog.xml",
            "Sarepta's namespace catalog (kith/meta/sarepta/ehelseCatalog.xml)",
            base=xsd_dir,
        )
        schemas = {namespace: path for namespace, path in ehelse.items() if path.is_file()}
        schemas.update({namespace: xsd_dir / relative for namespace, relative in EXTRA_SCHEMAS.items()})
        return cls(xsd_dir, schemas, catalog)

    @property
    def schema_files(self) -> Mapping[str, Path]:
        """Namespace -> schema file, for every namespace this registry can validate."""
        return self._schemas

    @property
    def compile_times(self) -> dict[frozenset[str], float]:
        """Seconds each cached namespace set took to compile (failures included)."""
        with _COMPILE_LOCK:
            return {key: compiled.seconds for key, compiled in self._cache.items()}

    def prepare(self, namespaces: Iterable[str]) -> list[Issue]:
        """Compile (or find in the cache) the schema for ``namespaces``; an empty list when it is ready.

        Useful to warm the cache at start-up. A failed compilation, or a namespace without schema, gives ADP-2003.
        """
        wanted = frozenset(namespaces)
        unknown = sorted(wanted - self._schemas.keys())
        if unknown:
            detail = "no schema file is known for " + ", ".join(unknown)
            return [Issue("ADP-2003", "fatal", args={"namespaces": ", ".join(sorted(wanted)), "detail": detail})]
        compiled = self._compiled(wanted)
        return [compiled.issue] if isinstance(compiled, _Failed) else []

    def validate(self, tree: etree._ElementTree) -> list[Issue]:
        """Every schema finding for ``tree`` (parsed with :func:`adapter.parse.xml_safe.parse_xml`); [] when valid.

        The namespaces of all elements and attributes select the schema set (xsi is built into libxml2, and a
        namespace without a schema is left to the wildcards that allow it). See the module docstring for the
        codes.
        """
        root = tree.getroot()
        root_ns = etree.QName(root).namespace or ""
        if root_ns not in self._schemas or root_ns in COMPONENT_NAMESPACES:
            return [_unknown_namespace(root, "fatal")]
        present = _namespaces(root)
        compiled = self._compiled(frozenset(present & self._schemas.keys()))
        if isinstance(compiled, _Failed):
            return [compiled.issue]
        with compiled.lock:
            compiled.schema.validate(tree)
            entries = _entries(compiled.schema.error_log)
        return self._issues(tree, entries)

    def _compiled(self, namespaces: frozenset[str]) -> _Compiled | _Failed:
        """The cached schema for ``namespaces``, compiled now if it is not cached (under the compile lock)."""
        with _COMPILE_LOCK:
            compiled = self._cache.get(namespaces)
            if compiled is None:
                compiled = self._compile(namespaces)
                self._cache[namespaces] = compiled
                if len(self._cache) > self._max:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(namespaces)
            return compiled

    def _compile(self, namespaces: frozenset[str]) -> _Compiled | _Failed:
        """Write the driver schema for ``namespaces``, parse it with the resolver, and compile it."""
        # MsgHead first, as in SOURCES.md; the order is fixed so the same set always compiles the same way.
        ordered = sorted(namespaces, key=lambda ns: (ns != MSGHEAD_NS, ns))
        imports = "".join(
            f"<xs:import namespace={quoteattr(ns)} schemaLocation={quoteattr(self._relative(ns))}/>" for ns in ordered
        )
        driver = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
        resolver = _CatalogResolver(self._root, self._catalog)
        parser = safe_parser()
        parser.resolvers.add(resolver)
        started = time.perf_counter()
        detail = ""
        schema: etree.XMLSchema | None = None
        try:
            document = etree.fromstring(driver.encode(), parser, base_url=str(self._root / "driver.xsd"))
            schema = etree.XMLSchema(document.getroottree())
        except etree.XMLSchemaParseError as exc:
            detail = "; ".join(entry.message for entry in _entries(exc.error_log)[:_DETAIL_ENTRIES]) or str(exc)
        if schema is not None and not resolver.refused:
            odd = [entry for entry in _entries(schema.error_log) if entry.type_name not in _EXPECTED_COMPILE_WARNINGS]
            detail = "; ".join(entry.message for entry in odd[:_DETAIL_ENTRIES])
        seconds = time.perf_counter() - started
        if resolver.refused:
            detail = "refused to load " + ", ".join(resolver.refused) + (f" ({detail})" if detail else "")
        if schema is None or resolver.refused or detail:
            names = ", ".join(ordered) or "(no namespace)"
            return _Failed(Issue("ADP-2003", "fatal", args={"namespaces": names, "detail": detail}), seconds)
        return _Compiled(schema, seconds)

    def _relative(self, namespace: str) -> str:
        """The schemaLocation of ``namespace`` for the driver: relative to the xsd folder when inside it."""
        path = self._schemas[namespace]
        try:
            return path.resolve().relative_to(self._root).as_posix()
        except ValueError:
            return path.as_posix()  # outside the folder: the resolver refuses it with a clear message

    def _issues(self, tree: etree._ElementTree, entries: list[Any]) -> list[Issue]:
        """ADP-2001 per log entry, plus ADP-2002 where a strict wildcard met a namespace without schema."""
        by_path: dict[str, etree._Element] | None = None
        issues: list[Issue] = []
        if len(entries) > MAX_FINDINGS:  # the first ones say what is wrong; thousands more only cost the sender
            more = {"detail": f"{len(entries) - MAX_FINDINGS} more schema errors are not listed"}
            entries = entries[:MAX_FINDINGS]
        else:
            more = None
        for entry in entries:
            element: etree._Element | None = None
            if entry.path:
                if by_path is None:
                    by_path = {tree.getpath(el): el for el in tree.getroot().iter(etree.Element)}
                element = by_path.get(entry.path)
            expression = _expression(element) if element is not None else entry.path
            severity: Severity = "warning" if entry.level_name == "WARNING" else "error"
            line, column = entry.line or None, entry.column or None
            issues.append(Issue("ADP-2001", severity, expression, line, column, {"detail": entry.message}))
            if element is not None and entry.type_name == _NO_DECLARATION:
                namespace = etree.QName(element).namespace or ""
                if namespace not in self._schemas:
                    issues.append(_unknown_namespace(element, "error"))
        if more is not None:
            issues.append(Issue("ADP-2001", "error", args=more))
        return issues


def _read_catalog(path: Path, what: str, *, base: Path | None = None) -> dict[str, Path]:
    """``system``/``uri`` entries of an OASIS catalog: name -> file, resolved against ``base`` (or its folder)."""
    if not path.is_file():
        raise SetupError.of("ADP-0001", what=what, path=str(path))
    try:
        root = parse_xml(path.read_bytes()).getroot()
    except (OSError, AdapterError) as exc:
        raise SetupError.of("ADP-0003", path=str(path), detail=str(exc)) from None
    folder = base if base is not None else path.parent
    entries: dict[str, Path] = {}
    for entry in root.iter(f"{{{CATALOG_NS}}}system", f"{{{CATALOG_NS}}}uri"):
        name = entry.get("systemId") or entry.get("name")
        target = entry.get("uri")
        if name and target:
            entries.setdefault(name, folder / target)
    return entries


#: The most schema errors listed for one document (one more says how many were left out).
MAX_FINDINGS = 100


def _entries(log: Any) -> list[Any]:
    """The entries of an lxml error log (lxml-stubs does not declare it iterable)."""
    return list(log)


def _namespaces(root: etree._Element) -> set[str]:
    """Namespaces of every element and attribute below and including ``root`` ("" for none), xsi left out."""
    found: set[str] = set()
    for element in root.iter(etree.Element):
        tag = element.tag
        if isinstance(tag, str) and tag.startswith("{"):
            found.add(tag[1 : tag.index("}")])
        for key in element.attrib:
            name = str(key)
            if name.startswith("{"):
                found.add(name[1 : name.index("}")])
    found.discard(XSI_NS)
    return found


def _expression(element: etree._Element) -> str:
    """``/MsgHead/Document[2]/RefDoc``: local names, with a 1-based index only where the name repeats."""
    steps: list[str] = []
    current: etree._Element | None = element
    while current is not None:
        parent = current.getparent()
        step = etree.QName(current).localname
        if parent is not None:
            same = [sibling for sibling in parent if sibling.tag == current.tag]
            if len(same) > 1:
                step += f"[{same.index(current) + 1}]"
        steps.append(step)
        current = parent
    return "/" + "/".join(reversed(steps))


def _unknown_namespace(element: etree._Element, severity: Severity) -> Issue:
    """ADP-2002 for ``element``, whose namespace has no schema here."""
    qname = etree.QName(element)
    line: Any = element.sourceline  # lxml-stubs types it loosely
    return Issue(
        "ADP-2002",
        severity,
        _expression(element),
        line,
        None,
        {"element": qname.localname, "namespace": qname.namespace or ""},
    )
