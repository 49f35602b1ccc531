// ConceptMaps between our codes and the KITH (Volven) code lists, and from the AppRec lists to FHIR core codes.
// They are data for the mapping engine (adapter/mapping) and are published with the profiles.
// Equivalence is read from source to target (R4): `wider` = the target means more than the source,
// `narrower` = the target means less (the comment says what is lost), `inexact` = they overlap only in part.

// ---------------------------------------------------------------------------------------------------------------
// Message event -> KITH message type (8279)
// ---------------------------------------------------------------------------------------------------------------

Instance: meldingshendelse-til-kith-8279
InstanceOf: ConceptMap
Usage: #definition
Title: "Meldingshendelse til KITH meldingstype (8279)"
Description: "Hvilken KITH-meldingstype en hendelse sendes som. / Which KITH message type an event travels as."
* url = "http://samhandling.no/fhir/ConceptMap/meldingshendelse-til-kith-8279"
* name = "MeldingshendelseTilKith8279"
* title = "Meldingshendelse til KITH meldingstype (8279)"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* description = "Hvilken KITH-meldingstype (MsgHead/MsgInfo/Type, kodeverk 8279) en meldingshendelse sendes som til et system uten FHIR. Planer og meldinger om koordinator, risiko, kartlegging, hovedforløp og samtykke sendes som Dialogmelding 1.1 (helsefaglig dialog) med FHIR-bundelen og en lesbar gjengivelse som vedlegg; henvisninger som Henvisning 2.0; status på henvisning som Dialogmelding 1.1 «Status på henvisning». / Which KITH message type (MsgHead/MsgInfo/Type, code list 8279) a message event travels as to a system without FHIR. Plans and notices about coordinator, risk, assessment, main pathway and consent travel as Dialogmelding 1.1 (health-professional dialog) with the FHIR bundle and a readable rendering attached; referrals as Henvisning 2.0; referral status as Dialogmelding 1.1 'Status på henvisning'."
* sourceCanonical = Canonical(MeldingshendelseVS)
* targetCanonical = Canonical(Kith8279VS)
* group[0].source = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
* group[0].target = "urn:oid:2.16.578.1.12.4.1.1.8279"

* group[0].element[0].code = #careplan-shared
* group[0].element[=].display = "Individuell plan eller behandlingsplan delt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med planen (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the plan (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #crisisplan-shared
* group[0].element[=].display = "Krise- og mestringsplan delt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med planen (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the plan (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #riskplan-shared
* group[0].element[=].display = "Voldsrisikohåndteringsplan delt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med planen (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the plan (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #referral-sent
* group[0].element[=].display = "Henvisning sendt"
* group[0].element[=].target[0].code = #HENVISNING_NYTILSTAND
* group[0].element[=].target[=].display = "Henvisning ny tilstand"
* group[0].element[=].target[=].equivalence = #narrower
* group[0].element[=].target[=].comment = "Henvisning 2.0 for en ny henvisning (HIS 1207:2018). En henvisning som videresendes fra en enhet i spesialisthelsetjenesten til en annen, sendes som HENVISNING_VIDERE. / Henvisning 2.0 for a new referral (HIS 1207:2018). A referral forwarded from one specialist unit to another travels as HENVISNING_VIDERE."
* group[0].element[=].target[+].code = #HENVISNING_VIDERE
* group[0].element[=].target[=].display = "Viderehenvisning"
* group[0].element[=].target[=].equivalence = #narrower
* group[0].element[=].target[=].comment = "Henvisning 2.0 når henvisningen videresendes til en annen enhet (HIS 1208:2018). / Henvisning 2.0 when the referral is forwarded to another unit (HIS 1208:2018)."

* group[0].element[+].code = #referral-status
* group[0].element[=].display = "Status på henvisning"
* group[0].element[=].target[0].code = #DIALOG_STATUS_HENVISNING
* group[0].element[=].target[=].display = "Status på henvisning"
* group[0].element[=].target[=].equivalence = #narrower
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 «Status på henvisning» (HIS 1206:2018) bærer resultatet av vurderingen (kodeverk 9148: innkalling, rett til helsehjelp, videresendt, avvist). Status «mottatt» har ingen egen KITH-melding: mottaket bekreftes med AppRec. / Dialogmelding 1.1 'Status på henvisning' (HIS 1206:2018) carries the result of the assessment (code list 9148: called in, right to care, forwarded, rejected). The status 'received' has no KITH message of its own: receipt is confirmed by the AppRec."

* group[0].element[+].code = #coordinator-assigned
* group[0].element[=].display = "Koordinator oppnevnt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med koordinatorteamet (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the care team (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #risk-assessed
* group[0].element[=].display = "Risikovurdering gjort"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med risikovurderingen (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the risk assessment (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #assessment-shared
* group[0].element[=].display = "Kartlegging delt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med kartleggingen (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the assessment (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #pathway-assigned
* group[0].element[=].display = "Hovedforløp fastsatt"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med forløpet (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the episode (FHIR Bundle) and a readable rendering attached."

* group[0].element[+].code = #consent-registered
* group[0].element[=].display = "Samtykke registrert"
* group[0].element[=].target[0].code = #DIALOG_HELSEFAGLIG
* group[0].element[=].target[=].display = "Helsefaglig dialog"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Dialogmelding 1.1 med samtykket (FHIR Bundle) og en lesbar gjengivelse som vedlegg. / Dialogmelding 1.1 with the consent (FHIR Bundle) and a readable rendering attached."

// ---------------------------------------------------------------------------------------------------------------
// Message event -> topic of the health-professional dialog (7322)
// ---------------------------------------------------------------------------------------------------------------

Instance: meldingshendelse-til-kith-7322
InstanceOf: ConceptMap
Usage: #definition
Title: "Meldingshendelse til tema for helsefaglig dialog (7322)"
Description: "Tema (Notat/TemaKodet) når en hendelse sendes som helsefaglig dialog. / Topic (Notat/TemaKodet) when an event travels as health-professional dialog."
* url = "http://samhandling.no/fhir/ConceptMap/meldingshendelse-til-kith-7322"
* name = "MeldingshendelseTilKith7322"
* title = "Meldingshendelse til tema for helsefaglig dialog (7322)"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* description = "Koden i Dialogmelding 1.1 Notat/TemaKodet (kodeverk 7322) når en meldingshendelse sendes som DIALOG_HELSEFAGLIG. Listen har ingen tema for planer; «Henvendelse om pasient» er det generelle temaet, og den konkrete hendelsen står i fritekstfeltet Tema. Henvisning og status på henvisning sendes ikke som helsefaglig dialog og har ikke noe tema her. / The code in Dialogmelding 1.1 Notat/TemaKodet (code list 7322) when a message event travels as DIALOG_HELSEFAGLIG. The list has no topic for plans; 'Henvendelse om pasient' is the general topic and the specific event goes into the free-text element Tema. Referral and referral status do not travel as health-professional dialog and have no topic here."
* sourceCanonical = Canonical(MeldingshendelseVS)
* targetCanonical = Canonical(Kith7322VS)
* group[0].source = "http://samhandling.no/fhir/CodeSystem/meldingshendelse"
* group[0].target = "urn:oid:2.16.578.1.12.4.1.1.7322"

* group[0].element[0].code = #careplan-shared
* group[0].element[=].display = "Individuell plan eller behandlingsplan delt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #crisisplan-shared
* group[0].element[=].display = "Krise- og mestringsplan delt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #riskplan-shared
* group[0].element[=].display = "Voldsrisikohåndteringsplan delt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #referral-sent
* group[0].element[=].display = "Henvisning sendt"
* group[0].element[=].target[0].equivalence = #unmatched
* group[0].element[=].target[=].comment = "Sendes som Henvisning 2.0, ikke som helsefaglig dialog; intet tema. / Travels as Henvisning 2.0, not as health-professional dialog; no topic."

* group[0].element[+].code = #referral-status
* group[0].element[=].display = "Status på henvisning"
* group[0].element[=].target[0].equivalence = #unmatched
* group[0].element[=].target[=].comment = "DIALOG_STATUS_HENVISNING bruker kodeverk 9148 (Status på vurdering av henvisning) i TemaKodet, ikke 7322. / DIALOG_STATUS_HENVISNING uses code list 9148 (status of the referral assessment) in TemaKodet, not 7322."

* group[0].element[+].code = #coordinator-assigned
* group[0].element[=].display = "Koordinator oppnevnt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #risk-assessed
* group[0].element[=].display = "Risikovurdering gjort"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #assessment-shared
* group[0].element[=].display = "Kartlegging delt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "Ikke 8 (Forespørsel om helseopplysninger): kartleggingen sendes, den etterspørres ikke. / Not 8 (request for health information): the assessment is sent, not requested."

* group[0].element[+].code = #pathway-assigned
* group[0].element[=].display = "Hovedforløp fastsatt"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #consent-registered
* group[0].element[=].display = "Samtykke registrert"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Henvendelse om pasient"
* group[0].element[=].target[=].equivalence = #wider

// ---------------------------------------------------------------------------------------------------------------
// Cooperation role (author B) -> KITH role to patient (9034)
// ---------------------------------------------------------------------------------------------------------------

Instance: samhandlingsrolle-til-kith-9034
InstanceOf: ConceptMap
Usage: #definition
Title: "Samhandlingsrolle til KITH helsepersonells rolle (9034)"
Description: "Samhandlingsrollen i koordinatorteamet som RoleToPatient i KITH-meldinger. / The cooperation role in the care team as RoleToPatient in KITH messages."
* url = "http://samhandling.no/fhir/ConceptMap/samhandlingsrolle-til-kith-9034"
* name = "SamhandlingsrolleTilKith9034"
* title = "Samhandlingsrolle til KITH helsepersonells rolle (9034)"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* description = "Koden i RoleToPatient (kodeverk 9034 Helsepersons roller i forhold til pasient) for en samhandlingsrolle, brukt når helsepersonell i koordinatorteamet oppgis i MsgHead eller Dialogmelding. / The RoleToPatient code (code list 9034) for a cooperation role, used when care-team professionals are given in MsgHead or Dialogmelding."
* sourceCanonical = Canonical(SamhandlingsrolleVS)
* targetCanonical = Canonical(Kith9034VS)
* group[0].source = "http://samhandling.no/fhir/CodeSystem/samhandlingsrolle"
* group[0].target = "urn:oid:2.16.578.1.12.4.1.1.9034"

* group[0].element[0].code = #koordinator-kommune
* group[0].element[=].display = "Koordinator i kommunen"
* group[0].element[=].target[0].code = #8
* group[0].element[=].target[=].display = "Koordinator Individuell plan"
* group[0].element[=].target[=].equivalence = #narrower
* group[0].element[=].target[=].comment = "KITH-koden gjelder koordinator for individuell plan; kommunens koordinator oppnevnes uavhengig av om personen har individuell plan, men dette er koden KITH-systemene bruker for kommunal koordinator. / The KITH code names the coordinator of an individual plan; the municipal coordinator is appointed whether or not the person has an individual plan, but this is the code KITH systems use for the municipal coordinator."

* group[0].element[+].code = #koordinator-spesialisthelsetjeneste
* group[0].element[=].display = "Koordinator i spesialisthelsetjenesten"
* group[0].element[=].target[0].code = #18
* group[0].element[=].target[=].display = "Koordinator (spesialisthelsetjenesteloven)"
* group[0].element[=].target[=].equivalence = #equivalent

* group[0].element[+].code = #fastlege
* group[0].element[=].display = "Fastlege"
* group[0].element[=].target[0].code = #6
* group[0].element[=].target[=].display = "Fastlege"
* group[0].element[=].target[=].equivalence = #equivalent

* group[0].element[+].code = #behandlingsansvarlig
* group[0].element[=].display = "Behandlingsansvarlig"
* group[0].element[=].target[0].code = #3
* group[0].element[=].target[=].display = "Behandlingsansvarlig lege"
* group[0].element[=].target[=].equivalence = #narrower
* group[0].element[=].target[=].comment = "KITH-koden gjelder lege; vår rolle omfatter også psykolog og andre behandlere. Den transkriberte listen har ingen kode for behandlingsansvarlig psykolog (kode 2 Pasientansvarlig psykolog står i hodemeldingsspesifikasjonen, men ikke i visningstabellen). / The KITH code is for a physician; our role also covers psychologists and other clinicians. The transcribed list has no code for a responsible psychologist (code 2 is in the MsgHead specification but not in the display table)."

* group[0].element[+].code = #primaerkontakt
* group[0].element[=].display = "Primærkontakt"
* group[0].element[=].target[0].code = #9
* group[0].element[=].target[=].display = "Primærkontakt"
* group[0].element[=].target[=].equivalence = #equivalent

* group[0].element[+].code = #act-team-medlem
* group[0].element[=].display = "Medlem av ACT/FACT-team"
* group[0].element[=].target[0].code = #21
* group[0].element[=].target[=].display = "Helsefaglig kontakt"
* group[0].element[=].target[=].equivalence = #wider
* group[0].element[=].target[=].comment = "9034 har ingen kode for ACT/FACT-team; teammedlemmet oppgis som helsefaglig kontakt. / 9034 has no code for ACT/FACT teams; the team member is given as health-professional contact."

// ---------------------------------------------------------------------------------------------------------------
// AppRec status (8258) -> FHIR response code
// ---------------------------------------------------------------------------------------------------------------

Instance: kith-8258-til-response-code
InstanceOf: ConceptMap
Usage: #definition
Title: "AppRec-status (8258) til FHIR response code"
Description: "AppRec/Status som MessageHeader.response.code. / AppRec/Status as MessageHeader.response.code."
* url = "http://samhandling.no/fhir/ConceptMap/kith-8258-til-response-code"
* name = "Kith8258TilResponseCode"
* title = "AppRec-status (8258) til FHIR response code"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* description = "Statusen i en applikasjonskvittering (AppRec/Status, kodeverk 8258) som koden i kvitteringsmeldingens MessageHeader.response.code; feilene (AppRec/Error) blir issues i OperationOutcome i response.details. AppRec har ingen status for forbigående feil (transient-error): da sendes ingen kvittering, og avsender sender på nytt. / The status of an application receipt (AppRec/Status, code list 8258) as the acknowledgement's MessageHeader.response.code; the errors (AppRec/Error) become issues of the OperationOutcome in response.details. AppRec has no status for transient errors (transient-error): then no receipt is sent and the sender retries."
* sourceCanonical = Canonical(Kith8258VS)
* targetCanonical = "http://hl7.org/fhir/ValueSet/response-code"
* group[0].source = "urn:oid:2.16.578.1.12.4.1.1.8258"
* group[0].target = "http://hl7.org/fhir/response-code"

* group[0].element[0].code = #1
* group[0].element[=].display = "OK"
* group[0].element[=].target[0].code = #ok
* group[0].element[=].target[=].display = "OK"
* group[0].element[=].target[=].equivalence = #equivalent

* group[0].element[+].code = #2
* group[0].element[=].display = "Avvist"
* group[0].element[=].target[0].code = #fatal-error
* group[0].element[=].target[=].display = "Fatal Error"
* group[0].element[=].target[=].equivalence = #equivalent
* group[0].element[=].target[=].comment = "Meldingen er avvist på grunn av innholdet; den skal ikke sendes på nytt uendret. Feilkodene (8221) står i OperationOutcome. / The message is rejected because of its content; it is not to be resent unchanged. The error codes (8221) are in the OperationOutcome."

* group[0].element[+].code = #3
* group[0].element[=].display = "OK, feil i delmelding"
* group[0].element[=].target[0].code = #ok
* group[0].element[=].target[=].display = "OK"
* group[0].element[=].target[=].equivalence = #inexact
* group[0].element[=].target[=].comment = "Meldingen er mottatt, men med feil i en del. FHIR ok betyr «behandlet uten feil», så koden alene mister feilen: den står som issue (severity error eller warning) i OperationOutcome i response.details, som da alltid skal være med. / The message is accepted, but with an error in a part. FHIR ok means 'processed without error', so the code alone loses the error: it is carried as an issue (severity error or warning) of the OperationOutcome in response.details, which must then be present."

// ---------------------------------------------------------------------------------------------------------------
// AppRec error (8221) -> FHIR issue type
// ---------------------------------------------------------------------------------------------------------------

Instance: kith-8221-til-issue-type
InstanceOf: ConceptMap
Usage: #definition
Title: "AppRec-feil (8221) til FHIR issue type"
Description: "AppRec/Error som OperationOutcome.issue.code. / AppRec/Error as OperationOutcome.issue.code."
* url = "http://samhandling.no/fhir/ConceptMap/kith-8221-til-issue-type"
* name = "Kith8221TilIssueType"
* title = "AppRec-feil (8221) til FHIR issue type"
* status = #draft
* experimental = false
* date = "2026-11-22"
* publisher = "samhandling-adapter"
* description = "Feilkoden i en applikasjonskvittering (AppRec/Error, kodeverk 8221) som OperationOutcome.issue.code; selve KITH-koden tas med i issue.details.coding, så ingenting går tapt. / The error code of an application receipt (AppRec/Error, code list 8221) as OperationOutcome.issue.code; the KITH code itself is kept in issue.details.coding, so nothing is lost."
* sourceCanonical = Canonical(Kith8221VS)
* targetCanonical = "http://hl7.org/fhir/ValueSet/issue-type"
* group[0].source = "urn:oid:2.16.578.1.12.4.1.1.8221"
* group[0].target = "http://hl7.org/fhir/issue-type"

* group[0].element[0].code = #E10
* group[0].element[=].display = "Ugyldig meldingsidentifikator"
* group[0].element[=].target[0].code = #value
* group[0].element[=].target[=].display = "Element value invalid"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E20
* group[0].element[=].display = "Lege finnes ikke"
* group[0].element[=].target[0].code = #not-found
* group[0].element[=].target[=].display = "Not Found"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E21
* group[0].element[=].display = "Mottaker finnes ikke"
* group[0].element[=].target[0].code = #not-found
* group[0].element[=].target[=].display = "Not Found"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E30
* group[0].element[=].display = "Pasientens fødselsnummer mangler"
* group[0].element[=].target[0].code = #required
* group[0].element[=].target[=].display = "Required element missing"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E31
* group[0].element[=].display = "Pasientens fødselsnummer er feil"
* group[0].element[=].target[0].code = #value
* group[0].element[=].target[=].display = "Element value invalid"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E32
* group[0].element[=].display = "Pasientens navn mangler"
* group[0].element[=].target[0].code = #required
* group[0].element[=].target[=].display = "Required element missing"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E33
* group[0].element[=].display = "Pasientens etternavn mangler"
* group[0].element[=].target[0].code = #required
* group[0].element[=].target[=].display = "Required element missing"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E34
* group[0].element[=].display = "Pasientens fornavn mangler"
* group[0].element[=].target[0].code = #required
* group[0].element[=].target[=].display = "Required element missing"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E35
* group[0].element[=].display = "Pasienten finnes ikke i mottakersystemet"
* group[0].element[=].target[0].code = #not-found
* group[0].element[=].target[=].display = "Not Found"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E36
* group[0].element[=].display = "Pasientopplysninger er utilstrekkelige"
* group[0].element[=].target[0].code = #required
* group[0].element[=].target[=].display = "Required element missing"
* group[0].element[=].target[=].equivalence = #inexact
* group[0].element[=].target[=].comment = "Opplysningene kan finnes, men ikke være nok til å identifisere pasienten; required er nærmeste type. / The information may be present but not enough to identify the patient; required is the closest type."

* group[0].element[+].code = #E53
* group[0].element[=].display = "Pasientens fødselsnummer eller D-nummer finnes ikke registrert i Folkeregisteret."
* group[0].element[=].target[0].code = #not-found
* group[0].element[=].target[=].display = "Not Found"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #E54
* group[0].element[=].display = "Pasientens fødselsnummer er ikke registrert i mottagersystemet"
* group[0].element[=].target[0].code = #not-found
* group[0].element[=].target[=].display = "Not Found"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #S01
* group[0].element[=].display = "Feil på signatur"
* group[0].element[=].target[0].code = #security
* group[0].element[=].target[=].display = "Security Problem"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #S02
* group[0].element[=].display = "Ugyldig sertifikat"
* group[0].element[=].target[0].code = #security
* group[0].element[=].target[=].display = "Security Problem"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #S03
* group[0].element[=].display = "Tilbaketrukket sertifikat"
* group[0].element[=].target[0].code = #security
* group[0].element[=].target[=].display = "Security Problem"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #S99
* group[0].element[=].display = "Annen feil på signatur eller sertifikat"
* group[0].element[=].target[0].code = #security
* group[0].element[=].target[=].display = "Security Problem"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #T01
* group[0].element[=].display = "Ikke XML / ikke 'well formed' / uleselig"
* group[0].element[=].target[0].code = #structure
* group[0].element[=].target[=].display = "Structural Issue"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #T02
* group[0].element[=].display = "XML validerer ikke"
* group[0].element[=].target[0].code = #structure
* group[0].element[=].target[=].display = "Structural Issue"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #T10
* group[0].element[=].display = "Støtter ikke meldingsformatet"
* group[0].element[=].target[0].code = #not-supported
* group[0].element[=].target[=].display = "Content not supported"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #T99
* group[0].element[=].display = "Annen feil på format"
* group[0].element[=].target[0].code = #structure
* group[0].element[=].target[=].display = "Structural Issue"
* group[0].element[=].target[=].equivalence = #wider

* group[0].element[+].code = #X99
* group[0].element[=].display = "Annen feil"
* group[0].element[=].target[0].code = #exception
* group[0].element[=].target[=].display = "Exception"
* group[0].element[=].target[=].equivalence = #inexact
* group[0].element[=].target[=].comment = "«Annen feil» kan være hva som helst; exception (uventet intern feil) er nærmeste type. / 'Other error' can be anything; exception (unexpected internal error) is the closest type."
