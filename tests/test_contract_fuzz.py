"""Contract fuzzing: schemathesis drives every operation in /openapi.json with generated
requests (valid and invalid) as a logged-in admin and as a rep, through the real gunicorn
(gunicorn.conf.py) over HTTP, and checks that nothing is a server error and every response
matches the documented status codes, content types and schemas.

Each run draws a new seed, printed at the start ("contract fuzz: seed N") and in every failure;
`FIELDSALES_FUZZ_SEED=N make test T=tests/test_contract_fuzz.py` replays that run exactly.
`FIELDSALES_FUZZ_EXAMPLES` sets the examples per operation (default below)."""
import os
import secrets

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error,
                                 response_schema_conformance, status_code_conformance)

from tests import factories
from tests.browser.server import live_server
from tests.conftest import DB_URL, get_app

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SEED = int(os.environ.get("FIELDSALES_FUZZ_SEED") or secrets.randbelow(2**32))
# Enough to reach the classes a derandomized 15 never did (page past 2^63, dates at year 1,
# NUL in a query) while the file stays near 3 minutes on 2 shared cores.
EXAMPLES = int(os.environ.get("FIELDSALES_FUZZ_EXAMPLES", 30))


@pytest.fixture(scope="module")
def fuzz_server(app, tmp_path_factory, pytestconfig):
    """A committed org for the fuzzer to write into (it keeps what it makes), and the real
    gunicorn serving the app on a loopback port."""
    from fieldsales.extensions import db

    reporter = pytestconfig.pluginmanager.get_plugin("terminalreporter")
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():  # shown even though output is captured
            reporter.write_line(f"contract fuzz: seed {SEED}, {EXAMPLES} examples per "
                                f"operation (replay: FIELDSALES_FUZZ_SEED={SEED})")
    org = factories.org("Fuzz org")
    team = factories.team(org, "Fuzz team")
    admin = factories.user(org, "admin")
    rep = factories.user(org, "rep", team)
    factories.customer(org, rep, lat=31.23, lng=121.47)
    tokens = {"admin": factories.token_for(app, admin), "rep": factories.token_for(app, rep)}
    db.session.remove()
    with live_server(DB_URL, tmp_path_factory.mktemp("fuzz"), workers=2) as base:
        yield base, tokens


# The spec is read at collection time (schemathesis' lazy fixture loader does not work with
# pytest 9); the requests go over HTTP to the server above.
schema = schemathesis.openapi.from_dict(get_app().test_client().get("/openapi.json").json)
# Each operation draws from its own seed derived from this one (one shared seed would make every
# operation repeat the same choices, and miss the same classes everywhere).
schema.config.seed = SEED

FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=list(HealthCheck))


def _call(case, server, role):
    # Logout ends the session the fuzzer is using; it is covered by tests/auth.
    if case.path == "/api/v1/auth/logout":
        return
    base, tokens = server
    try:
        case.call_and_validate(base_url=base, checks=CHECKS, timeout=60,
                               headers={"Authorization": f"Bearer {tokens[role]}"})
    except Exception as exc:
        exc.add_note(f"Replay this run: FIELDSALES_FUZZ_SEED={SEED} "
                     "make test T=tests/test_contract_fuzz.py")
        raise


@schema.parametrize()
@FUZZ
def test_api_contract_as_admin(case, fuzz_server):
    _call(case, fuzz_server, "admin")


@schema.parametrize()
@FUZZ
def test_api_contract_as_rep(case, fuzz_server):
    _call(case, fuzz_server, "rep")
