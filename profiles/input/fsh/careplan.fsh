// Care plans: plan types, "Hva er viktig for deg?" (Goal) and the individual plan / treatment plan (CarePlan).
// Author B. The crisis-and-coping plan is in crisisplan.fsh, the violence-risk management plan in risk.fsh and the
// care team (koordinatorteam) in coordinator.fsh.

// ---------------------------------------------------------------------------------------------------------------
// Terminology
// ---------------------------------------------------------------------------------------------------------------

CodeSystem: PlantypeCS
Id: plantype
Title: "Plantype"
Description: "Typer planer i samhandlingen om en person med psykiske helse- og/eller rusproblemer. / Kinds of plans used in the cooperation around a person with mental-health and/or substance-use problems."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #individuell-plan "Individuell plan" "Lovfestet plan for personer med behov for langvarige og koordinerte tjenester, utarbeidet sammen med personen. / Statutory plan for persons who need long-term, coordinated services, made together with the person."
* #individuell-plan ^designation[0].language = #en
* #individuell-plan ^designation[0].value = "Individual plan"
* #behandlingsplan "Behandlingsplan" "Plan for behandlingen i spesialisthelsetjenesten. / Plan for the treatment in the specialist health service."
* #behandlingsplan ^designation[0].language = #en
* #behandlingsplan ^designation[0].value = "Treatment plan"
* #krise-og-mestringsplan "Krise- og mestringsplan" "Plan for hva personen og tjenestene gjør ved plutselig forverring eller tilbakefall, for å unngå (tvangs)innleggelse. / Plan for what the person and the services do at sudden worsening or relapse, to avoid (compulsory) admission."
* #krise-og-mestringsplan ^designation[0].language = #en
* #krise-og-mestringsplan ^designation[0].value = "Crisis and coping plan"
* #voldsrisikohandteringsplan "Voldsrisikohåndteringsplan" "Plan med tiltak som reduserer voldsrisiko og tiltak som begrenser konsekvenser. / Plan with measures that reduce the risk of violence and measures that limit consequences."
* #voldsrisikohandteringsplan ^designation[0].language = #en
* #voldsrisikohandteringsplan ^designation[0].value = "Violence risk management plan"

ValueSet: PlantypeVS
Id: plantype
Title: "Plantype"
Description: "Alle koder i kodeverket Plantype. / All codes of the code system Plantype."
* ^status = #draft
* include codes from system PlantypeCS

ValueSet: IndividuellPlanKategoriVS
Id: individuell-plan-kategori
Title: "Kategori for individuell plan og behandlingsplan"
Description: "Plantypene som profilen Individuell plan dekker: individuell plan og behandlingsplan. / The plan types covered by the Individual plan profile: individual plan and treatment plan."
* ^status = #draft
* PlantypeCS#individuell-plan
* PlantypeCS#behandlingsplan

CodeSystem: MaltypeCS
Id: maltype
Title: "Måltype"
Description: "Hva slags mål et Goal uttrykker i samhandlingen. / What kind of goal a Goal expresses in the cooperation."
* ^status = #draft
* ^caseSensitive = true
* ^content = #complete
* #hva-er-viktig "Hva er viktig for deg?" "Personens eget mål, med personens egne ord, som svar på spørsmålet «Hva er viktig for deg?». / The person's own goal, in the person's own words, answering the question \"What matters to you?\"."
* #hva-er-viktig ^designation[0].language = #en
* #hva-er-viktig ^designation[0].value = "What matters to you?"

ValueSet: MaltypeVS
Id: maltype
Title: "Måltype"
Description: "Alle koder i kodeverket Måltype. / All codes of the code system Maltype."
* ^status = #draft
* include codes from system MaltypeCS

// ---------------------------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------------------------

Profile: HvaErViktig
Parent: Goal
Id: hva-er-viktig
Title: "Hva er viktig for deg?"
Description: "Personens eget mål, formulert med egne ord som svar på veilederens ledende spørsmål «Hva er viktig for deg?». Planene (individuell plan, behandlingsplan) peker på disse målene. / The person's own goal, in their own words, answering the guideline's leading question \"What matters to you?\". The plans (individual plan, treatment plan) point to these goals."
* ^status = #draft
* lifecycleStatus MS
* achievementStatus MS
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Målet er merket som personens eget mål. / The goal is marked as the person's own goal."
* category contains hva-er-viktig 1..1 MS
* category[hva-er-viktig] = MaltypeCS#hva-er-viktig
* description MS
* description.text 1..1 MS
* description.text ^short = "Målet med personens egne ord / The goal in the person's own words"
* subject only Reference($NoPatient)
* subject MS
* start[x] only date
* startDate MS
* expressedBy 1..1 MS
* expressedBy only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner)
* expressedBy ^short = "Hvem som uttrykte målet (helst personen selv) / Who expressed the goal (preferably the person)"
* target MS
* target.measure MS
* target.detail[x] MS
* target.due[x] MS
* note MS

Profile: IndividuellPlan
Parent: CarePlan
Id: individuell-plan
Title: "Individuell plan / behandlingsplan"
Description: "Individuell plan (lovfestet, for personer med behov for langvarige og koordinerte tjenester) eller behandlingsplan i spesialisthelsetjenesten, bygget rundt personens egne mål («Hva er viktig for deg?»), med tiltak, hvem som utfører dem og når. / Individual plan (statutory, for persons who need long-term coordinated services) or treatment plan in the specialist service, built around the person's own goals (\"What matters to you?\"), with activities, who performs them and when."
* ^status = #draft
* category 1..* MS
* category ^slicing.discriminator.type = #pattern
* category ^slicing.discriminator.path = "$this"
* category ^slicing.rules = #open
* category ^slicing.description = "Plantypen skilles ut ved den påkrevde bindingen til individuell-plan-kategori. / The plan type slice is told apart by its required binding to individuell-plan-kategori."
* category contains plantype 1..1 MS
* category[plantype] from IndividuellPlanKategoriVS (required)
* category[plantype] ^short = "individuell-plan | behandlingsplan"
* status MS
* intent = #plan
* intent MS
* title MS
* description MS
* subject only Reference($NoPatient)
* subject MS
* period MS
* created MS
* author only Reference($NoPractitioner or $NoPractitionerRole or $NoOrganization)
* author MS
* contributor only Reference($NoPatient or $NoRelatedPerson or $NoPractitioner or $NoPractitionerRole or $NoOrganization)
* contributor MS
* careTeam only Reference(Koordinatorteam)
* careTeam MS
* addresses MS
* goal 1..* MS
* goal only Reference(HvaErViktig)
* activity MS
* activity.detail MS
* activity.detail.code MS
* activity.detail.goal only Reference(HvaErViktig)
* activity.detail.goal MS
* activity.detail.status MS
* activity.detail.scheduled[x] MS
* activity.detail.performer only Reference($NoPractitioner or $NoOrganization or $NoRelatedPerson or $NoPatient)
* activity.detail.performer MS
* activity.detail.description MS
* note MS
