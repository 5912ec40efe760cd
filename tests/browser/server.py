"""A real gunicorn serving the app on a free loopback port, against the test database."""
from contextlib import contextmanager

from bench.harness import gunicorn


@contextmanager
def live_server(db_url, folder, workers=2):
    """Yield the base URL; the server (and its workers) are stopped on exit, whatever happens."""
    env = {"FIELDSALES_ENV": "test", "FIELDSALES_DATABASE_URL": db_url,
           "FIELDSALES_TEST_DATABASE_URL": db_url, "FIELDSALES_ACCESS_TOKEN_TTL_S": "900",
           "FIELDSALES_PHOTO_DIR": str(folder / "photos"),
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    with gunicorn(workers=workers, extra_env=env, log_path=folder / "gunicorn.log") as (base, _):
        yield base
