// Extensions of the KITH translation (adapter/mapping): what lets a KITH message travel through FHIR and back
// without loss. A KITH element that has no FHIR element is carried verbatim (kith-residue) on the resource made from
// the nearest enclosing element; a value that FHIR writes differently (a local time given an offset, a code
// translated one way) keeps its KITH text (kith-original). See mappings/unmapped.yaml for what travels as residue.

Extension: KithResidue
Id: kith-residue
Title: "KITH-innhold uten FHIR-element"
Description: "Et element, en attributt eller en tekst fra KITH-meldingen som ikke har noe FHIR-element, overført uendret med sin plass, slik at meldingen kan gjenskapes uten tap. / An element, attribute or text of the KITH message that has no FHIR element, carried verbatim with its place, so that the message can be rebuilt without loss."
Context: DomainResource
* ^status = #draft
* extension contains path 1..1 and value 0..1
* extension[path] ^short = "Plassen i KITH-meldingen, relativt til elementet ressursen er laget av / The place in the KITH message, relative to the element the resource was made from"
* extension[path].value[x] only string
* extension[value] ^short = "Attributtverdien, teksten eller XML-elementet; mangler for en tom verdi / The attribute value, the text or the XML element; absent for an empty value"
* extension[value].value[x] only string

Extension: KithOriginal
Id: kith-original
Title: "KITH-tekst for en verdi"
Description: "Verdien slik den stod i KITH-meldingen, når FHIR-verdien er skrevet annerledes (lokal tid gitt tidssone, kode oversatt ved et kodekart som ikke er én-til-én). / The value as written in the KITH message, when the FHIR value is written differently (a local time given its offset, a code translated by a map that is not one-to-one)."
Context: Element
* ^status = #draft
* value[x] 1..1
* value[x] only string
