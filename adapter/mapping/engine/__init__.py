"""The one mapping engine: applies a mapping tree (adapter/mapping/spec.py) from KITH XML to a FHIR message
Bundle, and the same tree backwards from the Bundle to KITH XML.

Nothing is dropped. Every attribute, text and element of the KITH message that no rule used is carried verbatim
in a ``kith-residue`` extension on the resource made from the nearest enclosing element, with its place (path and
position), and reported as an information issue (ADP-3001). A value a function normalised (a local time given an
offset, a code translated one way) keeps its original text in a ``kith-original`` extension on the primitive. The
reverse direction rebuilds the elements from the rules in the order the tree gives (schema order), then puts every
residue back at its recorded position, so a KITH message survives KITH -> FHIR -> KITH unchanged. Text written with
markup (an anyType note holding XHTML) is read whole by its function; the markup is kept in ``kith-original`` and
written back. An ``xsi:type`` value names a type by a namespace prefix that no XML tool sees as used: its residue
carries the declaration too (path step ``@xmlns:prefix``), declared again on the way back.

On the way back a resource node writes the resources its first link references (narrowed by its backlink), else
those that refer back as its backlink says, else all of its type; a resource found without a link is written once,
so a professional of the sender that the MsgHead writes as its author is not written again as another professional
of the same organisation (and one directly under the sender never moves into its unit, nor the other way round).

Ids are deterministic: uuid5 of the message's seed (sender HER-id and MsgId) and the element's path. Timestamps
come from the message.

Never invalid FHIR either: an identifier whose value fails the check of the national system its KITH type gives
keeps value and type but not that system (warning ADP-3010 at the element; the AppRec says status 3). A mapping's
``require`` rules refuse content the receiver cannot use (ADP-3011 with its AppRec code). A message that breaks its
schema also travels whole (residue path ``/``), since the rules rebuild elements in schema order only. Nodes marked
``standalone`` apply only to a document that is its own envelope (or only inside a MsgHead), and ``reverse: only``
nodes and a rule's ``fallback`` build KITH from FHIR written as FHIR, when no residue carries the element (nor an
element around it).
"""

from adapter.mapping.engine.common import element_path
from adapter.mapping.engine.forward import to_fhir
from adapter.mapping.engine.reverse import to_kith

__all__ = ["element_path", "to_fhir", "to_kith"]
