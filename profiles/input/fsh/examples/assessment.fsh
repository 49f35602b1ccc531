// Ola Nordmann's assessment (kartlegging) in Bergen kommune, and the GP's judgement: serious + long-lasting
// problems (psychosis and substance use, ROP) -> main pathway 3. Author A owns this file.

Instance: kartlegging-svar-ola
InstanceOf: KartleggingSvar
Title: "Kartlegging av Ola Nordmann"
Description: "Kartlegging av hjelpebehov gjort av koordinator i kommunen sammen med Ola. / Assessment of help needs made by the municipal coordinator together with Ola."
Usage: #example
* questionnaire = "http://samhandling.no/fhir/Questionnaire/kartlegging"
* status = #completed
* subject = Reference(pasient-ola)
* authored = "2026-01-05T10:30:00+01:00"
* author = Reference(koordinator-kommune)
* source = Reference(pasient-ola)

* item[+].linkId = "hva-er-viktig"
* item[=].text = "Hva er viktig for deg?"
* item[=].answer.valueString = "Å ha et sted å bo og å komme i arbeid. Og at søsteren min Kari er med."

* item[+].linkId = "egen-forstaelse"
* item[=].text = "Egen forståelse av situasjonen"
* item[=].item[+].linkId = "egen-forstaelse.beskrivelse"
* item[=].item[=].answer.valueString = "Ola opplever at han blir mistenksom og hører stemmer når han bruker heroin og sover lite. Han ønsker hjelp til å få kontroll på rusen og til å få en fast bolig."

* item[+].linkId = "ressurser"
* item[=].text = "Ressurser"
* item[=].item[+].linkId = "ressurser.beskrivelse"
* item[=].item[=].answer.valueString = "Praktisk anlagt, liker å reparere sykler. Har tidligere klart seg godt i perioder uten rus."
* item[=].item[+].linkId = "ressurser.nettverk"
* item[=].item[=].answer.valueString = "Søsteren Kari er en viktig støtte. Lite kontakt med foreldre. Deltar av og til på brukerstyrt treffsted."

* item[+].linkId = "historikk"
* item[=].text = "Historikk"
* item[=].item[+].linkId = "historikk.beskrivelse"
* item[=].item[=].answer.valueString = "Cannabis fra tenårene, opioider (heroin) periodevis siden 2016. Psykotiske episoder siden 2019. Én ikke-dødelig overdose i 2023."
* item[=].item[+].linkId = "historikk.tidligere-hjelp"
* item[=].item[=].answer.valueString = "To innleggelser i psykisk helsevern (2019 og 2024), avbrutt poliklinisk oppfølging ved DPS i 2024. Har ikke vært i LAR."

* item[+].linkId = "legemidler"
* item[=].text = "Legemidler"
* item[=].item[+].linkId = "legemidler.beskrivelse"
* item[=].item[=].answer.valueString = "Har fått forskrevet antipsykotisk legemiddel, men tar det uregelmessig."
* item[=].item[+].linkId = "legemidler.vanedannende"
* item[=].item[=].answer.valueBoolean = false
* item[=].item[+].linkId = "legemidler.lar"
* item[=].item[=].answer.valueBoolean = false

* item[+].linkId = "selvmordsrisiko"
* item[=].text = "Selvmordsrisiko"
* item[=].item[+].linkId = "selvmordsrisiko.risikoniva"
* item[=].item[=].answer.valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[+].linkId = "selvmordsrisiko.beskrivelse"
* item[=].item[=].answer.valueString = "Ingen tidligere selvmordsforsøk, avkrefter aktuelle selvmordstanker."

* item[+].linkId = "overdoserisiko"
* item[=].text = "Overdoserisiko"
* item[=].item[+].linkId = "overdoserisiko.risikoniva"
* item[=].item[=].answer.valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#high "High likelihood"
* item[=].item[+].linkId = "overdoserisiko.nalokson"
* item[=].item[=].answer.valueBoolean = false
* item[=].item[+].linkId = "overdoserisiko.beskrivelse"
* item[=].item[=].answer.valueString = "Bruker heroin periodevis, ofte alene, og blander med benzodiazepiner. Tilbudt nalokson nesespray og opplæring."

* item[+].linkId = "selvskadingsrisiko"
* item[=].text = "Risiko for selvskading"
* item[=].item[+].linkId = "selvskadingsrisiko.risikoniva"
* item[=].item[=].answer.valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#low "Low likelihood"
* item[=].item[+].linkId = "selvskadingsrisiko.beskrivelse"
* item[=].item[=].answer.valueString = "Ingen kjent selvskading."

* item[+].linkId = "voldsrisiko"
* item[=].text = "Voldsrisiko"
* item[=].item[+].linkId = "voldsrisiko.risikoniva"
* item[=].item[=].answer.valueCoding = http://terminology.hl7.org/CodeSystem/risk-probability#moderate "Moderate likelihood"
* item[=].item[+].linkId = "voldsrisiko.beskrivelse"
* item[=].item[=].answer.valueString = "Truet ansatte i ruspåvirket og psykotisk tilstand i 2024. Bør vurderes videre med V-RISK-10 i spesialisthelsetjenesten."

* item[+].linkId = "funksjon"
* item[=].text = "Funksjon"
* item[=].item[+].linkId = "funksjon.beskrivelse"
* item[=].item[=].answer.valueString = "Klarer personlig hygiene, men trenger hjelp til struktur i hverdagen, innkjøp og å holde avtaler."

* item[+].linkId = "somatisk-helse"
* item[=].text = "Somatisk helse, tannhelse og ernæring"
* item[=].item[+].linkId = "somatisk-helse.beskrivelse"
* item[=].item[=].answer.valueString = "Røyker 20 sigaretter daglig. Ingen kjente somatiske sykdommer."
* item[=].item[+].linkId = "somatisk-helse.tannhelse"
* item[=].item[=].answer.valueString = "Flere hull og smerter; har ikke vært hos tannlege på flere år."
* item[=].item[+].linkId = "somatisk-helse.ernaering"
* item[=].item[=].answer.valueString = "Uregelmessige måltider og vekttap siste halvår."

* item[+].linkId = "okonomi-arbeid-bolig"
* item[=].text = "Økonomi, arbeid og bolig"
* item[=].item[+].linkId = "okonomi-arbeid-bolig.okonomi"
* item[=].item[=].answer.valueString = "Arbeidsavklaringspenger; har gjeld og ønsker hjelp fra NAV til å lage budsjett."
* item[=].item[+].linkId = "okonomi-arbeid-bolig.arbeid"
* item[=].item[=].answer.valueString = "Ikke i arbeid. Ønsker arbeidstrening i sykkelverksted."
* item[=].item[+].linkId = "okonomi-arbeid-bolig.bolig"
* item[=].item[=].answer.valueString = "Bor midlertidig hos en venn."
* item[=].item[+].linkId = "okonomi-arbeid-bolig.stabil-bolig"
* item[=].item[=].answer.valueBoolean = false

* item[+].linkId = "digitale-ferdigheter"
* item[=].text = "Digitale ferdigheter"
* item[=].item[+].linkId = "digitale-ferdigheter.bruker-helsenorge"
* item[=].item[=].answer.valueBoolean = true
* item[=].item[+].linkId = "digitale-ferdigheter.beskrivelse"
* item[=].item[=].answer.valueString = "Bruker smarttelefon og kan logge inn på helsenorge.no."

Instance: kartlegging-vurdering-ola
InstanceOf: KartleggingVurdering
Title: "Vurdering etter kartlegging av Ola Nordmann"
Description: "Fastlegens vurdering: alvorlige og langvarige problemer, hovedforløp 3. / The GP's judgement: serious and long-lasting problems, main pathway 3."
Usage: #example
* status = #completed
* subject = Reference(pasient-ola)
* date = "2026-01-06T09:00:00+01:00"
* assessor = Reference(lege-fastlege)
* summary = "Gjentatte psykotiske episoder og samtidig bruk av opioider og cannabis (ROP), høy overdoserisiko, ustabil bosituasjon og uregelmessig legemiddelbruk. Behov for tjenester fra både kommunen og spesialisthelsetjenesten over tid, med koordinator og individuell plan."
* supportingInfo = Reference(kartlegging-svar-ola)
* finding[alvorlighetsgrad].itemCodeableConcept = Alvorlighetsgrad#alvorlig "Alvorlig"
* finding[alvorlighetsgrad].basis = "Psykotiske symptomer, rusmiddelbruk og vesentlig svekket funksjon."
* finding[varighet].itemCodeableConcept = Varighet#langvarig "Langvarig"
* finding[varighet].basis = "Rusproblemer siden 2016 og psykotiske episoder siden 2019, med tilbakefall."
* prognosisCodeableConcept = Hovedforlop#3 "Hovedforløp 3"
