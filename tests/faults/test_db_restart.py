"""PostgreSQL restarts in the middle of a check-in load (its own throwaway cluster, so nothing
else is disturbed): every check-in the API acknowledged is in the database afterwards, /readyz
is 503 while the database is down, and the app recovers by itself (no gunicorn restart) within
5 s of the database returning, without pinging connections on checkout: the pool drops the
dead connections on the first error, and once the app has recovered every request succeeds."""
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import psycopg2
import pytest
import requests

from bench.harness import free_port, gunicorn, login
from fieldsales.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]
LOCALDB = ROOT / "scripts" / "localdb.sh"


@pytest.fixture
def cluster():
    """A cluster of its own under var/ (the postgres user must be able to reach it)."""
    folder = ROOT / "var" / f"faults-pg-{os.getpid()}"
    env = {**os.environ, "FIELDSALES_PG_DIR": str(folder), "FIELDSALES_PG_PORT": str(free_port())}

    def localdb(*args):
        out = subprocess.run([str(LOCALDB), *args], env=env, check=True, capture_output=True,
                             text=True, timeout=120)
        return out.stdout.strip()

    url = localdb("createdb", "faults")
    try:
        yield url, localdb
    finally:
        subprocess.run([str(LOCALDB), "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(folder, ignore_errors=True)


def test_acknowledged_check_ins_survive_a_restart(cluster):
    url, localdb = cluster
    upgrade(url)
    admin_email = f"faults-{uuid.uuid4().hex[:8]}@example.test"
    env = {"FIELDSALES_DATABASE_URL": url, "FIELDSALES_TEST_DATABASE_URL": url}
    subprocess.run([str(Path(sys.executable).parent / "fieldsales"), "orgs", "create", "Faults",
                    "--admin-email", admin_email, "--admin-password", "faults-password-1"],
                   env={**os.environ, **env}, check=True, capture_output=True, timeout=60)
    with gunicorn(workers=2, extra_env=env) as (base, _):
        server = requests.get(base + "/healthz", timeout=10).headers["Server"]
        assert not any(ch.isdigit() for ch in server)  # no server version is given away
        reps = _reps(base, admin_email)
        acked, answers, stop = [], [], threading.Event()
        lock = threading.Lock()

        def client(rep):
            while not stop.is_set():
                visit_id = str(uuid.uuid4())
                body = {"id": visit_id, "customer_id": rep["customer_id"],
                        "device_time": datetime.now(UTC).isoformat(),
                        "location": {"lat": 31.2304, "lng": 121.4737, "accuracy_m": 8}}
                try:
                    r = requests.post(base + "/api/v1/visits", json=body,
                                      headers=rep["headers"], timeout=10)
                except requests.RequestException:
                    continue
                with lock:
                    answers.append((time.monotonic(), r.status_code))
                    if r.status_code in (200, 201):
                        acked.append(visit_id)
                if r.status_code not in (200, 201):
                    assert r.status_code == 503, (r.status_code, r.text[:200])
                    assert r.headers["Content-Type"].startswith("application/json")
                    assert r.json()["error"] == "database_unavailable"
                time.sleep(0.02)

        threads = [threading.Thread(target=client, args=(rep,)) for rep in reps]
        for t in threads:
            t.start()
        time.sleep(2)
        before_restart = len(acked)
        localdb("stop")
        ready = requests.get(base + "/readyz", timeout=10)
        assert ready.status_code == 503 and ready.json()["status"] == "database_unavailable"
        time.sleep(2)
        localdb("start")
        back_at = time.monotonic()
        n_at_restart = len(acked)
        while len(acked) == n_at_restart:
            assert time.monotonic() - back_at < 5, "no check-in acknowledged 5 s after restart"
            time.sleep(0.05)
        recovered_at = time.monotonic()
        recovered_in = recovered_at - back_at
        assert requests.get(base + "/readyz", timeout=10).status_code == 200
        time.sleep(2)
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert before_restart > 0
    # A second after the first acknowledged check-in, no dead connection is left in any pool.
    settled = [status for at, status in answers if at > recovered_at + 1]
    assert settled and all(status in (200, 201) for status in settled), settled
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT id::text FROM visits WHERE id = ANY(%s::uuid[])", (acked,))
        stored = {row[0] for row in cur.fetchall()}
    assert set(acked) <= stored, f"{len(set(acked) - stored)} acknowledged check-ins lost"
    print(f"acknowledged {len(acked)} check-ins; recovered {recovered_in:.2f} s after restart")


def _reps(base, admin_email):
    admin = login(base, admin_email, "faults-password-1")
    reps = []
    for i in range(4):
        email = f"faults-rep{i}-{uuid.uuid4().hex[:6]}@example.test"
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": email, "name": f"Rep {i}", "password": "faults-password-1", "role": "rep"}
        ).raise_for_status()
        headers = login(base, email, "faults-password-1")
        customer = requests.post(base + "/api/v1/customers", headers=headers, timeout=30, json={
            "name": f"Shop {i}", "location": {"lat": 31.2304, "lng": 121.4737}}).json()
        reps.append({"headers": headers, "customer_id": customer["id"]})
    return reps
