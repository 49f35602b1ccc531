// Hovedforløp (main pathway levels 1-3) and the EpisodeOfCare that places a person in one of them.
//
// The level is decided from the assessment (kartlegging-vurdering, assessment.fsh): severity x expected duration.
// A change of level (stepped care) ends the episode (status finished, period.end) and starts a new episode with
// the new level; the episodes of a person are the history of levels.
//
// Author A owns this file.

CodeSystem: Hovedforlop
Id: hovedforlop
Title: "Hovedforløp"
Description: "Hovedforløpene i veilederen for psykisk helse- og rusarbeid. Nivået fastsettes ut fra alvorlighetsgrad (CodeSystem alvorlighetsgrad) og forventet varighet (CodeSystem varighet): mild + kortvarig gir hovedforløp 1; alvorlig + kortvarig gir hovedforløp 2; mild + langvarig gir hovedforløp 2; alvorlig + langvarig gir hovedforløp 3. Forløpene tilpasses individuelt, og en person kan bevege seg mellom nivåene. / The main pathways of the guideline on mental-health and substance-use work. The level follows from severity (CodeSystem alvorlighetsgrad) and expected duration (CodeSystem varighet): mild + short-lived gives pathway 1; serious + short-lived gives pathway 2; mild + long-lasting gives pathway 2; serious + long-lasting gives pathway 3. Pathways are individually adapted, and a person may move between levels."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #1 "Hovedforløp 1" "Milde og kortvarige problemer; lavterskeltilbud i kommunen. / Mild and short-lived problems; low-threshold municipal services."
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "Main pathway 1"
* #2 "Hovedforløp 2" "Alvorlige og kortvarige, eller milde og langvarige problemer; stabiliserende behandling, vurder samarbeid med spesialisthelsetjenesten. / Serious short-lived, or mild long-lasting problems; stabilising treatment, consider cooperation with the specialist service."
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Main pathway 2"
* #3 "Hovedforløp 3" "Alvorlige og langvarige problemer, inkludert samtidig rus- og psykisk lidelse (ROP); kommunen og spesialisthelsetjenesten sammen, ACT/FACT-team. / Serious long-lasting problems, including co-occurring substance use and mental illness (ROP); municipality and specialist service together, ACT/FACT teams."
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Main pathway 3"

ValueSet: HovedforlopVS
Id: hovedforlop
Title: "Hovedforløp"
Description: "Hovedforløp 1, 2 og 3. / Main pathways 1, 2 and 3."
* ^status = #draft
* ^experimental = false
* include codes from system Hovedforlop

Profile: HovedforlopEpisode
Parent: EpisodeOfCare
Id: hovedforlop-episode
Title: "Hovedforløp - episode"
Description: "Personens forløp i ett hovedforløp (1, 2 eller 3), med ansvarlig virksomhet og koordinator. Ved bytte av nivå avsluttes episoden og en ny startes. / The person's course in one main pathway (1, 2 or 3), with the responsible organisation and coordinator. On a change of level the episode ends and a new one starts."
* ^status = #draft
* ^experimental = false
* status MS
* type 1..* MS
* type ^slicing.discriminator.type = #pattern
* type ^slicing.discriminator.path = "$this"
* type ^slicing.rules = #open
* type ^slicing.description = "Hovedforløpet skilles ut på kodesystemet hovedforlop. / The main pathway is told apart by the hovedforlop code system."
* type contains hovedforlop 1..1 MS
* type[hovedforlop] from HovedforlopVS (required)
* type[hovedforlop] ^patternCodeableConcept.coding[0].system = "http://samhandling.no/fhir/CodeSystem/hovedforlop"
* type[hovedforlop] ^short = "Hovedforløp (1, 2 eller 3) / Main pathway (1, 2 or 3)"
* patient MS
* patient only Reference($NoPatient)
* managingOrganization 1..1 MS
* managingOrganization only Reference($NoOrganization)
* managingOrganization ^short = "Virksomheten som har ansvaret for forløpet / The organisation responsible for the episode"
* period 1..1 MS
* period.start 1..1 MS
* period.end MS
* careManager MS
* careManager only Reference($NoPractitioner or $NoPractitionerRole)
* careManager ^short = "Koordinator / Coordinator"
// The coordinator team is author B's CareTeam profile koordinatorteam, referenced by its canonical URL.
* team MS
* team only Reference(http://samhandling.no/fhir/StructureDefinition/koordinatorteam)
* team ^short = "Koordinatorteam / Coordinator team"
* referralRequest MS
* referralRequest only Reference(Henvisning)
* referralRequest ^short = "Henvisningen som ledet til forløpet / The referral that led to the episode"
