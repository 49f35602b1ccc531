"""samhandling-adapter: FHIR R4 profiles, validation and KITH translation for shared care plans.

The package is laid out as a left-to-right chain (see DESIGN.md): ``parse`` -> ``mapping`` -> ``validate`` ->
``route`` -> ``receipt``, with ``config`` and ``errors`` beside it. ``build`` holds the tooling that compiles and
publishes the profiles; ``cli`` is the ``samhandling`` command.
"""

__version__ = "0.1.0"
