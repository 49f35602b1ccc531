// Aliases shared by every FSH file of the project.
Alias: $NoPatient = http://hl7.no/fhir/StructureDefinition/no-basis-Patient
