"""PgBouncer in transaction mode (Debian's package, `make test` installs it) in front of the test
database: the app on its default driver, psycopg2, answers 480 concurrent check-ins, check-outs,
claims and reads through it without a failure; psycopg 3's server-side prepared statements break
behind a pooler without `max_prepared_statements` (1.18 has none), and `prepare_threshold=None`
(FIELDSALES_DB_PREPARE_THRESHOLD=none) is the driver setting that works there."""
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import psycopg2
import pytest
import requests
from sqlalchemy import func, select

from bench.harness import free_port, gunicorn
from fieldsales.leads.models import Lead
from fieldsales.visits.models import Visit
from tests import factories
from tests.conftest import DB_URL, run_threads
from tests.factories import leads as lf
from tests.visits.helpers import check_in_body, check_out_body

PGBOUNCER = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
THREADS, PER_THREAD = 16, 30  # 480 requests, each its own transaction (or more)
# What the app sends in `options` (statement_timeout, timezone, jit...), PgBouncer does not pass
# on: 1.18 refuses the parameter unless told to ignore it, so the settings come from the pooler's
# connect_query here (or `ALTER ROLE ... SET` on the server: README "Scaling out").
SESSION = ("SET statement_timeout = 30000; SET timezone = 'UTC'; SET jit = off; "
           "SET max_parallel_workers_per_gather = 0")

pytestmark = pytest.mark.skipif(PGBOUNCER is None,
                                reason="pgbouncer is not installed (make test installs it as root)")


@contextmanager
def pgbouncer(pool_size):
    """PgBouncer on a free loopback port, transaction pooling, `pool_size` server connections;
    yields the URL of the test database through it. Stopped on exit."""
    parts = urlsplit(DB_URL)
    port, dbname = free_port(), parts.path.lstrip("/")
    folder = Path(tempfile.mkdtemp(prefix="fieldsales-pgbouncer-"))
    (folder / "userlist.txt").write_text(f'"{parts.username}" "{parts.password}"\n')
    (folder / "pgbouncer.ini").write_text(f"""[databases]
{dbname} = host={parts.hostname} port={parts.port} dbname={dbname} connect_query='{SESSION.replace("'", "''")}'
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = scram-sha-256
auth_file = {folder}/userlist.txt
admin_users = {parts.username}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = 500
ignore_startup_parameters = options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
stats_period = 1
""")
    shutil.chown(folder, "postgres")
    for name in ("userlist.txt", "pgbouncer.ini"):
        shutil.chown(folder / name, "postgres")
    folder.chmod(0o700)
    # It refuses to run as root: -u drops to the cluster's owner.
    log = folder / "stderr.log"  # the log file too, and why it would not start
    with log.open("wb") as out:
        proc = subprocess.Popen([PGBOUNCER, "-u", "postgres", str(folder / "pgbouncer.ini")],
                                stdout=out, stderr=subprocess.STDOUT)
    url = urlunsplit(parts._replace(netloc=f"{parts.username}:{parts.password}@127.0.0.1:{port}"))
    try:
        for _ in range(100):
            try:
                psycopg2.connect(url, connect_timeout=1).close()
                break
            except psycopg2.OperationalError:
                assert proc.poll() is None, log.read_text()[-2000:]
                time.sleep(0.1)
        yield url
    finally:
        proc.send_signal(signal.SIGINT)  # immediate shutdown
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(folder, ignore_errors=True)


def _transactions(url):
    """PgBouncer's count of transactions it pooled for the test database (admin console)."""
    admin = psycopg2.connect(urlunsplit(urlsplit(url)._replace(path="/pgbouncer")))
    admin.autocommit = True
    try:
        with admin.cursor() as cur:
            cur.execute("SHOW STATS")
            columns = [c.name for c in cur.description]
            dbname = urlsplit(url).path.lstrip("/")
            return sum(dict(zip(columns, row, strict=True))["total_xact_count"]
                       for row in cur.fetchall() if row[0] == dbname)
    finally:
        admin.close()


def test_pgbouncer_is_debians_1_18_or_later():
    out = subprocess.run([PGBOUNCER, "--version"], capture_output=True, text=True, check=True)
    version = tuple(int(n) for n in out.stdout.split()[1].split(".")[:2])
    print(f"pgbouncer {out.stdout.split()[1]}")
    assert version >= (1, 18)


@pytest.mark.parametrize("driver", [
    {"FIELDSALES_DB_DRIVER": "psycopg2"},  # the default: no setting needed
    {"FIELDSALES_DB_DRIVER": "psycopg", "FIELDSALES_DB_PREPARE_THRESHOLD": "none"},
], ids=["psycopg2", "psycopg3-unprepared"])
def test_the_app_through_pgbouncer_in_transaction_mode(app, committed, tmp_path, driver):
    org = factories.org()
    team = factories.team(org)
    reps = [factories.user(org, "rep", team) for _ in range(THREADS)]
    shops = [factories.customer(org, rep, lat=31.2304, lng=121.4737) for rep in reps]
    pool = lf.pool(org, team)
    leads = [[lf.lead(org, pool) for _ in range(PER_THREAD // 4 + 1)] for _ in reps]
    tokens = [{"Authorization": "Bearer " + factories.token_for(app, rep)} for rep in reps]
    with pgbouncer(pool_size=4) as url:
        # (FIELDSALES_ENV=test reads TEST_DATABASE_URL first)
        env = {"FIELDSALES_DATABASE_URL": url, "FIELDSALES_TEST_DATABASE_URL": url, **driver}
        before = _transactions(url)
        with gunicorn(workers=2, extra_env=env, log_path=tmp_path / "gunicorn.log") as (base, _):

            def work(i):
                codes, visit, claims = [], None, iter(leads[i])
                for j in range(PER_THREAD):
                    step = j % 4
                    if step == 0:
                        r = requests.post(base + "/api/v1/visits", json=check_in_body(shops[i]),
                                          headers=tokens[i], timeout=60)
                        visit = r.json().get("id")
                    elif step == 1:
                        r = requests.post(f"{base}/api/v1/visits/{visit}/check-out",
                                          json=check_out_body(), headers=tokens[i], timeout=60)
                    elif step == 2:
                        r = requests.post(f"{base}/api/v1/leads/{next(claims).id}/claim",
                                          headers=tokens[i], timeout=60)
                    else:
                        r = requests.get(base + "/api/v1/visits", headers=tokens[i], timeout=60)
                    codes.append((step, r.status_code))
                return codes

            results = run_threads(THREADS, work)
        for _ in range(50):  # SHOW STATS is refreshed every stats_period (1 s here)
            pooled = _transactions(url) - before
            if pooled >= THREADS * PER_THREAD:
                break
            time.sleep(0.2)
    codes = Counter(code for per_thread in results for code in per_thread)
    expected = {(0, 201), (1, 200), (2, 200), (3, 200)}
    assert set(codes) == expected, codes
    assert sum(codes.values()) == THREADS * PER_THREAD
    committed.expire_all()
    assert committed.scalar(select(func.count()).where(Visit.org_id == org.id)) == \
        codes[(0, 201)]
    assert committed.scalar(select(func.count()).where(
        Lead.org_id == org.id, Lead.status == "claimed")) == codes[(2, 200)]
    assert pooled >= THREADS * PER_THREAD  # every request went through the pooler


def _run_repeatedly(url, **kwargs):
    """Two psycopg 3 connections through the pooler, one after the other, each running the same
    query past psycopg's prepare threshold (5)."""
    for _ in range(2):
        with psycopg.connect(url, autocommit=True, **kwargs) as conn:
            for n in range(8):
                assert conn.execute("SELECT %s::int + 1", (n,)).fetchone() == (n + 1,)


def test_psycopg3_prepared_statements_break_behind_pgbouncer_1_18():
    """Both connections name their first prepared statement `_pg3_0`; in transaction mode they
    share the one server connection, where the second PREPARE collides with the first (or
    a statement is run on a server connection that never saw its PREPARE)."""
    with pgbouncer(pool_size=1) as url:
        with pytest.raises(psycopg.Error) as failed:
            _run_repeatedly(url)
        assert failed.value.sqlstate in ("42P05", "26000"), failed.value  # duplicate / unknown
        _run_repeatedly(url, prepare_threshold=None)  # never prepares: works
