// Examples for crisisplan.fsh (Author B): Ola Nordmann's crisis-and-coping plan with zones and the agreement on a
// patient-controlled municipal emergency bed (brukerstyrt plass).

Instance: krise-og-mestringsplan-ola-dognplass
InstanceOf: $SamhBNoLocation
Title: "Bergen kommune, kommunal akutt døgnenhet"
Description: "Stedet der Olas brukerstyrte plass er. / The place of Ola's patient-controlled bed."
Usage: #example
* status = #active
* name = "Bergen kommune, kommunal akutt døgnenhet for psykisk helse og rus"
* mode = #instance
* telecom.system = #phone
* telecom.value = "+4755000100"
* telecom.use = #work
* address.line = "Akuttveien 5"
* address.postalCode = "5006"
* address.city = "Bergen"
* managingOrganization = Reference(org-kommune)

Instance: krise-og-mestringsplan-ola-avtale
InstanceOf: $SamhBNoDocumentReference
Title: "Avtale om brukerstyrt plass for Ola Nordmann"
Description: "Den signerte avtalen om brukerstyrt plass, vedlegg til krise- og mestringsplanen. / The signed agreement on a patient-controlled bed, attached to the crisis-and-coping plan."
Usage: #example
* status = #current
* docStatus = #final
* type = urn:oid:2.16.578.1.12.4.1.1.9602#A01-2 "Kriseplan"
* subject = Reference(pasient-ola)
* date = "2026-03-01T13:00:00+01:00"
* author[0] = Reference(org-kommune)
* author[1] = Reference(koordinator-kommune)
* custodian = Reference(org-kommune)
* description = "Avtale om brukerstyrt plass / kommunal akutt døgnplass, signert av Ola Nordmann og Bergen kommune."
* content.attachment.contentType = #text/plain
* content.attachment.language = #nb
* content.attachment.title = "Avtale om brukerstyrt plass"
* content.attachment.creation = "2026-03-01T13:00:00+01:00"
* content.attachment.data = "QXZ0YWxlIG9tIGJydWtlcnN0eXJ0IHBsYXNzLiBPbGEgTm9yZG1hbm4ga2FuIHNlbHYgbGVnZ2Ugc2VnIGlubiBww6Uga29tbXVuYWwgYWt1dHQgZMO4Z25wbGFzcyBpIEJlcmdlbiBrb21tdW5lIGkgaW5udGlsIDMgZMO4Z24gcGVyIG9wcGhvbGQsIGlubnRpbCA1IG9wcGhvbGQgcGVyIGhhbHbDpXIsIGkgcGVyaW9kZW4gMDEuMDMuMjAyNi0zMS4wOC4yMDI2LiBSaW5nIGF2ZGVsaW5nZW4gcMOlIGZvcmjDpW5kLiBWZWQgaW5ubGVnZ2Vsc2UgdmFyc2xlcyBrb29yZGluYXRvciBuZXN0ZSB2aXJrZWRhZy4gU2lnbmVydCBPbGEgTm9yZG1hbm4gb2cgQmVyZ2VuIGtvbW11bmUgMDEuMDMuMjAyNi4="

Instance: krise-og-mestringsplan-ola
InstanceOf: KriseOgMestringsplan
Title: "Krise- og mestringsplan for Ola Nordmann"
Description: "Laget sammen med Ola, søsteren Kari, kommunen og Vestbyen DPS, med soner som i Pasientens planer. / Made together with Ola, his sister Kari, the municipality and Vestbyen DPS, with zones as in Pasientens planer."
Usage: #example
* category[plantype] = PlantypeCS#krise-og-mestringsplan "Krise- og mestringsplan"
* status = #active
* intent = #plan
* title = "Min krise- og mestringsplan"
* description = "Hva Ola selv, søsteren Kari og tjenestene gjør når det går bra (grønn), når varselsignalene kommer (gul) og i krise (rød), for å unngå tvangsinnleggelse."
* subject = Reference(pasient-ola)
* period.start = "2026-03-01"
* period.end = "2026-08-31"
* created = "2026-03-01"
* author = Reference(koordinator-kommune)
* contributor[0] = Reference(pasient-ola)
* contributor[1] = Reference(parorende-kari)
* contributor[2] = Reference(behandler-dps)
* careTeam = Reference(koordinatorteam-ola)
* goal = Reference(hva-er-viktig-ola)
// Warning signs
* activity[varselsignaler][0].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[varselsignaler][0].detail.code = KriseplanDelCS#varselsignaler "Varselsignaler"
* activity[varselsignaler][0].detail.status = #not-started
* activity[varselsignaler][0].detail.description = "Jeg sover dårlig flere netter på rad, trekker meg unna Kari og holder meg inne. Jeg blir mistenksom og bruker mer rusmidler for å roe meg."
* activity[varselsignaler][1].extension[sone].valueCodeableConcept = SoneCS#rod "Rød"
* activity[varselsignaler][1].detail.code = KriseplanDelCS#varselsignaler "Varselsignaler"
* activity[varselsignaler][1].detail.status = #not-started
* activity[varselsignaler][1].detail.description = "Stemmene sier hva jeg skal gjøre, jeg slutter å ta medisinene, og jeg tror naboene er ute etter meg."
// What helps
* activity[hva-hjelper][0].extension[sone].valueCodeableConcept = SoneCS#gronn "Grønn"
* activity[hva-hjelper][0].detail.code = KriseplanDelCS#hva-hjelper "Hva hjelper"
* activity[hva-hjelper][0].detail.status = #in-progress
* activity[hva-hjelper][0].detail.description = "Faste rutiner: stå opp før klokka ni, tur med Kari på søndager, trening to ganger i uka og ta medisinene hver kveld."
* activity[hva-hjelper][0].detail.performer = Reference(pasient-ola)
* activity[hva-hjelper][1].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[hva-hjelper][1].detail.code = KriseplanDelCS#hva-hjelper "Hva hjelper"
* activity[hva-hjelper][1].detail.status = #not-started
* activity[hva-hjelper][1].detail.description = "Snakke med koordinatoren samme dag, få tettere oppfølging hjemme, høre på musikk og ta behovsmedisin slik fastlegen har avtalt med meg."
* activity[hva-hjelper][1].detail.performer[0] = Reference(pasient-ola)
* activity[hva-hjelper][1].detail.performer[1] = Reference(koordinator-kommune)
* activity[hva-hjelper][2].extension[sone].valueCodeableConcept = SoneCS#rod "Rød"
* activity[hva-hjelper][2].detail.code = KriseplanDelCS#hva-hjelper "Hva hjelper"
* activity[hva-hjelper][2].detail.status = #not-started
* activity[hva-hjelper][2].detail.description = "At noen jeg kjenner er til stede, at de snakker rolig og én om gangen, og at jeg får være i et skjermet rom."
* activity[hva-hjelper][2].detail.performer[0] = Reference(parorende-kari)
* activity[hva-hjelper][2].detail.performer[1] = Reference(org-dps)
// What to avoid
* activity[hva-bor-unngas][0].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[hva-bor-unngas][0].detail.code = KriseplanDelCS#hva-bor-unngas "Hva bør unngås"
* activity[hva-bor-unngas][0].detail.status = #not-started
* activity[hva-bor-unngas][0].detail.description = "Være alene om kveldene og oppsøke miljøer der det brukes rus. At mange snakker til meg samtidig eller at jeg blir konfrontert."
* activity[hva-bor-unngas][1].extension[sone].valueCodeableConcept = SoneCS#rod "Rød"
* activity[hva-bor-unngas][1].detail.code = KriseplanDelCS#hva-bor-unngas "Hva bør unngås"
* activity[hva-bor-unngas][1].detail.status = #not-started
* activity[hva-bor-unngas][1].detail.description = "Uniformert politi i hjemmet hvis det kan unngås, og at jeg blir holdt fast uten at noen forklarer hva som skjer."
// Whom to contact and when
* activity[kontakt][0].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[kontakt][0].detail.code = KriseplanDelCS#kontakt "Kontakt"
* activity[kontakt][0].detail.status = #not-started
* activity[kontakt][0].detail.scheduledString = "Hverdager kl. 08.00-15.30, samme dag som varselsignalene kommer"
* activity[kontakt][0].detail.performer = Reference(koordinator-kommune) "Liv Berg, koordinator, tlf. 55 00 01 01"
* activity[kontakt][0].detail.description = "Ring koordinatoren i kommunen. Hun avtaler tettere oppfølging og eventuelt bruk av brukerstyrt plass."
* activity[kontakt][1].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[kontakt][1].detail.code = KriseplanDelCS#kontakt "Kontakt"
* activity[kontakt][1].detail.status = #not-started
* activity[kontakt][1].detail.scheduledString = "Når som helst, også kveld og helg"
* activity[kontakt][1].detail.performer = Reference(parorende-kari) "Kari Nordmann, søster, tlf. 900 00 002"
* activity[kontakt][1].detail.description = "Ring søsteren min, Kari. Hun kan komme hjem til meg og hjelpe meg å ringe koordinatoren."
* activity[kontakt][2].extension[sone].valueCodeableConcept = SoneCS#rod "Rød"
* activity[kontakt][2].detail.code = KriseplanDelCS#kontakt "Kontakt"
* activity[kontakt][2].detail.status = #not-started
* activity[kontakt][2].detail.scheduledString = "Hele døgnet, ved akutt forverring"
* activity[kontakt][2].detail.performer = Reference(org-dps) "Vestbyen DPS, ambulant akutteam"
* activity[kontakt][2].detail.description = "Ring DPS sitt ambulante akutteam (dagtid og kveld) eller legevakten på 116 117. Ved fare for liv: ring 113."
// Agreement on a patient-controlled municipal emergency bed
* activity[brukerstyrt-plass].extension[sone].valueCodeableConcept = SoneCS#gul "Gul"
* activity[brukerstyrt-plass].detail.extension[avtale].valueReference = Reference(krise-og-mestringsplan-ola-avtale)
* activity[brukerstyrt-plass].detail.code = KriseplanDelCS#brukerstyrt-plass "Brukerstyrt plass"
* activity[brukerstyrt-plass].detail.status = #in-progress
* activity[brukerstyrt-plass].detail.scheduledPeriod.start = "2026-03-01"
* activity[brukerstyrt-plass].detail.scheduledPeriod.end = "2026-08-31"
* activity[brukerstyrt-plass].detail.location = Reference(krise-og-mestringsplan-ola-dognplass)
* activity[brukerstyrt-plass].detail.performer = Reference(org-kommune)
* activity[brukerstyrt-plass].detail.quantity = 3 'd' "døgn"
* activity[brukerstyrt-plass].detail.description = "Ola kan selv legge seg inn på kommunal akutt døgnplass i inntil 3 døgn per opphold og inntil 5 opphold per halvår, uten henvisning. Han ringer avdelingen før han kommer; koordinatoren varsles neste virkedag."
* note.text = "Planen er gjennomgått med Ola og Kari 01.03.2026 og evalueres etter hvert opphold på brukerstyrt plass, senest 31.08.2026."
* note.time = "2026-03-01T13:00:00+01:00"
* note.authorReference = Reference(koordinator-kommune)
