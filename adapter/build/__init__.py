"""Building the published artefacts: the profiles with SUSHI, the FHIR package, and fetching the core package. The
only code besides adapter.transport that runs subprocesses or reaches the network, and only when asked to."""
