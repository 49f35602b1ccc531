"""Parsing: bytes in, trees and resources out. ``xml_safe`` is the one XML entry point; ``fhir_source`` reads FHIR."""
