// Crisis-and-coping plan (krise- og mestringsplan). Author B.
// Each part of the plan is an activity slice told apart by activity.detail.code (pattern on kriseplan-del); every
// activity carries the zone (gronn/gul/rod) in the extension `sone` on CarePlan.activity.

Alias: $SamhBNoLocation = http://hl7.no/fhir/StructureDefinition/no-basis-Location
Alias: $SamhBNoDocumentReference = http://hl7.no/fhir/StructureDefinition/no-basis-DocumentReference

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: SoneCS
Id: sone
Title: "Sone"
Description: "Hvilken tilstand et tiltak i krise- og mestringsplanen gjelder for: grønn (stabil, som vanlig), gul (varselsignaler, forverring) eller rød (krise, akutt). Kodene svarer én-til-én til grønn, gul og rød sone i kriseplanen i Norsk helsenetts «Pasientens planer» på helsenorge: gronn = grønn sone, gul = gul sone, rod = rød sone, slik at planen kan vises og utveksles med samme soner. / Which state a measure of the crisis-and-coping plan applies to: green (stable, as usual), yellow (warning signs, worsening) or red (crisis, acute). The codes map one-to-one to the green, yellow and red zones of the crisis plan in Norsk helsenett's \"Pasientens planer\" on helsenorge: gronn = green zone, gul = yellow zone, rod = red zone, so the plan can be shown and exchanged with the same zones."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #gronn "Grønn" "Stabil, som vanlig: slik personen har det når det går bra, og det som holder personen stabil. Tilsvarer grønn sone i Pasientens planer. / Stable, as usual: how the person is when all is well, and what keeps the person stable. Corresponds to the green zone in Pasientens planer."
* #gronn ^designation[0].language = #en
* #gronn ^designation[0].value = "Green"
* #gul "Gul" "Varselsignaler og forverring: det begynner å gå dårligere, og tiltak kan hindre krise. Tilsvarer gul sone i Pasientens planer. / Warning signs and worsening: things are getting worse and measures can prevent a crisis. Corresponds to the yellow zone in Pasientens planer."
* #gul ^designation[0].language = #en
* #gul ^designation[0].value = "Yellow"
* #rod "Rød" "Krise, akutt: behov for akutt hjelp. Tilsvarer rød sone i Pasientens planer. / Crisis, acute: acute help is needed. Corresponds to the red zone in Pasientens planer."
* #rod ^designation[0].language = #en
* #rod ^designation[0].value = "Red"

ValueSet: SoneVS
Id: sone
Title: "Sone"
Description: "Alle koder i kodeverket Sone (grønn, gul, rød). / All codes of the code system Sone (green, yellow, red)."
* ^status = #draft
* include codes from system SoneCS

CodeSystem: KriseplanDelCS
Id: kriseplan-del
Title: "Del av krise- og mestringsplan"
Description: "Delene av en krise- og mestringsplan etter veilederen. / The parts of a crisis-and-coping plan according to the guideline."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #varselsignaler "Varselsignaler" "Tegn på at det er i ferd med å gå dårligere, som personen selv eller andre kan legge merke til. / Signs that things are getting worse, which the person or others may notice."
* #varselsignaler ^designation[0].language = #en
* #varselsignaler ^designation[0].value = "Warning signs"
* #hva-hjelper "Hva hjelper" "Det personen selv og andre kan gjøre som hjelper (mestring). / What the person and others can do that helps (coping)."
* #hva-hjelper ^designation[0].language = #en
* #hva-hjelper ^designation[0].value = "What helps (coping)"
* #hva-bor-unngas "Hva bør unngås" "Det som gjør situasjonen verre og bør unngås. / What makes the situation worse and should be avoided."
* #hva-bor-unngas ^designation[0].language = #en
* #hva-bor-unngas ^designation[0].value = "What to avoid"
* #kontakt "Kontakt" "Hvem som skal kontaktes, og når. / Whom to contact, and when."
* #kontakt ^designation[0].language = #en
* #kontakt ^designation[0].value = "Whom to contact and when"
* #brukerstyrt-plass "Brukerstyrt plass" "Avtale om at personen selv kan legge seg inn på en brukerstyrt plass / kommunal akutt døgnplass, uten henvisning, på avtalte vilkår. / Agreement that the person may admit themselves to a patient-controlled bed / municipal emergency bed, without referral, on agreed terms."
* #brukerstyrt-plass ^designation[0].language = #en
* #brukerstyrt-plass ^designation[0].value = "Patient-controlled emergency bed agreement"

ValueSet: KriseplanDelVS
Id: kriseplan-del
Title: "Del av krise- og mestringsplan"
Description: "Alle koder i kodeverket Del av krise- og mestringsplan. / All codes of the code system kriseplan-del."
* ^status = #draft
* include codes from system KriseplanDelCS

// ---------------------------------------------------------------------------------------------------------------
// Extensions
// ---------------------------------------------------------------------------------------------------------------

Extension: SoneExtension
Id: sone
Title: "Sone"
Description: "Sonen (grønn, gul, rød) et tiltak i planen gjelder for, som i Pasientens planer. / The zone (green, yellow, red) a plan activity applies to, as in Pasientens planer."
Context: CarePlan.activity
* ^status = #draft
* value[x] 1..1
* value[x] only CodeableConcept
* value[x] from SoneVS (required)

Extension: BrukerstyrtPlassAvtale
Id: brukerstyrt-plass-avtale
Title: "Avtale om brukerstyrt plass"
Description: "Den skriftlige avtalen om brukerstyrt plass / kommunal akutt døgnplass (signert av personen og kommunen). / The written agreement on a patient-controlled bed / municipal emergency bed (signed by the person and the municipality)."
Context: CarePlan.activity.detail
* ^status = #draft
* value[x] 1..1
* value[x] only Reference($SamhBNoDocumentReference)

// ---------------------------------------------------------------------------------------------------------------
// Profile
// ---------------------------------------------------------------------------------------------------------------

Invariant: kmp-1
Description: "Planen skal si hvem som skal kontaktes i rød sone (krise). / The plan shall say whom to contact in the red zone (crisis)."
Expression: "activity.where(detail.code.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/kriseplan-del' and code = 'kontakt').exists() and extension.where(url = 'http://samhandling.no/fhir/StructureDefinition/sone').value.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/sone' and code = 'rod').exists()).exists()"
Severity: #error

Profile: KriseOgMestringsplan
Parent: CarePlan
Id: krise-og-mestringsplan
Title: "Krise- og mestringsplan"
Description: "Plan laget sammen med personen, kommunen og spesialisthelsetjenesten for hva som gjøres ved plutselig forverring eller tilbakefall, for å unngå (tvangs)innleggelse: varselsignaler, hva som hjelper, hva som bør unngås, hvem som skal kontaktes og når, og eventuell avtale om brukerstyrt plass. Hvert tiltak har en sone (grønn, gul, rød) som i Pasientens planer. / Plan made with the person, the municipality and the specialist service for what to do at sudden worsening or relapse, to avoid (compulsory) admission: warning signs, what helps, what to avoid, whom to contact and when, and any agreement on a patient-controlled bed. Each measure has a zone (green, yellow, red) as in Pasientens planer."
* ^status = #draft
* obeys kmp-1
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains plantype 1..1 MS
* category[plantype] = PlantypeCS#krise-og-mestringsplan
* status MS
* intent = #plan
* intent MS
* title MS
* description MS
* subject only Reference($NoPatient)
* subject MS
* period MS
* created MS
* author only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* author MS
* contributor only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner or $NoPractitionerRole or $NoOrganization)
* contributor MS
* careTeam only Reference(Koordinatorteam)
* careTeam MS
* goal only Reference(HvaErViktig)
* note MS
// Every activity: zone, detail with code and description
* activity 1..* MS
* activity.extension contains SoneExtension named sone 1..1 MS
* activity.reference 0..0
* activity.detail 1..1 MS
* activity.detail.code 1..1 MS
* activity.detail.code from KriseplanDelVS (required)
* activity.detail.status MS
* activity.detail.description 1..1 MS
* activity ^slicing.discriminator.type = #pattern
* activity ^slicing.discriminator.path = "detail.code"
* activity ^slicing.rules = #closed
* activity ^slicing.description = "Én skive per del av planen, skilt på detail.code (kriseplan-del). / One slice per part of the plan, told apart by detail.code (kriseplan-del)."
* activity contains
    varselsignaler 1..* MS and
    hva-hjelper 1..* MS and
    hva-bor-unngas 0..* MS and
    kontakt 1..* MS and
    brukerstyrt-plass 0..1 MS
* activity[varselsignaler] ^short = "Varselsignaler / Warning signs"
* activity[varselsignaler].detail.code = KriseplanDelCS#varselsignaler
* activity[hva-hjelper] ^short = "Hva hjelper (mestring) / What helps (coping)"
* activity[hva-hjelper].detail.code = KriseplanDelCS#hva-hjelper
* activity[hva-hjelper].detail.performer only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner or $NoPractitionerRole or $NoOrganization)
* activity[hva-hjelper].detail.performer MS
* activity[hva-bor-unngas] ^short = "Hva bør unngås / What to avoid"
* activity[hva-bor-unngas].detail.code = KriseplanDelCS#hva-bor-unngas
* activity[kontakt] ^short = "Hvem skal kontaktes og når / Whom to contact and when"
* activity[kontakt].detail.code = KriseplanDelCS#kontakt
* activity[kontakt].detail.performer 1..* MS
* activity[kontakt].detail.performer only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization or $NoHealthcareService or $NoRelatedPerson)
* activity[kontakt].detail.performer ^short = "Hvem som skal kontaktes / Whom to contact"
* activity[kontakt].detail.scheduled[x] only string
* activity[kontakt].detail.scheduled[x] MS
* activity[kontakt].detail.scheduled[x] ^short = "Når (f.eks. «hverdager 08-15.30») / When (e.g. \"weekdays 08-15.30\")"
* activity[brukerstyrt-plass] ^short = "Avtale om brukerstyrt plass / Patient-controlled emergency bed agreement"
* activity[brukerstyrt-plass].detail.code = KriseplanDelCS#brukerstyrt-plass
* activity[brukerstyrt-plass].detail.extension contains BrukerstyrtPlassAvtale named avtale 0..1 MS
* activity[brukerstyrt-plass].detail.status MS
* activity[brukerstyrt-plass].detail.scheduled[x] 1..1 MS
* activity[brukerstyrt-plass].detail.scheduled[x] only Period
* activity[brukerstyrt-plass].detail.scheduled[x] ^short = "Perioden avtalen gjelder / The period the agreement is valid"
* activity[brukerstyrt-plass].detail.location MS
* activity[brukerstyrt-plass].detail.location only Reference($SamhBNoLocation)
* activity[brukerstyrt-plass].detail.performer 1..* MS
* activity[brukerstyrt-plass].detail.performer only Reference($NoOrganization or $NoHealthcareService)
* activity[brukerstyrt-plass].detail.performer ^short = "Kommunen som gir plassen / The municipality providing the bed"
* activity[brukerstyrt-plass].detail.quantity MS
* activity[brukerstyrt-plass].detail.quantity ^short = "Lengste opphold per gang (døgn) / Longest stay each time (days)"
* activity[brukerstyrt-plass].detail.quantity.system = "http://unitsofmeasure.org"
* activity[brukerstyrt-plass].detail.quantity.code = #d
