// Exchange examples: Vestbyen DPS shares Ola Nordmann's crisis and coping plan with Bergen kommune as a FHIR message,
// and the municipality acknowledges it (the FHIR counterpart of an AppRec with status 1 OK).
// fullUrls are "http://samhandling.no/fhir/<Type>/<id>", so the relative references inside the resources
// (e.g. "Patient/pasient-ola") resolve within the Bundle.

// ---------------------------------------------------------------------------------------------------------------
// The crisis plan message
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsmelding-kriseplan-ola
InstanceOf: Samhandlingsmelding
Title: "Meldingshode: krise- og mestringsplan for Ola Nordmann"
Description: "Vestbyen DPS sender Ola Nordmanns krise- og mestringsplan til Bergen kommune. / Vestbyen DPS sends Ola Nordmann's crisis and coping plan to Bergen kommune."
Usage: #example
* eventCoding = MeldingshendelseCS#crisisplan-shared "Krise- og mestringsplan delt"
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
* focus = Reference(krise-og-mestringsplan-ola)
* definition = Canonical(md-crisisplan-shared)

Instance: melding-kriseplan-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: krise- og mestringsplan for Ola Nordmann"
Description: "Meldingen som sendes: meldingshodet først, så planen og alt den viser til (pasient, pårørende, mål, koordinatorteam, avtale om brukerstyrt plass, virksomheter og helsepersonell), slik at mottakeren kan lese den uten oppslag. / The message as sent: the header first, then the plan and everything it refers to (patient, next of kin, goal, care team, patient-controlled bed agreement, organisations and professionals), so the receiver can read it without look-ups."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:6f1c2a4e-8b3d-4c1a-9e57-2d0b7a93c1f4"
* type = #message
* timestamp = "2026-03-02T10:15:00+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-kriseplan-ola"
* entry[0].resource = samhandlingsmelding-kriseplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CarePlan/krise-og-mestringsplan-ola"
* entry[=].resource = krise-og-mestringsplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Patient/pasient-ola"
* entry[=].resource = pasient-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/RelatedPerson/parorende-kari"
* entry[=].resource = parorende-kari
* entry[+].fullUrl = "http://samhandling.no/fhir/Goal/hva-er-viktig-ola"
* entry[=].resource = hva-er-viktig-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/CareTeam/koordinatorteam-ola"
* entry[=].resource = koordinatorteam-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/DocumentReference/krise-og-mestringsplan-ola-avtale"
* entry[=].resource = krise-og-mestringsplan-ola-avtale
* entry[+].fullUrl = "http://samhandling.no/fhir/Location/krise-og-mestringsplan-ola-dognplass"
* entry[=].resource = krise-og-mestringsplan-ola-dognplass
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

// ---------------------------------------------------------------------------------------------------------------
// The acknowledgement (AppRec status 1 OK)
// ---------------------------------------------------------------------------------------------------------------

Instance: utfall-kvittering-kriseplan-ola
InstanceOf: OperationOutcome
Title: "Utfall: krise- og mestringsplanen er mottatt"
Description: "Detaljene i kvitteringen: planen er mottatt og lagret, uten feil. / The details of the acknowledgement: the plan was received and stored, without errors."
Usage: #example
* issue[0].severity = #information
* issue[0].code = #informational
* issue[0].diagnostics = "Krise- og mestringsplanen er mottatt og lagret. / The crisis and coping plan was received and stored."

Instance: samhandlingsmelding-kvittering-kriseplan-ola
InstanceOf: Samhandlingsmelding
Title: "Kvittering: krise- og mestringsplan for Ola Nordmann mottatt"
Description: "Bergen kommune kvitterer for meldingen fra Vestbyen DPS (tilsvarer AppRec med status 1 OK). / Bergen kommune acknowledges the message from Vestbyen DPS (corresponds to an AppRec with status 1 OK)."
Usage: #example
* eventCoding = MeldingshendelseCS#crisisplan-shared "Krise- og mestringsplan delt"
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
* response.identifier = "samhandlingsmelding-kriseplan-ola"
* response.code = #ok
* response.details = Reference(utfall-kvittering-kriseplan-ola)
* definition = Canonical(md-crisisplan-shared)

Instance: melding-kvittering-kriseplan-ola
InstanceOf: SamhandlingsmeldingBundle
Title: "Melding: kvittering for krise- og mestringsplan"
Description: "Kvitteringsmeldingen: meldingshodet med response, utfallet og virksomhetene og personen det viser til. / The acknowledgement message: the header with response, the outcome and the organisations and person it refers to."
Usage: #example
* identifier.system = "urn:ietf:rfc:3986"
* identifier.value = "urn:uuid:0b9e4d27-3f6a-4e8c-b1d2-7c5a9f20e6b3"
* type = #message
* timestamp = "2026-03-02T10:15:42+01:00"
* entry[0].fullUrl = "http://samhandling.no/fhir/MessageHeader/samhandlingsmelding-kvittering-kriseplan-ola"
* entry[0].resource = samhandlingsmelding-kvittering-kriseplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/OperationOutcome/utfall-kvittering-kriseplan-ola"
* entry[=].resource = utfall-kvittering-kriseplan-ola
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-kommune"
* entry[=].resource = org-kommune
* entry[+].fullUrl = "http://samhandling.no/fhir/Organization/org-dps"
* entry[=].resource = org-dps
* entry[+].fullUrl = "http://samhandling.no/fhir/Practitioner/koordinator-kommune"
* entry[=].resource = koordinator-kommune
