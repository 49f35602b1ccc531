"""The one hardened XML parser of the adapter: every byte of XML enters the program through this module.

Follows lxml's FAQ "How do I use lxml safely as a web-service endpoint?": no DTD loading, no network access,
entities are never resolved, no ``huge_tree``. On top of that the document is refused outright when it has a
DOCTYPE or any entity declaration or reference, because a FHIR or KITH message never needs one:

* ADP-1006: the input is larger than the limit (checked before parsing);
* ADP-1005: DOCTYPE, entity declaration or entity reference (XXE, "billion laughs", external DTD);
* ADP-1004: not well-formed, with lxml's message and the line and column of the error.

Nothing is removed silently: comments and processing instructions stay in the tree, and the stages that read the
tree decide what they mean (FHIR XML ignores both). :func:`safe_parser` hands the same settings to other users
of lxml, such as the XSD registry, which passes it to ``etree.parse`` when loading schemas.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from adapter.errors import AdapterError, Issue

#: The default size limit for one XML document (20 MiB).
MAX_BYTES = 20 * 1024 * 1024
#: The most elements one document may have. A real KITH message has hundreds, a large PLO message a few thousand
#: (an attachment is one element of base64 text); a million tiny elements in 10 MB would hold the validator, the
#: mapping and the receipt (one error each) for minutes, and 20,000 cost about a second.
MAX_ELEMENTS = 20_000

# libxml2 error types that come from DTDs, entities or attempts to fetch them; they are refusals (ADP-1005), not
# well-formedness errors. An unescaped "&" is not in this list: that is plain bad XML (ADP-1004).
_REFUSED_ERRORS = frozenset(
    {
        "ERR_UNDECLARED_ENTITY",
        "WAR_UNDECLARED_ENTITY",
        "IO_NETWORK_ATTEMPT",
        "ERR_ENTITY_LOOP",
        "ERR_ENTITY_IS_EXTERNAL",
        "ERR_ENTITY_IS_PARAMETER",
        "ERR_ENTITY_PROCESSING",
        "ERR_ENTITY_PE_INTERNAL",
        "ERR_ENTITY_BOUNDARY",
        "ERR_UNPARSED_ENTITY",
        "ERR_ENTITYREF_IN_DTD",
        "ERR_ENTITYREF_IN_PROLOG",
        "ERR_ENTITYREF_IN_EPILOG",
        "ERR_EXT_ENTITY_STANDALONE",
        "ERR_DOCTYPE_NOT_FINISHED",
        "ERR_NO_DTD",
    }
)
_ERROR_NAMES = {getattr(etree.ErrorTypes, name): name for name in dir(etree.ErrorTypes) if name.isupper()}

# A DOCTYPE can only stand in the prolog: after an optional BOM, the XML declaration, comments, processing
# instructions and white space. Matching only there keeps "<!DOCTYPE" inside a CDATA section or comment legal.
# The atomic group keeps the scan linear (no backtracking into a comment or PI already matched).
_PROLOG_DOCTYPE = re.compile(rb"\A(?:\xef\xbb\xbf)?(?>\s|<\?.*?\?>|<!--.*?-->)*+<!DOCTYPE", re.DOTALL)


def safe_parser() -> etree.XMLParser:
    """A new XMLParser with the hardened settings (lxml parsers are not thread-safe, so each caller gets one).

    It does not refuse DOCTYPEs by itself (libxml2 has no switch for that); :func:`parse_xml` checks the result.
    Reuse it for XSD files: ``etree.XMLSchema(etree.parse(path, safe_parser()))``.
    """
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        remove_blank_text=False,
        collect_ids=False,
    )


def parse_xml(data: bytes, *, max_bytes: int = MAX_BYTES, max_elements: int = MAX_ELEMENTS) -> etree._ElementTree:
    """Parse ``data`` with the hardened parser, or raise :class:`AdapterError` (ADP-1004, 1005, 1006 or 1010: more
    than ``max_elements`` elements)."""
    if len(data) > max_bytes:
        raise AdapterError([Issue("ADP-1006", "fatal", args={"size": len(data), "limit": max_bytes})])
    match = _PROLOG_DOCTYPE.match(data)
    if match is not None:
        line, column = _position(data, match.end() - len(b"<!DOCTYPE"))
        raise _refused("a DOCTYPE (document type declaration) is not allowed", line, column)
    try:
        root = etree.fromstring(data, safe_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position if exc.position else (exc.lineno, None)
        detail = str(exc.msg)
        kind = _ERROR_NAMES.get(getattr(exc, "code", 0), "")
        if kind in _REFUSED_ERRORS or kind.startswith("DTD_"):
            raise _refused(f"entities and DTDs are not allowed ({detail})", line, column) from None
        raise AdapterError([Issue("ADP-1004", "fatal", None, line, column, {"detail": detail})]) from None
    tree = root.getroottree()
    info: Any = tree.docinfo  # lxml-stubs lacks DocInfo.doctype
    # Defence in depth for encodings the prolog check cannot read (UTF-16, UTF-32, EBCDIC).
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise _refused("a DOCTYPE (document type declaration) is not allowed", None, None)
    for entity in root.iter(etree.Entity):
        where: Any = entity.sourceline
        raise _refused(f"the entity reference {entity.text} is not allowed", where, None)
    for count, _ in enumerate(root.iter(), start=1):
        if count > max_elements:
            raise AdapterError([Issue("ADP-1010", "fatal", args={"limit": max_elements})])
    return tree


#: How much of a refused or broken document :func:`salvage_root` reads.
SALVAGE_BYTES = 1024 * 1024


def canonical_xml(data: bytes) -> bytes:
    """The canonical form (C14N 2.0, white space between elements, comments and processing instructions dropped) of an
    XML document read with the hardened parser: two documents that say the same in other bytes (declaration,
    attribute order, quoting, indentation, comments) give the same. Raises AdapterError like :func:`parse_xml`."""
    root = parse_xml(data).getroot()
    for other in [*root.iter(etree.Comment, etree.ProcessingInstruction)]:  # no content of the message
        parent = other.getparent()
        if parent is not None:
            if other.tail:
                previous = other.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + other.tail
                else:
                    parent.text = (parent.text or "") + other.tail
            parent.remove(other)
    for element in root.iter():
        if element.text is not None and not element.text.strip() and len(element):
            element.text = None
        if element.tail is not None and not element.tail.strip():
            element.tail = None
    return etree.tostring(root, method="c14n2")


def salvage_root(data: bytes) -> etree._Element | None:
    """What a recovering read of the start of a document that :func:`parse_xml` refused still gives: its root with
    the elements that could be read, or None. Used only to address the receipt (AppRec T01) for a message whose
    header is readable although the message is not; never mapped. The same hardening applies (no DTD is loaded, no
    entity is expanded, no network), and only the first :data:`SALVAGE_BYTES` are read."""
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )
    try:
        root = etree.fromstring(data[:SALVAGE_BYTES], parser)
    except etree.XMLSyntaxError:
        return None
    return root


def _refused(detail: str, line: int | None, column: int | None) -> AdapterError:
    return AdapterError([Issue("ADP-1005", "fatal", None, line, column, {"detail": detail})])


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line and column (in bytes) of ``offset``."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, offset - line_start + 1
