// The scenario: Ola Nordmann (hovedforløp 3, psychosis + substance use, ROP) as the FHIR messages exchanged between
// Bergen kommune, Storgata legekontor and Vestbyen DPS in January-February 2026, one message Bundle per event.
// The crisis plan message (crisisplan-shared, 2 March) is melding-kriseplan-ola in exchange.fsh and is not repeated.
// Same conventions as exchange.fsh: the first entry is the MessageHeader; fullUrls are
// "http://samhandling.no/fhir/<Type>/<id>", and each Bundle holds every resource its entries refer to (directly or
// transitively), so every relative reference (e.g. "Patient/pasient-ola") resolves within the Bundle.

// ---------------------------------------------------------------------------------------------------------------
// consent-registered
// 5 January: Ola consents (11:00) to sharing his plans; Bergen kommune registers the consent and tells Vestbyen
// DPS.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-samtykke-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: samtykke til deling for Ola Nordmann"
Description: "Bergen kommune melder til Vestbyen DPS at Ola Nordmann har samtykket til deling av planene sine. / Bergen kommune notifies Vestbyen DPS that Ola Nordmann has consented to sharing his plans."
Usage: #example
* eventCoding = MeldingshendelseCS#consent-registered "Samtykke registrert"
* destination[0].name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* destination[0].endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* destination[0].receiver = Reference(org-dps)
* sender = Reference(org-kommune)
* author = Reference(koordinator-kommune)
* source.name = "Bergen kommune, psykisk helse og rus"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000100"
* source.endpoint = "https://fhir.bergen-kommune.example/samhandling"
* focus = Reference(samtykke-ola-deling)
* definition = Canonical(md-consent-registered)

Instance: melding-samtykke-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: samtykke til deling for Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så samtykket og pasienten og virksomhetene det viser til. / The message as sent: the header first, then the consent and the patient and organisations it refers to."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:a7b7bb9d-e062-4aa3-a532-32eaaace340f"
* type = #message
* timestamp = "2026-01-05T11:20:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-samtykke-ola"
* entry[0].resource = samhandlingsmelding-samtykke-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Consent/samtykke-ola-deling"
* entry[=].resource = samtykke-ola-deling
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-legekontor"
* entry[=].resource = org-legekontor
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune

// ---------------------------------------------------------------------------------------------------------------
// assessment-shared
// 6 January: the municipality shares the assessment (5 Jan) and the GP's judgement (6 Jan, main pathway 3) with
// the DPS.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-kartlegging-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: kartlegging av Ola Nordmann"
Description: "Bergen kommune deler kartleggingen av Ola Nordmann og vurderingen (hovedforløp 3) med Vestbyen DPS. / Bergen kommune shares the assessment of Ola Nordmann and the judgement (main pathway 3) with Vestbyen DPS."
Usage: #example
* eventCoding = MeldingshendelseCS#assessment-shared "Kartlegging delt"
* destination[0].name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* destination[0].endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* destination[0].receiver = Reference(org-dps)
* sender = Reference(org-kommune)
* author = Reference(koordinator-kommune)
* source.name = "Bergen kommune, psykisk helse og rus"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000100"
* source.endpoint = "https://fhir.bergen-kommune.example/samhandling"
* focus = Reference(kartlegging-svar-ola)
* definition = Canonical(md-assessment-shared)

Instance: melding-kartlegging-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: kartlegging av Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så kartleggingssvaret, vurderingen og pasienten og helsepersonellet de viser til. / The message as sent: the header first, then the assessment answers, the judgement and the patient and professionals they refer to."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:8696473b-ea9c-4c14-a676-435a99a16bb8"
* type = #message
* timestamp = "2026-01-06T10:00:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-kartlegging-ola"
* entry[0].resource = samhandlingsmelding-kartlegging-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/QuestionnaireResponse/kartlegging-svar-ola"
* entry[=].resource = kartlegging-svar-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ClinicalImpression/kartlegging-vurdering-ola"
* entry[=].resource = kartlegging-vurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege

// ---------------------------------------------------------------------------------------------------------------
// referral-sent
// 6 January: the GP refers Ola to Vestbyen DPS (written 13:20), with the assessment as supporting information.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-henvisning-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: henvisning av Ola Nordmann til DPS"
Description: "Fastlegen ved Storgata legekontor henviser Ola Nordmann til Vestbyen DPS. / The GP at Storgata legekontor refers Ola Nordmann to Vestbyen DPS."
Usage: #example
* eventCoding = MeldingshendelseCS#referral-sent "Henvisning sendt"
* destination[0].name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* destination[0].endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* destination[0].receiver = Reference(org-dps)
* sender = Reference(org-legekontor)
* author = Reference(lege-fastlege)
* source.name = "Storgata legekontor"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000300"
* source.endpoint = "https://fhir.storgata-legekontor.example/samhandling"
* focus = Reference(henvisning-ola)
* definition = Canonical(md-referral-sent)

Instance: melding-henvisning-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: henvisning av Ola Nordmann til DPS"
Description: "Meldingen som sendes: meldingshodet først, så henvisningen med kartlegging og vurdering, pasienten, mottakeren og helsepersonellet. / The message as sent: the header first, then the referral with assessment and judgement, the patient, the receiver and the professionals."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:4f70ea08-fefd-4e75-8047-e0fc27e506c6"
* type = #message
* timestamp = "2026-01-06T13:25:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-henvisning-ola"
* entry[0].resource = samhandlingsmelding-henvisning-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ServiceRequest/henvisning-ola"
* entry[=].resource = henvisning-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ClinicalImpression/kartlegging-vurdering-ola"
* entry[=].resource = kartlegging-vurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/QuestionnaireResponse/kartlegging-svar-ola"
* entry[=].resource = kartlegging-svar-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-legekontor"
* entry[=].resource = org-legekontor
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune

// ---------------------------------------------------------------------------------------------------------------
// coordinator-assigned
// 2 February: coordinators in the municipality and the DPS are assigned from 1 February; the main pathway 3
// episode travels with the team.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-koordinator-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: koordinatorer for Ola Nordmann oppnevnt"
Description: "Bergen kommune melder til Vestbyen DPS og fastlegen at koordinatorer er oppnevnt for Ola Nordmann i hovedforløp 3. / Bergen kommune notifies Vestbyen DPS and the GP that coordinators have been assigned for Ola Nordmann in main pathway 3."
Usage: #example
* eventCoding = MeldingshendelseCS#coordinator-assigned "Koordinator oppnevnt"
* destination[0].name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* destination[0].endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* destination[0].receiver = Reference(org-dps)
* destination[1].name = "Storgata legekontor"
* destination[1].endpoint = "https://fhir.storgata-legekontor.example/samhandling"
* destination[1].receiver = Reference(org-legekontor)
* sender = Reference(org-kommune)
* author = Reference(koordinator-kommune)
* source.name = "Bergen kommune, psykisk helse og rus"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000100"
* source.endpoint = "https://fhir.bergen-kommune.example/samhandling"
* focus = Reference(koordinatorteam-ola)
* definition = Canonical(md-coordinator-assigned)

Instance: melding-koordinator-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: koordinatorer for Ola Nordmann oppnevnt"
Description: "Meldingen som sendes: meldingshodet først, så koordinatorteamet, hovedforløpet og alt de viser til (henvisning, kartlegging, pasient, virksomheter og helsepersonell). / The message as sent: the header first, then the coordinator team, the main pathway episode and everything they refer to (referral, assessment, patient, organisations and professionals)."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:446fd9a0-d2c8-4143-a80b-306fb745d394"
* type = #message
* timestamp = "2026-02-02T09:00:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-koordinator-ola"
* entry[0].resource = samhandlingsmelding-koordinator-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CareTeam/koordinatorteam-ola"
* entry[=].resource = koordinatorteam-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/EpisodeOfCare/hovedforlop-episode-ola"
* entry[=].resource = hovedforlop-episode-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ServiceRequest/henvisning-ola"
* entry[=].resource = henvisning-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ClinicalImpression/kartlegging-vurdering-ola"
* entry[=].resource = kartlegging-vurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/QuestionnaireResponse/kartlegging-svar-ola"
* entry[=].resource = kartlegging-svar-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-legekontor"
* entry[=].resource = org-legekontor
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/behandler-dps"
* entry[=].resource = behandler-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege

// ---------------------------------------------------------------------------------------------------------------
// careplan-shared
// 16 February: the individual plan (made 15 February) and Ola's own goal are shared with the DPS.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-individuell-plan-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: individuell plan for Ola Nordmann"
Description: "Bergen kommune deler Ola Nordmanns individuelle plan og hans eget mål med Vestbyen DPS. / Bergen kommune shares Ola Nordmann's individual plan and his own goal with Vestbyen DPS."
Usage: #example
* eventCoding = MeldingshendelseCS#careplan-shared "Individuell plan eller behandlingsplan delt"
* destination[0].name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* destination[0].endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* destination[0].receiver = Reference(org-dps)
* sender = Reference(org-kommune)
* author = Reference(koordinator-kommune)
* source.name = "Bergen kommune, psykisk helse og rus"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000100"
* source.endpoint = "https://fhir.bergen-kommune.example/samhandling"
* focus = Reference(individuell-plan-ola)
* definition = Canonical(md-careplan-shared)

Instance: melding-individuell-plan-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: individuell plan for Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så planen og alt den viser til (mål, diagnoser, koordinatorteam, pasient, pårørende, virksomheter og helsepersonell). / The message as sent: the header first, then the plan and everything it refers to (goal, diagnoses, coordinator team, patient, next of kin, organisations and professionals)."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:7b377af4-1c59-49af-af46-282d9859df04"
* type = #message
* timestamp = "2026-02-16T09:30:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-individuell-plan-ola"
* entry[0].resource = samhandlingsmelding-individuell-plan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CarePlan/individuell-plan-ola"
* entry[=].resource = individuell-plan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Goal/hva-er-viktig-ola"
* entry[=].resource = hva-er-viktig-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CareTeam/koordinatorteam-ola"
* entry[=].resource = koordinatorteam-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-psykose"
* entry[=].resource = individuell-plan-ola-psykose
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-rus"
* entry[=].resource = individuell-plan-ola-rus
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/RelatedPerson/parorende-kari"
* entry[=].resource = parorende-kari
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-legekontor"
* entry[=].resource = org-legekontor
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/behandler-dps"
* entry[=].resource = behandler-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege

// ---------------------------------------------------------------------------------------------------------------
// risk-assessed
// 20 February: the DPS shares its risk assessment (violence, suicide, overdose, self-harm) with the municipality.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-risikovurdering-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: risikovurdering for Ola Nordmann"
Description: "Vestbyen DPS deler risikovurderingen av Ola Nordmann med Bergen kommune. / Vestbyen DPS shares the risk assessment of Ola Nordmann with Bergen kommune."
Usage: #example
* eventCoding = MeldingshendelseCS#risk-assessed "Risikovurdering gjort"
* destination[0].name = "Bergen kommune, psykisk helse og rus"
* destination[0].endpoint = "https://fhir.bergen-kommune.example/samhandling"
* destination[0].receiver = Reference(org-kommune)
* sender = Reference(org-dps)
* author = Reference(behandler-dps)
* source.name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000200"
* source.endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* focus = Reference(risikovurdering-ola)
* definition = Canonical(md-risk-assessed)

Instance: melding-risikovurdering-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: risikovurdering for Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så risikovurderingen og alt den viser til (vurdering, kartlegging, diagnoser, pasient, virksomheter og helsepersonell). / The message as sent: the header first, then the risk assessment and everything it refers to (judgement, assessment, diagnoses, patient, organisations and professionals)."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:3ba14ab7-0d82-442b-85d6-780c829e7a73"
* type = #message
* timestamp = "2026-02-20T13:00:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-risikovurdering-ola"
* entry[0].resource = samhandlingsmelding-risikovurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/RiskAssessment/risikovurdering-ola"
* entry[=].resource = risikovurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ClinicalImpression/kartlegging-vurdering-ola"
* entry[=].resource = kartlegging-vurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-psykose"
* entry[=].resource = individuell-plan-ola-psykose
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-rus"
* entry[=].resource = individuell-plan-ola-rus
* entry[+].fullUrl = "http://samhandling.no/fhir/QuestionnaireResponse/kartlegging-svar-ola"
* entry[=].resource = kartlegging-svar-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/behandler-dps"
* entry[=].resource = behandler-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune

// ---------------------------------------------------------------------------------------------------------------
// riskplan-shared
// 25 February: the DPS shares the violence risk management plan with the municipality, which carries out the
// daily measures.
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-voldsrisikoplan-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: voldsrisikohåndteringsplan for Ola Nordmann"
Description: "Vestbyen DPS deler Ola Nordmanns voldsrisikohåndteringsplan med Bergen kommune. / Vestbyen DPS shares Ola Nordmann's violence risk management plan with Bergen kommune."
Usage: #example
* eventCoding = MeldingshendelseCS#riskplan-shared "Voldsrisikohåndteringsplan delt"
* destination[0].name = "Bergen kommune, psykisk helse og rus"
* destination[0].endpoint = "https://fhir.bergen-kommune.example/samhandling"
* destination[0].receiver = Reference(org-kommune)
* sender = Reference(org-dps)
* author = Reference(behandler-dps)
* source.name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* source.software = "samhandling-adapter"
* source.version = "0.1.0"
* source.contact.system = #phone
* source.contact.value = "+4755000200"
* source.endpoint = "https://fhir.vestbyen-dps.example/samhandling"
* focus = Reference(voldsrisikohandteringsplan-ola)
* definition = Canonical(md-riskplan-shared)

Instance: melding-voldsrisikoplan-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: voldsrisikohåndteringsplan for Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så planen og alt den viser til (risikovurdering, diagnoser, koordinatorteam, pasient, virksomheter og helsepersonell). / The message as sent: the header first, then the plan and everything it refers to (risk assessment, diagnoses, coordinator team, patient, organisations and professionals)."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:9350c744-76bf-477b-a528-b44cd5b223c0"
* type = #message
* timestamp = "2026-02-25T15:00:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-voldsrisikoplan-ola"
* entry[0].resource = samhandlingsmelding-voldsrisikoplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CarePlan/voldsrisikohandteringsplan-ola"
* entry[=].resource = voldsrisikohandteringsplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CareTeam/koordinatorteam-ola"
* entry[=].resource = koordinatorteam-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-psykose"
* entry[=].resource = individuell-plan-ola-psykose
* entry[+].fullUrl = "http://samhandling.no/fhir/Condition/individuell-plan-ola-rus"
* entry[=].resource = individuell-plan-ola-rus
* entry[+].fullUrl = "http://samhandling.no/fhir/RiskAssessment/risikovurdering-ola"
* entry[=].resource = risikovurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/ClinicalImpression/kartlegging-vurdering-ola"
* entry[=].resource = kartlegging-vurdering-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/QuestionnaireResponse/kartlegging-svar-ola"
* entry[=].resource = kartlegging-svar-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-legekontor"
* entry[=].resource = org-legekontor
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/behandler-dps"
* entry[=].resource = behandler-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/lege-fastlege"
* entry[=].resource = lege-fastlege
