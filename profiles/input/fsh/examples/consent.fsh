// Ola Nordmann's consents: to share his plans with the municipality, the DPS and his GP office, and to involve
// his sister Kari. Author A owns this file.

Instance: samtykke-ola-deling
InstanceOf: Samtykke
Title: "Samtykke til deling av planer for Ola Nordmann"
Description: "Ola samtykker til at planene hans, og det de bygger på (mål, tilstander, kartlegging, risikovurdering, henvisning), deles med Bergen kommune, Vestbyen DPS og Storgata legekontor. / Ola consents to sharing his plans, and what they rest on (goals, conditions, assessment, risk assessment, referral), with Bergen kommune, Vestbyen DPS and Storgata legekontor."
Usage: #example
* status = #active
* scope = $ConsentScope#patient-privacy "Privacy Consent"
* category[samtykketype] = Samtykketype#deling-med-virksomhet "Deling med navngitte virksomheter"
* patient = Reference(pasient-ola)
* dateTime = "2026-01-05T11:00:00+01:00"
* performer = Reference(pasient-ola)
* organization = Reference(org-kommune)
* policy.authority = "https://lovdata.no"
* policy.uri = "https://lovdata.no/lov/1999-07-02-64/§22"
* provision.type = #permit
* provision.period.start = "2026-01-05"
* provision.period.end = "2031-01-05"
* provision.actor[virksomhet][+].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[virksomhet][=].reference = Reference(org-kommune)
* provision.actor[virksomhet][+].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[virksomhet][=].reference = Reference(org-dps)
* provision.actor[virksomhet][+].role = http://terminology.hl7.org/CodeSystem/v3-ParticipationType#IRCP "information recipient"
* provision.actor[virksomhet][=].reference = Reference(org-legekontor)
* provision.action = http://terminology.hl7.org/CodeSystem/consentaction#disclose "Disclose"
* provision.purpose = http://terminology.hl7.org/CodeSystem/v3-ActReason#COC "coordination of care"
* provision.class[+] = http://hl7.org/fhir/resource-types#CarePlan "CarePlan"
* provision.class[+] = http://hl7.org/fhir/resource-types#Goal "Goal"
* provision.class[+] = http://hl7.org/fhir/resource-types#Condition "Condition"
* provision.class[+] = http://hl7.org/fhir/resource-types#CareTeam "CareTeam"
* provision.class[+] = http://hl7.org/fhir/resource-types#EpisodeOfCare "EpisodeOfCare"
* provision.class[+] = http://hl7.org/fhir/resource-types#QuestionnaireResponse "QuestionnaireResponse"
* provision.class[+] = http://hl7.org/fhir/resource-types#ClinicalImpression "ClinicalImpression"
* provision.class[+] = http://hl7.org/fhir/resource-types#RiskAssessment "RiskAssessment"
* provision.class[+] = http://hl7.org/fhir/resource-types#ServiceRequest "ServiceRequest"
* provision.class[+] = http://hl7.org/fhir/resource-types#Task "Task"
* provision.class[+] = http://hl7.org/fhir/resource-types#DocumentReference "DocumentReference"
* provision.class[+] = http://hl7.org/fhir/resource-types#RelatedPerson "RelatedPerson"
* provision.class[+] = http://hl7.org/fhir/resource-types#Consent "Consent"

Instance: samtykke-ola-parorende
InstanceOf: Samtykke
Title: "Samtykke til involvering av pårørende for Ola Nordmann"
Description: "Ola samtykker til at søsteren Kari involveres og får informasjon. / Ola consents to involving and informing his sister Kari."
Usage: #example
* status = #active
* scope = $ConsentScope#patient-privacy "Privacy Consent"
* category[samtykketype] = Samtykketype#involvering-parorende "Involvering av pårørende"
* patient = Reference(pasient-ola)
* dateTime = "2026-01-05T11:05:00+01:00"
* performer = Reference(pasient-ola)
* organization = Reference(org-kommune)
* policy.authority = "https://lovdata.no"
* policy.uri = "https://lovdata.no/lov/1999-07-02-63/§3-3"
* provision.type = #permit
* provision.period.start = "2026-01-05"
* provision.actor[parorende].role = http://terminology.hl7.org/CodeSystem/v3-RoleClass#NOK "next of kin"
* provision.actor[parorende].reference = Reference(parorende-kari)
* provision.action = http://terminology.hl7.org/CodeSystem/consentaction#access "Access"
* provision.purpose = http://terminology.hl7.org/CodeSystem/v3-ActReason#COC "coordination of care"
* provision.class[+] = http://hl7.org/fhir/resource-types#CarePlan "CarePlan"
