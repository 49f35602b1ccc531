// Examples for risk.fsh (Author B): Ola Nordmann's risk assessment and violence-risk management plan.

Instance: risikovurdering-ola
InstanceOf: Risikovurdering
Title: "Risikovurdering for Ola Nordmann"
Description: "Vurdering av risiko for vold, selvmord, selvskading og overdose ved Vestbyen DPS. / Assessment of the risk of violence, suicide, self-harm and overdose at Vestbyen DPS."
Usage: #example
* status = #final
* subject = Reference(pasient-ola)
* occurrenceDateTime = "2026-02-20T11:00:00+01:00"
* performer = Reference(behandler-dps)
* method = RisikometodeCS#v-risk-10 "V-RISK-10"
* method.text = "V-RISK-10 for vold; strukturert klinisk vurdering for selvmord, selvskading og overdose"
* basis[0] = Reference(kartlegging-vurdering-ola)
* basis[1] = Reference(individuell-plan-ola-psykose)
* basis[2] = Reference(individuell-plan-ola-rus)
* prediction[0].outcome = RisikotypeCS#vold "Vold"
* prediction[0].qualitativeRisk = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* prediction[0].rationale = "Trusler mot ansatte i ruspåvirket og psykotisk tilstand i 2024; ingen alvorlig vold. Risikoen øker når han slutter med medisinene og bruker mer rusmidler."
* prediction[1].outcome = RisikotypeCS#selvmord "Selvmord"
* prediction[1].qualitativeRisk = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* prediction[1].rationale = "Ingen tidligere selvmordsforsøk, avkrefter aktuelle selvmordstanker. Beskyttende: kontakt med søster og egne mål om bolig og arbeid."
* prediction[2].outcome = RisikotypeCS#overdose "Overdose"
* prediction[2].qualitativeRisk = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* prediction[2].rationale = "Bruker opioider periodevis, ofte alene; redusert toleranse etter avrusning i januar 2026. Én tidligere ikke-dødelig overdose (2023)."
* prediction[3].outcome = RisikotypeCS#selvskading "Selvskading"
* prediction[3].qualitativeRisk = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* prediction[3].rationale = "Ingen kjent selvskading."
* mitigation = "Voldsrisikohåndteringsplan og krise- og mestringsplan er laget. Nalokson nesespray er utlevert og Kari har fått opplæring. Ny vurdering ved endring, senest om tre måneder."
* note.text = "Vurderingen er gjort sammen med Ola og delt med koordinator i kommunen etter samtykke."
* note.time = "2026-02-20T12:00:00+01:00"
* note.authorReference = Reference(behandler-dps)

Instance: voldsrisikohandteringsplan-ola
InstanceOf: Voldsrisikohandteringsplan
Title: "Voldsrisikohåndteringsplan for Ola Nordmann"
Description: "Risikoreduserende og konsekvensbegrensende tiltak etter risikovurderingen 20.02.2026. / Risk-reducing and consequence-limiting measures after the risk assessment of 20.02.2026."
Usage: #example
* category[plantype] = PlantypeCS#voldsrisikohandteringsplan "Voldsrisikohåndteringsplan"
* status = #active
* intent = #plan
* title = "Voldsrisikohåndteringsplan for Ola Nordmann"
* description = "Moderat voldsrisiko (V-RISK-10), særlig ved psykotisk forverring og økt rusbruk. Spesialisthelsetjenesten har ansvar for utredningen, kommunen for den daglige håndteringen."
* subject = Reference(pasient-ola)
* period.start = "2026-02-25"
* period.end = "2026-05-25"
* created = "2026-02-25"
* author = Reference(behandler-dps)
* careTeam = Reference(koordinatorteam-ola)
* addresses[0] = Reference(individuell-plan-ola-psykose)
* addresses[1] = Reference(individuell-plan-ola-rus)
* supportingInfo = Reference(risikovurdering-ola)
// Measures that reduce the risk
* activity[risikoreduserende][0].detail.code = VoldsrisikoTiltakCS#risikoreduserende "Risikoreduserende tiltak"
* activity[risikoreduserende][0].detail.status = #in-progress
* activity[risikoreduserende][0].detail.scheduledTiming.repeat.frequency = 1
* activity[risikoreduserende][0].detail.scheduledTiming.repeat.period = 1
* activity[risikoreduserende][0].detail.scheduledTiming.repeat.periodUnit = #wk
* activity[risikoreduserende][0].detail.performer = Reference(behandler-dps)
* activity[risikoreduserende][0].detail.description = "Fast behandlingsrelasjon med ukentlige samtaler, stabil antipsykotisk behandling og integrert rusbehandling."
* activity[risikoreduserende][1].detail.code = VoldsrisikoTiltakCS#risikoreduserende "Risikoreduserende tiltak"
* activity[risikoreduserende][1].detail.status = #in-progress
* activity[risikoreduserende][1].detail.scheduledString = "Ved gul sone i krise- og mestringsplanen"
* activity[risikoreduserende][1].detail.performer = Reference(org-kommune)
* activity[risikoreduserende][1].detail.description = "Tettere oppfølging hjemme og tilbud om brukerstyrt plass når varselsignalene kommer, slik at forverring fanges opp tidlig."
// Measures that limit the consequences
* activity[konsekvensbegrensende][0].detail.code = VoldsrisikoTiltakCS#konsekvensbegrensende "Konsekvensbegrensende tiltak"
* activity[konsekvensbegrensende][0].detail.status = #in-progress
* activity[konsekvensbegrensende][0].detail.scheduledString = "Ved alle hjemmebesøk når Ola er i gul eller rød sone"
* activity[konsekvensbegrensende][0].detail.performer = Reference(org-kommune)
* activity[konsekvensbegrensende][0].detail.description = "Hjemmebesøk gjøres av to ansatte; møt Ola rolig, med fri retrettvei, og avbryt besøket ved økende uro. Ikke konfronter."
* activity[konsekvensbegrensende][1].detail.code = VoldsrisikoTiltakCS#konsekvensbegrensende "Konsekvensbegrensende tiltak"
* activity[konsekvensbegrensende][1].detail.status = #not-started
* activity[konsekvensbegrensende][1].detail.scheduledString = "Ved akutt fare for vold"
* activity[konsekvensbegrensende][1].detail.performer = Reference(org-dps)
* activity[konsekvensbegrensende][1].detail.description = "Ring 112 ved akutt fare. DPS sitt ambulante akutteam og legevakten varsles og vurderer innleggelse."
* note.text = "Planen evalueres sammen med kommunen etter tre måneder eller ved ny hendelse."
* note.time = "2026-02-25T14:00:00+01:00"
* note.authorReference = Reference(behandler-dps)
