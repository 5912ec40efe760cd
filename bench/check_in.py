"""check_in: check-ins per second through gunicorn with 16 concurrent clients (the full stack:
auth, validation, scope, geofence and previous-event SQL, flags, per-rep lock, audit chain)
against, in the same run and the same gunicorn (the app plus one bare route,
bench/_bare_flask.py), with the same http.client clients and concurrency:
- the HTTP floor: POST /bench/bare-visits, which stores the same row with one psycopg2 INSERT
  (the ratio's denominator);
- the SQL floor: the statements a check-in sends, straight through psycopg2 from 16 threads
  (bench/_floor_check_in.py), reported beside.
Rounds alternate between the three (median of ROUNDS), so they share the background load."""
import json
import uuid
from datetime import UTC, datetime

import requests

from bench._floor_check_in import check_in
from bench._load import DURATION_S, ROUNDS, alternate, closed_loop, http_work, throughput_row
from bench._sql_floor import sql_work
from bench.harness import ensure_org, gunicorn, login

CLIENTS = 16
CENTER = (31.2304, 121.4737)
ADMIN = "bench-visits-admin@bench.fieldsales.dev"
PASSWORD = "bench-password-1"


def ensure_data():
    """An org for the check-in reps (created through the API by _reps)."""
    return ensure_org("Bench visits", ADMIN, PASSWORD)


def reps_with_customers(base, prefix):
    """CLIENTS reps named `prefix`N, each with a customer of its own at a known point (a shop
    name per run: the duplicate guard refuses a second customer of the same name)."""
    admin = login(base, ADMIN, PASSWORD)
    run = uuid.uuid4().hex[:8]
    reps = []
    for i in range(CLIENTS):
        email = f"{prefix}{i}@bench.fieldsales.dev"
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": email, "name": f"Rep {i}", "password": PASSWORD, "role": "rep"})
        headers = login(base, email, PASSWORD)
        me = requests.get(base + "/api/v1/me", headers=headers, timeout=30).json()
        lat, lng = CENTER[0] + i * 0.001, CENTER[1]
        customer = requests.post(base + "/api/v1/customers", headers=headers, timeout=30, json={
            "name": f"Bench shop {i} {run}", "location": {"lat": lat, "lng": lng}}).json()
        reps.append({"headers": headers, "user_id": me["id"], "customer_id": customer["id"],
                     "lat": lat, "lng": lng})
    return reps


def _body(rep, org_id):
    return {"customer_id": rep["customer_id"], "org_id": org_id, "user_id": rep["user_id"],
            "location": {"lat": rep["lat"] + 0.0001, "lng": rep["lng"], "accuracy_m": 12.0,
                         "provider": "gps"},
            "device_time": datetime.now(UTC).isoformat()}


def http_floor_work(base, reps, org_id):
    """The HTTP floor's `work` (bench._bare_flask.py's route, on a gunicorn serving it)."""
    return http_work(base, "POST", "/bench/bare-visits", body=_bodies(reps, org_id, bare=True),
                     headers=lambda i: reps[i]["headers"], expect=(201,))


def _bodies(reps, org_id, bare):
    def body(i):
        payload = _body(reps[i], org_id)
        if not bare:
            payload.pop("org_id"), payload.pop("user_id")
        return json.dumps(payload).encode()
    return body


def run():
    org_id = ensure_data()
    with gunicorn(app="bench._bare_flask:app") as (base, _):
        reps = reps_with_customers(base, "bench-visit-rep")
        sql_reps = reps_with_customers(base, "bench-visit-sqlrep")
        loads = alternate({
            "ours": lambda: closed_loop(http_work(
                base, "POST", "/api/v1/visits", body=_bodies(reps, org_id, bare=False),
                headers=lambda i: reps[i]["headers"], expect=(201,)), CLIENTS),
            "HTTP floor": lambda: closed_loop(http_floor_work(base, reps, org_id), CLIENTS),
            "SQL floor": lambda: closed_loop(sql_work(
                lambda cur, i: check_in(cur, sql_reps[i], org_id)), CLIENTS),
        })
    return throughput_row("check_in", "req/s", loads, min_ratio=0.4,
                          what=f"{CLIENTS} clients, {ROUNDS} rounds of {DURATION_S:.0f} s")


if __name__ == "__main__":
    print(run())
