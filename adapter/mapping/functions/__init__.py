"""The whitelisted value functions that mapping rules may name with ``fn``.

Each function reads one KITH element and gives a FHIR JSON value (``read``), and writes a FHIR value back onto a
new element (``write``). ``read`` also says which parts of the element it used (attribute names, ``#text``), so the
engine can carry everything else verbatim. A function that cannot represent the element returns ``None`` and uses
nothing: the element then travels as a residue, never lost and never half-mapped.

Functions that normalise a value (a local time gets the Norwegian offset, an identifier becomes a FHIR id) are
exact in the other direction through the engine's ``kith-original`` extension: when ``write`` would not give back
the original text, the original is kept next to the FHIR value.
"""

from adapter.mapping.functions.base import CONTENT, IMPLIED, TEXT, XSI_TYPE, Context, Function, Used
from adapter.mapping.functions.codes import CODES, fhir_id
from adapter.mapping.functions.dates import DATES
from adapter.mapping.functions.markup import MARKUP, content_of, declare, qname_prefixes, readable_text, set_content
from adapter.mapping.functions.plain import PLAIN

#: Every function a mapping rule may name, by the name it uses; nothing outside this registry can be called.
FUNCTIONS: dict[str, Function] = {**PLAIN, **CODES, **DATES, **MARKUP}

__all__ = [
    "CONTENT",
    "FUNCTIONS",
    "IMPLIED",
    "TEXT",
    "XSI_TYPE",
    "Context",
    "Function",
    "Used",
    "content_of",
    "declare",
    "fhir_id",
    "qname_prefixes",
    "readable_text",
    "set_content",
]
