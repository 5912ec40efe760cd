"""FIELDSALES_READ_DATABASE_URL on a real streaming replica: `scripts/localdb.sh replica` copies
the test cluster with `pg_basebackup -R` and starts it as a hot standby on loopback. With its
replay paused, a check-in written through the API is in the write's own answer and in a read of
the primary (GET /visits/{id}), but not on the map, the attendance rows, the CSV export or the
evidence bundle, which read the replica; once replay resumes, they all show it."""
import csv
import glob
import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import requests

from bench.harness import free_port, gunicorn
from tests import factories
from tests.conftest import DB_URL
from tests.factories.reports import today
from tests.visits.helpers import check_in_body

ROOT = Path(__file__).resolve().parents[2]
# The cluster is shared (other databases write to it too): the replica replays all of it.
REPLAY_WAIT_S = 300

pytestmark = [
    pytest.mark.skipif(not os.environ.get("FIELDSALES_LOCAL_CLUSTER"),
                       reason="copies the project's own cluster (make test's); an external "
                              "PostGIS is not ours to pg_basebackup"),
    pytest.mark.skipif(not glob.glob("/usr/lib/postgresql/*/bin/pg_basebackup"),
                       reason="pg_basebackup is not installed"),
]


@pytest.fixture
def replica():
    """A hot standby of the test cluster: (its URL for the test database, a superuser
    connection to it over its own socket). Stopped and removed afterwards."""
    folder = tempfile.mkdtemp(prefix="fieldsales-replica-")
    port = free_port()
    started = time.monotonic()
    try:
        made = subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "replica", folder,
                               str(port)], capture_output=True, text=True, timeout=900)
        log = Path(folder, "replica.log")
        assert made.returncode == 0, (made.stderr[-2000:],
                                      log.read_text()[-2000:] if log.exists() else "")
        print(f"replica: pg_basebackup + start took {time.monotonic() - started:.1f} s")
        admin = psycopg2.connect(host=folder, port=port, user="postgres", dbname="postgres")
        admin.autocommit = True
        parts = urlsplit(DB_URL)
        url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit(":", 1)[0] + f":{port}"))
        try:
            yield url, admin
        finally:
            admin.close()
    finally:
        subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "stop-replica", folder],
                       capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def _replayed(admin, committed):
    """Wait until the replica has replayed everything the primary has written so far."""
    target = committed.connection().exec_driver_sql("SELECT pg_current_wal_lsn()").scalar()
    committed.rollback()
    deadline = time.monotonic() + REPLAY_WAIT_S
    with admin.cursor() as cur:
        while time.monotonic() < deadline:
            cur.execute("SELECT pg_last_wal_replay_lsn(), pg_last_wal_replay_lsn() >= %s::pg_lsn",
                        (target,))
            at, done = cur.fetchone()
            if done:
                return
            time.sleep(0.1)
    raise AssertionError(f"the replica replayed up to {at}, not {target}, in {REPLAY_WAIT_S} s")


def _paused(admin):
    with admin.cursor() as cur:
        cur.execute("SELECT pg_wal_replay_pause()")
        for _ in range(600):
            cur.execute("SELECT pg_get_wal_replay_pause_state()")
            if cur.fetchone()[0] == "paused":
                return
            time.sleep(0.1)
    raise AssertionError("replay did not pause")


def _reads(base, headers, rep, day):
    """What each replica-served read shows of the rep's check-ins of `day` (visit ids)."""
    def get(path, **params):
        r = requests.get(base + path, params=params, headers=headers, timeout=30)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        return r

    when = {"from": day.isoformat(), "to": day.isoformat(), "user_id": str(rep.id)}
    geo = get("/api/v1/maps/visits", **when).json()
    route = get("/api/v1/maps/routes", user_id=str(rep.id), date=day.isoformat()).json()
    clusters = get("/api/v1/maps/clusters", zoom=12, **when).json()
    rows = get("/api/v1/attendance", **when).json()
    exported = list(csv.DictReader(io.StringIO(get("/api/v1/attendance.csv", **when)
                                               .content.decode("utf-8-sig"))))
    bundle = get("/api/v1/attendance/evidence", user_id=str(rep.id), date=day.isoformat()).json()
    return {
        "map": sorted(f["properties"]["visit_id"] for f in geo["features"]),
        "route": sorted(f["properties"]["visit_id"] for f in route["features"]
                        if f["geometry"] and f["geometry"]["type"] == "Point"),
        "clusters": sum(f["properties"]["count"] for f in clusters["features"]),
        "attendance": [row["visits"] for row in rows],
        "csv": [int(row["visits"]) for row in exported],
        "evidence": [v["id"] for v in bundle["visits"]],
    }


def test_map_and_hr_reads_are_served_by_the_replica(app, committed, replica, tmp_path):
    url, admin = replica
    org = factories.org()
    team = factories.team(org)
    manager = factories.user(org, "manager", team)
    rep = factories.user(org, "rep", team)
    shop = factories.customer(org, rep, lat=31.2304, lng=121.4737)
    as_rep = {"Authorization": "Bearer " + factories.token_for(app, rep)}
    as_manager = {"Authorization": "Bearer " + factories.token_for(app, manager)}
    day = today()
    # (FIELDSALES_ENV=test reads TEST_DATABASE_URL first)
    env = {"FIELDSALES_DATABASE_URL": DB_URL, "FIELDSALES_TEST_DATABASE_URL": DB_URL,
           "FIELDSALES_READ_DATABASE_URL": url}
    with gunicorn(workers=2, extra_env=env, log_path=tmp_path / "gunicorn.log") as (base, _):
        _replayed(admin, committed)
        nothing = {"map": [], "route": [], "clusters": 0, "attendance": [0], "csv": [0],
                   "evidence": []}
        assert _reads(base, as_manager, rep, day) == nothing

        _paused(admin)
        r = requests.post(base + "/api/v1/visits", json=check_in_body(shop), headers=as_rep,
                          timeout=30)
        assert r.status_code == 201, r.text
        visit_id = r.json()["id"]  # the write's own answer has it
        primary = requests.get(f"{base}/api/v1/visits/{visit_id}", headers=as_manager, timeout=30)
        assert primary.status_code == 200 and primary.json()["id"] == visit_id
        assert _reads(base, as_manager, rep, day) == nothing  # the replica has not replayed it

        with admin.cursor() as cur:
            cur.execute("SELECT pg_wal_replay_resume()")
        _replayed(admin, committed)
        assert _reads(base, as_manager, rep, day) == {
            "map": [visit_id], "route": [visit_id], "clusters": 1, "attendance": [1],
            "csv": [1], "evidence": [visit_id]}
