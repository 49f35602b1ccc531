// Coordinator: cooperation roles and the care team around the person (koordinatorteam). Author B.
// The right to a coordinator is independent of having an individual plan; a coordinator may be appointed in the
// municipality and/or in the specialist service. Each participant carries exactly one role: a person with two roles
// (e.g. coordinator and responsible therapist at the DPS) appears as two participants.

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: SamhandlingsrolleCS
Id: samhandlingsrolle
Title: "Samhandlingsrolle"
Description: "Roller i samarbeidet rundt en person med psykiske helse- og/eller rusproblemer. / Roles in the cooperation around a person with mental-health and/or substance-use problems."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #koordinator-kommune "Koordinator i kommunen" "Koordinator oppnevnt av kommunen for personer med behov for langvarige og koordinerte tjenester. / Coordinator appointed by the municipality for persons who need long-term, coordinated services."
* #koordinator-kommune ^designation[0].language = #en
* #koordinator-kommune ^designation[0].value = "Municipal coordinator"
* #koordinator-spesialisthelsetjeneste "Koordinator i spesialisthelsetjenesten" "Koordinator oppnevnt av helseforetaket (DPS, TSB) for pasienter med behov for komplekse eller langvarige og koordinerte tjenester. / Coordinator appointed by the health trust (DPS, TSB) for patients who need complex or long-term, coordinated services."
* #koordinator-spesialisthelsetjeneste ^designation[0].language = #en
* #koordinator-spesialisthelsetjeneste ^designation[0].value = "Specialist health service coordinator"
* #fastlege "Fastlege" "Personens fastlege. / The person's regular general practitioner."
* #fastlege ^designation[0].language = #en
* #fastlege ^designation[0].value = "Regular general practitioner"
* #behandlingsansvarlig "Behandlingsansvarlig" "Faglig ansvarlig for behandlingen i spesialisthelsetjenesten. / Professionally responsible for the treatment in the specialist service."
* #behandlingsansvarlig ^designation[0].language = #en
* #behandlingsansvarlig ^designation[0].value = "Responsible clinician"
* #primaerkontakt "Primærkontakt" "Fast kontaktperson i en tjeneste som personen møter oftest. / Regular contact person in a service, whom the person meets most often."
* #primaerkontakt ^designation[0].language = #en
* #primaerkontakt ^designation[0].value = "Primary contact"
* #act-team-medlem "Medlem av ACT/FACT-team" "Medlem av et tverrfaglig ACT- eller FACT-team som kommunen og spesialisthelsetjenesten driver sammen. / Member of an interdisciplinary ACT or FACT team run jointly by the municipality and the specialist service."
* #act-team-medlem ^designation[0].language = #en
* #act-team-medlem ^designation[0].value = "ACT/FACT team member"

ValueSet: SamhandlingsrolleVS
Id: samhandlingsrolle
Title: "Samhandlingsrolle"
Description: "Alle koder i kodeverket Samhandlingsrolle. / All codes of the code system Samhandlingsrolle."
* ^status = #draft
* include codes from system SamhandlingsrolleCS

ValueSet: KoordinatorrolleVS
Id: koordinatorrolle
Title: "Koordinatorrolle"
Description: "Rollene som oppfyller retten til koordinator: koordinator i kommunen eller i spesialisthelsetjenesten. / The roles that fulfil the right to a coordinator: coordinator in the municipality or in the specialist service."
* ^status = #draft
* SamhandlingsrolleCS#koordinator-kommune
* SamhandlingsrolleCS#koordinator-spesialisthelsetjeneste

// ---------------------------------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------------------------------

Invariant: koord-1
Description: "Teamet skal ha minst én koordinator (kommune eller spesialisthelsetjeneste) med person og organisasjon. / The team shall have at least one coordinator (municipality or specialist service) with a person and an organisation."
Expression: "participant.where(role.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/samhandlingsrolle' and (code = 'koordinator-kommune' or code = 'koordinator-spesialisthelsetjeneste')).exists() and member.exists() and onBehalfOf.exists()).exists()"
Severity: #error

Profile: Koordinatorteam
Parent: CareTeam
Id: koordinatorteam
Title: "Koordinatorteam"
Description: "Teamet rundt personen: koordinator(er) i kommunen og/eller spesialisthelsetjenesten, fastlege, behandlingsansvarlig og andre, hver med én samhandlingsrolle. Retten til koordinator er uavhengig av individuell plan. / The team around the person: coordinator(s) in the municipality and/or the specialist service, GP, responsible clinician and others, each with one cooperation role. The right to a coordinator is independent of having an individual plan."
* ^status = #draft
* obeys koord-1
* status MS
* category MS
* name MS
* subject 1..1 MS
* subject only Reference($NoPatient)
* period MS
* managingOrganization only Reference($NoOrganization)
* managingOrganization MS
* participant 1..* MS
* participant ^slicing.discriminator.type = #pattern
* participant ^slicing.discriminator.path = "role"
* participant ^slicing.rules = #open
* participant ^slicing.description = "Deltakerne skilles på rollen; koordinatorskiven har påkrevd binding til koordinatorrolle. / Participants are told apart by role; the coordinator slice has a required binding to koordinatorrolle."
* participant.role 1..1 MS
* participant.role from SamhandlingsrolleVS (required)
* participant.member 1..1 MS
* participant.member only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* participant.onBehalfOf MS
* participant.onBehalfOf only Reference($NoOrganization)
* participant.period MS
* participant contains koordinator 1..* MS
* participant[koordinator] ^short = "Koordinator (kommune og/eller spesialisthelsetjeneste) / Coordinator"
* participant[koordinator].role from KoordinatorrolleVS (required)
* participant[koordinator].member only Reference($NoPractitioner or $NoPractitionerRole)
* participant[koordinator].onBehalfOf 1..1 MS
