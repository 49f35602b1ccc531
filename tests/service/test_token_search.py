"""Token search in R4's four forms (``code``, ``system|code``, ``|code``, ``system|``), found by fhirpy asking for
``identifier=<system>|``, which matched nothing. A patient's identifier is never searched by its system alone:
``patient:identifier=<system>|`` would name every patient."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from service_helpers import DPS

Auth = Callable[..., dict[str, str]]
pytestmark = pytest.mark.parametrize("backend", ["sqlite", "postgresql"], indirect=True)
PLANTYPE = "http://samhandling.no/fhir/CodeSystem/plantype"
FNR = "urn:oid:2.16.578.1.12.4.1.4.1"


def found(client: FlaskClient, auth: Auth, query: str) -> set[str]:
    response = client.get(f"/CarePlan?{query}", headers=auth(DPS))
    assert response.status_code == 200, response.get_json()
    return {entry["resource"]["id"] for entry in response.get_json().get("entry", [])}


def test_a_category_is_found_by_code_by_system_and_code_and_by_system_alone(shared: FlaskClient, auth: Auth) -> None:
    by_code = found(shared, auth, "category=krise-og-mestringsplan")
    assert by_code
    assert found(shared, auth, f"category={PLANTYPE}|krise-og-mestringsplan") == by_code
    assert found(shared, auth, f"category={PLANTYPE}|") >= by_code
    assert found(shared, auth, "category=urn:no-such-system|") == set()


def test_a_code_without_a_system_is_not_found_as_one_with_a_system(shared: FlaskClient, auth: Auth) -> None:
    """``|code`` asks for the code with no system: the plan's category has one, so it is no match."""
    assert found(shared, auth, "category=|krise-og-mestringsplan") == set()


def test_the_patients_identifier_system_alone_finds_nothing(shared: FlaskClient, auth: Auth) -> None:
    assert found(shared, auth, "patient:identifier=15838510075")
    assert found(shared, auth, f"patient:identifier={FNR}|") == set()
