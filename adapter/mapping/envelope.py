"""The envelope of a KITH message, declared by its mapping file: where its id, date, type, parties and patient are.

Every message standard that stands at the root of a message (MsgHead, AppRec, the standalone Henvisning 1.x and
Epikrise) declares its envelope in its to-FHIR mapping file::

    envelope:
      id: "mh:MsgInfo/mh:MsgId"                      # XPath from the root: the message id (text)
      date: "mh:MsgInfo/mh:GenDate"                  # the date it was made (text, or an attribute: h:GenDate/@V)
      type: "mh:MsgInfo/mh:Type"                     # the element with the message type (V, DN; list 8279)
      sender:                                        # the sending party
        path: "mh:MsgInfo/mh:Sender/mh:Organisation" #   its element
        form: organisation                           #   organisation (MsgHead Organisation/Ident) | inst (KITH Inst)
        her: "mh:Ident[mh:TypeId/@V='HER']/mh:Id"    #   its own HER-id, relative to path
        units: "mh:Organisation"                     #   its units (sub-organisations), whose HER-id ``her`` finds
      receiver: {path: ..., form: ..., her: ..., units: ...}   # the same for the receiver
      patient: "mh:MsgInfo/mh:Patient/mh:Ident/mh:Id"  # the patient's identifiers (optional)
      answers: "ar:OriginalMsgId/ar:Id"              # a receipt only: the id of the message it answers
      status: "ar:Status/@V"                         #   its status (list 8258)
      errors: "ar:Error"                             #   its error elements (V, OT)

The receipts, the pipeline, duplicate detection and routing read these declarations (:class:`Envelope`); no code
names a message standard. ``her`` finds the HER-id of the party and of each of its units, whatever the order of
their identifiers, so a sender that lists its organisation number first is still found by its HER-id. An organisation
is one HER-id: a party (or a unit) that lists two is :attr:`Party.ambiguous`, and the service refuses the message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lxml import etree

PartyForm = Literal["organisation", "inst"]
_KEYS = {"id", "date", "type", "sender", "receiver", "patient", "answers", "status", "errors"}
_REQUIRED = ("id", "date", "type", "sender", "receiver")
_PARTY_KEYS = {"path", "form", "her", "units"}


class EnvelopeError(ValueError):
    """The ``envelope`` block of a mapping file is not usable (the loader reports it as ADP-3003)."""


@dataclass(frozen=True)
class Party:
    """A sending or receiving party of a message as found in it: its element, the form of that element, the
    HER-ids it lists for itself (``own``: one, unless the message is wrong) and those of its units (one tuple per
    unit)."""

    element: etree._Element | None
    form: PartyForm
    own: tuple[str, ...] = ()
    units: tuple[tuple[str, ...], ...] = ()

    @property
    def her_ids(self) -> tuple[str, ...]:
        """Every HER-id of the party: its own first, then its units', each once."""
        return tuple(dict.fromkeys([*self.own, *(her for unit in self.units for her in unit)]))

    @property
    def ambiguous(self) -> bool:
        """The party or one of its units lists more than one HER-id: it cannot say who it is."""
        return len(self.own) > 1 or any(len(unit) > 1 for unit in self.units)


@dataclass(frozen=True)
class Read:
    """What an envelope declaration found in one message (empty strings and None where the message has nothing)."""

    msg_id: str
    date: str
    type: etree._Element | None
    sender: Party
    receiver: Party
    patient_ids: tuple[str, ...]
    #: receipts only: the message id answered, the status (8258) and the errors (code, text)
    answers: str = ""
    status: str = ""
    errors: tuple[tuple[str, str], ...] = ()

    @property
    def type_code(self) -> str:
        """The message type's code (V of the type element), e.g. DIALOG_HELSEFAGLIG, APPREC, HENVISNING."""
        return (self.type.get("V") or "").strip() if self.type is not None else ""

    @property
    def is_receipt(self) -> bool:
        """The message answers another one (it declares ``answers``, e.g. an AppRec)."""
        return bool(self.answers)


@dataclass(frozen=True)
class _PartyPaths:
    path: etree.XPath
    form: PartyForm
    her: etree.XPath
    units: etree.XPath


@dataclass(frozen=True)
class Envelope:
    """The compiled envelope declaration of one mapping file; :meth:`read` applies it to a message."""

    msg_id: etree.XPath
    date: etree.XPath
    type: etree.XPath
    sender: _PartyPaths
    receiver: _PartyPaths
    patient: etree.XPath | None = None
    answers: etree.XPath | None = None
    status: etree.XPath | None = None
    errors: etree.XPath | None = None

    @classmethod
    def declared(cls, raw: Any, namespaces: dict[str, str]) -> Envelope:
        """Compile an ``envelope`` block; raises :class:`EnvelopeError` naming what is wrong."""
        if not isinstance(raw, dict):
            raise EnvelopeError("envelope must be a mapping")
        unknown = set(raw) - _KEYS
        if unknown:
            raise EnvelopeError(f"unknown envelope keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
        missing = [key for key in _REQUIRED if key not in raw]
        if missing:
            raise EnvelopeError(f"the envelope has no {', '.join(missing)}")

        def xpath(expression: Any) -> etree.XPath:
            try:
                return etree.XPath(str(expression), namespaces=namespaces)
            except etree.XPathSyntaxError as error:
                raise EnvelopeError(f"bad XPath {expression!r}: {error}") from error

        def party(name: str) -> _PartyPaths:
            value = raw[name]
            if not isinstance(value, dict) or set(value) != _PARTY_KEYS:
                raise EnvelopeError(f"envelope {name} needs exactly {sorted(_PARTY_KEYS)}")
            if value["form"] not in ("organisation", "inst"):
                raise EnvelopeError(f"envelope {name}.form must be organisation or inst, not {value['form']!r}")
            return _PartyPaths(xpath(value["path"]), value["form"], xpath(value["her"]), xpath(value["units"]))

        optional = {key: xpath(raw[key]) for key in ("patient", "answers", "status", "errors") if key in raw}
        return cls(
            xpath(raw["id"]), xpath(raw["date"]), xpath(raw["type"]), party("sender"), party("receiver"), **optional
        )

    def read(self, root: etree._Element) -> Read:
        """The envelope of the message ``root``; never raises for what a message lacks."""
        errors = tuple(
            ((e.get("V") or "").strip(), (e.get("OT") or e.get("DN") or "").strip())
            for e in _elements(self.errors(root) if self.errors is not None else [])
        )
        return Read(
            msg_id=_first(self.msg_id(root)),
            date=_first(self.date(root)),
            type=next(iter(_elements(self.type(root))), None),
            sender=_party(self.sender, root),
            receiver=_party(self.receiver, root),
            patient_ids=_all(self.patient(root)) if self.patient is not None else (),
            answers=_first(self.answers(root)) if self.answers is not None else "",
            status=_first(self.status(root)) if self.status is not None else "",
            errors=errors,
        )


def _party(paths: _PartyPaths, root: etree._Element) -> Party:
    element = next(iter(_elements(paths.path(root))), None)
    if element is None:
        return Party(None, paths.form)
    units = tuple(tuple(dict.fromkeys(_all(paths.her(unit)))) for unit in _elements(paths.units(element)))
    return Party(element, paths.form, tuple(dict.fromkeys(_all(paths.her(element)))), tuple(u for u in units if u))


def _elements(result: Any) -> list[etree._Element]:
    return [item for item in result if isinstance(item, etree._Element)] if isinstance(result, list) else []


def _all(result: Any) -> tuple[str, ...]:
    """The non-empty texts an XPath result holds (element texts or attribute / string values), stripped."""
    items = result if isinstance(result, list) else [result]
    texts = []
    for item in items:
        try:
            text = item.text if isinstance(item, etree._Element) else item
        except UnicodeDecodeError:  # a character reference to a lone surrogate: no usable text
            continue
        if isinstance(text, str) and text.strip():
            texts.append(text.strip())
    return tuple(texts)


def _first(result: Any) -> str:
    found = _all(result)
    return found[0] if found else ""
