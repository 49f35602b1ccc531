// Ola Nordmann in main pathway 3: Bergen kommune is responsible, with the municipal coordinator and the
// coordinator team (author B's koordinatorteam-ola). Author A owns this file.

Instance: hovedforlop-episode-ola
InstanceOf: HovedforlopEpisode
Title: "Hovedforløp 3 for Ola Nordmann"
Description: "Ola Nordmann i hovedforløp 3 med koordinator i Bergen kommune. / Ola Nordmann in main pathway 3 with a coordinator in Bergen kommune."
Usage: #example
* status = #active
* type[hovedforlop] = Hovedforlop#3 "Hovedforløp 3"
* patient = Reference(pasient-ola)
* managingOrganization = Reference(org-kommune)
* period.start = "2026-02-01"
* careManager = Reference(koordinator-kommune)
* team = Reference(koordinatorteam-ola)
* referralRequest = Reference(henvisning-ola)
