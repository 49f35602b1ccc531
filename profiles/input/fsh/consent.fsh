// Samtykke (consent): to share information and plans with named organisations, and to involve relatives
// (pårørende). Sharing a plan with another organisation requires an active Consent of this profile (DESIGN 10).
//
// Who may receive is provision.actor: organisations with role information recipient (v3-ParticipationType IRCP),
// relatives with role next of kin (v3-RoleClass NOK); both codes are in the core security-role-type ValueSet that
// actor.role is bound to. What may be shared is provision.class (resource types, e.g. CarePlan) and the legal
// basis is policy.uri (Lovdata). provision.type permit shares; deny is the person's block (reservasjon,
// pasient- og brukerrettighetsloven § 5-3 and helsepersonelloven § 45), which wins over any permit and over other
// legal bases. Nested provisions are exceptions to the one around them (R4).
//
// Author A owns this file. Invariant keys used here: samt-1.

CodeSystem: Samtykketype
Id: samtykketype
Title: "Samtykketype"
Description: "Hva personen samtykker til i samhandlingen om psykisk helse og rus. / What the person consents to in the cooperation on mental health and substance use."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #deling-med-virksomhet "Deling med navngitte virksomheter" "Samtykke til at opplysninger og planer deles med de navngitte virksomhetene. / Consent to share information and plans with the named organisations."
* #deling-med-virksomhet ^designation[0].language = #en
* #deling-med-virksomhet ^designation[0].value = "Sharing with named organisations"
* #involvering-parorende "Involvering av pårørende" "Samtykke til at navngitte pårørende involveres og får informasjon. / Consent to involve and inform the named relatives."
* #involvering-parorende ^designation[0].language = #en
* #involvering-parorende ^designation[0].value = "Involving relatives"

ValueSet: SamtykketypeVS
Id: samtykketype
Title: "Samtykketype"
Description: "Alle samtykketyper. / All consent types."
* ^status = #draft
* ^experimental = false
* include codes from system Samtykketype

Invariant: samt-1
Description: "Et aktivt samtykke navngir minst én aktør, og den typen aktør samtykketypen gjelder: mottakende virksomhet (IRCP) ved deling, pårørende (NOK) ved involvering. / An active consent names at least one actor, of the kind its type is about: a receiving organisation (IRCP) for sharing, a relative (NOK) for involvement."
Severity: #error
Expression: "status = 'active' implies (provision.actor.exists() and (category.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/samtykketype' and code = 'deling-med-virksomhet').exists() implies provision.actor.role.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType' and code = 'IRCP').exists()) and (category.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/samtykketype' and code = 'involvering-parorende').exists() implies provision.actor.role.coding.where(system = 'http://terminology.hl7.org/CodeSystem/v3-RoleClass' and code = 'NOK').exists()))"

Profile: Samtykke
Parent: Consent
Id: samtykke
Title: "Samtykke"
Description: "Personens samtykke til deling av opplysninger og planer med navngitte virksomheter, eller til involvering av pårørende. / The person's consent to share information and plans with named organisations, or to involve relatives."
* ^status = #draft
* ^experimental = false
* obeys samt-1
* status MS
* scope = $ConsentScope#patient-privacy
* scope MS
* category MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Samtykketypen skilles ut på kodesystemet samtykketype. / The consent type is told apart by the samtykketype code system."
* category contains samtykketype 1..1 MS
* category[samtykketype] from SamtykketypeVS (required)
* category[samtykketype] ^patternCodeableConcept.coding[0].system = "http://samhandling.no/fhir/CodeSystem/samtykketype"
* category[samtykketype] ^short = "Samtykketype / Consent type"
* patient 1..1 MS
* patient only Reference($NoPatient)
* dateTime 1..1 MS
* performer 1..* MS
* performer only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner or $NoPractitionerRole or $NoOrganization)
* performer ^short = "Hvem som samtykker, som regel personen selv / Who consents, usually the person"
* organization 1..1 MS
* organization only Reference($NoOrganization)
* organization ^short = "Virksomheten som har registrert og forvalter samtykket / The organisation that recorded and keeps the consent"
* policy 1..* MS
* policy.uri 1..1 MS
* policy.uri ^short = "Lovhjemmel, lenke til Lovdata / Legal basis, link to Lovdata"
* provision 1..1 MS
* provision.type 1..1 MS
* provision.type ^short = "permit: deling; deny: personen reserverer seg mot deling med aktørene / permit: sharing; deny: the person blocks sharing with the actors"
* provision.period MS
* provision.period ^short = "Hvor lenge samtykket gjelder / How long the consent is valid"
* provision.actor 1..* MS
* provision.actor.reference only Reference($NoOrganization or $NoRelatedPerson)
* provision.actor.reference MS
* provision.actor.role MS
* provision.actor ^slicing.discriminator.type = #pattern
* provision.actor ^slicing.discriminator.path = "role"
* provision.actor ^slicing.rules = #open
* provision.actor ^slicing.description = "Mottakende virksomheter og pårørende, skilt på rolle. / Receiving organisations and relatives, told apart by role."
* provision.actor contains
    virksomhet 0..* MS and
    parorende 0..* MS
* provision.actor[virksomhet] ^short = "Virksomhet som kan motta opplysninger / Organisation that may receive information"
* provision.actor[virksomhet].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP
* provision.actor[virksomhet].reference only Reference($NoOrganization)
* provision.actor[parorende] ^short = "Pårørende som skal involveres / Relative to be involved"
* provision.actor[parorende].role = http://terminology.hl7.org/CodeSystem/v3-RoleClass#NOK
* provision.actor[parorende].reference only Reference($NoRelatedPerson)
* provision.action MS
* provision.purpose MS
* provision.purpose ^short = "Formål, f.eks. koordinering av tjenester (COC) / Purpose, e.g. coordination of care (COC)"
* provision.class MS
* provision.class ^short = "Hva som kan deles, f.eks. CarePlan / What may be shared, e.g. CarePlan"

CodeSystem: Delingsgrunnlag
Id: delingsgrunnlag
Title: "Delingsgrunnlag"
Description: "Rettslig grunnlag avsenderen oppgir for å dele opplysninger med en mottaker, i MessageHeader.reason (med begrunnelsen i reason.text). Uten oppgitt grunnlag kreves samtykke. / The legal basis a sender states for sharing information with a receiver, in MessageHeader.reason (with the reason in reason.text). Without a stated basis, consent is required."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #samtykke "Samtykke" "Pasientens samtykke (pasient- og brukerrettighetsloven kapittel 4 og § 5-3). / The patient's consent."
* #samtykke ^designation[0].language = #en
* #samtykke ^designation[0].value = "Consent"
* #hpl-45 "Samarbeidende personell (helsepersonelloven § 45)" "Opplysninger til samarbeidende personell når det er nødvendig for å gi forsvarlig helsehjelp, og pasienten ikke har motsatt seg det. / Information to collaborating personnel when needed to give sound health care, and the patient has not objected."
* #hpl-45 ^designation[0].language = #en
* #hpl-45 ^designation[0].value = "Collaborating personnel (Health Personnel Act section 45)"

ValueSet: DelingsgrunnlagVS
Id: delingsgrunnlag
Title: "Delingsgrunnlag"
Description: "Alle delingsgrunnlag. / All legal bases for sharing."
* ^status = #draft
* ^experimental = false
* include codes from system Delingsgrunnlag
