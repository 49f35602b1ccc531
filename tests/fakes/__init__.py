"""Fake downstream servers for tests, on pytest-httpserver: strict like the real ones, with faults to inject.

* :mod:`fakes.nhn`: HelseID's token endpoint and NHN's EDI 2.0 Meldingstjener (fixture ``fake_nhn``).
* :mod:`fakes.issuer`: a token issuer with a rotating JWKS, and DPoP client keys (inbound tokens).
"""
