// Exchange: the message events, the MessageHeader and message Bundle profiles, and one MessageDefinition per event.
// A structured plan (or notice) travels as a FHIR message Bundle: first entry the MessageHeader (samhandlingsmelding),
// then the focus resource and what it refers to. Toward KITH systems the same Bundle is attached to a Dialogmelding 1.1
// (see the ConceptMaps in conceptmaps.fsh); the acknowledgement is a MessageHeader with `response`, the FHIR
// counterpart of the AppRec.

// ---------------------------------------------------------------------------------------------------------------
// Message events
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: MeldingshendelseCS
Id: meldingshendelse
Title: "Meldingshendelse"
Description: "Hendelsene som utløser en samhandlingsmelding mellom kommune og spesialisthelsetjeneste; hver hendelse har ett fokus (en profil). / The events that trigger a cooperation message between municipality and specialist service; each event has one focus (a profile)."
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* #careplan-shared "Individuell plan eller behandlingsplan delt" "En individuell plan eller behandlingsplan er opprettet eller endret og deles. Fokus: CarePlan etter profilen individuell-plan. / An individual plan or treatment plan was created or changed and is shared. Focus: CarePlan conforming to the individuell-plan profile."
* #careplan-shared ^designation[0].language = #en
* #careplan-shared ^designation[0].value = "Individual plan or treatment plan shared"
* #crisisplan-shared "Krise- og mestringsplan delt" "En krise- og mestringsplan er opprettet eller endret og deles. Fokus: CarePlan etter profilen krise-og-mestringsplan. / A crisis and coping plan was created or changed and is shared. Focus: CarePlan conforming to the krise-og-mestringsplan profile."
* #crisisplan-shared ^designation[0].language = #en
* #crisisplan-shared ^designation[0].value = "Crisis and coping plan shared"
* #riskplan-shared "Voldsrisikohåndteringsplan delt" "En voldsrisikohåndteringsplan er opprettet eller endret og deles. Fokus: CarePlan etter profilen voldsrisikohandteringsplan. / A violence risk management plan was created or changed and is shared. Focus: CarePlan conforming to the voldsrisikohandteringsplan profile."
* #riskplan-shared ^designation[0].language = #en
* #riskplan-shared ^designation[0].value = "Violence risk management plan shared"
* #referral-sent "Henvisning sendt" "En henvisning er sendt til spesialisthelsetjenesten eller kommunen. Fokus: ServiceRequest etter profilen henvisning. / A referral was sent to the specialist service or the municipality. Focus: ServiceRequest conforming to the henvisning profile."
* #referral-sent ^designation[0].language = #en
* #referral-sent ^designation[0].value = "Referral sent"
* #referral-status "Status på henvisning" "Mottakeren melder status for en henvisning (mottatt, rettighetsvurdert, avvist, videresendt). Fokus: Task etter profilen henvisningsstatus. / The receiver reports the status of a referral (received, rights assessed, rejected, forwarded). Focus: Task conforming to the henvisningsstatus profile."
* #referral-status ^designation[0].language = #en
* #referral-status ^designation[0].value = "Referral status"
* #coordinator-assigned "Koordinator oppnevnt" "En koordinator i kommunen og/eller spesialisthelsetjenesten er oppnevnt eller endret. Fokus: CareTeam etter profilen koordinatorteam. / A coordinator in the municipality and/or the specialist service was assigned or changed. Focus: CareTeam conforming to the koordinatorteam profile."
* #coordinator-assigned ^designation[0].language = #en
* #coordinator-assigned ^designation[0].value = "Coordinator assigned"
* #risk-assessed "Risikovurdering gjort" "En vurdering av risiko for selvmord, selvskading, vold eller overdose er gjort og deles. Fokus: RiskAssessment etter profilen risikovurdering. / An assessment of the risk of suicide, self-harm, violence or overdose was made and is shared. Focus: RiskAssessment conforming to the risikovurdering profile."
* #risk-assessed ^designation[0].language = #en
* #risk-assessed ^designation[0].value = "Risk assessed"
* #assessment-shared "Kartlegging delt" "En kartlegging av hjelpebehov er gjort og deles. Fokus: QuestionnaireResponse etter profilen kartlegging-svar. / An assessment of help needs was made and is shared. Focus: QuestionnaireResponse conforming to the kartlegging-svar profile."
* #assessment-shared ^designation[0].language = #en
* #assessment-shared ^designation[0].value = "Assessment shared"
* #pathway-assigned "Hovedforløp fastsatt" "Pasienten er tilordnet eller flyttet til et hovedforløp (1, 2 eller 3). Fokus: EpisodeOfCare etter profilen hovedforlop-episode. / The patient was assigned or moved to a main pathway (1, 2 or 3). Focus: EpisodeOfCare conforming to the hovedforlop-episode profile."
* #pathway-assigned ^designation[0].language = #en
* #pathway-assigned ^designation[0].value = "Main pathway assigned"
* #consent-registered "Samtykke registrert" "Et samtykke (til deling av opplysninger eller til å involvere pårørende) er registrert, endret eller trukket tilbake. Fokus: Consent etter profilen samtykke. / A consent (to share information or to involve next of kin) was registered, changed or withdrawn. Focus: Consent conforming to the samtykke profile."
* #consent-registered ^designation[0].language = #en
* #consent-registered ^designation[0].value = "Consent registered"

ValueSet: MeldingshendelseVS
Id: meldingshendelse
Title: "Meldingshendelse (verdisett)"
Description: "Alle meldingshendelsene. / All message events."
* ^status = #draft
* ^experimental = false
* include codes from system MeldingshendelseCS

ValueSet: MeldingshendelseEllerKithVS
Id: meldingshendelse-eller-kith
Title: "Meldingshendelse eller KITH-meldingstype"
Description: "Hendelsene i en samhandlingsmelding: våre hendelser, og KITH-meldingstypene (8279) for meldinger oversatt fra KITH. / The events of a cooperation message: our events, and the KITH message types (8279) of messages translated from KITH."
* ^status = #draft
* ^experimental = false
* include codes from system MeldingshendelseCS
* include codes from system $KITH8279

// ---------------------------------------------------------------------------------------------------------------
// MessageHeader
// ---------------------------------------------------------------------------------------------------------------

Profile: Samhandlingsmelding
Parent: MessageHeader
Id: samhandlingsmelding
Title: "Samhandlingsmelding (meldingshode)"
Description: "Meldingshodet i en samhandlingsmelding: hendelse, avsender og mottaker (adressert med HER-id), fokus, og for kvitteringer svaret på en tidligere melding. Tilsvarer MsgHead, og for kvitteringer AppRec. / The header of a cooperation message: event, sender and receiver (addressed by HER-id), focus, and for acknowledgements the response to an earlier message. Corresponds to MsgHead, and for acknowledgements to AppRec."
* ^status = #draft
* ^experimental = false
* obeys smh-1 and smh-2 and smh-3
* event[x] MS
* event[x] only Coding
* event[x] from MeldingshendelseEllerKithVS (required)
* event[x] ^comment = "En av våre hendelser, eller KITH-meldingstypen (8279) for en melding oversatt fra KITH. / One of our events, or the KITH message type (8279) of a message translated from KITH."
* event[x] ^short = "Hendelse / Event"
* destination 1..* MS
* destination ^short = "Mottaker (MsgHead Receiver) / Receiver"
* destination.name MS
* destination.endpoint MS
* destination.endpoint ^short = "Mottakers adresse / Receiver's address"
* destination.receiver MS
* destination.receiver only Reference($NoOrganization or $NoPractitionerRole)
* destination.receiver ^comment = "Virksomheten (med HER-id) eller tjenesten/helsepersonellet i virksomheten som meldingen adresseres til. / The organisation (with HER-id) or the service/professional in it that the message is addressed to."
* sender 1..1 MS
* sender only Reference($NoOrganization)
* sender ^short = "Avsender (MsgHead Sender) / Sender"
* sender ^comment = "Avsendervirksomheten, identifisert med HER-id (urn:oid:2.16.578.1.12.4.1.2). / The sending organisation, identified by HER-id (urn:oid:2.16.578.1.12.4.1.2)."
* author MS
* author only Reference($NoPractitioner or $NoPractitionerRole)
* author ^short = "Ansvarlig helsepersonell / Responsible health professional"
* source MS
* source.name MS
* source.software MS
* source.endpoint 1..1 MS
* focus MS
* focus ^short = "Innholdet meldingen gjelder / The content the message is about"
* focus ^comment = "Påkrevd for alle meldinger som ikke er kvitteringer (smh-1); profilen til fokus følger av MessageDefinition for hendelsen. / Required for every message that is not an acknowledgement (smh-1); the focus profile follows from the event's MessageDefinition."
* definition MS
* definition ^short = "MessageDefinition for hendelsen (md-<hendelse>) / MessageDefinition of the event"
* response MS
* response ^short = "Kvittering på en tidligere melding (AppRec) / Acknowledgement of an earlier message (AppRec)"
* response.identifier MS
* response.identifier ^short = "MessageHeader.id i meldingen det svares på (AppRec OriginalMsgId) / MessageHeader.id of the message answered"
* response.code MS
* response.code ^short = "ok | transient-error | fatal-error (AppRec status 8258)"
* response.details MS
* response.details ^short = "Feil og advarsler (AppRec Error, 8221) / Errors and warnings"

Invariant: smh-1
Description: "En melding som ikke er en kvittering, har minst ett fokus. / A message that is not an acknowledgement has at least one focus."
Expression: "response.exists() or focus.exists()"
Severity: #error

Invariant: smh-3
Description: "En melding som ikke er en kvittering, navngir mottakeren (en kvittering kan svare på en melding med tom mottaker, som i AppRec-eksemplet fra NPR). / A message that is not an acknowledgement names its receiver (an acknowledgement may answer a message with an empty receiver, as in NPR's AppRec example)."
Expression: "response.exists() or destination.all(receiver.exists())"
Severity: #error

Invariant: smh-2
Description: "En kvittering som ikke er ok, peker til en OperationOutcome med feilene. / An acknowledgement that is not ok points to an OperationOutcome with the errors."
Expression: "response.exists() implies (response.code = 'ok' or response.details.exists())"
Severity: #error

// ---------------------------------------------------------------------------------------------------------------
// Message Bundle
// ---------------------------------------------------------------------------------------------------------------

Profile: SamhandlingsmeldingBundle
Parent: Bundle
Id: samhandlingsmelding-bundle
Title: "Samhandlingsmelding (bundle)"
Description: "Meldingen som sendes: en Bundle av type message der første entry er meldingshodet (samhandlingsmelding), fulgt av fokusressursen og ressursene den viser til. / The message that is sent: a Bundle of type message whose first entry is the header (samhandlingsmelding), followed by the focus resource and the resources it refers to."
* ^status = #draft
* ^experimental = false
* obeys smb-1
* identifier 1..1 MS
* identifier ^short = "Meldingens id, uendret ved videresending (MsgHead MsgId) / Message id"
* type MS
* type = #message (exactly)
* timestamp 1..1 MS
* timestamp ^short = "Når meldingen ble laget (MsgHead GenDate) / When the message was assembled"
* entry 1..* MS
* entry.fullUrl 1..1 MS
* entry.resource 1..1 MS

Invariant: smb-1
Description: "Første entry er et MessageHeader som oppgir profilen samhandlingsmelding i meta.profile. / The first entry is a MessageHeader that claims the samhandlingsmelding profile in meta.profile."
Expression: "entry.first().resource is MessageHeader and entry.first().resource.meta.profile.exists($this = 'http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding' or $this.startsWith('http://samhandling.no/fhir/StructureDefinition/samhandlingsmelding|'))"
Severity: #error

// ---------------------------------------------------------------------------------------------------------------
// MessageDefinitions, one per event. focus.profile names the profile by Id (Canonical), so SUSHI checks it exists.
// ---------------------------------------------------------------------------------------------------------------

RuleSet: Meldingsdefinisjon(event)
* url = "http://samhandling.no/fhir/MessageDefinition/md-{event}"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* eventCoding.system = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
* eventCoding.code = #{event}
* responseRequired = #always
* focus.min = 1
* focus.max = "1"

Instance: md-careplan-shared
InstanceOf: MessageDefinition
Usage: #definition
Title: "Individuell plan eller behandlingsplan delt"
Description: "Deling av individuell plan eller behandlingsplan. / Sharing an individual plan or treatment plan."
* insert Meldingsdefinisjon(careplan-shared)
* name = "IndividuellPlanDelt"
* title = "Individuell plan eller behandlingsplan delt"
* description = "Melding som deler en individuell plan eller behandlingsplan med samarbeidspartene; mottakeren kvitterer alltid. / Message sharing an individual plan or treatment plan with the cooperating parties; the receiver always acknowledges."
* eventCoding.display = "Individuell plan eller behandlingsplan delt"
* category = #notification
* focus.code = #CarePlan
* focus.profile = Canonical(individuell-plan)

Instance: md-crisisplan-shared
InstanceOf: MessageDefinition
Usage: #definition
Title: "Krise- og mestringsplan delt"
Description: "Deling av krise- og mestringsplan. / Sharing a crisis and coping plan."
* insert Meldingsdefinisjon(crisisplan-shared)
* name = "KriseOgMestringsplanDelt"
* title = "Krise- og mestringsplan delt"
* description = "Melding som deler en krise- og mestringsplan mellom pasient, kommune og spesialisthelsetjeneste; mottakeren kvitterer alltid. / Message sharing a crisis and coping plan between patient, municipality and specialist service; the receiver always acknowledges."
* eventCoding.display = "Krise- og mestringsplan delt"
* category = #notification
* focus.code = #CarePlan
* focus.profile = Canonical(krise-og-mestringsplan)

Instance: md-riskplan-shared
InstanceOf: MessageDefinition
Usage: #definition
Title: "Voldsrisikohåndteringsplan delt"
Description: "Deling av voldsrisikohåndteringsplan. / Sharing a violence risk management plan."
* insert Meldingsdefinisjon(riskplan-shared)
* name = "VoldsrisikohandteringsplanDelt"
* title = "Voldsrisikohåndteringsplan delt"
* description = "Melding som deler en voldsrisikohåndteringsplan (risikoreduserende og konsekvensbegrensende tiltak); mottakeren kvitterer alltid. / Message sharing a violence risk management plan (risk-reducing and consequence-limiting measures); the receiver always acknowledges."
* eventCoding.display = "Voldsrisikohåndteringsplan delt"
* category = #notification
* focus.code = #CarePlan
* focus.profile = Canonical(voldsrisikohandteringsplan)

Instance: md-referral-sent
InstanceOf: MessageDefinition
Usage: #definition
Title: "Henvisning sendt"
Description: "Sending av henvisning. / Sending a referral."
* insert Meldingsdefinisjon(referral-sent)
* name = "HenvisningSendt"
* title = "Henvisning sendt"
* description = "Melding med en henvisning; den skal behandles én gang (category consequence), og mottakeren kvitterer alltid. Status meldes senere med hendelsen referral-status. / Message carrying a referral; it is processed once (category consequence) and the receiver always acknowledges. The status follows later with the referral-status event."
* eventCoding.display = "Henvisning sendt"
* category = #consequence
* focus.code = #ServiceRequest
* focus.profile = Canonical(henvisning)

Instance: md-referral-status
InstanceOf: MessageDefinition
Usage: #definition
Title: "Status på henvisning"
Description: "Melding om status for en henvisning. / Reporting the status of a referral."
* insert Meldingsdefinisjon(referral-status)
* name = "StatusPaHenvisning"
* title = "Status på henvisning"
* description = "Melding der mottakeren av en henvisning melder status (mottatt, rettighetsvurdert, avvist, videresendt) til henviseren; mottakeren kvitterer alltid. / Message in which the receiver of a referral reports its status (received, rights assessed, rejected, forwarded) to the referrer; the receiver always acknowledges."
* eventCoding.display = "Status på henvisning"
* category = #notification
* focus.code = #Task
* focus.profile = Canonical(henvisningsstatus)

Instance: md-coordinator-assigned
InstanceOf: MessageDefinition
Usage: #definition
Title: "Koordinator oppnevnt"
Description: "Melding om oppnevnt koordinator. / Notice of an assigned coordinator."
* insert Meldingsdefinisjon(coordinator-assigned)
* name = "KoordinatorOppnevnt"
* title = "Koordinator oppnevnt"
* description = "Melding om at koordinator i kommunen og/eller spesialisthelsetjenesten er oppnevnt eller endret; mottakeren kvitterer alltid. / Notice that a coordinator in the municipality and/or the specialist service was assigned or changed; the receiver always acknowledges."
* eventCoding.display = "Koordinator oppnevnt"
* category = #notification
* focus.code = #CareTeam
* focus.profile = Canonical(koordinatorteam)

Instance: md-risk-assessed
InstanceOf: MessageDefinition
Usage: #definition
Title: "Risikovurdering gjort"
Description: "Deling av risikovurdering. / Sharing a risk assessment."
* insert Meldingsdefinisjon(risk-assessed)
* name = "RisikovurderingGjort"
* title = "Risikovurdering gjort"
* description = "Melding som deler en vurdering av risiko for selvmord, selvskading, vold eller overdose; mottakeren kvitterer alltid. / Message sharing an assessment of the risk of suicide, self-harm, violence or overdose; the receiver always acknowledges."
* eventCoding.display = "Risikovurdering gjort"
* category = #notification
* focus.code = #RiskAssessment
* focus.profile = Canonical(risikovurdering)

Instance: md-assessment-shared
InstanceOf: MessageDefinition
Usage: #definition
Title: "Kartlegging delt"
Description: "Deling av kartlegging. / Sharing an assessment."
* insert Meldingsdefinisjon(assessment-shared)
* name = "KartleggingDelt"
* title = "Kartlegging delt"
* description = "Melding som deler en kartlegging av hjelpebehov (svar på spørreskjemaet kartlegging); mottakeren kvitterer alltid. / Message sharing an assessment of help needs (answers to the kartlegging questionnaire); the receiver always acknowledges."
* eventCoding.display = "Kartlegging delt"
* category = #notification
* focus.code = #QuestionnaireResponse
* focus.profile = Canonical(kartlegging-svar)

Instance: md-pathway-assigned
InstanceOf: MessageDefinition
Usage: #definition
Title: "Hovedforløp fastsatt"
Description: "Melding om fastsatt hovedforløp. / Notice of an assigned main pathway."
* insert Meldingsdefinisjon(pathway-assigned)
* name = "HovedforlopFastsatt"
* title = "Hovedforløp fastsatt"
* description = "Melding om at pasienten er tilordnet eller flyttet til hovedforløp 1, 2 eller 3; mottakeren kvitterer alltid. / Notice that the patient was assigned or moved to main pathway 1, 2 or 3; the receiver always acknowledges."
* eventCoding.display = "Hovedforløp fastsatt"
* category = #notification
* focus.code = #EpisodeOfCare
* focus.profile = Canonical(hovedforlop-episode)

Instance: md-consent-registered
InstanceOf: MessageDefinition
Usage: #definition
Title: "Samtykke registrert"
Description: "Melding om registrert samtykke. / Notice of a registered consent."
* insert Meldingsdefinisjon(consent-registered)
* name = "SamtykkeRegistrert"
* title = "Samtykke registrert"
* description = "Melding om at et samtykke til deling av opplysninger eller til å involvere pårørende er registrert, endret eller trukket tilbake; mottakeren kvitterer alltid. / Notice that a consent to share information or to involve next of kin was registered, changed or withdrawn; the receiver always acknowledges."
* eventCoding.display = "Samtykke registrert"
* category = #notification
* focus.code = #Consent
* focus.profile = Canonical(samtykke)
