// Aliases shared by every FSH file of the project. Add a new alias here only if no file defines it yet.

// HL7 Norway no-basis profiles
Alias: $NoPatient = http://hl7.no/fhir/StructureDefinition/no-basis-Patient
Alias: $NoPractitioner = http://hl7.no/fhir/StructureDefinition/no-basis-Practitioner
Alias: $NoPractitionerRole = http://hl7.no/fhir/StructureDefinition/no-basis-PractitionerRole
Alias: $NoOrganization = http://hl7.no/fhir/StructureDefinition/no-basis-Organization
Alias: $NoRelatedPerson = http://hl7.no/fhir/StructureDefinition/no-basis-RelatedPerson
Alias: $NoHealthcareService = http://hl7.no/fhir/StructureDefinition/no-basis-HealthcareService
Alias: $NoEndpoint = http://hl7.no/fhir/StructureDefinition/no-basis-Endpoint

// Norwegian identifier systems (see GLOSSARY / no-basis identifiers)
Alias: $FNR = urn:oid:2.16.578.1.12.4.1.4.1
Alias: $DNR = urn:oid:2.16.578.1.12.4.1.4.2
Alias: $HPR = urn:oid:2.16.578.1.12.4.1.4.4
Alias: $ENH = urn:oid:2.16.578.1.12.4.1.4.101
Alias: $HER = urn:oid:2.16.578.1.12.4.1.2

// KITH (Volven) code lists
Alias: $KITH8279 = urn:oid:2.16.578.1.12.4.1.1.8279
Alias: $KITH9034 = urn:oid:2.16.578.1.12.4.1.1.9034
Alias: $KITH7322 = urn:oid:2.16.578.1.12.4.1.1.7322
Alias: $KITH8258 = urn:oid:2.16.578.1.12.4.1.1.8258
Alias: $KITH8221 = urn:oid:2.16.578.1.12.4.1.1.8221
Alias: $KITH7309 = urn:oid:2.16.578.1.12.4.1.1.7309

// FHIR core terminology
Alias: $ResponseCode = http://hl7.org/fhir/response-code
Alias: $IssueType = http://hl7.org/fhir/issue-type
Alias: $ConsentScope = http://terminology.hl7.org/CodeSystem/consentscope
Alias: $ConsentCategory = http://terminology.hl7.org/CodeSystem/consentcategorycodes
Alias: $V3ActCode = http://terminology.hl7.org/CodeSystem/v3-ActCode
Alias: $V3RoleCode = http://terminology.hl7.org/CodeSystem/v3-RoleCode
Alias: $ProvisionType = http://hl7.org/fhir/consent-provision-type
Alias: $RequestPriority = http://hl7.org/fhir/request-priority
Alias: $TaskStatus = http://hl7.org/fhir/task-status
