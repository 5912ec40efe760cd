"""Contract fuzzing: schemathesis drives every operation in /openapi.json with generated
requests (valid and invalid) as a logged-in admin and as a rep, and checks that nothing is a
server error and every response matches the documented status codes, content types and
schemas."""
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_schema_conformance, status_code_conformance)

from tests import factories
from tests.conftest import get_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture(scope="session")
def fuzz_users(app):
    """A committed org for the fuzzer to write into (it keeps what it makes)."""
    from fieldsales.extensions import db

    org = factories.org("Fuzz org")
    team = factories.team(org, "Fuzz team")
    admin = factories.user(org, "admin")
    rep = factories.user(org, "rep", team)
    factories.customer(org, rep, lat=31.23, lng=121.47)
    db.session.remove()
    return {"admin": factories.token_for(app, admin), "rep": factories.token_for(app, rep)}


# Loaded at collection time (schemathesis' lazy fixture loader does not work with pytest 9).
schema = schemathesis.openapi.from_wsgi("/openapi.json", get_app())


FUZZ = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


def _call(case, token):
    # Logout ends the session the fuzzer is using; it is covered by tests/auth.
    if case.path == "/api/v1/auth/logout":
        return
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


@schema.parametrize()
@FUZZ
def test_api_contract_as_admin(case, fuzz_users):
    _call(case, fuzz_users["admin"])


@schema.parametrize()
@FUZZ
def test_api_contract_as_rep(case, fuzz_users):
    _call(case, fuzz_users["rep"])
