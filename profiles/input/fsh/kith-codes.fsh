// KITH (Volven) code lists that the translator reads and writes, as FHIR CodeSystems with the OID as url, so
// that KITH codes can be validated offline. Codes and displays are transcribed, unchanged, from
// /work/shared/standards/kith/codes/key_codelists.json (lists.<NNNN>.codes), which is a mechanical transcription of
// the NHN kith-visningsfiler display tables. English designations are our translations, for readers only.
// Lists where the display table is known to miss codes are marked ^content = #fragment.

CodeSystem: Kith8258
Id: kith-8258
Title: "KITH 8258 Status for mottak av melding"
Description: "Transkripsjon av KITH/Volven-kodeverk 8258 «Status for mottak av melding» (OID 2.16.578.1.12.4.1.1.8258), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Brukes i AppRec/Status. / Transcription of the KITH/Volven code list 8258 'Status for mottak av melding' (OID 2.16.578.1.12.4.1.1.8258), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Used in AppRec/Status."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.8258"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.8258"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #1 "OK"
* #1 ^designation[0].language = #en
* #1 ^designation[0].value = "OK"
* #2 "Avvist"
* #2 ^designation[0].language = #en
* #2 ^designation[0].value = "Rejected"
* #3 "OK, feil i delmelding"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "OK, error in part of the message"

ValueSet: Kith8258VS
Id: kith-8258
Title: "KITH 8258 Status for mottak av melding (verdisett)"
Description: "Alle kodene i KITH-kodeverk 8258 «Status for mottak av melding», slik de er transkribert her. / All codes of the KITH code list 8258 'Status for mottak av melding', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH8258

CodeSystem: Kith8221
Id: kith-8221
Title: "KITH 8221 Feilmeldinger for applikasjonskvittering - generelle"
Description: "Transkripsjon av KITH/Volven-kodeverk 8221 «Feilmeldinger for applikasjonskvittering – Generelle» (OID 2.16.578.1.12.4.1.1.8221), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Brukes i AppRec/Error når status er 2 (avvist) eller 3 (OK, feil i delmelding). / Transcription of the KITH/Volven code list 8221 'Feilmeldinger for applikasjonskvittering – Generelle' (OID 2.16.578.1.12.4.1.1.8221), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Used in AppRec/Error when the status is 2 (rejected) or 3 (OK, error in part of the message)."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.8221"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.8221"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #E10 "Ugyldig meldingsidentifikator"
* #E10 ^designation[0].language = #en
* #E10 ^designation[0].value = "Invalid message identifier"
* #E20 "Lege finnes ikke"
* #E20 ^designation[0].language = #en
* #E20 ^designation[0].value = "Physician does not exist"
* #E21 "Mottaker finnes ikke"
* #E21 ^designation[0].language = #en
* #E21 ^designation[0].value = "Receiver does not exist"
* #E30 "Pasientens fødselsnummer mangler"
* #E30 ^designation[0].language = #en
* #E30 ^designation[0].value = "Patient's national identity number is missing"
* #E31 "Pasientens fødselsnummer er feil"
* #E31 ^designation[0].language = #en
* #E31 ^designation[0].value = "Patient's national identity number is wrong"
* #E32 "Pasientens navn mangler"
* #E32 ^designation[0].language = #en
* #E32 ^designation[0].value = "Patient's name is missing"
* #E33 "Pasientens etternavn mangler"
* #E33 ^designation[0].language = #en
* #E33 ^designation[0].value = "Patient's family name is missing"
* #E34 "Pasientens fornavn mangler"
* #E34 ^designation[0].language = #en
* #E34 ^designation[0].value = "Patient's given name is missing"
* #E35 "Pasienten finnes ikke i mottakersystemet"
* #E35 ^designation[0].language = #en
* #E35 ^designation[0].value = "Patient does not exist in the receiving system"
* #E36 "Pasientopplysninger er utilstrekkelige"
* #E36 ^designation[0].language = #en
* #E36 ^designation[0].value = "Patient information is insufficient"
* #E53 "Pasientens fødselsnummer eller D-nummer finnes ikke registrert i Folkeregisteret."
* #E53 ^designation[0].language = #en
* #E53 ^designation[0].value = "Patient's national identity number or D number is not registered in the National Population Register"
* #E54 "Pasientens fødselsnummer er ikke registrert i mottagersystemet"
* #E54 ^designation[0].language = #en
* #E54 ^designation[0].value = "Patient's national identity number is not registered in the receiving system"
* #S01 "Feil på signatur"
* #S01 ^designation[0].language = #en
* #S01 ^designation[0].value = "Signature error"
* #S02 "Ugyldig sertifikat"
* #S02 ^designation[0].language = #en
* #S02 ^designation[0].value = "Invalid certificate"
* #S03 "Tilbaketrukket sertifikat"
* #S03 ^designation[0].language = #en
* #S03 ^designation[0].value = "Revoked certificate"
* #S99 "Annen feil på signatur eller sertifikat"
* #S99 ^designation[0].language = #en
* #S99 ^designation[0].value = "Other signature or certificate error"
* #T01 "Ikke XML / ikke 'well formed' / uleselig"
* #T01 ^designation[0].language = #en
* #T01 ^designation[0].value = "Not XML / not well-formed / unreadable"
* #T02 "XML validerer ikke"
* #T02 ^designation[0].language = #en
* #T02 ^designation[0].value = "XML does not validate"
* #T10 "Støtter ikke meldingsformatet"
* #T10 ^designation[0].language = #en
* #T10 ^designation[0].value = "Message format not supported"
* #T99 "Annen feil på format"
* #T99 ^designation[0].language = #en
* #T99 ^designation[0].value = "Other format error"
* #X99 "Annen feil"
* #X99 ^designation[0].language = #en
* #X99 ^designation[0].value = "Other error"

ValueSet: Kith8221VS
Id: kith-8221
Title: "KITH 8221 Feilmeldinger for applikasjonskvittering - generelle (verdisett)"
Description: "Alle kodene i KITH-kodeverk 8221 «Feilmeldinger for applikasjonskvittering – Generelle», slik de er transkribert her. / All codes of the KITH code list 8221 'Feilmeldinger for applikasjonskvittering – Generelle', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH8221

CodeSystem: Kith9034
Id: kith-9034
Title: "KITH 9034 Helsepersons roller i forhold til pasient"
Description: "Transkripsjon av KITH/Volven-kodeverk 9034 «Helsepersons roller i forhold til pasient» (OID 2.16.578.1.12.4.1.1.9034), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Brukes i RoleToPatient (MsgHead, Dialogmelding). Kodene 1 (Pasientansvarlig lege) og 2 (Pasientansvarlig psykolog), som står i spesifikasjonen av hodemeldingen (HIS 80601:2006), finnes ikke i visningstabellen og er derfor ikke med; innholdet er et utdrag. / Transcription of the KITH/Volven code list 9034 'Helsepersons roller i forhold til pasient' (OID 2.16.578.1.12.4.1.1.9034), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Used in RoleToPatient (MsgHead, Dialogmelding). Codes 1 and 2, listed in the MsgHead specification (HIS 80601:2006), are missing from the display table and therefore not included; the content is a fragment."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.9034"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.9034"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #fragment
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #3 "Behandlingsansvarlig lege"
* #3 ^designation[0].language = #en
* #3 ^designation[0].value = "Physician responsible for treatment"
* #4 "Journalansvarlig"
* #4 ^designation[0].language = #en
* #4 ^designation[0].value = "Person responsible for the health record"
* #5 "Informasjonsansvarlig"
* #5 ^designation[0].language = #en
* #5 ^designation[0].value = "Person responsible for information"
* #6 "Fastlege"
* #6 ^designation[0].language = #en
* #6 ^designation[0].value = "Regular general practitioner (fastlege)"
* #7 "Faglig ansvarlig for vedtak i psykisk helsevern"
* #7 ^designation[0].language = #en
* #7 ^designation[0].value = "Clinician responsible for decisions in mental health care"
* #8 "Koordinator Individuell plan"
* #8 ^designation[0].language = #en
* #8 ^designation[0].value = "Coordinator, individual plan"
* #9 "Primærkontakt"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Primary contact"
* #10 "Utskrivende lege"
* #10 ^designation[0].language = #en
* #10 ^designation[0].value = "Discharging physician"
* #11 "Utskrivende sykepleier"
* #11 ^designation[0].language = #en
* #11 ^designation[0].value = "Discharging nurse"
* #12 "Instituerende lege"
* #12 ^designation[0].language = #en
* #12 ^designation[0].value = "Instituting physician"
* #13 "Innleggende lege"
* #13 ^designation[0].language = #en
* #13 ^designation[0].value = "Admitting physician"
* #14 "Ansvarlig jordmor"
* #14 ^designation[0].language = #en
* #14 ^designation[0].value = "Responsible midwife"
* #15 "Vikar for fastlege"
* #15 ^designation[0].language = #en
* #15 ^designation[0].value = "Locum for the regular general practitioner"
* #16 "Turnuslege"
* #16 ^designation[0].language = #en
* #16 ^designation[0].value = "Intern physician"
* #17 "Forløpskoordinator kreft"
* #17 ^designation[0].language = #en
* #17 ^designation[0].value = "Cancer pathway coordinator"
* #18 "Koordinator (spesialisthelsetjenesteloven)"
* #18 ^designation[0].language = #en
* #18 ^designation[0].value = "Coordinator (Specialist Health Services Act)"
* #19 "Kontaktlege"
* #19 ^designation[0].language = #en
* #19 ^designation[0].value = "Contact physician"
* #20 "Kontaktpsykolog"
* #20 ^designation[0].language = #en
* #20 ^designation[0].value = "Contact psychologist"
* #21 "Helsefaglig kontakt"
* #21 ^designation[0].language = #en
* #21 ^designation[0].value = "Health professional contact"
* #22 "Kontakt i primærhelseteam"
* #22 ^designation[0].language = #en
* #22 ^designation[0].value = "Contact in primary health care team"
* #23 "Ønsket behandler"
* #23 ^designation[0].language = #en
* #23 ^designation[0].value = "Preferred clinician"
* #24 "Kontakt hos mottaker"
* #24 ^designation[0].language = #en
* #24 ^designation[0].value = "Contact at the receiver"

ValueSet: Kith9034VS
Id: kith-9034
Title: "KITH 9034 Helsepersons roller i forhold til pasient (verdisett)"
Description: "Alle kodene i KITH-kodeverk 9034 «Helsepersons roller i forhold til pasient», slik de er transkribert her. / All codes of the KITH code list 9034 'Helsepersons roller i forhold til pasient', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH9034

CodeSystem: Kith7322
Id: kith-7322
Title: "KITH 7322 Tema for helsefaglig dialog"
Description: "Transkripsjon av KITH/Volven-kodeverk 7322 «Tema for helsefaglig dialog» (OID 2.16.578.1.12.4.1.1.7322), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Brukes i Dialogmelding 1.1 Notat/TemaKodet for helsefaglig dialog (DIALOG_HELSEFAGLIG). / Transcription of the KITH/Volven code list 7322 'Tema for helsefaglig dialog' (OID 2.16.578.1.12.4.1.1.7322), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Used in Dialogmelding 1.1 Notat/TemaKodet for health-professional dialog (DIALOG_HELSEFAGLIG)."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.7322"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.7322"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #6 "Henvendelse om pasient"
* #6 ^designation[0].language = #en
* #6 ^designation[0].value = "Enquiry about a patient"
* #7 "Tilbakemelding på mottak av utskrivningsklar pasient"
* #7 ^designation[0].language = #en
* #7 ^designation[0].value = "Response on receipt of a patient ready for discharge"
* #8 "Forespørsel om helseopplysninger"
* #8 ^designation[0].language = #en
* #8 ^designation[0].value = "Request for health information"
* #9 "Forespørsel om legemiddelopplysninger"
* #9 ^designation[0].language = #en
* #9 ^designation[0].value = "Request for medication information"

ValueSet: Kith7322VS
Id: kith-7322
Title: "KITH 7322 Tema for helsefaglig dialog (verdisett)"
Description: "Alle kodene i KITH-kodeverk 7322 «Tema for helsefaglig dialog», slik de er transkribert her. / All codes of the KITH code list 7322 'Tema for helsefaglig dialog', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH7322

CodeSystem: Kith7309
Id: kith-7309
Title: "KITH 7309 Tjenestetype"
Description: "Transkripsjon av KITH/Volven-kodeverk 7309 «Tjenestetype» (OID 2.16.578.1.12.4.1.1.7309), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Angir status for dokumentet (N ny, M endring, C kansellering) i henvisning, epikrise og PLO; A og H skal ikke brukes i disse standardene (HISD 1154:2018). / Transcription of the KITH/Volven code list 7309 'Tjenestetype' (OID 2.16.578.1.12.4.1.1.7309), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Gives the status of the document (N new, M change, C cancellation) in referral, discharge summary and PLO; A and H shall not be used in those standards (HISD 1154:2018)."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.7309"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.7309"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #complete
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #A "Tillegg"
* #A ^designation[0].language = #en
* #A ^designation[0].value = "Addition"
* #C "Kansellering"
* #C ^designation[0].language = #en
* #C ^designation[0].value = "Cancellation"
* #H "Historikk"
* #H ^designation[0].language = #en
* #H ^designation[0].value = "History"
* #M "Endring"
* #M ^designation[0].language = #en
* #M ^designation[0].value = "Change"
* #N "Ny"
* #N ^designation[0].language = #en
* #N ^designation[0].value = "New"

ValueSet: Kith7309VS
Id: kith-7309
Title: "KITH 7309 Tjenestetype (verdisett)"
Description: "Alle kodene i KITH-kodeverk 7309 «Tjenestetype», slik de er transkribert her. / All codes of the KITH code list 7309 'Tjenestetype', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH7309

CodeSystem: Kith8279
Id: kith-8279
Title: "KITH 8279 Meldingens funksjon"
Description: "Transkripsjon av KITH/Volven-kodeverk 8279 «Meldingens funksjon» (OID 2.16.578.1.12.4.1.1.8279), kilde: visningstabellene i NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) slik de er samlet i standardmappen, for validering uten nett. Volven er autoritativ kilde. Brukes i MsgHead/MsgInfo/Type og AppRec/OriginalMsgId/MsgType. Visningstabellen mangler eldre koder som står i spesifikasjonen av hodemeldingen (f.eks. RESEPT, POLK); innholdet er derfor et utdrag. / Transcription of the KITH/Volven code list 8279 'Meldingens funksjon' (OID 2.16.578.1.12.4.1.1.8279), source: the display tables of NHN kith-visningsfiler (felleskomponenter/kodeverk.xsl) as collected in the standards folder, for offline validation. Volven is the authoritative source. Used in MsgHead/MsgInfo/Type and AppRec/OriginalMsgId/MsgType. The display table lacks older codes listed in the MsgHead specification (e.g. RESEPT, POLK); the content is therefore a fragment."
* ^url = "urn:oid:2.16.578.1.12.4.1.1.8279"
* ^identifier.system = "urn:ietf:rfc:3986"
* ^identifier.value = "urn:oid:2.16.578.1.12.4.1.1.8279"
* ^status = #draft
* ^experimental = false
* ^caseSensitive = true
* ^content = #fragment
* ^copyright = "Kodeverket forvaltes nasjonalt og publiseres på Volven (volven.no). / The code list is maintained nationally and published on Volven (volven.no)."
* #ADM_KOMM_KJERNEJOURNAL "Administrativ kommunikasjon med kjernejournal"
* #AMQP_SOAP_FAULT "AMQP SOAP Fault"
* #APM "Audiopedagogoppgjørsmelding"
* #APOK "Apotek - oppgjørsmelding"
* #APPREC "Applikasjonskvittering"
* #BEKREFT_REKVISISJON "Bekreftelse på rekvirert tjeneste"
* #BIVIRKNING "Melding om bivirkning"
* #BOM "Behandlingsreiser i utlandet oppgjørsmelding"
* #CANCER_BR "Meldeskjema brystkreft"
* #CANCER_NS "Meldeskjema non - solide svulster"
* #CANCER_S "Meldeskjema solide svulster"
* #DIALOG "EPJhode - dialog"
* #DIALOG_AVVIK "Tilbakemelding om feil i mottatt melding"
* #DIALOG_FORESPORSEL "Forespørsel"
* #DIALOG_FORSIKRING "Dialog forsikring"
* #DIALOG_HELSEFAGLIG "Helsefaglig dialog"
* #DIALOG_INNBYGGER_AVTALEUTSENDING "Dialog med innbygger – avtaleutsending"
* #DIALOG_INNBYGGER_BEHANDLEROVERSIKT "Benyttes til prosess for å hente behandler"
* #DIALOG_INNBYGGER_DIGITALBRUKER "Dialog med innbygger - digital bruker"
* #DIALOG_INNBYGGER_EKONSULTASJON "Dialog med innbygger - eKonsultasjon"
* #DIALOG_INNBYGGER_EKONTAKT "Dialog med innbygger - eKontakt"
* #DIALOG_INNBYGGER_FINN_DOKUMENTER "Dialog med innbygger - finn dokument"
* #DIALOG_INNBYGGER_HELSEPERSONELL "Dialog mellom innbygger og helsepersonell"
* #DIALOG_INNBYGGER_HELSEREGISTER "Dialog mellom innbygger og helseregister"
* #DIALOG_INNBYGGER_HENT_DOKUMENTER "Dialog med innbygger - hent dokument"
* #DIALOG_INNBYGGER_HL7_DOKUMENTNOTIFIKASJON "Dialog med innbygger - dokumentnotifikasjon"
* #DIALOG_INNBYGGER_HREG_INNSYN_BRUK "Dialog med innbygger - innsyn bruk"
* #DIALOG_INNBYGGER_HREG_INNSYN_HELSEOPPLYSNINGER "Dialog med innbygger - innsyn helseopplysninger"
* #DIALOG_INNBYGGER_HREG_INNSYN_UTLEVERING "Dialog med innbygger - innsyn utlevering"
* #DIALOG_INNBYGGER_HREG_MELDE_FEIL "Dialog med innbygger - melde feil i helseopplysninger"
* #DIALOG_INNBYGGER_HREG_OPPFORINGER "Dialog med innbygger - informasjon om oppføring"
* #DIALOG_INNBYGGER_HREG_SLETTING_ELLER_SPERRING "Dialog med innbygger - Sletting eller sperring"
* #DIALOG_INNBYGGER_JOURNAL "Forespørsel fra innbygger til helsepersonell om innsyn i journal"
* #DIALOG_INNBYGGER_KOORDINATOR "Dialog mellom innbygger og koordinator"
* #DIALOG_INNBYGGER_MELDINGSFORMIDLING "Melding eller varsel til innbygger"
* #DIALOG_INNBYGGER_RESEPTFORNYELSE "Dialog med innbygger - reseptfornyelse"
* #DIALOG_INNBYGGER_SAMTYKKE "Benyttes for helseaktør som sender en samtykkeforespørsel til innbygger via helsenorge.no"
* #DIALOG_INNBYGGER_TEST "Dialog med innbygger - test"
* #DIALOG_INNBYGGER_TIMEONSKE "Dialog med innbygger - timeønske"
* #DIALOG_INNBYGGER_TIMER "Dialog med innbygger om timer"
* #DIALOG_INNBYGGER_TIMERESERVASJON "Dialog med innbygger - timereservasjon"
* #DIALOG_INNBYGGER_TJENESTEOVERSIKT "Dialog med innbygger - tjenesteoversikt"
* #DIALOG_NOTAT "Notat"
* #DIALOG_OVERFORING_JOURNAL "Overføring av journal"
* #DIALOG_STATUS_HENVISNING "Status på henvisning"
* #DIALOG_SVAR "Svar på forespørsel"
* #DIALOG_TIL_ARKIVERING "Til arkivering i pasientens journal"
* #EBREV "Elektronisk brev"
* #EbrevAbonnementStatus "Status om abonnement"
* #EbrevForesporsel "Forespørsel om elektronisk brev"
* #EbrevSamhandlerAdresser "Informasjon om samhandlers adresser"
* #EgenandelForesporsel "Forespørsel om egenandel"
* #EgenandelForesporselV2 "Forespørsel om egenandel"
* #EgenandelMengdeForesporsel "Mengdeforespørsel om egenandel"
* #EgenandelMengdeForesporselV2 "Mengdeforespørsel om egenandel"
* #EgenandelMengdeSvar "Svar på mengdeforespørsel om egenandel"
* #EgenandelMengdeSvarV2 "Svar på mengdeforespørsel om egenandel"
* #EgenandelSvar "Svar på forespørsel om egenandel"
* #EgenandelSvarV2 "Svar på forespørsel om egenandel"
* #EMOKAM "Avslutningsmelding"
* #EMOKASK "Automatisk saksbehandlerkvittering"
* #EMOKBM "Basismelding"
* #EMOKDI "MeldeordningDialog"
* #EMOKE "Ettersporring"
* #EMOKKT "Kunnskapstilbakemelding"
* #EMOKLM "Laringsmelding"
* #EMOKM "MeldeordningPrimarmelding"
* #EMOKMVA "MVAvslutningsmelding"
* #EMOKPM "Pafyllingsmelding"
* #EMOKSV "MeldeordningSvar"
* #EMOKTM "MeldeordningTakkForMelding"
* #EPIKRISE "Epikrise"
* #EPJ-EKSTRAKT "Kommunikasjon av EPJ-innhold"
* #ERM1 "Resept"
* #ERM10 "Utleveringsrapport reseptbanken"
* #ERM12 "Søknadssvar - Individuell søknad om refusjon til HELFO"
* #ERM14 "Søknad til Legemiddelverket"
* #ERM15 "Søknadssvar fra Legemiddelverket"
* #ERM18 "Oppgjørskrav"
* #ERM2 "Individuell søknad om refusjon til HELFO"
* #ERM20 "Notifiseringsmelding"
* #ERM21 "Ekspederingsanmodning"
* #ERM22 "Oppgjørsresultat"
* #ERM23 "Utbetaling"
* #ERM241 "Samtykkeregistrering"
* #ERM242 "Svar samtykke"
* #ERM243 "Flytting av samtykker"
* #ERM244 "Endringer av samtykke i RF"
* #ERM245 "Informasjon om flytting av samtykker"
* #ERM251 "Varer i bruk"
* #ERM252 "Varer i bruk"
* #ERM253 "Varer i bruk"
* #ERM261 "Oppslag i fastlegeregister"
* #ERM262 "Svar fra fastlegeregister"
* #ERM271 "Registrering av multidoseansvarlig"
* #ERM272 "Svar på registrering av multidoseansvarlig"
* #ERM273 "Registrering av multidoseansvarlig gruppe"
* #ERM274 "Svar på registrering av multidoseansvarlig gruppe"
* #ERM28 "Endring av multidoseansvarlig lege"
* #ERM3 "Grunnlag for søknad Legemiddelverket"
* #ERM30 "FEST-meldingen"
* #ERM41 "Forespørsel om referansenummere"
* #ERM42 "Referansenummer"
* #ERM5 "Tilbakekalling av resept"
* #ERM52 "Kvittering på tilbakekalt resept"
* #ERM6 "Utleveringsrapport rekvirent"
* #ERM7 "Slettet resept i RF"
* #ERM8 "Utleveringsrapport fastlege"
* #ERM81 "Utleveringsrapport kjernejournal"
* #ERM91 "Forespørsel om tilgjengelige resepter på pasient (utleverer)"
* #ERM911 "Forespørsel om varer i bruk"
* #ERM912 "Nedlasting av varer i bruk"
* #ERM92 "Reseptliste (utleverer)"
* #ERM921 "Hent endrede multidosepasienter"
* #ERM922 "Endrede multidosepasienter"
* #ERM93 "Forespørsel om nedlasting av resept"
* #ERM94 "Nedlasting av resept"
* #ERM95 "Forespørsel om tilgjengelige resepter på pasient (rekvirent)"
* #ERM96 "Reseptliste (rekvirent)"
* #ERM97 "Forespørsel om utleveringer på resept"
* #ERM98 "Utleveringer på resept"
* #ERM9NA1 "Forespørsel om reseptliste fra nettkunde"
* #ERM9NA2 "Reseptliste nettkunde"
* #ERM9NA3 "Forespørsel om utvidet informasjon på resept fra nettkunde"
* #ERM9NA4 "Utvidet informasjon om resept nettkunde"
* #ERMV "Eresept verify"
* #EVIUH "En vei inn - Uønsket hendelse"
* #FastlegeForesporsel "Forespørsel om pasientens fastlege"
* #FastlegeSvar "Svar på forespørsel om pasientens fastlege"
* #FBV "Fritt behandlingsvalg oppgjørsmelding"
* #FODSELS_EPIKRISE "Fødselsepikrise"
* #FOM "Fysioterapeutoppgjørsmelding"
* #FRAVARSMELDING "Fraværsmelding"
* #HELSEOPPL_SOKNAD "Helseopplysninger"
* #HELSEOPPLYSNINGER_LEGE "Helseopplysninger til lege"
* #HENDELSEREQUEST "Hendelse"
* #HENDELSERESPONSE "Hendelsessvar"
* #HENVISNING "Henvisning"
* #HENVISNING_BUP "Henvisning til BUP"
* #HENVISNING_NYTILSTAND "Henvisning ny tilstand"
* #HENVISNING_REHAB "Henvisning til rehabiliteringsinstitusjon"
* #HENVISNING_VIDERE "Viderehenvisning"
* #HODE_FOLGEBREV "Hodemeldingen benyttet som følgebrev"
* #HOM "Helsestasjonoppgjørsmelding"
* #INNLEGGELSESRAPPORT "Innleggelsesrapport"
* #INNRAPPORTERING_TREKK "Innrapportering av trekk til NAV"
* #INNRAPPORTERING_TREKK_RETUR "Innrapportering av trekk til NAV retur"
* #IPLOS_TILBAKEMELDING "Tilbakemelding ved IPLOS-rapportering"
* #KODEVERKREQUEST "Kodeverk"
* #KODEVERKRESPONSE "Kodeverkssvar"
* #KOM "Kiropraktoroppgjørsmelding"
* #KONSULTASJON "Konsultasjon hos lege"
* #KPR_HST "KPR Innrapportering av data fra helsestasjon og skolehelsetjeneste"
* #KPR_IPL "KPR Innrapportering av data for individbasert pleie- og omsorgsstatistikk"
* #LEGEERKL "Legeerklæring ved arbeidsuførhet"
* #LEGEMIDDELHANDTERING "Legemiddelhåndtering"
* #LGM "Logopedoppgjørsmelding"
* #LOG_AVMELDING "Avmelding av utskrivningsklar pasient"
* #LOG_DOD "Orientering om dødsfall"
* #LOG_INNLAGT "Melding om innlagt pasient"
* #LOG_UTSKREVET "Melding om utskrevet pasient"
* #LOG_UTSKRIVNINGSKLAR "Melding om utskrivningsklar pasient"
* #LOM "Legeoppgjørsmelding"
* #LROM "Laboratorie- og røntgenoppgjørsmelding"
* #MEDISINSKE_OPPLYSNINGER "Medisinske opplysninger"
* #NOTIFIKASJON_INNBYGGER_HENVISNING "Notifikasjon til innbygger om henvisning"
* #NOTIFIKASJON_INNBYGGER_TIME "Notifikasjon til innbygger om time"
* #NPR_AMK "NPR Prehospital melding fra AMK-sentraler"
* #NPR_ARK "NPR Videresending til Norsk helsearkiv"
* #NPR_AVT "NPR Innrapportering av data fra avtalespesialister"
* #NPR_ERR "NPR Den ordinære tilbakemeldingen inkludert feilmeldinger"
* #NPR_HKR "NPR Videresending til Hjerte og karregisteret"
* #NPR_IDE "NPR Innrapportering av data for identifikasjon av person"
* #NPR_KJERNEMELDING "NPR Kjernemelding"
* #NPR_KPP "NPR Innrapportering av data om kostnad per pasient (KPP)"
* #NPR_KRE "NPR Videresending til Kreftregisteret"
* #NPR_KRG "NPR Melding til Kreftregisteret"
* #NPR_ORD "NPR Den vanlige NPR-meldingen (kombinasjon av flere sektorer)"
* #NPR_PAK "NPR Innrapportering av hendelser i forløp"
* #NPR_PID "NPR Personidentifikasjon"
* #NPR_PRE "NPR Innrapportering av data fra Prehospitale tjenester/Ambulanse"
* #NPR_PSKADE "NPR Personskade"
* #NPR_PSKADE_ARBEID "NPR Personskade arbeidsulykke"
* #NPR_PSKADE_PRODUKT "NPR Personskade produktrelatert"
* #NPR_PSKADE_TRAFIKK "NPR Personskade trafikkrelatert"
* #NPR_RAD "NPR Innrapportering av data fra bildediagnostikk, intervensjon og nukleærmedisin"
* #NPR_SBS "NPR Innrapportering av data om situasjonen ved behandlingsstart for ruspasienter"
* #NPR_SKA "NPR Innrapportering av data om Personskade. Felles minimum datasett (FMDS)"
* #NPR_STR "NPR Innrapportering av data fra stråleterapi"
* #NPR_TSB "NPR Tverrfaglig spesialisert behandling"
* #NPR_VAL "NPR tilbakemelding på teknisk validering mot XML-skjema"
* #NPR_VTK "NPR Innrapportering av vedtak etter psykisk helsevernloven (EPJ-standard)"
* #OOM "Ortoptistoppgjørsmelding"
* #ORIENTERING_TJENESTETILBUD "Orientering om tjenestetilbud"
* #Pasientliste "Pasientliste"
* #PasientlisteAbonnementStatus "Status på pasientliste-abonnement"
* #PasientlisteForesporsel "Forespørsel om pasientliste"
* #PasientlisteStartAbonnement "Start av pasientliste-abonnement"
* #PasientlisteStoppAbonnement "Stopp av pasientliste-abonnement"
* #PASIENTLOGISTIKK "Pasientlogistikk"
* #PASIENTREISE "Melding om pasientreise"
* #PATIENT_FROM "Melding fra pasient"
* #PATIENT_TO "Melding til pasient"
* #PERSONVERN_INNBYGGER_RESERVASJON "Personvern innstilling innbygger - reservasjon"
* #PERSONVERN_INNBYGGER_SAMTYKKE "Personvern innstilling innbygger - samtykke"
* #PERSONVERN_INNBYGGER_TILGANGSBEGRENSNING "Personvern innstilling innbygger - tilgangsbegrensning"
* #PJM "Privat jordmoroppgjørsmelding"
* #POM "Poliklinisk oppgjørsmelding"
* #PROM "Pasientreiseoppgjørsmelding"
* #PSOM "Psykologoppgjørsmelding"
* #REQ_CYT "Rekvisisjon-Cytologi"
* #REQ_HIST "Rekvisisjon-Histologi"
* #REQ_KKL "Rekvisisjon-KKL"
* #REQ_LAB "Rekvisisjon-Laboratoriemedisin"
* #REQ_MBIO "Rekvisisjon-Mikrobiologi"
* #REQ_RTG "Rekvisisjon-Radiologi"
* #ROM "Rehabiliteringsoppgjørsmelding"
* #SOKREQUEST "Søk"
* #SOKRESPONSE "Søkesvar"
* #STATUS_REKVISISJON "Status på rekvirert tjeneste"
* #SVAR_CYT "Svarrapport-Cytologi"
* #SVAR_HIST "Svarrapport-Histologi"
* #SVAR_KKL "Svarrapport-KKL"
* #SVAR_LAB "Svarrapport-Laboratoriemedisin"
* #SVAR_MBIO "Svarrapport-Mikrobiologi"
* #SVAR_RTG "Svarrapport-Radiologi"
* #SYKMELD "Medisinsk vurdering av arbeidsmulighet ved sykdom, sykmelding"
* #TILBAKEMELD "Tilbakemelding på henvisning"
* #TOM "Tannlegeoppgjørsmelding"
* #TPM "Tannpleieroppgjørsmelding"
* #TVERRFAGLIG_EPIKRISE "Tverrfaglig epikrise"
* #UTSKRIVNINGSRAPPORT "Utskrivningsrapport"
* #VEDTAKSKJEMA_TVANG "Vedtak om helsehjelp til person uten samtykkekompetanse som motsetter seg helsehjelpen"

ValueSet: Kith8279VS
Id: kith-8279
Title: "KITH 8279 Meldingens funksjon (verdisett)"
Description: "Alle kodene i KITH-kodeverk 8279 «Meldingens funksjon», slik de er transkribert her. / All codes of the KITH code list 8279 'Meldingens funksjon', as transcribed here."
* ^status = #draft
* ^experimental = false
* include codes from system $KITH8279
