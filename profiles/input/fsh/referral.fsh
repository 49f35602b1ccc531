// Henvisning (referral, e.g. from the GP to a DPS or TSB) and its processing status at the receiver
// (mottatt, rettighetsvurdert with deadline, avvist, videresendt).
//
// The referral is a ServiceRequest; each status message from the receiver is a Task whose focus is the referral.
// Suggested Task.status for each business status (not enforced): mottatt -> received,
// rettighetsvurdert -> accepted, avvist -> rejected, videresendt -> completed (with a note on where to).
//
// Author A owns this file. Invariant keys used here: henv-1, hsta-1, hsta-2, hsta-3.

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: HenvisningsstatusKode
Id: henvisningsstatus
Title: "Henvisningsstatus"
Description: "Status for behandlingen av en henvisning hos mottakeren. / Status of the handling of a referral at the receiver."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #mottatt "Mottatt" "Henvisningen er mottatt og venter på vurdering. / The referral has been received and awaits assessment."
* #mottatt ^designation[0].language = #en
* #mottatt ^designation[0].value = "Received"
* #rettighetsvurdert "Rettighetsvurdert" "Henvisningen er vurdert; pasienten har fått svar på retten til nødvendig helsehjelp, med frist for start av helsehjelp. / The referral has been assessed; the patient has been told about the right to necessary care, with the deadline for the start of care."
* #rettighetsvurdert ^designation[0].language = #en
* #rettighetsvurdert ^designation[0].value = "Rights assessed"
* #avvist "Avvist" "Henvisningen er avvist; begrunnelsen står i statusReason. / The referral has been rejected; the reason is in statusReason."
* #avvist ^designation[0].language = #en
* #avvist ^designation[0].value = "Rejected"
* #videresendt "Videresendt" "Henvisningen er sendt videre til en annen virksomhet eller enhet. / The referral has been forwarded to another organisation or unit."
* #videresendt ^designation[0].language = #en
* #videresendt ^designation[0].value = "Forwarded"

ValueSet: HenvisningsstatusVS
Id: henvisningsstatus
Title: "Henvisningsstatus"
Description: "Alle statuser for behandlingen av en henvisning. / All statuses of the handling of a referral."
* ^status = #draft
* ^experimental = false
* include codes from system HenvisningsstatusKode

CodeSystem: Rettighetsvurdering
Id: rettighetsvurdering
Title: "Rettighetsvurdering"
Description: "Resultatet av spesialisthelsetjenestens vurdering av pasientens rett til nødvendig helsehjelp. / The result of the specialist service's assessment of the patient's right to necessary care."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #rett "Rett til nødvendig helsehjelp" "Pasienten har rett til nødvendig helsehjelp fra spesialisthelsetjenesten; fristen er juridisk bindende. / The patient has the right to necessary care from the specialist service; the deadline is legally binding."
* #rett ^designation[0].language = #en
* #rett ^designation[0].value = "Right to necessary care"
* #ikke-rett "Ikke rett, men tilbud om helsehjelp" "Pasienten har ikke rett til nødvendig helsehjelp, men får tilbud om helsehjelp; tidspunktet er forventet start. / The patient has no right to necessary care but is offered care; the date is the expected start."
* #ikke-rett ^designation[0].language = #en
* #ikke-rett ^designation[0].value = "No right, but care offered"

ValueSet: RettighetsvurderingVS
Id: rettighetsvurdering
Title: "Rettighetsvurdering"
Description: "Alle resultater av rettighetsvurdering. / All results of a rights assessment."
* ^status = #draft
* ^experimental = false
* include codes from system Rettighetsvurdering

// ---------------------------------------------------------------------------------------------------------------
// Henvisning (ServiceRequest)
// ---------------------------------------------------------------------------------------------------------------

Invariant: henv-1
Description: "Henvisningen skal ha en årsak, som kode eller som referanse; en kansellert henvisning (status revoked, KITH 7309 C) trenger ingen. / The referral has a reason, as a code or as a reference; a cancelled referral (status revoked, KITH 7309 C) needs none."
Severity: #error
Expression: "status = 'revoked' or reasonCode.exists() or reasonReference.exists()"

Profile: Henvisning
Parent: ServiceRequest
Id: henvisning
Title: "Henvisning"
Description: "Henvisning til helsehjelp, for eksempel fra fastlege til psykisk helsevern (DPS) eller tverrfaglig spesialisert rusbehandling (TSB). / Referral for care, for example from the GP to mental health care (DPS) or specialised substance-use treatment (TSB)."
* ^status = #draft
* ^experimental = false
* obeys henv-1
* status MS
* intent = #order
* intent MS
// The pathway level the referrer assesses is a category slice (standard element, required binding).
* category MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Hovedforløpet skilles ut på kodesystemet hovedforlop. / The main pathway is told apart by the hovedforlop code system."
* category contains hovedforlop 0..1 MS
* category[hovedforlop] from HovedforlopVS (required)
* category[hovedforlop] ^patternCodeableConcept.coding[0].system = "http://samhandling.no/fhir/CodeSystem/hovedforlop"
* category[hovedforlop] ^short = "Hovedforløp henviser vurderer / Main pathway as judged by the referrer"
* priority MS
* priority ^comment = "Valgfri som i KITH Henvisning 1.x (ReqServ/Priority 0..1); mangler den, gjelder normal prioritet (R4 meaningWhenMissing). / Optional as in KITH Henvisning 1.x (ReqServ/Priority 0..1); when missing, normal priority applies (R4 meaningWhenMissing)."
* code MS
* code ^short = "Hva det henvises til / What is requested"
* subject MS
* subject only Reference($NoPatient)
* authoredOn 1..1 MS
* requester 1..1 MS
* requester only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* requester ^short = "Henviser / Referrer"
* performer 1..* MS
* performer only Reference($NoOrganization or $NoHealthcareService)
* performer ^short = "Mottaker av henvisningen / Receiver of the referral"
* reasonCode MS
* reasonReference MS
* supportingInfo MS
* supportingInfo only Reference(KartleggingSvar or KartleggingVurdering or RiskAssessment or Condition or Observation or MedicationStatement or DocumentReference)
* supportingInfo ^short = "Kartlegging, vurdering og annen relevant informasjon / Assessment, judgement and other relevant information"
* note MS

// ---------------------------------------------------------------------------------------------------------------
// Henvisningsstatus (Task)
// ---------------------------------------------------------------------------------------------------------------

Invariant: hsta-1
Description: "En rettighetsvurdert henvisning har frist for start av helsehjelp (restriction.period.end). / A rights-assessed referral has a deadline for the start of care (restriction.period.end)."
Severity: #error
Expression: "businessStatus.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/henvisningsstatus' and code = 'rettighetsvurdert').exists() implies restriction.period.end.exists()"

Invariant: hsta-2
Description: "En avvist henvisning har begrunnelse (statusReason). / A rejected referral has a reason (statusReason)."
Severity: #error
Expression: "businessStatus.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/henvisningsstatus' and code = 'avvist').exists() implies statusReason.exists()"

Invariant: hsta-3
Description: "En rettighetsvurdert henvisning har resultatet av rettighetsvurderingen i output. / A rights-assessed referral has the result of the rights assessment in output."
Severity: #error
Expression: "businessStatus.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/henvisningsstatus' and code = 'rettighetsvurdert').exists() implies output.where(type.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/henvisningsstatus' and code = 'rettighetsvurdert').exists()).exists()"

Profile: Henvisningsstatus
Parent: Task
Id: henvisningsstatus
Title: "Henvisningsstatus"
Description: "Mottakerens status for en henvisning: mottatt, rettighetsvurdert (med frist), avvist eller videresendt. / The receiver's status of a referral: received, rights assessed (with deadline), rejected or forwarded."
* ^status = #draft
* ^experimental = false
* obeys hsta-1 and hsta-2 and hsta-3
* status MS
* statusReason MS
* statusReason ^short = "Begrunnelse, påkrevd ved avvist / Reason, required when rejected"
* businessStatus 1..1 MS
* businessStatus from HenvisningsstatusVS (required)
* businessStatus ^short = "Henvisningsstatus / Referral status"
* intent = #order
* intent MS
* focus 1..1 MS
* focus only Reference(Henvisning)
* focus ^short = "Henvisningen statusen gjelder / The referral the status is about"
* for 1..1 MS
* for only Reference($NoPatient)
* authoredOn 1..1 MS
* lastModified 1..1 MS
* requester MS
* requester only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* requester ^short = "Henviser / Referrer"
* owner 1..1 MS
* owner only Reference($NoOrganization or $NoHealthcareService)
* owner ^short = "Mottakende virksomhet / Receiving organisation"
* restriction MS
* restriction.period MS
* restriction.period.end MS
* restriction.period.end ^short = "Frist for start av helsehjelp / Deadline for the start of care"
* note MS
// The result of the rights assessment: output.type = henvisningsstatus#rettighetsvurdert,
// valueCodeableConcept from rettighetsvurdering (rett / ikke-rett).
* output MS
* output ^slicing.discriminator.type = #pattern
* output ^slicing.discriminator.path = "type"
* output ^slicing.rules = #open
* output ^slicing.description = "Resultatet av rettighetsvurderingen. / The result of the rights assessment."
* output contains rettighetsvurdering 0..1 MS
* output[rettighetsvurdering].type = HenvisningsstatusKode#rettighetsvurdert
* output[rettighetsvurdering].value[x] only CodeableConcept
* output[rettighetsvurdering].value[x] from RettighetsvurderingVS (required)
* output[rettighetsvurdering].value[x] MS
* output[rettighetsvurdering] ^short = "Resultat av rettighetsvurdering / Result of the rights assessment"
