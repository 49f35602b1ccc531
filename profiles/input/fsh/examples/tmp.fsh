Instance: tmp-patient
InstanceOf: $NoPatient
Usage: #example
* identifier[FNR].value = "13057444850"
