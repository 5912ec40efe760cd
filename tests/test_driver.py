"""The database driver: psycopg2 by default, psycopg 3 on FIELDSALES_DB_DRIVER=psycopg (make test
runs this file in both passes), the driver-specific helpers on both, and a dropped connection
replaced on error rather than pinged before every checkout."""
import os
import subprocess
import sys

import psycopg
import psycopg2
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.pool import NullPool

from config.settings import DRIVERS, sqlalchemy_url
from fieldsales.db import copy_in, violated
from tests import factories
from tests.conftest import DB_URL, ApiClient

RAW = {"psycopg2": psycopg2.connect, "psycopg": psycopg.connect}


def test_the_app_engine_uses_the_driver_this_run_names(app):
    from fieldsales.extensions import db

    expected = os.environ.get("FIELDSALES_DB_DRIVER") or "psycopg2"
    print(f"driver: {expected}")
    assert db.engine.dialect.driver == expected
    with db.engine.connect() as conn:
        module = type(conn.connection.driver_connection).__module__
    assert module.split(".")[0] == expected


def test_an_unknown_driver_is_a_clear_startup_error():
    env = {**os.environ, "FIELDSALES_DB_DRIVER": "pg8000", "FIELDSALES_DATABASE_URL": DB_URL}
    run = subprocess.run([sys.executable, "-c", "import wsgi"], env=env, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode != 0
    assert "FIELDSALES_DB_DRIVER must be one of ['psycopg', 'psycopg2'], not 'pg8000'" \
        in run.stderr


def test_sqlalchemy_url_names_the_driver():
    url = "postgresql://u:p@127.0.0.1:5432/db"
    assert sqlalchemy_url(url, "psycopg2") == "postgresql+psycopg2://u:p@127.0.0.1:5432/db"
    assert sqlalchemy_url(url, "psycopg") == "postgresql+psycopg://u:p@127.0.0.1:5432/db"
    assert sqlalchemy_url("postgres://u@h/db", "psycopg2") == "postgresql+psycopg2://u@h/db"


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_violated_reads_sqlstate_and_constraint_on_both_drivers(driver):
    engine = create_engine(sqlalchemy_url(DB_URL, driver), poolclass=NullPool)
    with engine.connect() as conn:
        conn.execute(text("CREATE TEMP TABLE t (k int CONSTRAINT t_k_key UNIQUE,"
                          " n int CONSTRAINT t_n_check CHECK (n > 0))"))
        conn.execute(text("INSERT INTO t VALUES (1, 1)"))
        with pytest.raises(IntegrityError) as duplicate, conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (1, 2)"))
        with pytest.raises(IntegrityError) as check, conn.begin_nested():
            conn.execute(text("INSERT INTO t VALUES (2, 0)"))
    engine.dispose()
    assert violated(duplicate.value, "23505")
    assert violated(duplicate.value, "23505", "t_k_key")
    assert not violated(duplicate.value, "23505", "t_n_check")
    assert not violated(duplicate.value, "23514")
    assert violated(check.value, "23514", "t_n_check")
    assert not violated(check.value, "23505")
    assert not violated(ValueError("not a database error"), "23505")


# Every character COPY's text format or an array literal treats specially, and some that are
# merely unusual; each row comes back exactly as sent.
HOSTILE = [
    [1, "plain", 1.5, ["a", "b"]],
    [2, "tab\there\nnew line\r\\back\\slash \\N \\t", -0.25,
     ["comma,inside", "brace{}", 'quote"d', "back\\slash", " spaced ", "tab\tin", "NULL"]],
    [3, None, None, []],
    [4, "", 0.0, [""]],
    [5, "ünï 文字 😀 {x}", 31.2304, ["\\N", "line\nbreak"]],
]


@pytest.mark.parametrize("driver", sorted(DRIVERS))
def test_copy_in_streams_rows_unchanged_on_both_drivers(driver):
    # Enough rows to cross psycopg2's 8 KiB read size many times.
    rows = [[n * 10 + line, *rest] for n in range(2000) for line, *rest in HOSTILE]
    conn = RAW[driver](DB_URL)
    try:
        with conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE c (line int, t text, f float8, tags text[])")
            copy_in(cur, "COPY c FROM STDIN", iter(rows))
            cur.execute("SELECT line, t, f, tags FROM c ORDER BY line")
            back = [list(row) for row in cur.fetchall()]
    finally:
        conn.close()
    assert back == rows


def test_a_dropped_connection_fails_one_request_and_the_next_reconnects(app, committed):
    """No pre-ping on checkout: the request that meets a connection the server dropped answers
    503 database_unavailable, and the pool is replaced for the next one."""
    org = factories.org()
    client = ApiClient(app, factories.user(org, "admin"))
    assert client.get("/api/v1/customers").status_code == 200
    committed.remove()
    with psycopg2.connect(DB_URL, application_name="driver-test") as admin, \
            admin.cursor() as cur:
        cur.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND application_name = 'fieldsales'")
        assert cur.fetchone()[0] >= 1
    admin.close()
    failed = client.get("/api/v1/customers")
    assert failed.status_code == 503, failed.json
    assert failed.json["error"] == "database_unavailable"
    assert failed.headers["Retry-After"] == "5"
    assert client.get("/api/v1/customers").status_code == 200
