"""The terminology operations, answered offline from the definitions the validator uses: ``$expand``
(:mod:`.expand`), ``$lookup`` and ``$validate-code`` (:mod:`.codes`), ``$translate`` (:mod:`.translate`), and the
checked reading of their parameters (:mod:`.params`). Each takes the validator's
:class:`~adapter.validate.terminology.Terminology` (its expansions are shared and cached) and gives a FHIR resource,
or raises :class:`~adapter.errors.AdapterError` with an ADP-506x or ADP-508x issue. No HTTP here:
``adapter.records.conformance`` serves them.
"""
