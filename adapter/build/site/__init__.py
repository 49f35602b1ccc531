"""The implementation guide as a static HTML site (``samhandling profiles site -o DIR``, served at ``/ig/``).

Every page is generated from the package (profiles/resources, examples/fhir, profiles/model.yaml, sushi-config.yaml)
and the mappings (mappings/), with Jinja2 templates (``templates/``, autoescaped) and one stylesheet
(``static/style.css``); nothing is written by hand. The pages are plain HTML in one folder, linked relatively, and
work without JavaScript:

* ``index.html``: the guideline-to-FHIR model and what the guide holds;
* ``profiles.html`` and ``StructureDefinition-<id>.html`` (also ``Questionnaire-<id>.html``): per profile its
  differential and key elements, must-support, cardinalities, bindings, slices, invariants and examples;
* ``terminology.html`` and ``CodeSystem-``, ``ValueSet-``, ``ConceptMap-<id>.html``;
* ``events.html``: the message events (MessageDefinitions) and the KITH message type each travels as;
* ``mappings.html`` and ``mapping-<file>.html``: which KITH element goes to which FHIR element, both ways;
* ``errors.html``: the stable error codes.
"""

from __future__ import annotations

from adapter.build.site.writer import Page, Site, plan_site, write_site

__all__ = ["Page", "Site", "plan_site", "write_site"]
