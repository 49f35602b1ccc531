// Risk: risk assessment (selvmord, selvskading, vold, overdose) and the violence-risk management plan. Author B.

Alias: $SamhBRiskProbabilityVS = http://hl7.org/fhir/ValueSet/risk-probability

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: RisikotypeCS
Id: risikotype
Title: "Risikotype"
Description: "Hvilken risiko som vurderes i kartleggingen etter veilederen. / Which risk is assessed in the assessment according to the guideline."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #selvmord "Selvmord" "Risiko for selvmord. / Risk of suicide."
* #selvmord ^designation[0].language = #en
* #selvmord ^designation[0].value = "Suicide"
* #selvskading "Selvskading" "Risiko for selvskading uten selvmordshensikt. / Risk of self-harm without suicidal intent."
* #selvskading ^designation[0].language = #en
* #selvskading ^designation[0].value = "Self-harm"
* #vold "Vold" "Risiko for at personen utøver vold mot andre. / Risk that the person commits violence against others."
* #vold ^designation[0].language = #en
* #vold ^designation[0].value = "Violence"
* #overdose "Overdose" "Risiko for overdose (forgiftning ved rusmidler eller legemidler). / Risk of overdose (poisoning by drugs or medicines)."
* #overdose ^designation[0].language = #en
* #overdose ^designation[0].value = "Overdose"

ValueSet: RisikotypeVS
Id: risikotype
Title: "Risikotype"
Description: "Alle koder i kodeverket Risikotype. / All codes of the code system Risikotype."
* ^status = #draft
* include codes from system RisikotypeCS

CodeSystem: RisikometodeCS
Id: risikometode
Title: "Metode for risikovurdering"
Description: "Metoden eller verktøyet som ble brukt i risikovurderingen. / The method or instrument used in the risk assessment."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #v-risk-10 "V-RISK-10" "Strukturert sjekkliste med ti ledd for å screene voldsrisiko, brukt i psykisk helsevern. / Structured ten-item checklist for screening violence risk, used in mental health care."
* #v-risk-10 ^designation[0].language = #en
* #v-risk-10 ^designation[0].value = "V-RISK-10 violence risk screening"
* #hcr-20 "HCR-20" "Strukturert faglig skjønn for utredning av voldsrisiko (historiske, kliniske og risikohåndteringsfaktorer). / Structured professional judgement for violence-risk evaluation (historical, clinical and risk-management factors)."
* #hcr-20 ^designation[0].language = #en
* #hcr-20 ^designation[0].value = "HCR-20 violence risk evaluation"
* #klinisk-vurdering "Klinisk vurdering" "Strukturert klinisk vurdering, f.eks. av selvmordsrisiko etter nasjonal retningslinje, uten et bestemt skåringsverktøy. / Structured clinical assessment, e.g. of suicide risk under the national guideline, without a specific scoring instrument."
* #klinisk-vurdering ^designation[0].language = #en
* #klinisk-vurdering ^designation[0].value = "Clinical assessment"

ValueSet: RisikometodeVS
Id: risikometode
Title: "Metode for risikovurdering"
Description: "Alle koder i kodeverket Metode for risikovurdering. / All codes of the code system risikometode."
* ^status = #draft
* include codes from system RisikometodeCS

CodeSystem: VoldsrisikoTiltakCS
Id: voldsrisiko-tiltak
Title: "Tiltakstype i voldsrisikohåndteringsplan"
Description: "De to typene tiltak i en voldsrisikohåndteringsplan. / The two kinds of measures in a violence-risk management plan."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #risikoreduserende "Risikoreduserende tiltak" "Tiltak som reduserer risikoen for at vold skjer. / Measures that reduce the risk that violence happens."
* #risikoreduserende ^designation[0].language = #en
* #risikoreduserende ^designation[0].value = "Risk-reducing measures"
* #konsekvensbegrensende "Konsekvensbegrensende tiltak" "Tiltak som begrenser konsekvensene dersom vold likevel skjer. / Measures that limit the consequences if violence happens nevertheless."
* #konsekvensbegrensende ^designation[0].language = #en
* #konsekvensbegrensende ^designation[0].value = "Consequence-limiting measures"

ValueSet: VoldsrisikoTiltakVS
Id: voldsrisiko-tiltak
Title: "Tiltakstype i voldsrisikohåndteringsplan"
Description: "Alle koder i kodeverket Tiltakstype i voldsrisikohåndteringsplan. / All codes of the code system voldsrisiko-tiltak."
* ^status = #draft
* include codes from system VoldsrisikoTiltakCS

// ---------------------------------------------------------------------------------------------------------------
// Risk assessment
// ---------------------------------------------------------------------------------------------------------------

Invariant: risiko-1
Description: "Hver risikotype vurderes høyst én gang i samme vurdering. / Each risk type is assessed at most once in the same assessment."
Expression: "prediction.outcome.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/risikotype').code.isDistinct()"
Severity: #error

Invariant: risiko-2
Description: "Er metoden V-RISK-10 eller HCR-20, skal vurderingen ha en prediksjon for vold. / When the method is V-RISK-10 or HCR-20, the assessment shall have a prediction for violence."
Expression: "method.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/risikometode' and (code = 'v-risk-10' or code = 'hcr-20')).exists() implies prediction.outcome.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/risikotype' and code = 'vold').exists()"
Severity: #error

Profile: Risikovurdering
Parent: RiskAssessment
Id: risikovurdering
Title: "Risikovurdering"
Description: "Vurdering av risiko for selvmord, selvskading, vold og overdose, med kvalitativ risiko per risikotype, begrunnelse og tiltak. / Assessment of the risk of suicide, self-harm, violence and overdose, with a qualitative risk per risk type, rationale and mitigation."
* ^status = #draft
* obeys risiko-1 and risiko-2
* status MS
* subject only Reference($NoPatient)
* subject MS
* occurrence[x] 1..1 MS
* occurrence[x] only dateTime
* performer only Reference($NoPractitioner or $NoPractitionerRole)
* performer MS
* method MS
* method from RisikometodeVS (required)
* basis MS
* basis ^short = "Grunnlaget for vurderingen (f.eks. kartlegging) / What the assessment is based on (e.g. the assessment of needs)"
* prediction 1..* MS
* prediction.outcome 1..1 MS
* prediction.outcome from RisikotypeVS (required)
* prediction.qualitativeRisk 1..1 MS
* prediction.qualitativeRisk from $SamhBRiskProbabilityVS (required)
* prediction.rationale MS
* mitigation MS
* note MS

// ---------------------------------------------------------------------------------------------------------------
// Violence-risk management plan
// ---------------------------------------------------------------------------------------------------------------

Profile: Voldsrisikohandteringsplan
Parent: CarePlan
Id: voldsrisikohandteringsplan
Title: "Voldsrisikohåndteringsplan"
Description: "Plan for å håndtere vurdert voldsrisiko, med risikoreduserende og konsekvensbegrensende tiltak, hvem som utfører dem, og risikovurderingen planen bygger på. Utredningen er spesialisthelsetjenestens ansvar; den løpende håndteringen skjer ofte i kommunen. / Plan to manage an assessed risk of violence, with risk-reducing and consequence-limiting measures, who performs them, and the risk assessment the plan is based on. The evaluation is the specialist service's responsibility; the ongoing handling often takes place in the municipality."
* ^status = #draft
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category contains plantype 1..1 MS
* category[plantype] = PlantypeCS#voldsrisikohandteringsplan
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
* careTeam only Reference(Koordinatorteam)
* careTeam MS
* addresses MS
* supportingInfo 1..* MS
* supportingInfo only Reference(Risikovurdering)
* supportingInfo ^short = "Risikovurderingen planen bygger på / The risk assessment the plan is based on"
* note MS
* activity 2..* MS
* activity.reference 0..0
* activity.detail 1..1 MS
* activity.detail.code 1..1 MS
* activity.detail.code from VoldsrisikoTiltakVS (required)
* activity.detail.status MS
* activity.detail.description 1..1 MS
* activity.detail.performer 1..* MS
* activity.detail.performer only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization or $NoRelatedPerson or $NoPatient)
* activity.detail.scheduled[x] MS
* activity ^slicing.discriminator.type = #pattern
* activity ^slicing.discriminator.path = "detail.code"
* activity ^slicing.rules = #closed
* activity ^slicing.description = "Tiltakene skilles på detail.code (voldsrisiko-tiltak). / The measures are told apart by detail.code (voldsrisiko-tiltak)."
* activity contains risikoreduserende 1..* MS and konsekvensbegrensende 1..* MS
* activity[risikoreduserende] ^short = "Risikoreduserende tiltak / Risk-reducing measures"
* activity[risikoreduserende].detail.code = VoldsrisikoTiltakCS#risikoreduserende
* activity[konsekvensbegrensende] ^short = "Konsekvensbegrensende tiltak / Consequence-limiting measures"
* activity[konsekvensbegrensende].detail.code = VoldsrisikoTiltakCS#konsekvensbegrensende
