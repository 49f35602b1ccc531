// Kartlegging (assessment of help needs) after the national guideline on mental-health and substance-use work.
//
// The guideline's list of assessment domains is the CodeSystem `kartleggingsomrade`; the published Questionnaire
// `kartlegging` has one group per domain (item.code = the domain code, linkId = the code), so an answer can be
// found by domain in any QuestionnaireResponse (`kartlegging-svar`). The professional's conclusion is a
// ClinicalImpression (`kartlegging-vurdering`) that carries severity and expected duration as two required-bound
// finding slices and the resulting main pathway level (`hovedforlop`, see pathway.fsh) in prognosisCodeableConcept.
//
// Author A owns this file. Invariant keys used here: kartl-1.

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: Kartleggingsomrade
Id: kartleggingsomrade
Title: "Kartleggingsområde"
Description: "Områdene som kartleggingen av hjelpebehov skal dekke etter veilederen for psykisk helse- og rusarbeid. / The domains that the assessment of help needs covers under the guideline on mental-health and substance-use work."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #egen-forstaelse "Egen forståelse av situasjonen" "Personens egen forståelse av sin situasjon, sine plager og hva hun eller han ønsker hjelp til. / The person's own understanding of the situation, the problems and what help is wanted."
* #egen-forstaelse ^designation[0].language = #en
* #egen-forstaelse ^designation[0].value = "Own understanding of the situation"
* #ressurser "Ressurser" "Personlige ressurser, mestring og nettverk (familie, venner, likepersoner). / Personal resources, coping and network (family, friends, peers)."
* #ressurser ^designation[0].language = #en
* #ressurser ^designation[0].value = "Resources"
* #historikk "Historikk" "Sykehistorie, tidligere hjelp og behandling, rusmiddelbruk over tid. / History: illness, earlier help and treatment, substance use over time."
* #historikk ^designation[0].language = #en
* #historikk ^designation[0].value = "History"
* #legemidler "Legemidler" "Bruk av legemidler, inkludert vanedannende legemidler og legemiddelassistert rehabilitering (LAR). / Use of medicines, including addictive medicines and opioid agonist treatment (LAR)."
* #legemidler ^designation[0].language = #en
* #legemidler ^designation[0].value = "Medicines"
* #selvmordsrisiko "Selvmordsrisiko" "Vurdering av risiko for selvmord. / Assessment of the risk of suicide."
* #selvmordsrisiko ^designation[0].language = #en
* #selvmordsrisiko ^designation[0].value = "Suicide risk"
* #overdoserisiko "Overdoserisiko" "Vurdering av risiko for overdose. / Assessment of the risk of overdose."
* #overdoserisiko ^designation[0].language = #en
* #overdoserisiko ^designation[0].value = "Overdose risk"
* #selvskadingsrisiko "Risiko for selvskading" "Vurdering av risiko for selvskading. / Assessment of the risk of self-harm."
* #selvskadingsrisiko ^designation[0].language = #en
* #selvskadingsrisiko ^designation[0].value = "Self-harm risk"
* #voldsrisiko "Voldsrisiko" "Vurdering av risiko for vold mot andre. / Assessment of the risk of violence against others."
* #voldsrisiko ^designation[0].language = #en
* #voldsrisiko ^designation[0].value = "Violence risk"
* #funksjon "Funksjon" "Funksjonsnivå i dagliglivet. / Level of functioning in daily life."
* #funksjon ^designation[0].language = #en
* #funksjon ^designation[0].value = "Function"
* #kognisjon "Kognisjon" "Kognitiv fungering, som hukommelse, konsentrasjon og forståelse. / Cognitive functioning, such as memory, concentration and understanding."
* #kognisjon ^designation[0].language = #en
* #kognisjon ^designation[0].value = "Cognition"
* #graviditet "Graviditet" "Graviditet, med betydning for rusmiddelbruk, legemidler og oppfølging. / Pregnancy, with its bearing on substance use, medicines and follow-up."
* #graviditet ^designation[0].language = #en
* #graviditet ^designation[0].value = "Pregnancy"
* #barn "Omsorg for barn" "Omsorg for barn og barn som pårørende. / Caring for children, and children as relatives."
* #barn ^designation[0].language = #en
* #barn ^designation[0].value = "Children (caring for children)"
* #somatisk-helse "Somatisk helse, tannhelse og ernæring" "Somatisk helse, inkludert tannhelse og ernæring. / Somatic health, including teeth and nutrition."
* #somatisk-helse ^designation[0].language = #en
* #somatisk-helse ^designation[0].value = "Somatic health incl. teeth and nutrition"
* #seksuell-helse-og-traumer "Seksuell helse og traumer" "Seksuell helse og erfaringer med vold, overgrep og andre traumer. / Sexual health and experiences of violence, abuse and other trauma."
* #seksuell-helse-og-traumer ^designation[0].language = #en
* #seksuell-helse-og-traumer ^designation[0].value = "Sexual health and trauma"
* #psykososial-situasjon "Psykososial situasjon" "Sosiale relasjoner, familie, ensomhet og livssituasjon. / Social relations, family, loneliness and life situation."
* #psykososial-situasjon ^designation[0].language = #en
* #psykososial-situasjon ^designation[0].value = "Psychosocial situation"
* #okonomi-arbeid-bolig "Økonomi, arbeid og bolig" "Økonomi, arbeid eller utdanning, og bosituasjon. / Economy, work or education, and housing."
* #okonomi-arbeid-bolig ^designation[0].language = #en
* #okonomi-arbeid-bolig ^designation[0].value = "Economy, work and housing"
* #aktivitet "Aktivitet" "Meningsfull aktivitet og fritid, fysisk aktivitet. / Meaningful activity and leisure, physical activity."
* #aktivitet ^designation[0].language = #en
* #aktivitet ^designation[0].value = "Activity"
* #helsekompetanse "Helsekompetanse" "Evnen til å finne, forstå, vurdere og bruke helseinformasjon. / The ability to find, understand, judge and use health information."
* #helsekompetanse ^designation[0].language = #en
* #helsekompetanse ^designation[0].value = "Health literacy"
* #digitale-ferdigheter "Digitale ferdigheter" "Evne og mulighet til å bruke digitale tjenester, som helsenorge.no og videokonsultasjon. / Ability and means to use digital services, such as helsenorge.no and video consultations."
* #digitale-ferdigheter ^designation[0].language = #en
* #digitale-ferdigheter ^designation[0].value = "Digital skills"

ValueSet: KartleggingsomradeVS
Id: kartleggingsomrade
Title: "Kartleggingsområde"
Description: "Alle kartleggingsområdene i veilederen. / All assessment domains of the guideline."
* ^status = #draft
* ^experimental = false
* include codes from system Kartleggingsomrade

CodeSystem: Alvorlighetsgrad
Id: alvorlighetsgrad
Title: "Alvorlighetsgrad"
Description: "Hvor alvorlige personens problemer er, slik kartleggingen vurderer dem; sammen med varighet gir den hovedforløp. / How serious the person's problems are, as judged by the assessment; together with the duration it gives the main pathway."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #mild "Mild" "Lette til moderate plager som i liten grad svekker funksjon. / Mild to moderate problems that impair functioning little."
* #mild ^designation[0].language = #en
* #mild ^designation[0].value = "Mild"
* #alvorlig "Alvorlig" "Alvorlige plager eller lidelser som svekker funksjon vesentlig, ofte med samtidig rusproblematikk. / Serious problems or disorders that impair functioning substantially, often with co-occurring substance use."
* #alvorlig ^designation[0].language = #en
* #alvorlig ^designation[0].value = "Serious"

ValueSet: AlvorlighetsgradVS
Id: alvorlighetsgrad
Title: "Alvorlighetsgrad"
Description: "Alle koder for alvorlighetsgrad. / All severity codes."
* ^status = #draft
* ^experimental = false
* include codes from system Alvorlighetsgrad

CodeSystem: Varighet
Id: varighet
Title: "Varighet"
Description: "Forventet varighet av personens problemer; sammen med alvorlighetsgrad gir den hovedforløp. / Expected duration of the person's problems; together with the severity it gives the main pathway."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* ^experimental = false
* #kortvarig "Kortvarig" "Problemene forventes å gå over i løpet av kort tid med riktig hjelp. / The problems are expected to pass within a short time with the right help."
* #kortvarig ^designation[0].language = #en
* #kortvarig ^designation[0].value = "Short-lived"
* #langvarig "Langvarig" "Problemene er eller forventes å bli langvarige eller tilbakevendende. / The problems are, or are expected to be, long-lasting or recurring."
* #langvarig ^designation[0].language = #en
* #langvarig ^designation[0].value = "Long-lasting"

ValueSet: VarighetVS
Id: varighet
Title: "Varighet"
Description: "Alle koder for forventet varighet. / All expected-duration codes."
* ^status = #draft
* ^experimental = false
* include codes from system Varighet

// ---------------------------------------------------------------------------------------------------------------
// The published Questionnaire: one group per domain, linkId = domain code, item.code = the domain coding.
// Sub-items are named <domain>.<question>. Risk levels use the core risk-probability codes low/moderate/high.
// ---------------------------------------------------------------------------------------------------------------

Instance: kartlegging
InstanceOf: Questionnaire
Usage: #definition
Title: "Kartlegging av hjelpebehov"
Description: "Skjema for kartlegging av hjelpebehov etter veilederen for psykisk helse- og rusarbeid. / Form for the assessment of help needs under the guideline on mental-health and substance-use work."
* url = "http://samhandling.no/fhir/Questionnaire/kartlegging"
* name = "Kartlegging"
* title = "Kartlegging av hjelpebehov"
* status = #draft
* experimental = false
* subjectType = #Patient
* publisher = "samhandling-adapter"
* description = "Kartlegging av hjelpebehov innen psykisk helse og rus, gjort sammen med personen og med utgangspunkt i spørsmålet «Hva er viktig for deg?». Hvert område i veilederen er en gruppe med koden fra kartleggingsomrade. / Assessment of help needs in mental health and substance use, made together with the person and starting from the question \"What matters to you?\". Each domain of the guideline is a group carrying its kartleggingsomrade code."
* purpose = "Gir grunnlag for vurdering av alvorlighetsgrad, varighet og hovedforløp, og for individuell plan og krise- og mestringsplan. / Basis for judging severity, duration and main pathway, and for the individual plan and the crisis-and-coping plan."

// The guideline's leading question comes first.
* item[+].linkId = "hva-er-viktig"
* item[=].text = "Hva er viktig for deg?"
* item[=].type = #text
* item[=].required = true

* item[+].linkId = "egen-forstaelse"
* item[=].code = Kartleggingsomrade#egen-forstaelse "Egen forståelse av situasjonen"
* item[=].text = "Egen forståelse av situasjonen"
* item[=].type = #group
* item[=].item[+].linkId = "egen-forstaelse.beskrivelse"
* item[=].item[=].text = "Hvordan forstår du selv situasjonen din, og hva ønsker du hjelp til?"
* item[=].item[=].type = #text

* item[+].linkId = "ressurser"
* item[=].code = Kartleggingsomrade#ressurser "Ressurser"
* item[=].text = "Ressurser"
* item[=].type = #group
* item[=].item[+].linkId = "ressurser.beskrivelse"
* item[=].item[=].text = "Beskrivelse av ressurser og mestring"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "ressurser.nettverk"
* item[=].item[=].text = "Nettverk (familie, venner, likepersoner)"
* item[=].item[=].type = #text

* item[+].linkId = "historikk"
* item[=].code = Kartleggingsomrade#historikk "Historikk"
* item[=].text = "Historikk"
* item[=].type = #group
* item[=].item[+].linkId = "historikk.beskrivelse"
* item[=].item[=].text = "Beskrivelse av sykehistorie og rusmiddelbruk"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "historikk.tidligere-hjelp"
* item[=].item[=].text = "Tidligere hjelp og behandling"
* item[=].item[=].type = #text

* item[+].linkId = "legemidler"
* item[=].code = Kartleggingsomrade#legemidler "Legemidler"
* item[=].text = "Legemidler"
* item[=].type = #group
* item[=].item[+].linkId = "legemidler.beskrivelse"
* item[=].item[=].text = "Beskrivelse av legemiddelbruk"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "legemidler.vanedannende"
* item[=].item[=].text = "Bruker vanedannende legemidler"
* item[=].item[=].type = #boolean
* item[=].item[+].linkId = "legemidler.lar"
* item[=].item[=].text = "I legemiddelassistert rehabilitering (LAR)"
* item[=].item[=].type = #boolean

* item[+].linkId = "selvmordsrisiko"
* item[=].code = Kartleggingsomrade#selvmordsrisiko "Selvmordsrisiko"
* item[=].text = "Selvmordsrisiko"
* item[=].type = #group
* item[=].item[+].linkId = "selvmordsrisiko.risikoniva"
* item[=].item[=].text = "Risikonivå"
* item[=].item[=].type = #choice
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* item[=].item[+].linkId = "selvmordsrisiko.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "overdoserisiko"
* item[=].code = Kartleggingsomrade#overdoserisiko "Overdoserisiko"
* item[=].text = "Overdoserisiko"
* item[=].type = #group
* item[=].item[+].linkId = "overdoserisiko.risikoniva"
* item[=].item[=].text = "Risikonivå"
* item[=].item[=].type = #choice
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* item[=].item[+].linkId = "overdoserisiko.nalokson"
* item[=].item[=].text = "Har nalokson nesespray"
* item[=].item[=].type = #boolean
* item[=].item[+].linkId = "overdoserisiko.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "selvskadingsrisiko"
* item[=].code = Kartleggingsomrade#selvskadingsrisiko "Risiko for selvskading"
* item[=].text = "Risiko for selvskading"
* item[=].type = #group
* item[=].item[+].linkId = "selvskadingsrisiko.risikoniva"
* item[=].item[=].text = "Risikonivå"
* item[=].item[=].type = #choice
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* item[=].item[+].linkId = "selvskadingsrisiko.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "voldsrisiko"
* item[=].code = Kartleggingsomrade#voldsrisiko "Voldsrisiko"
* item[=].text = "Voldsrisiko"
* item[=].type = #group
* item[=].item[+].linkId = "voldsrisiko.risikoniva"
* item[=].item[=].text = "Risikonivå"
* item[=].item[=].type = #choice
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* item[=].item[=].answerOption[+].valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* item[=].item[+].linkId = "voldsrisiko.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "funksjon"
* item[=].code = Kartleggingsomrade#funksjon "Funksjon"
* item[=].text = "Funksjon"
* item[=].type = #group
* item[=].item[+].linkId = "funksjon.beskrivelse"
* item[=].item[=].text = "Beskrivelse av funksjon i dagliglivet"
* item[=].item[=].type = #text

* item[+].linkId = "kognisjon"
* item[=].code = Kartleggingsomrade#kognisjon "Kognisjon"
* item[=].text = "Kognisjon"
* item[=].type = #group
* item[=].item[+].linkId = "kognisjon.beskrivelse"
* item[=].item[=].text = "Beskrivelse av kognitiv fungering"
* item[=].item[=].type = #text

* item[+].linkId = "graviditet"
* item[=].code = Kartleggingsomrade#graviditet "Graviditet"
* item[=].text = "Graviditet"
* item[=].type = #group
* item[=].item[+].linkId = "graviditet.gravid"
* item[=].item[=].text = "Er gravid"
* item[=].item[=].type = #boolean
* item[=].item[+].linkId = "graviditet.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "barn"
* item[=].code = Kartleggingsomrade#barn "Omsorg for barn"
* item[=].text = "Omsorg for barn"
* item[=].type = #group
* item[=].item[+].linkId = "barn.har-omsorg"
* item[=].item[=].text = "Har omsorg for barn under 18 år"
* item[=].item[=].type = #boolean
* item[=].item[+].linkId = "barn.antall"
* item[=].item[=].text = "Antall barn under 18 år"
* item[=].item[=].type = #integer
* item[=].item[=].enableWhen[+].question = "barn.har-omsorg"
* item[=].item[=].enableWhen[=].operator = #=
* item[=].item[=].enableWhen[=].answerBoolean = true
* item[=].item[+].linkId = "barn.beskrivelse"
* item[=].item[=].text = "Barnas situasjon og behov (barn som pårørende)"
* item[=].item[=].type = #text

* item[+].linkId = "somatisk-helse"
* item[=].code = Kartleggingsomrade#somatisk-helse "Somatisk helse, tannhelse og ernæring"
* item[=].text = "Somatisk helse, tannhelse og ernæring"
* item[=].type = #group
* item[=].item[+].linkId = "somatisk-helse.beskrivelse"
* item[=].item[=].text = "Somatisk helse"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "somatisk-helse.tannhelse"
* item[=].item[=].text = "Tannhelse"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "somatisk-helse.ernaering"
* item[=].item[=].text = "Ernæring"
* item[=].item[=].type = #text

* item[+].linkId = "seksuell-helse-og-traumer"
* item[=].code = Kartleggingsomrade#seksuell-helse-og-traumer "Seksuell helse og traumer"
* item[=].text = "Seksuell helse og traumer"
* item[=].type = #group
* item[=].item[+].linkId = "seksuell-helse-og-traumer.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "psykososial-situasjon"
* item[=].code = Kartleggingsomrade#psykososial-situasjon "Psykososial situasjon"
* item[=].text = "Psykososial situasjon"
* item[=].type = #group
* item[=].item[+].linkId = "psykososial-situasjon.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "okonomi-arbeid-bolig"
* item[=].code = Kartleggingsomrade#okonomi-arbeid-bolig "Økonomi, arbeid og bolig"
* item[=].text = "Økonomi, arbeid og bolig"
* item[=].type = #group
* item[=].item[+].linkId = "okonomi-arbeid-bolig.okonomi"
* item[=].item[=].text = "Økonomi"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "okonomi-arbeid-bolig.arbeid"
* item[=].item[=].text = "Arbeid, utdanning eller annen dagaktivitet"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "okonomi-arbeid-bolig.bolig"
* item[=].item[=].text = "Bosituasjon"
* item[=].item[=].type = #text
* item[=].item[+].linkId = "okonomi-arbeid-bolig.stabil-bolig"
* item[=].item[=].text = "Har en trygg og stabil bolig"
* item[=].item[=].type = #boolean

* item[+].linkId = "aktivitet"
* item[=].code = Kartleggingsomrade#aktivitet "Aktivitet"
* item[=].text = "Aktivitet"
* item[=].type = #group
* item[=].item[+].linkId = "aktivitet.beskrivelse"
* item[=].item[=].text = "Beskrivelse av aktivitet og fritid"
* item[=].item[=].type = #text

* item[+].linkId = "helsekompetanse"
* item[=].code = Kartleggingsomrade#helsekompetanse "Helsekompetanse"
* item[=].text = "Helsekompetanse"
* item[=].type = #group
* item[=].item[+].linkId = "helsekompetanse.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

* item[+].linkId = "digitale-ferdigheter"
* item[=].code = Kartleggingsomrade#digitale-ferdigheter "Digitale ferdigheter"
* item[=].text = "Digitale ferdigheter"
* item[=].type = #group
* item[=].item[+].linkId = "digitale-ferdigheter.bruker-helsenorge"
* item[=].item[=].text = "Kan bruke helsenorge.no og videokonsultasjon"
* item[=].item[=].type = #boolean
* item[=].item[+].linkId = "digitale-ferdigheter.beskrivelse"
* item[=].item[=].text = "Beskrivelse"
* item[=].item[=].type = #text

// ---------------------------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------------------------

Profile: KartleggingSvar
Parent: QuestionnaireResponse
Id: kartlegging-svar
Title: "Kartlegging - svar"
Description: "Svar på kartleggingsskjemaet (Questionnaire kartlegging) for én person. / Answers to the assessment form (Questionnaire kartlegging) for one person."
* ^status = #draft
* ^experimental = false
* questionnaire 1..1 MS
* questionnaire = "http://samhandling.no/fhir/Questionnaire/kartlegging" (exactly)
* questionnaire ^short = "Kartleggingsskjemaet / The assessment form"
* status MS
* subject 1..1 MS
* subject only Reference($NoPatient)
* subject ^short = "Personen som er kartlagt / The person assessed"
* authored 1..1 MS
* author 1..1 MS
* author only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* author ^short = "Helsepersonell eller virksomhet som gjorde kartleggingen / Professional or organisation that made the assessment"
* source MS
* source only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner or $NoPractitionerRole)
* source ^short = "Hvem svarene kommer fra, som regel personen selv / Who gave the answers, usually the person"
* item 1..* MS
* item.linkId MS
* item.item MS
* item.answer MS

Invariant: kartl-1
Description: "Hovedforløpet bør følge regelen alvorlighetsgrad x varighet (mild+kortvarig=1, alvorlig+langvarig=3, ellers 2); avvik skal begrunnes i summary. / The main pathway should follow the rule severity x duration (mild+short=1, serious+long=3, otherwise 2); a deviation is explained in summary."
Severity: #warning
Expression: "(finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/alvorlighetsgrad').exists() and finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/varighet').exists() and prognosisCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/hovedforlop').exists()) implies (prognosisCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/hovedforlop').code.first() = iif(finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/alvorlighetsgrad').code.first() = 'mild' and finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/varighet').code.first() = 'kortvarig', '1', iif(finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/alvorlighetsgrad').code.first() = 'alvorlig' and finding.itemCodeableConcept.coding.where(system = 'http://samhandling.no/fhir/CodeSystem/varighet').code.first() = 'langvarig', '3', '2')))"

Profile: KartleggingVurdering
Parent: ClinicalImpression
Id: kartlegging-vurdering
Title: "Kartlegging - vurdering"
Description: "Faglig vurdering etter kartlegging: alvorlighetsgrad, forventet varighet og hovedforløp. / Professional judgement after the assessment: severity, expected duration and main pathway."
* ^status = #draft
* ^experimental = false
* obeys kartl-1
* status MS
* subject MS
* subject only Reference($NoPatient)
* subject ^short = "Personen som er vurdert / The person assessed"
* date 1..1 MS
* assessor 1..1 MS
* assessor only Reference($NoPractitioner or $NoPractitionerRole)
* summary MS
* summary ^short = "Oppsummering, og begrunnelse ved avvik fra regelen for hovedforløp / Summary, and the reason when the pathway deviates from the rule"
* supportingInfo 1..* MS
* supportingInfo only Reference(KartleggingSvar or RiskAssessment or Condition or Observation or DocumentReference)
* supportingInfo ^short = "Kartleggingen (kartlegging-svar) og annet grunnlag / The assessment answers and other basis"
// Severity and expected duration are findings of the assessment. They are carried as two slices of finding,
// told apart by the code system of itemCodeableConcept (pattern discriminator; the pattern holds only the
// system), each 1..1 with a required binding. Standard elements, so any FHIR reader sees them; no extension.
* finding 2..* MS
* finding ^slicing.discriminator.type = #pattern
* finding ^slicing.discriminator.path = "itemCodeableConcept"
* finding ^slicing.rules = #open
* finding ^slicing.description = "Alvorlighetsgrad og varighet, skilt på kodesystem. / Severity and duration, told apart by code system."
* finding contains
    alvorlighetsgrad 1..1 MS and
    varighet 1..1 MS
* finding[alvorlighetsgrad] ^short = "Alvorlighetsgrad / Severity"
* finding[alvorlighetsgrad].itemCodeableConcept 1..1 MS
* finding[alvorlighetsgrad].itemCodeableConcept from AlvorlighetsgradVS (required)
* finding[alvorlighetsgrad].itemCodeableConcept ^patternCodeableConcept.coding[0].system = "http://samhandling.no/fhir/CodeSystem/alvorlighetsgrad"
* finding[alvorlighetsgrad].itemReference 0..0
* finding[alvorlighetsgrad].basis MS
* finding[varighet] ^short = "Forventet varighet / Expected duration"
* finding[varighet].itemCodeableConcept 1..1 MS
* finding[varighet].itemCodeableConcept from VarighetVS (required)
* finding[varighet].itemCodeableConcept ^patternCodeableConcept.coding[0].system = "http://samhandling.no/fhir/CodeSystem/varighet"
* finding[varighet].itemReference 0..0
* finding[varighet].basis MS
// The resulting main pathway level (rule: see CodeSystem hovedforlop and invariant kartl-1).
* prognosisCodeableConcept 1..1 MS
* prognosisCodeableConcept from HovedforlopVS (required)
* prognosisCodeableConcept ^short = "Hovedforløp (1, 2 eller 3) / Main pathway (1, 2 or 3)"
