// Examples for careplan.fsh (Author B): Ola Nordmann's own goal, his diagnoses and his individual plan.

Alias: $SamhBICD10 = urn:oid:2.16.578.1.12.4.1.1.7110
Alias: $SamhBConditionClinical = http://terminology.hl7.org/CodeSystem/condition-clinical
Alias: $SamhBConditionVerification = http://terminology.hl7.org/CodeSystem/condition-ver-status
Alias: $SamhBConditionCategory = http://terminology.hl7.org/CodeSystem/condition-category

Instance: hva-er-viktig-ola
InstanceOf: HvaErViktig
Title: "Hva er viktig for Ola: bolig og arbeid"
Description: "Olas eget mål, med hans egne ord. / Ola's own goal, in his own words."
Usage: #example
* lifecycleStatus = #active
* achievementStatus = http://terminology.hl7.org/CodeSystem/goal-achievement#in-progress "In Progress"
* category[hva-er-viktig] = MaltypeCS#hva-er-viktig "Hva er viktig for deg?"
* description.text = "Å ha et sted å bo og å komme i arbeid."
* subject = Reference(pasient-ola)
* startDate = "2026-02-12"
* expressedBy = Reference(pasient-ola)
* target[0].measure.text = "Bosituasjon"
* target[0].detailString = "Egen leilighet i Bergen, med oppfølging i hjemmet så lenge jeg trenger det."
* target[0].dueDate = "2026-09-01"
* target[1].measure.text = "Arbeid"
* target[1].detailString = "Jobbe minst to dager i uka, helst med noe praktisk."
* target[1].dueDate = "2027-01-31"
* note.text = "Ola sier: «Når jeg har et sted å bo og noe å gå til om dagen, klarer jeg å holde meg unna rus.» Notert i samtale 12.02.2026."
* note.time = "2026-02-12T10:30:00+01:00"
* note.authorReference = Reference(koordinator-kommune)

Instance: individuell-plan-ola-psykose
InstanceOf: Condition
Title: "Olas diagnose: paranoid schizofreni"
Description: "Psykoselidelsen som Olas planer retter seg mot. / The psychotic disorder Ola's plans address."
Usage: #example
* clinicalStatus = $SamhBConditionClinical#active
* verificationStatus = $SamhBConditionVerification#confirmed
* category = $SamhBConditionCategory#problem-list-item "Problem List Item"
* code = $SamhBICD10#F20.0 "Paranoid schizofreni"
* subject = Reference(pasient-ola)
* onsetDateTime = "2019"
* recordedDate = "2026-01-20"
* recorder = Reference(behandler-dps)

Instance: individuell-plan-ola-rus
InstanceOf: Condition
Title: "Olas diagnose: opioidavhengighet"
Description: "Ruslidelsen som, sammen med psykosen, gir ROP-lidelse. / The substance-use disorder which, with the psychosis, makes a co-occurring disorder (ROP)."
Usage: #example
* clinicalStatus = $SamhBConditionClinical#active
* verificationStatus = $SamhBConditionVerification#confirmed
* category = $SamhBConditionCategory#problem-list-item "Problem List Item"
* code = $SamhBICD10#F11.2 "Psykiske lidelser og atferdsforstyrrelser som skyldes bruk av opioider, avhengighetssyndrom"
* subject = Reference(pasient-ola)
* onsetDateTime = "2016"
* recordedDate = "2026-01-20"
* recorder = Reference(behandler-dps)

Instance: individuell-plan-ola
InstanceOf: IndividuellPlan
Title: "Individuell plan for Ola Nordmann"
Description: "Olas individuelle plan, laget sammen med ham, kommunen, DPS og fastlegen. / Ola's individual plan, made together with him, the municipality, the DPS and the GP."
Usage: #example
* category[plantype] = PlantypeCS#individuell-plan "Individuell plan"
* status = #active
* intent = #plan
* title = "Individuell plan for Ola Nordmann"
* description = "Planen bygger på det som er viktig for Ola: et sted å bo og å komme i arbeid. Kommunen og Vestbyen DPS samarbeider i hovedforløp 3 om behandling av psykose og rus, bolig og arbeid."
* subject = Reference(pasient-ola)
* period.start = "2026-02-15"
* period.end = "2027-02-15"
* created = "2026-02-15"
* author = Reference(koordinator-kommune)
* contributor[0] = Reference(pasient-ola)
* contributor[1] = Reference(parorende-kari)
* contributor[2] = Reference(behandler-dps)
* contributor[3] = Reference(lege-fastlege)
* careTeam = Reference(koordinatorteam-ola)
* addresses[0] = Reference(individuell-plan-ola-psykose)
* addresses[1] = Reference(individuell-plan-ola-rus)
* goal = Reference(hva-er-viktig-ola)
// 1. Housing with follow-up at home
* activity[0].detail.code.text = "Bolig med oppfølging i hjemmet"
* activity[0].detail.goal = Reference(hva-er-viktig-ola)
* activity[0].detail.status = #in-progress
* activity[0].detail.scheduledPeriod.start = "2026-03-01"
* activity[0].detail.scheduledPeriod.end = "2026-09-01"
* activity[0].detail.performer = Reference(org-kommune)
* activity[0].detail.description = "Kommunen tildeler kommunal leilighet og gir oppfølging i hjemmet to ganger i uka (praktisk hjelp, økonomi, naboforhold)."
// 2. Work: individual placement and support
* activity[1].detail.code.text = "Individuell jobbstøtte (IPS)"
* activity[1].detail.goal = Reference(hva-er-viktig-ola)
* activity[1].detail.status = #scheduled
* activity[1].detail.scheduledPeriod.start = "2026-04-01"
* activity[1].detail.scheduledPeriod.end = "2027-01-31"
* activity[1].detail.performer = Reference(org-kommune)
* activity[1].detail.description = "Jobbspesialist fra kommunen og NAV hjelper Ola å finne og beholde en praktisk jobb; oppstart når bosituasjonen er på plass."
// 3. Treatment of psychosis and substance use at the DPS
* activity[2].detail.code.text = "Behandling av psykose og rusproblemer (ROP) ved DPS"
* activity[2].detail.goal = Reference(hva-er-viktig-ola)
* activity[2].detail.status = #in-progress
* activity[2].detail.scheduledTiming.repeat.frequency = 1
* activity[2].detail.scheduledTiming.repeat.period = 1
* activity[2].detail.scheduledTiming.repeat.periodUnit = #wk
* activity[2].detail.performer = Reference(behandler-dps)
* activity[2].detail.description = "Ukentlige samtaler med behandlingsansvarlig psykolog, legemiddelbehandling og integrert rusbehandling."
// 4. Somatic health at the GP
* activity[3].detail.code.text = "Somatisk helse: tannhelse, ernæring og blodprøver"
* activity[3].detail.status = #scheduled
* activity[3].detail.scheduledString = "Hver tredje måned, første time 10.03.2026"
* activity[3].detail.performer = Reference(lege-fastlege)
* activity[3].detail.description = "Fastlegen følger opp somatisk helse, tenner og ernæring, og tar blodprøver ved legemiddelbehandling."
// 5. Own effort with the sister's support
* activity[4].detail.code.text = "Fast ukentlig aktivitet med søster"
* activity[4].detail.goal = Reference(hva-er-viktig-ola)
* activity[4].detail.status = #in-progress
* activity[4].detail.scheduledString = "Søndager"
* activity[4].detail.performer[0] = Reference(pasient-ola)
* activity[4].detail.performer[1] = Reference(parorende-kari)
* activity[4].detail.description = "Ola og søsteren Kari går tur sammen hver søndag; Ola har selv ønsket dette for å holde kontakten og få struktur på uka."
* note.text = "Planen evalueres sammen med Ola ved ansvarsgruppemøte hver tredje måned; neste møte 15.05.2026."
* note.time = "2026-02-15T12:00:00+01:00"
* note.authorReference = Reference(koordinator-kommune)
