// The people and organisations every example refers to. All identifiers are synthetic test values:
// fødselsnummer with month + 80 (the Norwegian convention for synthetic persons), valid mod-11 check digits;
// organisation numbers with valid mod-11 check digits; HER-ids and HPR numbers from a test range.

Instance: pasient-ola
InstanceOf: $NoPatient
Title: "Ola Nordmann (pasient)"
Description: "Pasient i hovedforløp 3 med samtidig rusproblematikk (ROP). / Patient in main pathway 3 with co-occurring substance use."
Usage: #example
* identifier[FNR].system = $FNR
* identifier[FNR].value = "15838510075"
* name.family = "Nordmann"
* name.given = "Ola"
* gender = #male
* birthDate = "1985-03-15"
* address.line = "Storgata 1"
* address.postalCode = "5003"
* address.city = "Bergen"
* telecom.system = #phone
* telecom.value = "+4790000001"

Instance: parorende-kari
InstanceOf: $NoRelatedPerson
Title: "Kari Nordmann (pårørende)"
Description: "Ola Nordmanns søster, som han ønsker skal involveres. / Ola Nordmann's sister, whom he wants involved."
Usage: #example
* patient = Reference(pasient-ola)
* relationship = http://terminology.hl7.org/CodeSystem/v3-RoleCode#SIS "sister"
* name.family = "Nordmann"
* name.given = "Kari"
* telecom.system = #phone
* telecom.value = "+4790000002"

Instance: org-kommune
InstanceOf: $NoOrganization
Title: "Bergen kommune, psykisk helse og rus"
Description: "Kommunal tjeneste for psykisk helse og rus. / Municipal mental-health and substance-use service."
Usage: #example
* identifier[ENH].system = $ENH
* identifier[ENH].value = "974123002"
* identifier[+].system = $HER
* identifier[=].value = "8100001"
* name = "Bergen kommune, psykisk helse og rus"

Instance: org-dps
InstanceOf: $NoOrganization
Title: "Vestbyen DPS"
Description: "Distriktspsykiatrisk senter i spesialisthelsetjenesten. / District psychiatric centre in the specialist service."
Usage: #example
* identifier[ENH].system = $ENH
* identifier[ENH].value = "983456006"
* identifier[+].system = $HER
* identifier[=].value = "8100002"
* name = "Vestbyen DPS, allmennpsykiatrisk poliklinikk"
* telecom[0].system = #phone
* telecom[0].value = "+47 55 00 02 00"
* telecom[0].use = #work

Instance: org-legekontor
InstanceOf: $NoOrganization
Title: "Storgata legekontor"
Description: "Fastlegekontoret til pasienten. / The patient's GP office."
Usage: #example
* identifier[ENH].system = $ENH
* identifier[ENH].value = "912345009"
* identifier[+].system = $HER
* identifier[=].value = "8100003"
* name = "Storgata legekontor"

Instance: lege-fastlege
InstanceOf: $NoPractitioner
Title: "Fastlege Per Hansen"
Description: "Pasientens fastlege, som henviser. / The patient's GP, the referrer."
Usage: #example
* identifier[HPR].system = $HPR
* identifier[HPR].value = "9144889"
* identifier[+].system = $HER
* identifier[=].value = "8100013"
* name.family = "Hansen"
* name.given = "Per"

Instance: koordinator-kommune
InstanceOf: $NoPractitioner
Title: "Koordinator Liv Berg"
Description: "Psykiatrisk sykepleier og koordinator i kommunen. / Psychiatric nurse and coordinator in the municipality."
Usage: #example
* identifier[HPR].system = $HPR
* identifier[HPR].value = "9144890"
* name.family = "Berg"
* name.given = "Liv"

Instance: behandler-dps
InstanceOf: $NoPractitioner
Title: "Psykolog Anders Lie"
Description: "Behandlingsansvarlig psykolog ved DPS. / Responsible psychologist at the DPS."
Usage: #example
* identifier[HPR].system = $HPR
* identifier[HPR].value = "9144891"
* name.family = "Lie"
* name.given = "Anders"
