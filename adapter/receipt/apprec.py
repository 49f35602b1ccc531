"""The application receipt (AppRec 1.0 or 1.1) a receiver sends back for a KITH message it has processed.

:func:`build_apprec` is a pure function of the inbound message's envelope, the issues found while reading it and
two values the caller supplies (``gen_date``, ``apprec_id``): no clock and no random inside, so the same input gives
the same bytes. The rules follow HIS 80415:2012 (AppRec 1.1) and HITS 1168:2016 (Veiledning i bruk av
applikasjonskvittering):

* Addressing is mirrored (HIS 80415 3.5, HITS 1168 6.1): the receiver of the original message becomes the AppRec
  ``Sender`` and its sender the AppRec ``Receiver``. MsgHead ``Organisation`` -> ``HCP/Inst``, its sub-organisation
  -> ``Inst/Dept``, a ``HealthcareProfessional`` -> ``Inst/HCPerson``. Of several ``Ident``, the HER-id becomes
  ``Id``/``TypeId`` and the others ``AdditionalId`` (all identifiers are returned). In 1.1 the sender's role is
  ``PRIM`` (we answer as the primary receiver) and the receiver's ``AVS``; 1.0 has no agreed role codes for this
  (REQ or SPR depends on the message), so the optional ``Role`` is left out there.
* ``OriginalMsgId``: ``MsgType`` from ``MsgInfo/Type``, ``IssueDate`` from ``MsgInfo/GenDate``, ``Id`` from
  ``MsgInfo/MsgId``.
* ``Status`` 2 (Avvist) with one ``Error`` (list 8221) per ``error``/``fatal`` issue (one per cause: an element
  in a namespace without schema is T10 only); else 3 (OK, feil i delmelding) with one ``Error`` per warning of
  :data:`PARTIAL` (an identifier carried without the national system whose check it fails: E31 for the patient's
  fødselsnummer or D-nummer, X99 otherwise); else 1 (OK). The code comes from :data:`ERROR_CODES` (the
  ``apprec`` column of the code table in adapter/errors.yaml: a ConceptMap is for code systems, and ADP codes are
  not one), refined for patient identifiers (E30, E31 ...); an issue may name its 8221 code itself in
  ``args["apprec_code"]`` (a business rule that knows better: the mapping files' ``require`` rules, e.g. E36
  "Pasientopplysninger er utilstrekkelige"). ``DN`` is the display
  of the code in CodeSystem-kith-8221.json; ``OT`` is the issue's Norwegian text followed by where it
  was found (expression, line). AppRec has no other place for that: ``Error`` is a bare CV (V, S, DN, OT), and
  HITS 1168 chapter 7 asks for the precise cause in ``OT``.
* A message taken (status 1 or 3) whose parts travel only verbatim (no FHIR element, ADP-3001) gets one more, last
  ``Error`` X99 whose ``OT`` begins "Til informasjon, ikke en feil" and lists those parts (:func:`residue_note`):
  AppRec has no element for information, list 8221 no code for it, and a code system of our own would need an OID
  (HIS 80415 5.4), so the sender learns it from the text.

Where the parties, ids and dates are is not known here: each message standard declares its envelope in its mapping
file (:mod:`adapter.mapping.envelope`). A party in the organisation form (MsgHead) is converted as above; one in the
KITH ``Inst`` form (the standalone Henvisning 1.x and Epikrise) is copied in AppRec's element order.

Without a readable envelope (``envelope`` None, e.g. the message was not well-formed XML) no AppRec can be built: the
schema requires ``OriginalMsgId/IssueDate`` (a dateTime only the original message can give) and HITS 1168 5.3
says that a message too broken to tell where it came from is not answered with an AppRec. :func:`build_apprec`
then raises :class:`ReceiptImpossible`, as it does for a receipt (never answered with one); the service answers
such a message with an OperationOutcome.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from adapter.config import Settings
from adapter.errors import CODES, Issue
from adapter.mapping.envelope import Party, Read
from adapter.parse.xml_safe import safe_parser
from adapter.route.nhn import Processed

APPREC_NS = {
    "1.0": "http://www.kith.no/xmlstds/apprec/2004-11-21",
    "1.1": "http://www.kith.no/xmlstds/apprec/2012-02-15",
}
MIG_VERSION = {"1.0": "1.0 2004-11-21", "1.1": "v1.1 2012-02-15"}
ERROR_SYSTEM = "2.16.578.1.12.4.1.1.8221"
#: Warnings that make the receipt "OK, feil i delmelding" (status 3) with one Error each: an identifier carried
#: without the national system whose check it fails (ADP-3010).
PARTIAL = frozenset({"ADP-3010"})

#: ADP issue code -> AppRec error code (list 8221), for issues without a more precise rule in :func:`error_code`:
#: the ``apprec`` of the code table (adapter/errors.yaml), e.g. T01 for XML we cannot read (not well-formed, a
#: refused construct, too large), T02 for a message that breaks its XML Schema, T10 for a format we do not support.
ERROR_CODES: Mapping[str, str] = {code: info.apprec for code, info in CODES.items() if info.apprec}
#: Fallback for every other error: "Annen feil" (the OT text says what it was).
OTHER_ERROR = "X99"
#: Missing patient data (ADP-4001 "minimum required" on these paths) -> the precise 8221 code.
_MISSING_PATIENT = (
    (re.compile(r"Patient(\.|/)(identifier|Ident)\b"), "E30"),
    (re.compile(r"Patient(\.|/)name(\[\d+\])?\.family\b|Patient/FamilyName\b"), "E33"),
    (re.compile(r"Patient(\.|/)name(\[\d+\])?\.given\b|Patient/GivenName\b"), "E34"),
    (re.compile(r"Patient(\.|/)name\b"), "E32"),
)
_PATIENT = re.compile(r"\bPatient\b")
_PERSON_NUMBER_KINDS = ("fødselsnummer", "D-nummer")
_STATUS = {"1": "OK", "2": "Avvist", "3": "OK, feil i delmelding"}
#: AppRec status (list 8258) -> how the delivery it answers ended, as the outbox records it.
RECEIPT_STATUS = {"1": "ok", "2": "rejected", "3": "ok-with-errors"}
#: AppRec party and its 1.1 role (HIS 80415 4.4.4, 4.4.5): we answer as the primary receiver, to the sender.
_ROLES = (("Sender", ("PRIM", "Primærmottaker")), ("Receiver", ("AVS", "Avsender")))


class ReceiptImpossible(ValueError):
    """No AppRec can be built for this message (see the module docstring); the message says why."""


def error_code(issue: Issue, patient_ids: frozenset[str] = frozenset()) -> str:
    """The 8221 code for an error ``issue``: its own ``apprec_code``, a patient rule, :data:`ERROR_CODES`, X99.

    A wrong fødselsnummer or D-nummer (ADP-4020) is the patient's (E31) when the expression names Patient or the
    value is one of ``patient_ids`` (the Ident/Id of MsgHead's Patient: the FHIR validator's expressions of a
    Bundle entry, ``Bundle.entry[6].resource...``, do not name the resource type)."""
    own = issue.args.get("apprec_code")
    if isinstance(own, str) and own:
        return own
    if issue.code == "ADP-3010":  # an identifier carried without the national system it fails
        person = issue.args.get("kind") in ("fnr", "dnr")
        return "E31" if person and issue.args.get("resource") == "Patient" else OTHER_ERROR
    where = " ".join(str(x) for x in (issue.expression, issue.args.get("path")) if x)
    person_number = str(issue.args.get("kind", "")).startswith(_PERSON_NUMBER_KINDS)
    patient = bool(_PATIENT.search(where)) or issue.args.get("value") in patient_ids
    if issue.code == "ADP-4020" and person_number and patient:
        return "E31"
    if issue.code == "ADP-4001" and _PATIENT.search(where):
        for pattern, code in _MISSING_PATIENT:
            if pattern.search(where):
                return code
    return ERROR_CODES.get(issue.code, OTHER_ERROR)


def build_apprec(
    envelope: Read | None,
    issues: list[Issue],
    *,
    version: str = "1.0",
    gen_date: str,
    apprec_id: str,
    displays: Mapping[str, str] | None = None,
) -> etree._Element:
    """The AppRec root element answering the message whose envelope is ``envelope`` (as its mapping file declares
    it, :mod:`adapter.mapping.envelope`) with the ``issues`` found in the message.

    ``version`` is "1.0" (default) or "1.1"; ``gen_date`` (xs:dateTime) and ``apprec_id`` (a UUID) are the
    AppRec's own GenDate and Id. ``displays`` (8221 code -> text) defaults to CodeSystem-kith-8221.json of the
    project. Raises :class:`ReceiptImpossible` when there is no envelope, when it lacks the date the AppRec must
    name, and for a receipt (a receipt is never answered with a receipt, HITS 1168 5.1).
    """
    if version not in APPREC_NS:
        raise ValueError(f"AppRec version {version!r} is not supported (1.0 or 1.1)")
    if envelope is None:
        raise ReceiptImpossible(
            "the message could not be read as a message we know, so there is no envelope to answer: AppRec requires "
            "OriginalMsgId/IssueDate and the sender's address (HITS 1168 5.3: such a message is not answered with an "
            "AppRec)"
        )
    if envelope.is_receipt:
        raise ReceiptImpossible("the message is itself an application receipt, which is never answered with one")
    if not envelope.date:
        raise ReceiptImpossible("the message has no GenDate, which AppRec requires as OriginalMsgId/IssueDate")
    parties = {"Sender": _party(envelope.receiver), "Receiver": _party(envelope.sender)}
    original = (envelope.type, envelope.date, envelope.msg_id)
    return _assemble(version, gen_date, apprec_id, displays, parties, issues, frozenset(envelope.patient_ids), original)


_Party = Callable[[etree._Element, "_Builder"], None]


def _party(party: Party) -> _Party:
    """How the AppRec's Inst is filled from a party of the original message: a MsgHead Organisation is converted
    (:func:`_inst`), a KITH Inst (the standalone messages, AppRec itself) copied in AppRec's order."""

    def fill(inst: etree._Element, sub: _Builder) -> None:
        if party.form == "organisation":
            _inst(inst, party.element, sub)
        else:
            _copy_inst(inst, party.element, sub)

    return fill


def _assemble(
    version: str,
    gen_date: str,
    apprec_id: str,
    displays: Mapping[str, str] | None,
    parties: dict[str, _Party],
    issues: list[Issue],
    patient_ids: frozenset[str],
    original_msg: tuple[etree._Element | None, str, str],
) -> etree._Element:
    """The AppRec from the parts every answered message gives: its two parties (by their role in the AppRec: the
    original's receiver is its Sender), the issues, the patient's identifiers and (type element, issue date, id)
    of the original."""
    names = displays if displays is not None else _displays_8221(str(Settings.from_env().profiles_dir))
    namespace = APPREC_NS[version]
    sub = _Builder(namespace)
    nsmap: Any = {None: namespace}  # lxml takes None as the default-namespace key; its stubs do not
    root = etree.Element(f"{{{namespace}}}AppRec", nsmap=nsmap)
    sub(root, "MsgType", V="APPREC", DN="Applikasjonskvittering")
    sub(root, "MIGversion", MIG_VERSION[version])
    sub(root, "GenDate", gen_date)
    sub(root, "Id", apprec_id)
    for name, (role, role_name) in _ROLES:
        party = sub(root, name)
        if version == "1.1":
            sub(party, "Role", V=role, DN=role_name)
        parties[name](sub(sub(party, "HCP"), "Inst"), sub)
    reported = receipt_issues(issues)
    status = receipt_status(issues)
    sub(root, "Status", V=status, DN=_STATUS[status])
    if len(reported) > MAX_ERRORS:  # the first ones say what is wrong; an AppRec far larger than the message does not
        left_out = len(reported) - MAX_ERRORS
        reported = reported[:MAX_ERRORS]
    else:
        left_out = 0
    for issue in reported:
        code = error_code(issue, patient_ids)
        attrs = {"V": code, "S": ERROR_SYSTEM}
        if code in names:
            attrs["DN"] = names[code]
        attrs["OT"] = _error_text(issue)
        sub(root, "Error", **attrs)
    if left_out:
        note = f"{left_out} feil til er ikke listet (bare de første {MAX_ERRORS})"
        sub(root, "Error", V=OTHER_ERROR, S=ERROR_SYSTEM, DN=names.get(OTHER_ERROR, "Annen feil"), OT=note)
    kept = residue_note(issues) if status != "2" else ""
    if kept:  # accepted, but some of it only verbatim: the sender is told, as the last Error, marked information
        sub(root, "Error", V=OTHER_ERROR, S=ERROR_SYSTEM, DN=names.get(OTHER_ERROR, "Annen feil"), OT=kept)
    original = sub(root, "OriginalMsgId")
    message_type, issue_date, message_id = original_msg
    type_attrs = {k: v for k in ("V", "DN") if (v := (message_type.get(k) if message_type is not None else None))}
    sub(original, "MsgType", **type_attrs)
    sub(original, "IssueDate", issue_date)
    sub(original, "Id", message_id)
    return root


def apprec_summary(xml: bytes) -> Processed:
    """Status and errors of an AppRec we built (our own output), as the message service's API takes them."""
    root = etree.fromstring(xml, parser=safe_parser())
    status = root.find("{*}Status")
    errors = tuple(((e.get("V") or ""), (e.get("OT") or e.get("DN") or "")) for e in root.iterfind("{*}Error"))
    return Processed(RECEIPT_STATUS.get(status.get("V", "") if status is not None else "", "rejected"), errors)


#: The most Error elements one AppRec lists for the issues (one more says how many were left out).
MAX_ERRORS = 50
#: Residue that is no data of the message: where its schema lies and a code's display text.
_NOT_DATA = ("schemaLocation", "/@DN")
#: The longest note on what travels only verbatim (AppRec's OT has no limit; receiving systems show it in a line).
RESIDUE_NOTE_CHARS = 1000


def residue_note(issues: list[Issue]) -> str:
    """The information, for the AppRec of a message we took, that parts of it have no FHIR element and travel only
    verbatim (ADP-3001): which elements, so the sender knows what a FHIR receiver will not see as data. Empty when
    everything was mapped."""
    elements = list(dict.fromkeys(str(i.args.get("element", "")) for i in issues if i.code == "ADP-3001"))
    elements = [e for e in elements if e and not e.endswith(_NOT_DATA)]
    if not elements:
        return ""
    text = (
        "Til informasjon, ikke en feil (ADP-3001): meldingen er tatt imot, men disse delene har ikke noe FHIR-element "
        f"og er tatt vare på uendret (kith-residue): {', '.join(elements)}"
    )
    return text if len(text) <= RESIDUE_NOTE_CHARS else text[: RESIDUE_NOTE_CHARS - 1] + "…"


def receipt_status(issues: list[Issue]) -> str:
    """List 8258: 2 (Avvist) with any error or fatal issue; 3 (OK, feil i delmelding) with a warning that names a
    part of the message the receiver could not take as sent (:data:`PARTIAL`); else 1 (OK)."""
    if any(issue.severity in ("error", "fatal") for issue in issues):
        return "2"
    if any(issue.code in PARTIAL for issue in issues):
        return "3"
    return "1"


def receipt_issues(issues: list[Issue]) -> list[Issue]:
    """The issues the AppRec reports as Error elements: the errors when it rejects the message, else the
    warnings of :data:`PARTIAL` (status 3)."""
    errors = [issue for issue in issues if issue.severity in ("error", "fatal")]
    # An element in a namespace we have no schema for (ADP-2002, T10) also breaks MsgHead's strict wildcard
    # (ADP-2001) and has no mapping (ADP-3002): one cause, reported once, as T10.
    unknown = {(i.expression, i.line) for i in errors if i.code == "ADP-2002"}
    lines = {line for _, line in unknown}
    errors = [
        i
        for i in errors
        if not (i.code == "ADP-2001" and (i.expression, i.line) in unknown or i.code == "ADP-3002" and i.line in lines)
    ]
    return errors or [issue for issue in issues if issue.code in PARTIAL]


#: AppRec's order of the children of Inst, Dept and HCPerson (HIS 80415); the other KITH 2004 messages use the same
#: elements in another order.
_INST_ORDER = {
    "Inst": ("Name", "Id", "TypeId", "Dept", "AdditionalId", "HCPerson"),
    "Dept": ("Type", "Name", "Id", "TypeId", "AdditionalId"),
    "HCPerson": ("Name", "Id", "TypeId", "AdditionalId"),
    "AdditionalId": ("Id", "Type"),
}
_CODED = ("TypeId", "Type")


def _copy_inst(target: etree._Element, source: etree._Element | None, sub: _Builder) -> None:
    """Copy a KITH Inst (and its Dept, HCPerson, AdditionalId) into AppRec's namespace and element order."""
    if source is None:
        return
    order = _INST_ORDER[etree.QName(target).localname]
    for name in order:
        for child in source.iterchildren(f"{{{etree.QName(source).namespace}}}{name}"):
            if name in _INST_ORDER:
                _copy_inst(sub(target, name), child, sub)
            elif name in _CODED:
                sub(target, name, **{k: v for k in ("V", "DN") if (v := child.get(k))})
            else:
                sub(target, name, (child.text or "").strip())


# --- parties --------------------------------------------------------------------------------------------------


def _inst(inst: etree._Element, organisation: etree._Element | None, sub: _Builder) -> None:
    """An organisation party (MsgHead's Organisation form) -> AppRec Inst (Name, Id, TypeId, Dept*, AdditionalId*,
    HCPerson*), in schema order."""
    if organisation is None:
        return
    _named(inst, _text(organisation, "OrganisationName"), organisation, sub)
    professionals = organisation.findall(_in(organisation, "HealthcareProfessional"))
    for unit in organisation.findall(_in(organisation, "Organisation")):
        dept = sub(inst, "Dept")
        _named(dept, _text(unit, "OrganisationName"), unit, sub)
        _additional(dept, unit, sub)
        professionals += unit.findall(_in(unit, "HealthcareProfessional"))
    _additional(inst, organisation, sub)
    for professional in professionals:
        person = sub(inst, "HCPerson")
        name = " ".join(_text(professional, part) for part in ("GivenName", "MiddleName", "FamilyName"))
        _named(person, " ".join(name.split()), professional, sub)
        _additional(person, professional, sub)


def _named(target: etree._Element, name: str, source: etree._Element, sub: _Builder) -> None:
    """Name, then the main Ident (the HER-id, else the first) as Id and TypeId."""
    if name:
        sub(target, "Name", name)
    main = _main_ident(source)
    if main is not None:
        identifier, type_id = _ident(main)
        if identifier:
            sub(target, "Id", identifier)
        if type_id:
            sub(target, "TypeId", **type_id)


def _additional(target: etree._Element, source: etree._Element, sub: _Builder) -> None:
    """Every Ident but the main one as AdditionalId (Id, Type): all identifiers go back (HIS 80415 3.5)."""
    main = _main_ident(source)
    for ident in source.findall(_in(source, "Ident")):
        if ident is main:
            continue
        identifier, type_id = _ident(ident)
        if identifier and type_id:
            additional = sub(target, "AdditionalId")
            sub(additional, "Id", identifier)
            sub(additional, "Type", **type_id)


def _main_ident(source: etree._Element) -> etree._Element | None:
    idents = source.findall(_in(source, "Ident"))
    for ident in idents:
        type_id = ident.find(_in(ident, "TypeId"))
        if type_id is not None and (type_id.get("V") or "").strip() == "HER":
            return ident
    return idents[0] if idents else None


def _ident(ident: etree._Element) -> tuple[str, dict[str, str]]:
    """Id text and the TypeId as a CS (V, DN; the CV's S is dropped: AppRec's TypeId is a CS)."""
    type_id = ident.find(_in(ident, "TypeId"))
    attrs = {k: v for k in ("V", "DN") if type_id is not None and (v := type_id.get(k))}
    return _text(ident, "Id"), attrs


# --- helpers --------------------------------------------------------------------------------------------------


class _Builder:
    """Makes AppRec elements in one namespace: ``sub(parent, name, text, **attributes)``."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace

    def __call__(self, parent: etree._Element, name: str, text: str | None = None, **attrs: str) -> etree._Element:
        element = etree.SubElement(parent, f"{{{self.namespace}}}{name}")
        for key, value in attrs.items():
            element.set(key, value)
        if text is not None:
            element.text = text
        return element


def _in(parent: etree._Element, name: str) -> str:
    """``name`` in the namespace of ``parent`` (an organisation party is read in its own message's namespace)."""
    return f"{{{etree.QName(parent).namespace or ''}}}{name}"


def _text(parent: etree._Element, name: str) -> str:
    found = parent.find(_in(parent, name))
    return (found.text or "").strip() if found is not None else ""


def _error_text(issue: Issue) -> str:
    """The issue's Norwegian text, then where: expression and line (AppRec has no field of its own for that)."""
    try:
        text = issue.text_nb
    except (KeyError, IndexError, ValueError):  # arguments missing for the template: the code's own words
        text = CODES[issue.code].nb if issue.code in CODES else issue.code
    where = []
    if issue.expression:
        where.append(f"sted: {issue.expression}")
    if issue.line:
        where.append(f"linje {issue.line}")
    suffix = f" ({', '.join(where)})" if where else ""
    return f"{issue.code}: {text}{suffix}"


@cache
def _displays_8221(profiles_dir: str) -> dict[str, str]:
    """Code -> display of KITH list 8221 from the project's CodeSystem resource."""
    path = Path(profiles_dir) / "resources" / "CodeSystem-kith-8221.json"
    resource = json.loads(path.read_text(encoding="utf-8"))
    return {concept["code"]: concept["display"] for concept in resource.get("concept", [])}
