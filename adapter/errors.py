"""The one error family of the adapter, and the table of stable issue codes.

Every problem the adapter reports is an :class:`Issue` with a stable code (``ADP-xyyy``; ``x`` is the stage:
0 setup, 1 parse, 2 schema, 3 mapping, 4 profile, 5 route, 6 delivery,
7 security). Texts may change; codes never do.
Codes are listed in :data:`CODES` with their FHIR issue type and an English and Norwegian (bokmål) text, which
may carry ``{placeholders}`` filled from the issue's arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Severity = Literal["fatal", "error", "warning", "information"]


@dataclass(frozen=True)
class CodeInfo:
    """What a stable issue code means: FHIR issue type and the text in both languages."""

    type: str
    en: str
    nb: str


CODES: dict[str, CodeInfo] = {
    "ADP-0001": CodeInfo(
        "not-found",
        "The standards directory has no {what} at {path}. Set SAMHANDLING_STANDARDS to the folder that holds "
        "fhir/ and kith/ (by default ../shared/standards beside the checkout).",
        "Standardkatalogen mangler {what} i {path}. Sett SAMHANDLING_STANDARDS til mappen med fhir/ og kith/ "
        "(som standard ../shared/standards ved siden av kodebasen).",
    ),
    "ADP-0002": CodeInfo(
        "exception",
        "The external tool {tool} failed: {detail}",
        "Eksternt verktøy {tool} feilet: {detail}",
    ),
    "ADP-0003": CodeInfo(
        "not-found",
        "Cannot read {path}: {detail}",
        "Kan ikke lese {path}: {detail}",
    ),
    "ADP-0004": CodeInfo(
        "invariant",
        "The committed conformance resources are stale: {detail}. Run `samhandling profiles build` and commit.",
        "De innsjekkede konformitetsressursene er utdaterte: {detail}. Kjør `samhandling profiles build` og sjekk inn.",
    ),
    "ADP-0005": CodeInfo(
        "not-found",
        "No definition for {url}: it is neither in the core package, no-basis nor our profiles.",
        "Ingen definisjon for {url}: den finnes verken i kjernepakken, no-basis eller våre profiler.",
    ),
    "ADP-0006": CodeInfo(
        "structure",
        "Cannot build the snapshot of {url}: {detail}",
        "Kan ikke lage snapshot for {url}: {detail}",
    ),
    "ADP-0007": CodeInfo(
        "exception",
        "The database URL {url} is not supported: use sqlite:///path/to/file.sqlite or postgresql://...",
        "Database-URL-en {url} støttes ikke: bruk sqlite:///sti/til/fil.sqlite eller postgresql://...",
    ),
    "ADP-1001": CodeInfo(
        "structure",
        "The content is not valid JSON: {detail}",
        "Innholdet er ikke gyldig JSON: {detail}",
    ),
    "ADP-1002": CodeInfo(
        "structure",
        "{path}: the value has the wrong type or format ({detail})",
        "{path}: verdien har feil type eller format ({detail})",
    ),
    "ADP-1003": CodeInfo(
        "structure",
        "{path}: there is no such element in FHIR R4",
        "{path}: dette elementet finnes ikke i FHIR R4",
    ),
    "ADP-1004": CodeInfo(
        "structure",
        "The content is not well-formed XML: {detail}",
        "Innholdet er ikke velformet XML: {detail}",
    ),
    "ADP-1005": CodeInfo(
        "security",
        "The XML uses a construct that is refused for safety: {detail}",
        "XML-en bruker en konstruksjon som avvises av sikkerhetshensyn: {detail}",
    ),
    "ADP-1010": CodeInfo(
        "too-costly",
        "The document has more than {limit} elements, more than any message needs",
        "Dokumentet har mer enn {limit} elementer, mer enn noen melding trenger",
    ),
    "ADP-1006": CodeInfo(
        "too-costly",
        "The content is {size} bytes, more than the limit of {limit} bytes",
        "Innholdet er {size} byte, mer enn grensen på {limit} byte",
    ),
    "ADP-1007": CodeInfo(
        "structure",
        "This is not a FHIR resource in XML: {detail}",
        "Dette er ikke en FHIR-ressurs i XML: {detail}",
    ),
    "ADP-1008": CodeInfo(
        "structure",
        "{path}: this type is not allowed here (allowed: {allowed})",
        "{path}: denne typen er ikke tillatt her (tillatt: {allowed})",
    ),
    "ADP-1009": CodeInfo(
        "too-costly",
        "The content is nested more deeply than this service follows; it was not checked",
        "Innholdet er nestet dypere enn tjenesten følger; det ble ikke kontrollert",
    ),
    "ADP-2001": CodeInfo(
        "structure",
        "The message breaks its XML Schema: {detail}",
        "Meldingen bryter med XML-skjemaet sitt: {detail}",
    ),
    "ADP-2002": CodeInfo(
        "not-supported",
        'The element {element} is in the namespace "{namespace}", which has no known KITH schema, so it was not '
        "validated",
        'Elementet {element} er i navnerommet "{namespace}", som ikke har noe kjent KITH-skjema, og ble derfor ikke '
        "validert",
    ),
    "ADP-2003": CodeInfo(
        "exception",
        "The XML Schema for {namespaces} could not be loaded: {detail}",
        "XML-skjemaet for {namespaces} kunne ikke lastes: {detail}",
    ),
    "ADP-3001": CodeInfo(
        "informational",
        "{element}: carried verbatim in the kith-residue extension of {resource} (no FHIR element for it; see "
        "mappings/unmapped.yaml)",
        "{element}: overført uendret i kith-residue-utvidelsen på {resource} (har ikke noe FHIR-element; se "
        "mappings/unmapped.yaml)",
    ),
    "ADP-3002": CodeInfo(
        "not-supported",
        "No mapping for the message content {element} (namespace {namespace}); supported: {supported}",
        "Ingen mapping for meldingsinnholdet {element} (navnerom {namespace}); støttet: {supported}",
    ),
    "ADP-3003": CodeInfo(
        "invalid",
        "The mapping file {file} is invalid: {detail}",
        "Mappingfilen {file} er ugyldig: {detail}",
    ),
    "ADP-3004": CodeInfo(
        "not-supported",
        "The Bundle cannot be sent as KITH: {detail}",
        "Bundelen kan ikke sendes som KITH: {detail}",
    ),
    "ADP-3006": CodeInfo(
        "exception",
        "The KITH message could not be mapped to FHIR: {detail}",
        "KITH-meldingen kunne ikke mappes til FHIR: {detail}",
    ),
    "ADP-3005": CodeInfo(
        "required",
        "The KITH message lacks {what}, so it cannot be read",
        "KITH-meldingen mangler {what}, og kan derfor ikke leses",
    ),
    "ADP-3015": CodeInfo(
        "required",
        "The message has no message id (MsgId): it cannot be answered, recognised again or stored",
        "Meldingen mangler meldingsidentifikator (MsgId): den kan ikke besvares, kjennes igjen eller lagres",
    ),
    "ADP-3010": CodeInfo(
        "value",
        "{element}: '{value}' is not a valid {kind_en}: {detail_en}. The identifier is carried in full with its KITH "
        "id type, but without the national identifier system",
        "{element}: '{value}' er ikke et gyldig {kind_nb}: {detail_nb}. Identifikatoren er overført uendret med sin "
        "KITH-identifikatortype, men uten det nasjonale identifikatorsystemet",
    ),
    "ADP-3011": CodeInfo(
        "required",
        "{element}: the message lacks {what}, so it cannot be processed",
        "{element}: meldingen mangler {what}, og kan derfor ikke behandles",
    ),
    "ADP-3012": CodeInfo(
        "informational",
        "{element}: {target} has no place for it; it travels in the attached FHIR Bundle (application/fhir+xml)",
        "{element}: {target} har ikke noe sted for dette; det overføres i den vedlagte FHIR-bundelen "
        "(application/fhir+xml)",
    ),
    "ADP-3013": CodeInfo(
        "informational",
        "{element}: sent in {target} {how_en}; the structure travels in the attached FHIR Bundle "
        "(application/fhir+xml)",
        "{element}: sendt i {target} {how_nb}; strukturen overføres i den vedlagte FHIR-bundelen "
        "(application/fhir+xml)",
    ),
    "ADP-3014": CodeInfo(
        "required",
        "{element}: the referral lacks {what_en}, which {target} requires, so it cannot be sent as KITH",
        "{element}: henvisningen mangler {what_nb}, som {target} krever, og kan derfor ikke sendes som KITH",
    ),
    "ADP-4001": CodeInfo(
        "required",
        "{path}: minimum required = {min}, but only found {count}",
        "{path}: minst {min} påkrevd, men fant {count}",
    ),
    "ADP-4002": CodeInfo(
        "structure",
        "{path}: maximum allowed = {max}, but found {count}",
        "{path}: høyst {max} tillatt, men fant {count}",
    ),
    "ADP-4003": CodeInfo(
        "value",
        "{path}: the value must be {expected} (fixed or pattern in {profile})",
        "{path}: verdien må være {expected} (fast verdi eller mønster i {profile})",
    ),
    "ADP-4004": CodeInfo(
        "code-invalid",
        "{path}: the code {code} is not in the required value set {valueset}",
        "{path}: koden {code} er ikke i det påkrevde verdisettet {valueset}",
    ),
    "ADP-4005": CodeInfo(
        "not-supported",
        "{path}: code system {system} is not available offline; the code was not checked",
        "{path}: kodeverket {system} er ikke tilgjengelig lokalt; koden ble ikke kontrollert",
    ),
    "ADP-4006": CodeInfo(
        "not-found",
        "The resource claims profile {profile}, which is not known, so it was not checked",
        "Ressursen oppgir profilen {profile}, som ikke er kjent, og den ble derfor ikke kontrollert",
    ),
    "ADP-4009": CodeInfo(
        "structure",
        "The slice {slice} of {path} is out of order (the slicing is ordered, or open only at the end)",
        "Delen (slice) {slice} av {path} står i feil rekkefølge (oppdelingen er ordnet, eller bare åpen på slutten)",
    ),
    "ADP-4010": CodeInfo(
        "invariant",
        "Constraint failed: {key}: {human} (in {profile})",
        "Regelen {key} er brutt: {human} (i {profile})",
    ),
    "ADP-4011": CodeInfo(
        "not-supported",
        "The constraint {key} could not be evaluated, so it was not checked: {detail}",
        "Regelen {key} kunne ikke evalueres, og ble ikke kontrollert: {detail}",
    ),
    "ADP-4012": CodeInfo(
        "code-invalid",
        "{path}: the code {code} is not in the extensible value set {valueset}; use a code from it when one fits",
        "{path}: koden {code} er ikke i det utvidbare verdisettet {valueset}; bruk en kode derfra når en passer",
    ),
    "ADP-4013": CodeInfo(
        "value",
        "The value {value} is below the minimum {limit} allowed here (in {profile})",
        "Verdien {value} er under minsteverdien {limit} som er tillatt her (i {profile})",
    ),
    "ADP-4014": CodeInfo(
        "value",
        "The value {value} is above the maximum {limit} allowed here (in {profile})",
        "Verdien {value} er over høyeste verdi {limit} som er tillatt her (i {profile})",
    ),
    "ADP-4015": CodeInfo(
        "value",
        "The value '{value}' is {length} characters long, shorter than the minimum length {limit} (in {profile})",
        "Verdien '{value}' er {length} tegn lang, kortere enn minstelengden {limit} (i {profile})",
    ),
    "ADP-4016": CodeInfo(
        "value",
        "The value '{value}' is {length} characters long, longer than the maximum length {limit} (in {profile})",
        "Verdien '{value}' er {length} tegn lang, lengre enn makslengden {limit} (i {profile})",
    ),
    "ADP-4017": CodeInfo(
        "required",
        "{path}: the profile {profile} requires a value here; extensions alone are not enough",
        "{path}: profilen {profile} krever en verdi her; utvidelser alene er ikke nok",
    ),
    "ADP-4018": CodeInfo(
        "required",
        "{path}: without a value, one of these extensions must stand in its place: {allowed} (in {profile})",
        "{path}: uten verdi må en av disse utvidelsene stå i stedet: {allowed} (i {profile})",
    ),
    "ADP-4019": CodeInfo(
        "invalid",
        "The markdown has what looks like an embedded HTML tag (starting at '{start}'); a presentation layer will "
        "(or should) escape it, so check that this is what is meant",
        "Markdown-teksten har noe som ser ut som en innebygd HTML-tagg (fra '{start}'); et presentasjonslag vil "
        "(eller bør) vise den som tekst, så sjekk at det er meningen",
    ),
    "ADP-4021": CodeInfo(
        "code-invalid",
        "The display '{display}' is wrong for {code}; its code system has: {allowed}",
        "Visningsteksten '{display}' er feil for {code}; kodesystemet har: {allowed}",
    ),
    "ADP-4020": CodeInfo(
        "value",
        "{path}: {value!r} is not a valid {kind}: {detail}",
        "{path}: {value!r} er ikke et gyldig {kind_nb}: {detail_nb}",
    ),
    "ADP-4007": CodeInfo(
        "invalid",
        "The profile {profile} is for {type}, but the resource is a {actual}",
        "Profilen {profile} gjelder {type}, men ressursen er en {actual}",
    ),
    "ADP-4008": CodeInfo(
        "structure",
        "This element does not match any slice of {path}, and the slicing is closed",
        "Elementet passer ikke til noen av delene (slices) av {path}, og oppdelingen er lukket",
    ),
    "ADP-4022": CodeInfo(
        "structure",
        "The element id {id!r} occurs more than once in this resource; element ids must be unique within it",
        "Element-id-en {id!r} forekommer mer enn én gang i ressursen; element-id-er må være unike i ressursen",
    ),
    "ADP-4030": CodeInfo(
        "structure",
        "The reference {reference} points to a {type}, but only {allowed} is allowed here",
        "Referansen {reference} peker på en {type}, men bare {allowed} er tillatt her",
    ),
    "ADP-4031": CodeInfo(
        "not-found",
        "The reference {reference} is not found in the Bundle",
        "Referansen {reference} finnes ikke i bunten (Bundle)",
    ),
    "ADP-4032": CodeInfo(
        "structure",
        "The reference {reference} points to a resource that meets none of the profiles allowed here: {profiles}",
        "Referansen {reference} peker på en ressurs som ikke oppfyller noen av profilene som er tillatt her: "
        "{profiles}",
    ),
    "ADP-4033": CodeInfo(
        "not-found",
        "The reference {reference} cannot be resolved (it is not contained, nor in the Bundle or Parameters)",
        "Referansen {reference} kan ikke slås opp (den er verken inneholdt eller i Bundle eller Parameters)",
    ),
    "ADP-4034": CodeInfo(
        "not-found",
        "The reference {reference} is not found in the document Bundle, where every reference must resolve "
        "(relative references are read against the base of the entry's fullUrl)",
        "Referansen {reference} finnes ikke i dokument-Bundle-en, der alle referanser må slås opp (relative "
        "referanser leses mot basen i oppføringens fullUrl)",
    ),
    "ADP-4035": CodeInfo(
        "structure",
        "The reference {reference} matches more than one entry of the Bundle",
        "Referansen {reference} svarer til mer enn én oppføring i Bundle-en",
    ),
    "ADP-4036": CodeInfo(
        "structure",
        "The reference {reference} names another type than the resource it resolves to, a {type}",
        "Referansen {reference} oppgir en annen type enn ressursen den peker på, som er en {type}",
    ),
    "ADP-4037": CodeInfo(
        "structure",
        "The value meets none of the profiles its type allows here: {profiles}",
        "Verdien oppfyller ingen av profilene typen tillater her: {profiles}",
    ),
    "ADP-4040": CodeInfo(
        "structure",
        "The extension {url} is unknown, so it was not checked",
        "Utvidelsen {url} er ukjent, og ble derfor ikke kontrollert",
    ),
    "ADP-4041": CodeInfo(
        "structure",
        "The extension {url} is not allowed at this point (allowed: {allowed})",
        "Utvidelsen {url} er ikke tillatt på dette stedet (tillatt: {allowed})",
    ),
    "ADP-4043": CodeInfo(
        "structure",
        "The extension {url} is not allowed here: its context invariant {expression} is not met",
        "Utvidelsen {url} er ikke tillatt her: kontekstregelen {expression} er ikke oppfylt",
    ),
    "ADP-4044": CodeInfo(
        "structure",
        "The extension {url} could not be found, so it is not allowed here",
        "Utvidelsen {url} finnes ikke, og er derfor ikke tillatt her",
    ),
    "ADP-4045": CodeInfo(
        "invalid",
        "The extension url {url!r} must be an absolute URL (only sub-extensions of a complex extension are relative)",
        "Utvidelsens url {url!r} må være en absolutt URL (bare deler av en sammensatt utvidelse er relative)",
    ),
    "ADP-4046": CodeInfo(
        "structure",
        "The sub-extension url {url!r} is not defined by the extension {parent}",
        "Delutvidelsen {url!r} er ikke definert i utvidelsen {parent}",
    ),
    "ADP-4047": CodeInfo(
        "invalid",
        "Example URLs are not allowed in this context ({url})",
        "Eksempel-URL-er er ikke tillatt i denne sammenhengen ({url})",
    ),
    "ADP-4048": CodeInfo(
        "value",
        "The stated attachment size {size} does not match the size of its data ({actual} bytes)",
        "Oppgitt størrelse {size} på vedlegget stemmer ikke med størrelsen på dataene ({actual} byte)",
    ),
    "ADP-4049": CodeInfo(
        "structure",
        "A resource of type {type} is not allowed here (allowed: {allowed})",
        "En ressurs av typen {type} er ikke tillatt her (tillatt: {allowed})",
    ),
    "ADP-4058": CodeInfo(
        "business-rule",
        "The entry {url} cannot be reached from the document's Composition by following references (forward or "
        "backward)",
        "Oppføringen {url} kan ikke nås fra dokumentets Composition ved å følge referanser (forover eller bakover)",
    ),
    "ADP-4060": CodeInfo(
        "structure",
        "The item with linkId {link_id!r} is not in the Questionnaire at this point",
        "Spørsmålet med linkId {link_id!r} finnes ikke i spørreskjemaet (Questionnaire) på dette stedet",
    ),
    "ADP-4061": CodeInfo(
        "structure",
        "The item with linkId {link_id!r} has an answer, although its enableWhen conditions do not enable it",
        "Spørsmålet med linkId {link_id!r} har svar, selv om betingelsene i enableWhen ikke aktiverer det",
    ),
    "ADP-4062": CodeInfo(
        "business-rule",
        "The enableWhen of item {link_id!r} depends on question {question!r}, which is inside the item itself",
        "enableWhen for spørsmålet {link_id!r} avhenger av spørsmålet {question!r}, som ligger inne i spørsmålet selv",
    ),
    "ADP-4063": CodeInfo(
        "required",
        "The required item with linkId {link_id!r} has no answer in this completed response",
        "Det obligatoriske spørsmålet med linkId {link_id!r} mangler svar i dette fullførte svaret",
    ),
    "ADP-4064": CodeInfo(
        "business-rule",
        "{path}: the narrative part '{detail}' has no class that says where it comes from (boilerplate, generated "
        "or original), which the profile {profile} requires",
        "{path}: narrativdelen '{detail}' har ingen class som sier hvor den kommer fra (boilerplate, generated eller "
        "original), noe profilen {profile} krever",
    ),
    "ADP-4065": CodeInfo(
        "business-rule",
        "{path}: the narrative has language sections ({detail}), which the profile {profile} does not allow",
        "{path}: narrativen har språkseksjoner ({detail}), noe profilen {profile} ikke tillater",
    ),
    "ADP-4066": CodeInfo(
        "business-rule",
        "{path}: the narrative has no language sections, which the profile {profile} requires{detail}",
        "{path}: narrativen har ingen språkseksjoner, noe profilen {profile} krever{detail}",
    ),
    "ADP-4067": CodeInfo(
        "business-rule",
        "{path}: the narrative has no section in the resource's language {detail}, which the profile {profile} "
        "requires",
        "{path}: narrativen har ingen seksjon på ressursens språk {detail}, noe profilen {profile} krever",
    ),
    "ADP-4068": CodeInfo(
        "value",
        "The narrative links to '#{link}', which is no anchor in the resource's narrative and no contained resource",
        "Narrativen lenker til '#{link}', som verken er et anker i ressursens narrativ eller en inneholdt ressurs",
    ),
    "ADP-4069": CodeInfo(
        "code-invalid",
        "None of the codes ({code}) is in the value set {valueset} of an additional binding ({purpose})",
        "Ingen av kodene ({code}) er i verdisettet {valueset} til en tilleggsbinding ({purpose})",
    ),
    "ADP-4070": CodeInfo(
        "business-rule",
        "The MeasureReport has no {part} for the Measure's {part} with code '{code}' (id {id})",
        "MeasureReport mangler {part} for målets (Measure) {part} med kode '{code}' (id {id})",
    ),
    "ADP-4071": CodeInfo(
        "business-rule",
        "The population code '{code}' is not among the populations the Measure defines for this group",
        "Populasjonskoden '{code}' er ikke blant populasjonene målet (Measure) definerer for denne gruppen",
    ),
    "ADP-4072": CodeInfo(
        "business-rule",
        "Only a MeasureReport of type subject-list lists its subjects; this one is of type {type}",
        "Bare en MeasureReport av typen subject-list lister opp subjektene; denne er av typen {type}",
    ),
    "ADP-4073": CodeInfo(
        "business-rule",
        "The Measure is scored as a cohort, which has no score: leave measureScore out",
        "Målet (Measure) skåres som en kohort, som ikke har skår: utelat measureScore",
    ),
    "ADP-4074": CodeInfo(
        "business-rule",
        "This {part} has no code that matches a {part} of the Measure",
        "Denne {part} har ingen kode som svarer til en {part} i målet (Measure)",
    ),
    "ADP-4080": CodeInfo(
        "invalid",
        "The snapshot of this profile cannot be built from its differential and its base: {detail}",
        "Snapshot for profilen kan ikke lages fra differansen og basen: {detail}",
    ),
    "ADP-4081": CodeInfo(
        "invalid",
        "{path}: the profile fixes the value {value}, but its base already fixes {fixed}, which a profile cannot "
        "change",
        "{path}: profilen fastsetter verdien {value}, men basen fastsetter allerede {fixed}, som en profil ikke kan "
        "endre",
    ),
    "ADP-4082": CodeInfo(
        "invalid",
        "{path}: the profile {profile} is for the type {type}, not for the element's type {code}",
        "{path}: profilen {profile} gjelder typen {type}, ikke elementets type {code}",
    ),
    "ADP-4083": CodeInfo(
        "invalid",
        "The discriminator path '{path}' does not start with a child of the sliced element {element}",
        "Diskriminatorstien '{path}' begynner ikke med et barn av det oppdelte elementet {element}",
    ),
    "ADP-4084": CodeInfo(
        "business-rule",
        "Obligations are inherited from {profile}, which is not marked as an obligation profile",
        "Forpliktelser arves fra {profile}, som ikke er merket som en forpliktelsesprofil (obligation profile)",
    ),
    "ADP-4085": CodeInfo(
        "business-rule",
        "Obligations are inherited from {profile}, whose base {base} is not this profile's base {expected}",
        "Forpliktelser arves fra {profile}, som har basen {base} og ikke denne profilens base {expected}",
    ),
    "ADP-4050": CodeInfo(
        "invalid",
        "Except in transactions and batches, every Bundle entry must have a fullUrl (the identity of its resource)",
        "Unntatt i transaksjoner og batcher må hver oppføring i en Bundle ha fullUrl (identiteten til ressursen)",
    ),
    "ADP-4051": CodeInfo(
        "invalid",
        "The fullUrl must be an absolute URL (not {url!r})",
        "fullUrl må være en absolutt URL (ikke {url!r})",
    ),
    "ADP-4052": CodeInfo(
        "invalid",
        "The fullUrl {url!r} looks like a RESTful server URL, but the resource has no id",
        "fullUrl {url!r} ser ut som en RESTful server-URL, men ressursen har ingen id",
    ),
    "ADP-4053": CodeInfo(
        "invalid",
        "The fullUrl {url!r} looks like a RESTful server URL, so it must end with the resource's type and id "
        "({expected})",
        "fullUrl {url!r} ser ut som en RESTful server-URL, og må derfor slutte med ressursens type og id ({expected})",
    ),
    "ADP-4054": CodeInfo(
        "invalid",
        "The link relation {relation!r} belongs to searches and histories, not to a Bundle of type {type}",
        "Lenkerelasjonen {relation!r} hører til søk og historikk, ikke til en Bundle av typen {type}",
    ),
    "ADP-4055": CodeInfo(
        "invalid",
        "The link relation {relation!r} may occur only once",
        "Lenkerelasjonen {relation!r} kan bare forekomme én gang",
    ),
    "ADP-4056": CodeInfo(
        "not-found",
        "The stylesheet link {url!r} is not found in this Bundle",
        "Stilarklenken {url!r} finnes ikke i denne bunten (Bundle)",
    ),
    "ADP-5010": CodeInfo(
        "structure",
        "$process-message takes a Bundle of type message whose first entry is a MessageHeader with an id",
        "$process-message tar imot en Bundle av typen message der første oppføring er en MessageHeader med id",
    ),
    "ADP-5011": CodeInfo(
        "not-found",
        "No message with id {id} from your organisation is known",
        "Ingen melding med id {id} fra virksomheten din er kjent",
    ),
    "ADP-5012": CodeInfo(
        "informational",
        "The message {id} is stored and will be processed; its receipt will be at /kith/receipts/{id}",
        "Meldingen {id} er lagret og vil bli behandlet; kvitteringen kommer på /kith/receipts/{id}",
    ),
    "ADP-5013": CodeInfo(
        "not-supported",
        "The content type {content_type} is not accepted here (accepted: {accepted})",
        "Innholdstypen {content_type} tas ikke imot her (tillatt: {accepted})",
    ),
    "ADP-5014": CodeInfo(
        "not-found",
        "There is no endpoint {method} {path}",
        "Det finnes ikke noe endepunkt {method} {path}",
    ),
    "ADP-5015": CodeInfo(
        "exception",
        "Internal error while handling the request (reference {reference}); nothing was stored by it",
        "Intern feil under behandling av forespørselen (referanse {reference}); ingenting ble lagret",
    ),
    "ADP-5016": CodeInfo(
        "too-costly",
        "The request is larger than the limit of {limit} bytes",
        "Forespørselen er større enn grensen på {limit} byte",
    ),
    "ADP-5017": CodeInfo(
        "invalid",
        "The body is not valid base64: {detail}",
        "Innholdet er ikke gyldig base64: {detail}",
    ),
    "ADP-5018": CodeInfo(
        "duplicate",
        "The message id {id} was already used by {sender} for another message with different content: the first "
        "message and its receipt stand, this one is refused. A new message needs a new id (MsgId / MessageHeader.id).",
        "Meldingsidentifikatoren {id} er allerede brukt av {sender} for en annen melding med annet innhold: den første "
        "meldingen og kvitteringen på den gjelder, denne avvises. En ny melding må ha en ny identifikator (MsgId / "
        "MessageHeader.id).",
    ),
    "ADP-5028": CodeInfo(
        "not-supported",
        "{method} is not supported on {path}; allowed: {allowed}",
        "{method} støttes ikke for {path}; tillatt: {allowed}",
    ),
    "ADP-5031": CodeInfo(
        "not-found",
        "The message names no receiver this service can identify: MessageHeader.destination needs a receiver with a "
        "HER-id (urn:oid:2.16.578.1.12.4.1.2) or an endpoint in the routing table; nothing was stored",
        "Meldingen oppgir ingen mottaker tjenesten kan identifisere: MessageHeader.destination må ha en mottaker med "
        "HER-id (urn:oid:2.16.578.1.12.4.1.2) eller et endepunkt i rutingtabellen; ingenting ble lagret",
    ),
    "ADP-5030": CodeInfo(
        "invalid",
        "The reference {reference!r} is not a valid reference: {detail}",
        "Referansen {reference!r} er ikke en gyldig referanse: {detail_nb}",
    ),
    "ADP-5020": CodeInfo(
        "not-found",
        "{ref} is not known",
        "{ref} er ikke kjent",
    ),
    "ADP-5021": CodeInfo(
        "conflict",
        "If-Match {etag} does not name the current version ({version}); read it again and retry",
        "If-Match {etag} angir ikke gjeldende versjon ({version}); les ressursen på nytt og prøv igjen",
    ),
    "ADP-5022": CodeInfo(
        "not-supported",
        "The resource type {type} is not served here (served: {types})",
        "Ressurstypen {type} tilbys ikke her (tilbys: {types})",
    ),
    "ADP-5023": CodeInfo(
        "invalid",
        "The search parameter {param} cannot be used: {detail}",
        "Søkeparameteren {param} kan ikke brukes: {detail}",
    ),
    "ADP-5024": CodeInfo(
        "deleted",
        "{ref} has been deleted",
        "{ref} er slettet",
    ),
    "ADP-5026": CodeInfo(
        "invalid",
        "The resource id {id!r} does not match the id in the URL ({url!r}) or is not a valid id",
        "Ressursens id {id!r} stemmer ikke med id-en i URL-en ({url!r}) eller er ikke en gyldig id",
    ),
    "ADP-5027": CodeInfo(
        "invalid",
        "Expected a {expected} resource, found {found}",
        "Forventet en {expected}-ressurs, fant {found}",
    ),
    "ADP-7011": CodeInfo(
        "forbidden",
        "The message is sent as organisation {sender}, but the caller is organisation {org}",
        "Meldingen er sendt som virksomhet {sender}, men avsenderen er virksomhet {org}",
    ),
    "ADP-7008": CodeInfo(
        "forbidden",
        "Organisation {org} is not party to {ref} and has no consent to see it",
        "Virksomhet {org} er ikke part i {ref} og har ikke samtykke til å se den",
    ),
    "ADP-7010": CodeInfo(
        "forbidden",
        "{ref} may not be shared with organisation {org}: it is not party to it, and no active consent of the patient "
        "permits it (actor, provision.class, provision.action, period), nor is another legal basis stated",
        "{ref} kan ikke deles med virksomhet {org}: den er ikke part i den, og ingen aktivt samtykke fra pasienten "
        "tillater det (aktør, provision.class, provision.action, periode), og heller ikke noe annet rettslig "
        "grunnlag er oppgitt",
    ),
    "ADP-7013": CodeInfo(
        "forbidden",
        "{ref} exists and organisation {org} is not party to it, so it may not change it (only the organisation that "
        "created it and those it names may); nothing of the message was stored",
        "{ref} finnes, og virksomhet {org} er ikke part i den og kan derfor ikke endre den (bare virksomheten som "
        "opprettet den og de den nevner, kan det); ingenting fra meldingen ble lagret",
    ),
    "ADP-7022": CodeInfo(
        "security",
        "The sending organisation (or one of its units) lists more than one HER-id ({found}): a message must say "
        "who sends it, and an organisation is its one HER-id",
        "Avsendervirksomheten (eller en av enhetene) oppgir mer enn én HER-id ({found}): en melding må si hvem som "
        "sender den, og en virksomhet er sin ene HER-id",
    ),
    "ADP-7014": CodeInfo(
        "security",
        "{ref}: an Organization is its one HER-id; this one lists {found} where the stored one has {stored}. A "
        "message may not add, reorder or replace the identifiers of an organisation it does not own",
        "{ref}: en virksomhet er sin ene HER-id; denne oppgir {found}, mens den lagrede har {stored}. En melding kan "
        "ikke legge til, bytte rekkefølge på eller erstatte identifikatorene til en virksomhet den ikke eier",
    ),
    "ADP-7015": CodeInfo(
        "informational",
        "{ref}: organisation {org} may not change it, so the stored version is kept and used",
        "{ref}: virksomhet {org} kan ikke endre den, så den lagrede versjonen beholdes og brukes",
    ),
    "ADP-7016": CodeInfo(
        "forbidden",
        "Only a party to the care of {patient} records a Consent for them; organisation {org} is not",
        "Bare en part i helsehjelpen til {patient} kan registrere samtykke for pasienten; virksomhet {org} er ikke det",
    ),
    "ADP-7017": CodeInfo(
        "conflict",
        "{ref} has changed since the version this change is based on ({based}); the current version is {current}, "
        "written by {writer}. Read it, merge, and send the change again based on version {current}",
        "{ref} er endret siden versjonen denne endringen bygger på ({based}); gjeldende versjon er {current}, skrevet "
        "av {writer}. Les den, flett, og send endringen på nytt basert på versjon {current}",
    ),
    "ADP-7018": CodeInfo(
        "forbidden",
        "The patient has denied sharing {ref} with organisation {org} ({consent}); a deny wins over any permit and "
        "over other legal bases",
        "Pasienten har reservert seg mot at {ref} deles med virksomhet {org} ({consent}); en reservasjon går foran "
        "samtykke og andre rettslige grunnlag",
    ),
    "ADP-7019": CodeInfo(
        "required",
        "Sharing on {basis} needs its reason in MessageHeader.reason.text",
        "Deling med hjemmel i {basis} krever en begrunnelse i MessageHeader.reason.text",
    ),
    "ADP-7021": CodeInfo(
        "informational",
        "{ref} is taken by a record of another organisation that takes no part in the patient's care; this one is "
        "stored as {stored}, and will be each time it is sent",
        "{ref} er tatt av en post fra en annen virksomhet som ikke er part i pasientens helsehjelp; denne lagres som "
        "{stored}, hver gang den sendes",
    ),
    "ADP-7020": CodeInfo(
        "required",
        "Emergency access reads the current crisis plan of a patient only, with a stated reason: give it as "
        "reason=... (at least five letters or digits)",
        "Nødtilgang gir bare lesing av pasientens gjeldende krise- og mestringsplan, med oppgitt grunn: oppgi den som "
        "reason=... (minst fem bokstaver eller sifre)",
    ),
    "ADP-5040": CodeInfo(
        "not-supported",
        "{ref} does not exist, and an update does not create it: ids are assigned by the server. Create it with "
        "POST /{type}",
        "{ref} finnes ikke, og en oppdatering oppretter den ikke: id-er tildeles av tjeneren. Opprett den med "
        "POST /{type}",
    ),
    "ADP-5041": CodeInfo(
        "conflict",
        "{ref} of the same patient already has the identifier {identifier}; update it instead of creating another",
        "{ref} for samme pasient har allerede identifikatoren {identifier}; oppdater den i stedet for å lage en ny",
    ),
    "ADP-5042": CodeInfo(
        "required",
        'An update of {ref} must say which version it is based on: send If-Match: W/"{version}" (the current '
        "version), so that another party's newer change is never overwritten",
        'En oppdatering av {ref} må si hvilken versjon den bygger på: send If-Match: W/"{version}" (gjeldende '
        "versjon), så en annen parts nyere endring aldri overskrives",
    ),
    "ADP-5043": CodeInfo(
        "value",
        "Subscription: {detail}",
        "Abonnement (Subscription): {detail}",
    ),
    "ADP-7012": CodeInfo(
        "forbidden",
        "A Consent is written by the organisation that recorded it: Consent.organization must name {org}",
        "Et samtykke skrives av virksomheten som registrerte det: Consent.organization må være {org}",
    ),
    "ADP-4042": CodeInfo(
        "structure",
        "The extension {url} is used in the wrong element: its isModifier is {modifier}",
        "Utvidelsen {url} er brukt i feil element: isModifier er {modifier}",
    ),
    # 50xx: the routing table (adapter/route).
    "ADP-5001": CodeInfo(
        "invalid",
        "The routing table {source} is invalid: {detail}",
        "Rutetabellen {source} er ugyldig: {detail}",
    ),
    "ADP-5002": CodeInfo(
        "not-found",
        "No route for receiver {receiver} (endpoint {endpoint}), and the routing table has no fallback",
        "Ingen rute for mottaker {receiver} (endepunkt {endpoint}), og rutetabellen har ingen reserverute",
    ),
    # 60xx: delivery and receipts (adapter/route, adapter/transport).
    "ADP-6001": CodeInfo(
        "informational",
        "The application receipt of {sender} for message {answers} ({status}) is recorded on delivery {deliveries}.",
        "Applikasjonskvitteringen fra {sender} for melding {answers} ({status}) er registrert på levering "
        "{deliveries}.",
    ),
    "ADP-6002": CodeInfo(
        "not-found",
        "The application receipt of {sender} answers message {answers}, which this service did not deliver to "
        "{sender}: it is stored, but completes no delivery.",
        "Applikasjonskvitteringen fra {sender} svarer på melding {answers}, som denne tjenesten ikke har levert til "
        "{sender}: den er lagret, men fullfører ingen levering.",
    ),
    "ADP-6003": CodeInfo(
        "duplicate",
        "Delivery {deliveries} already has the application receipt of {sender} for message {answers}: this one "
        "({status}) is stored, but the first receipt stands",
        "Levering {deliveries} har allerede applikasjonskvitteringen fra {sender} for melding {answers}: denne "
        "({status}) er lagret, men den første kvitteringen gjelder",
    ),
    "ADP-6010": CodeInfo(
        "incomplete",
        "The national message service (NHN EDI 2.0) is not configured: {detail}. Set the SAMHANDLING_NHN_* and "
        "SAMHANDLING_HELSEID_* settings (see the README).",
        "Den nasjonale meldingstjenesten (NHN EDI 2.0) er ikke satt opp: {detail}. Sett innstillingene "
        "SAMHANDLING_NHN_* og SAMHANDLING_HELSEID_* (se README).",
    ),
    # 70xx: the caller's bearer token (adapter/security); AuthError gives the HTTP status.
    "ADP-7001": CodeInfo(
        "login",
        "The request needs an OAuth2 bearer token (Authorization: Bearer <JWT>): {detail}",
        "Forespørselen trenger et OAuth2-bærertoken (Authorization: Bearer <JWT>): {detail}",
    ),
    "ADP-7002": CodeInfo(
        "security",
        "The token's signature cannot be verified with a trusted key: {detail}",
        "Tokenets signatur kan ikke verifiseres med en betrodd nøkkel: {detail}",
    ),
    "ADP-7003": CodeInfo(
        "expired",
        "The token is expired or not yet valid: {detail}",
        "Tokenet er utløpt eller ennå ikke gyldig: {detail}",
    ),
    "ADP-7004": CodeInfo(
        "security",
        "The token was issued by another issuer or for another audience: {detail}",
        "Tokenet er utstedt av en annen utsteder eller for en annen mottaker (audience): {detail}",
    ),
    "ADP-7005": CodeInfo(
        "security",
        "The token does not name the caller's organisation in the claim {claim}",
        "Tokenet oppgir ikke den kallende virksomheten i claimet {claim}",
    ),
    "ADP-7006": CodeInfo(
        "forbidden",
        "The token lacks the scope {scope} that this action needs",
        "Tokenet mangler tilgangen (scope) {scope} som denne handlingen krever",
    ),
    "ADP-7007": CodeInfo(
        "exception",
        "Key number {index} configured for verifying tokens cannot be used: {detail}",
        "Nøkkel nummer {index} som er satt opp for å verifisere tokener, kan ikke brukes: {detail}",
    ),
}


@dataclass(frozen=True)
class Issue:
    """One finding: stable code, severity, where (FHIRPath expression, source line/column) and its arguments."""

    code: str
    severity: Severity = "error"
    expression: str | None = None
    line: int | None = None
    column: int | None = None
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def info(self) -> CodeInfo:
        """The code table row for this issue."""
        return CODES[self.code]

    @property
    def text_en(self) -> str:
        """The English text with the arguments filled in."""
        return self.info.en.format(**self.args)

    @property
    def text_nb(self) -> str:
        """The Norwegian (bokmål) text with the arguments filled in."""
        return self.info.nb.format(**self.args)

    def __str__(self) -> str:
        where = f" at {self.expression}" if self.expression else ""
        line = f" (line {self.line})" if self.line else ""
        return f"{self.severity} {self.code}{where}{line}: {self.text_en}"


class AdapterError(Exception):
    """Raised when a stage cannot go on; carries every issue found so far."""

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues))
        self.issues = issues

    @classmethod
    def of(cls, code: str, **args: Any) -> AdapterError:
        """A one-issue error with severity ``fatal``."""
        return cls([Issue(code, "fatal", args=args)])


class SetupError(AdapterError):
    """The installation or the standards directory is incomplete; nothing can be processed."""


class RouteError(AdapterError):
    """The routing table is invalid (ADP-5001) or has no route for a message (ADP-5002)."""


class AuthError(AdapterError):
    """The caller is not authenticated (ADP-7001..7005, HTTP 401) or not allowed (ADP-7006, HTTP 403).

    :attr:`status` and :attr:`www_authenticate` give the HTTP status and the RFC 6750 ``WWW-Authenticate`` header
    that the API sends with the OperationOutcome.
    """

    def __init__(self, code: str, **args: Any) -> None:
        super().__init__([Issue(code, "error", args=args)])

    @property
    def code(self) -> str:
        """The stable code of the (single) issue."""
        return self.issues[0].code

    @property
    def status(self) -> int:
        """401 when the token is missing or unacceptable, 403 when it is valid but lacks a scope."""
        return 403 if self.code == "ADP-7006" else 401

    @property
    def www_authenticate(self) -> str:
        """The ``WWW-Authenticate`` header value (RFC 6750 section 3) for this error."""
        issue = self.issues[0]
        if issue.code == "ADP-7006":
            return f'Bearer realm="samhandling", error="insufficient_scope", scope="{issue.args.get("scope", "")}"'
        if issue.code == "ADP-7001" and issue.args.get("missing"):
            return 'Bearer realm="samhandling"'  # no credentials at all: RFC 6750 says give no error code
        error = "invalid_request" if issue.code == "ADP-7001" else "invalid_token"
        return f'Bearer realm="samhandling", error="{error}"'
