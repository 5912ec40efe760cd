"""Fixtures: the app on a throwaway PostGIS database built by the migrations, a per-test
outer transaction (rolled back), an API client that acts as a given user, and a small world of
orgs, teams and users to test scope rules against. Nothing here runs until a test asks for a
database fixture, so tests/unit runs without any database (`make unit`)."""
import functools
import os
import threading
from types import SimpleNamespace

import pytest


def _database_url():
    """The test database; under pytest-xdist (`make test` runs the suite on several workers)
    each worker has one of its own, made by scripts/test.sh: <name>_<worker id>. Set in the
    environment before anything reads the settings, so servers started by tests use it too."""
    url = os.environ.get("FIELDSALES_TEST_DATABASE_URL")
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url and worker:
        url = f"{url}_{worker}"
        os.environ["FIELDSALES_TEST_DATABASE_URL"] = os.environ["FIELDSALES_DATABASE_URL"] = url
    return url


DB_URL = _database_url()

from tests import factories  # noqa: E402 (after the database is chosen: it reads the settings)


@functools.cache
def get_app():
    """The one app of the test session (also needed at collection time by the fuzz tests)."""
    # Checked here, at the first database fixture, not at start-up: tests/unit needs none.
    if not DB_URL:
        pytest.exit("Run the tests with `make test` (it creates a throwaway database), or set "
                    "FIELDSALES_TEST_DATABASE_URL to a PostGIS database the tests may wreck "
                    "(`make unit` runs tests/unit without one).", returncode=4)
    from fieldsales import create_app
    from fieldsales.migrate import upgrade

    upgrade(DB_URL)  # the migrations, not create_all, build the test schema
    app = create_app({"DATABASE_URL": DB_URL, "DB_POOL_SIZE": 20, "TESTING": True})
    factories.APP = app
    return app


@pytest.fixture(scope="session")
def app():
    return get_app()


# No app context is held open during a test: Flask would reuse it for every request the test
# makes (sharing `g` between them), which production never does. Code that needs one (factories,
# direct service calls) pushes its own.

@pytest.fixture
def db(app):
    """A session whose work is rolled back after the test, even where the code commits."""
    from fieldsales.extensions import db as database

    conn = database.engine.connect()
    outer = conn.begin()
    database.session.remove()
    database.session.configure(bind=conn, join_transaction_mode="create_savepoint")
    try:
        yield database.session
    finally:
        database.session.remove()
        outer.rollback()
        conn.close()
        database.session.configure(bind=database.engine,
                                   join_transaction_mode="conditional_savepoint")


@pytest.fixture
def committed(app):
    """For tests with threads: data is really committed (each test makes its own org)."""
    from fieldsales.extensions import db as database

    yield database.session
    database.session.remove()


class ApiClient:
    """The Flask test client, speaking as one user (or anonymously)."""

    def __init__(self, app, user=None, headers=None):
        self.app = app
        self.user = user
        self.headers = dict(headers or {})
        if user is not None:
            self.headers["Authorization"] = "Bearer " + factories.token_for(app, user)

    def as_(self, user):
        return ApiClient(self.app, user)

    def request(self, method, path, json=None, headers=None, **kwargs):
        with self.app.test_client() as client:
            return client.open(path, method=method, json=json,
                               headers={**self.headers, **(headers or {})}, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)


@pytest.fixture
def api(app, db):
    return ApiClient(app)


@pytest.fixture
def world(db):
    """Org A: teams East (with sub-team North) and West, one admin, hr, a manager per top team
    and reps; org B: an admin and a rep. Everything a scope test needs."""
    a = factories.org("Org A")
    east = factories.team(a, "East")
    north = factories.team(a, "North", parent=east)
    west = factories.team(a, "West")
    b = factories.org("Org B")
    b_team = factories.team(b, "B team")
    w = SimpleNamespace(
        org=a, east=east, north=north, west=west, org_b=b, b_team=b_team,
        admin=factories.user(a, "admin"),
        hr=factories.user(a, "hr"),
        mgr_east=factories.user(a, "manager", east),
        mgr_west=factories.user(a, "manager", west),
        rep_east=factories.user(a, "rep", east),
        rep_east2=factories.user(a, "rep", east),
        rep_north=factories.user(a, "rep", north),
        rep_west=factories.user(a, "rep", west),
        admin_b=factories.user(b, "admin"),
        rep_b=factories.user(b, "rep", b_team),
    )
    return w


@pytest.fixture
def statements(app):
    """Counts the SQL statements the app sends (each is one driver round trip; BEGIN and
    COMMIT come on top): `with statements() as sent: ...; len(sent)` lists them."""
    from contextlib import contextmanager

    from sqlalchemy import event

    from fieldsales.extensions import db as database

    @contextmanager
    def counting():
        sent = []

        def before(conn, cursor, statement, parameters, context, executemany):
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
                sent.append(statement)

        with app.app_context():
            engine = database.engine
        event.listen(engine, "before_cursor_execute", before)
        try:
            yield sent
        finally:
            event.remove(engine, "before_cursor_execute", before)

    return counting


def run_threads(n, target):
    """Start n threads at once (a barrier lines them up) and return their results in order."""
    barrier = threading.Barrier(n)
    results = [None] * n
    errors = []

    def run(i):
        try:
            barrier.wait(timeout=30)
            results[i] = target(i)
        except Exception as exc:  # surfaced below, with the thread's index
            errors.append((i, exc))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    if errors:
        raise AssertionError(f"thread errors: {errors[:3]}")
    return results
