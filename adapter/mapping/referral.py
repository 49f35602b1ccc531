"""A referral written in FHIR (event referral-sent, focus a ServiceRequest), shaped like one made from KITH, so that
the one Henvisning 2.0 mapping (kith-henvisning-2.0.to-fhir.yaml read backwards) writes it.

:func:`shape_referral` gives the Bundle that mapping and the MsgHead mapping expect: a MessageHeader with the KITH
message type (8279) and the Henvisning 2.0 definition; the sender, the receiver and the patient as the MsgHead
writes them (one name, one address, identifiers of a KITH id type, telecom as URLs); the referrer as a
PractitionerRole of the sender; each reason as a Condition (a diagnosis coded in a KITH diagnosis code system) or an
Observation (ReasonAsText); each supporting resource as an InfItem Observation with a readable text; and the whole
FHIR Bundle as an attachment (application/fhir+xml), so nothing is lost. The values only the KITH residue holds for
a referral made from KITH (ServType, DocumentId, Priority, TypeInnhold) come from the mapping's fallbacks.

The content is data: the shaper ``referral`` is declared by mappings/fhir.to-kith-henvisning-2.0.yaml (its
``shape:``, read by adapter/mapping/shapers.py), which gives the profiles of what is made, the elements Henvisning 2.0
has a place for (any other is reported as information, ADP-3012: only in the attachment) and what it requires (a
lack is an error, ADP-3014, and then there is no Bundle). What is written in a simpler form is reported here
(ADP-3013: as text, a date for a time). Code values come from mappings/_tables.yaml (the tables henvisning-*), never
from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from adapter.errors import AdapterError, Issue
from adapter.mapping.referral_shaping import (
    DATE,
    Shaping,
    as_dict,
    as_list,
    is_type,
    telecom_url,
)
from adapter.mapping.render import render_resource

if TYPE_CHECKING:
    from adapter.mapping import Mappings
    from adapter.mapping.shapers import Outbound, Shape

#: The resource types this shaper makes (its ``shape:`` block gives their profiles), those whose elements ``sent:``
#: lists (it reads them from the message), and where the paths of ``requires:`` start.
MAKES = frozenset(
    {"MessageHeader", "ServiceRequest", "Patient", "Organization", "Practitioner", "PractitionerRole"}
    | {"Condition", "Observation"}
)
READS = frozenset({"ServiceRequest", "Patient", "Organization", "Practitioner"})
ROOTS = frozenset({"Bundle", "MessageHeader", "ServiceRequest"})
#: The code list of RoleToPatient (9034), the only role codes the MsgHead can carry.
_ROLE_SYSTEM = "urn:oid:2.16.578.1.12.4.1.1.9034"


def shape_referral(message: Outbound, shape: Shape, mappings: Mappings) -> tuple[dict[str, Any] | None, list[Issue]]:
    """The KITH-shaped Bundle for a FHIR referral message and the issues (None when it cannot be sent: ADP-3014);
    ``shape`` is the ``shape:`` block of the to-KITH file (profiles, what is sent, what is required)."""
    shaper = _Shaper(message.bundle, message.header, mappings.tables, shape)
    return shaper.shape(message.attachment)


class _Shaper(Shaping):
    """The steps from a FHIR referral to the Bundle the Henvisning mapping writes, after checking what the target
    requires (the ``requires:`` of the shape block) before the parts are made."""

    # --- the steps ----------------------------------------------------------------------------------------------

    def shape(self, attachment: dict[str, Any]) -> tuple[dict[str, Any] | None, list[Issue]]:
        referral = next(
            (r for r in map(self.ref, as_list(self.header.get("focus"))) if is_type(r, "ServiceRequest")), None
        )
        self.require({"Bundle": self.bundle, "MessageHeader": self.header, "ServiceRequest": referral})
        sender = self.ref(self.header.get("sender"))
        receiver = self.ref(as_dict(self.destination()).get("receiver"))
        patient = self.ref((referral or {}).get("subject"))
        if any(i.severity == "error" for i in self.issues):
            return None, self.issues
        if referral is None or sender is None or receiver is None or patient is None:
            detail = (
                f"a referral needs a focus (ServiceRequest), a sender, a receiver and a patient ({self.block.file})"
            )
            raise AdapterError.of("ADP-3004", detail=detail)
        patient_url = self.add(self.party(patient))
        sender_url = self.add(self.party(sender))
        receiver_url = self.add(self.party(receiver))
        author_url = self.referrer(referral, sender_url)
        shaped = self.request(referral, patient_url, author_url or sender_url, receiver_url)
        request_url = self.add(shaped, front=True)
        attachment_url = self.add(attachment)
        kind = "videre" if as_list(referral.get("replaces")) else "ny"
        if kind == "videre":
            how = ("as the message type Viderehenvisning", "som meldingstypen Viderehenvisning")
            self.simpler("ServiceRequest.replaces", *how)
        message: dict[str, Any] = {
            "resourceType": "MessageHeader",
            "id": self.new_id("header"),
            "meta": {"profile": [self.block.profiles["MessageHeader"]]},
            "eventCoding": dict(self.tables["henvisning-meldingstype"][kind]),
            "destination": [{"endpoint": _endpoint(self.destination()), "receiver": {"reference": receiver_url}}],
            "sender": {"reference": sender_url},
            "source": as_dict(self.header.get("source")) or {"endpoint": "urn:oid:2.16.578.1.12.4.1.2"},
            "focus": [{"reference": request_url}, {"reference": attachment_url}],
            "definition": self.block.definition,
        }
        if author_url:
            message["author"] = {"reference": author_url}
        shaped_bundle = {
            "resourceType": "Bundle",
            "id": self.new_id("bundle-kith"),
            "identifier": self.bundle.get("identifier"),
            "type": "message",
            "timestamp": self.bundle.get("timestamp"),
            "entry": [{"fullUrl": "urn:uuid:" + message["id"], "resource": message}, *self.entries],
        }
        return shaped_bundle, self.issues

    def request(self, referral: dict[str, Any], patient: str, requester: str, receiver: str) -> dict[str, Any]:
        """The ServiceRequest as the Henvisning mapping writes it; what it leaves out is reported."""
        self.unsent(referral, "ServiceRequest")
        shaped: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "id": str(referral.get("id") or self.new_id("henvisning")),
            "meta": {"profile": [self.block.profiles["ServiceRequest"]]},
            "status": referral.get("status"),
            "intent": "order",
            "subject": {"reference": patient},
            "requester": {"reference": requester},
            "performer": [{"reference": receiver}],
        }
        for index, performer in enumerate(as_list(referral.get("performer"))):
            if self.ref(performer) is not self.ref(as_dict(self.destination()).get("receiver")):
                self.lost(f"ServiceRequest.performer[{index}]")
        shaped["authoredOn"] = self.issue_date(str(referral.get("authoredOn")))
        identifiers = [as_dict(i) for i in as_list(referral.get("identifier"))]
        if identifiers and identifiers[0].get("value"):
            shaped["identifier"] = [{"value": str(identifiers[0]["value"])}]
            if identifiers[0].get("system"):
                how = ("as DocumentId, its value only", "som DocumentId, bare verdien")
                self.simpler("ServiceRequest.identifier[0]", *how)
        for index in range(1, len(identifiers)):
            self.lost(f"ServiceRequest.identifier[{index}]")
        if referral.get("priority"):
            shaped["priority"] = referral["priority"]
        shaped.update(self.requested(as_dict(referral.get("code"))))
        notes = [as_dict(n) for n in as_list(referral.get("note"))]
        texts = [str(n["text"]) for n in notes if n.get("text")]
        if texts:
            shaped["note"] = [{"text": "\n\n".join(texts)}]
        for index, note in enumerate(notes):
            for key in sorted(set(note) - {"text"}):
                self.lost(f"ServiceRequest.note[{index}].{key}")
        required = self.required_date(referral)
        if required:
            shaped["occurrenceDateTime"] = required
        reasons = self.reasons(referral, patient)
        if reasons:
            shaped["reasonReference"] = reasons
        supporting = self.supporting(referral, patient)
        if supporting:
            shaped["supportingInfo"] = supporting
        return shaped

    def requested(self, code: dict[str, Any]) -> dict[str, Any]:
        """ServiceRequest.code: codings from the henvisningstype list (8455), and its text; other codings are
        reported. Without an 8455 coding the mapping's fallback gives the type."""
        listed = {str(row.get("system")) for row in self.tables["henvisning-henvisningstype"].values()}
        codings = [as_dict(c) for c in as_list(code.get("coding"))]
        kept = [c for c in codings if c.get("system") in listed and c.get("code")]
        for index, coding in enumerate(codings):
            if coding not in kept:
                self.lost(f"ServiceRequest.code.coding[{index}]")
        concept = {k: v for k, v in (("coding", kept[:1]), ("text", code.get("text"))) if v}
        return {"code": concept} if concept else {}

    def issue_date(self, authored: str) -> str:
        """IssueDate needs a time of day: a date alone is sent as the start of that day (reported)."""
        if "T" in authored:
            return authored
        self.simpler("ServiceRequest.authoredOn", "as the start of that day", "som starten av dagen")
        return authored[:10] + "T00:00:00"

    def required_date(self, referral: dict[str, Any]) -> str | None:
        """ReqDate (a date): of occurrenceDateTime or the start of occurrencePeriod (a time is reported)."""
        for where, value in (
            ("ServiceRequest.occurrenceDateTime", referral.get("occurrenceDateTime")),
            ("ServiceRequest.occurrencePeriod", as_dict(referral.get("occurrencePeriod")).get("start")),
        ):
            if not value:
                continue
            text = str(value)
            if not DATE.match(text):
                self.lost(where)
                return None
            if len(text) > 10 or where.endswith("Period"):
                self.simpler(where, "as the date of ReqDate", "som datoen i ReqDate")
            return text[:10]
        return None

    def reasons(self, referral: dict[str, Any], patient: str) -> list[dict[str, str]]:
        """Each reason as a Condition (Diagnosis: a coding from a KITH diagnosis code system, its text as OT) or an
        Observation (ReasonAsText: the reason as text)."""
        systems = self.tables["henvisning-diagnosekodeverk"]
        heading = self.tables["henvisning-begrunnelse"]["tekst"]
        found: list[dict[str, str]] = []
        for index, concept in enumerate(as_dict(c) for c in as_list(referral.get("reasonCode"))):
            where = f"ServiceRequest.reasonCode[{index}]"
            codings = [as_dict(c) for c in as_list(concept.get("coding"))]
            diagnosis = next((c for c in codings if c.get("system") in systems and c.get("code")), None)
            if diagnosis is None:
                text = _concept_text(concept)
                if not text:
                    self.lost(where)
                elif codings:
                    self.simpler(where, "as text (ReasonAsText)", "som tekst (ReasonAsText)")
                if text:
                    found.append(self.observation(patient, heading, text))
                continue
            for position, coding in enumerate(codings):
                if coding is not diagnosis:
                    self.lost(f"{where}.coding[{position}]")
            found.append(self.condition(patient, diagnosis, concept.get("text")))
        for index, reference in enumerate(as_list(referral.get("reasonReference"))):
            where = f"ServiceRequest.reasonReference[{index}]"
            resource = self.ref(reference)
            if resource is None:
                self.lost(where)
                continue
            code = as_dict(resource.get("code"))
            codings = [as_dict(c) for c in as_list(code.get("coding"))]
            diagnosis = next((c for c in codings if c.get("system") in systems and c.get("code")), None)
            if is_type(resource, "Condition") and diagnosis is not None:
                self.simpler(where, "as its diagnosis code (Diagnosis)", "som diagnosekoden (Diagnosis)")
                found.append(self.condition(patient, diagnosis, code.get("text")))
            else:
                self.simpler(where, "as text (ReasonAsText)", "som tekst (ReasonAsText)")
                found.append(self.observation(patient, heading, render_resource(resource)))
        return found

    def supporting(self, referral: dict[str, Any], patient: str) -> list[dict[str, str]]:
        """Each supporting resource as an InfItem: its type (8233) and date from henvisning-infitem, its text."""
        rows = self.tables["henvisning-infitem"]
        found: list[dict[str, str]] = []
        for index, reference in enumerate(as_list(referral.get("supportingInfo"))):
            where = f"ServiceRequest.supportingInfo[{index}]"
            resource = self.ref(reference)
            if resource is None:
                self.lost(where)
                continue
            row = rows.get(str(resource.get("resourceType")), rows["default"])
            observation = self.observation(patient, row["type"], render_resource(resource), register=False)
            moment = str(resource.get(row.get("date", ""), "")) if row.get("date") else ""
            if "T" in moment:
                observation["effectivePeriod"] = {"start": moment}
            self.simpler(where, "as text (InfItem)", "som tekst (InfItem)")
            found.append({"reference": self.add(observation)})
        return found

    def referrer(self, referral: dict[str, Any], sender: str) -> str | None:
        """The referring professional as a PractitionerRole of the sender (MsgHead's HealthcareProfessional); None
        when the requester is no professional, or one without an identifier of a KITH id type (reported)."""
        named = self.ref(referral.get("requester")) or self.ref(self.header.get("author"))
        requester = named
        role_codes: list[dict[str, Any]] = []
        if is_type(requester, "PractitionerRole"):
            codes = [
                as_dict(c)
                for concept in as_list(requester.get("code"))
                for c in as_list(as_dict(concept).get("coding"))
            ]
            role_codes = [c for c in codes if c.get("system") == _ROLE_SYSTEM and c.get("code")][:1]
            if len(codes) > len(role_codes):
                self.lost("PractitionerRole.code")
            requester = self.ref(requester.get("practitioner"))
        if not is_type(requester, "Practitioner"):
            if named is not None and named is not self.ref(self.header.get("sender")):
                self.lost("ServiceRequest.requester")
            return None
        if not self.identifiers(requester):
            self.lost("ServiceRequest.requester")
            return None
        practitioner = self.add(self.party(requester))
        role: dict[str, Any] = {
            "resourceType": "PractitionerRole",
            "id": self.new_id("henviser"),
            "meta": {"profile": [self.block.profiles["PractitionerRole"]]},
            "practitioner": {"reference": practitioner},
            "organization": {"reference": sender},
        }
        if role_codes:
            role["code"] = [{"coding": role_codes}]
        return self.add(role)


def _concept_text(concept: dict[str, Any]) -> str:
    if concept.get("text"):
        return str(concept["text"])
    return ", ".join(
        str(as_dict(c).get("display") or as_dict(c).get("code") or "") for c in as_list(concept.get("coding"))
    )


def _endpoint(destination: Any) -> str:
    return str(as_dict(destination).get("endpoint") or "urn:oid:2.16.578.1.12.4.1.2")


__all__ = ["MAKES", "READS", "ROOTS", "shape_referral", "telecom_url"]
