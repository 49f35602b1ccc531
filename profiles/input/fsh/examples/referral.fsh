// The GP's referral of Ola Nordmann to Vestbyen DPS, and the DPS's status: received, then rights assessed with
// a deadline for the start of care. Author A owns this file.

Alias: $Icpc2HenvA = urn:oid:2.16.578.1.12.4.1.1.7170

Instance: henvisning-ola
InstanceOf: Henvisning
Title: "Henvisning av Ola Nordmann til DPS"
Description: "Fastlegens henvisning av Ola Nordmann til Vestbyen DPS. / The GP's referral of Ola Nordmann to Vestbyen DPS."
Usage: #example
* status = #active
* intent = #order
* category[hovedforlop] = Hovedforlop#3 "Hovedforløp 3"
* priority = #urgent
* code.text = "Utredning og behandling i psykisk helsevern for voksne, pakkeforløp psykoselidelser"
* subject = Reference(pasient-ola)
* authoredOn = "2026-01-06T13:20:00+01:00"
* requester = Reference(lege-fastlege)
* performer = Reference(org-dps)
* reasonCode[+] = $Icpc2HenvA#P98 "Psykose IKA"
* reasonCode[=].text = "Tilbakevendende psykotiske symptomer"
* reasonCode[+] = $Icpc2HenvA#P19 "Misbruk av medikamenter/stoffer"
* reasonCode[=].text = "Periodevis bruk av heroin og cannabis"
* supportingInfo[+] = Reference(kartlegging-svar-ola)
* supportingInfo[+] = Reference(kartlegging-vurdering-ola)
* note.text = "Ola ønsker at søsteren Kari involveres, se samtykke. Kommunal koordinator er Liv Berg. Ber om vurdering av behov for FACT-team."

Instance: henvisningsstatus-ola-mottatt
InstanceOf: Henvisningsstatus
Title: "Henvisning av Ola Nordmann mottatt"
Description: "Vestbyen DPS har mottatt henvisningen. / Vestbyen DPS has received the referral."
Usage: #example
* status = #received
* businessStatus = HenvisningsstatusKode#mottatt "Mottatt"
* intent = #order
* focus = Reference(henvisning-ola)
* for = Reference(pasient-ola)
* authoredOn = "2026-01-07T08:05:00+01:00"
* lastModified = "2026-01-07T08:05:00+01:00"
* requester = Reference(lege-fastlege)
* owner = Reference(org-dps)
* note.text = "Henvisningen er mottatt og blir vurdert innen ti virkedager."

Instance: henvisningsstatus-ola-rettighetsvurdert
InstanceOf: Henvisningsstatus
Title: "Henvisning av Ola Nordmann rettighetsvurdert"
Description: "Vestbyen DPS har vurdert at Ola har rett til nødvendig helsehjelp, med frist. / Vestbyen DPS has found that Ola has the right to necessary care, with a deadline."
Usage: #example
* status = #accepted
* businessStatus = HenvisningsstatusKode#rettighetsvurdert "Rettighetsvurdert"
* intent = #order
* focus = Reference(henvisning-ola)
* for = Reference(pasient-ola)
* authoredOn = "2026-01-07T08:05:00+01:00"
* lastModified = "2026-01-14T14:40:00+01:00"
* requester = Reference(lege-fastlege)
* owner = Reference(org-dps)
* restriction.period.end = "2026-02-11"
* output[rettighetsvurdering].type = HenvisningsstatusKode#rettighetsvurdert "Rettighetsvurdert"
* output[rettighetsvurdering].valueCodeableConcept = Rettighetsvurdering#rett "Rett til nødvendig helsehjelp"
* note.text = "Rett til nødvendig helsehjelp. Første time er satt opp 20. januar 2026 med psykolog Anders Lie."
