// Examples for coordinator.fsh (Author B): the team around Ola Nordmann.

Instance: koordinatorteam-ola
InstanceOf: Koordinatorteam
Title: "Koordinatorteam for Ola Nordmann"
Description: "Koordinator i Bergen kommune og i Vestbyen DPS, behandlingsansvarlig psykolog og fastlege. / Coordinator in Bergen municipality and at Vestbyen DPS, responsible psychologist and GP."
Usage: #example
* status = #active
* category = http://loinc.org#LA28865-6 "Longitudinal care-coordination focused care team"
* name = "Samarbeidsteam rundt Ola Nordmann"
* subject = Reference(pasient-ola)
* period.start = "2026-02-01"
* managingOrganization = Reference(org-kommune)
// Coordinators (the right to a coordinator)
* participant[koordinator][0].role = SamhandlingsrolleCS#koordinator-kommune "Koordinator i kommunen"
* participant[koordinator][0].member = Reference(koordinator-kommune)
* participant[koordinator][0].onBehalfOf = Reference(org-kommune)
* participant[koordinator][0].period.start = "2026-02-01"
* participant[koordinator][1].role = SamhandlingsrolleCS#koordinator-spesialisthelsetjeneste "Koordinator i spesialisthelsetjenesten"
* participant[koordinator][1].member = Reference(behandler-dps)
* participant[koordinator][1].onBehalfOf = Reference(org-dps)
* participant[koordinator][1].period.start = "2026-02-01"
// Other roles: the same psychologist is also responsible clinician; the GP
* participant[2].role = SamhandlingsrolleCS#behandlingsansvarlig "Behandlingsansvarlig"
* participant[2].member = Reference(behandler-dps)
* participant[2].onBehalfOf = Reference(org-dps)
* participant[2].period.start = "2026-01-20"
* participant[3].role = SamhandlingsrolleCS#fastlege "Fastlege"
* participant[3].member = Reference(lege-fastlege)
* participant[3].onBehalfOf = Reference(org-legekontor)
* participant[3].period.start = "2019-05-01"
* note.text = "Koordinator i kommunen leder ansvarsgruppen; koordinator i DPS sørger for at behandlingen henger sammen med kommunens tjenester."
