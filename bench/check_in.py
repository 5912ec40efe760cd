"""check_in: check-ins per second through gunicorn with 16 concurrent clients (the full stack:
auth, validation, scope, geofence and previous-event SQL, flags, per-rep lock, audit chain)
vs a bare WSGI endpoint in the same gunicorn setup that only inserts the same row with
psycopg2 (bench/_bare_check_in.py). Also p50/p99 latency of both."""
import http.client
import json
import threading
import time
from datetime import UTC, datetime
from urllib.parse import urlsplit

import requests

from bench.harness import ensure_org, gunicorn, login, percentile, result

CLIENTS = 16
DURATION_S = 12
WARMUP_S = 2
CENTER = (31.2304, 121.4737)
ADMIN = "bench-visits-admin@bench.fieldsales.dev"
PASSWORD = "bench-password-1"


def ensure_data():
    """An org with 16 reps, each with a customer at a known point."""
    return ensure_org("Bench visits", ADMIN, PASSWORD)


def _reps(base, org_id):
    admin = login(base, ADMIN, PASSWORD)
    reps = []
    for i in range(CLIENTS):
        email = f"bench-visit-rep{i}@bench.fieldsales.dev"
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": email, "name": f"Rep {i}", "password": PASSWORD, "role": "rep"})
        headers = login(base, email, PASSWORD)
        me = requests.get(base + "/api/v1/me", headers=headers, timeout=30).json()
        lat, lng = CENTER[0] + i * 0.001, CENTER[1]
        customer = requests.post(base + "/api/v1/customers", headers=headers, timeout=30, json={
            "name": f"Bench shop {i}", "location": {"lat": lat, "lng": lng}}).json()
        reps.append({"headers": headers, "user_id": me["id"], "customer_id": customer["id"],
                     "lat": lat, "lng": lng})
    return reps


def body(rep, org_id):
    return {"customer_id": rep["customer_id"], "org_id": org_id, "user_id": rep["user_id"],
            "location": {"lat": rep["lat"] + 0.0001, "lng": rep["lng"], "accuracy_m": 12.0,
                         "provider": "gps"},
            "device_time": datetime.now(UTC).isoformat()}


def hammer(url, reps, org_id, extra_fields=False):
    """CLIENTS threads posting for DURATION_S; returns (per second, latencies ms).

    The clients use http.client with keep-alive rather than requests: on a 2-core machine the
    load generator shares the CPU with the server, and a heavy client would cap both runs."""
    parsed = urlsplit(url)
    stop = time.time() + WARMUP_S + DURATION_S
    measure_from = time.time() + WARMUP_S
    latencies, errors = [], []
    lock = threading.Lock()

    def client(rep):
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=60)
        headers = {**rep["headers"], "Content-Type": "application/json"}
        mine = []
        while True:
            started = time.time()
            if started >= stop:
                break
            payload = body(rep, org_id)
            if not extra_fields:
                payload.pop("org_id"), payload.pop("user_id")
            t = time.perf_counter()
            conn.request("POST", parsed.path, body=json.dumps(payload), headers=headers)
            response = conn.getresponse()
            response_body = response.read()
            ms = (time.perf_counter() - t) * 1000
            if response.status != 201:
                errors.append((response.status, response_body[:200]))
            elif started >= measure_from:
                mine.append(ms)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(rep,)) for rep in reps]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{len(errors)} failed requests, e.g. {errors[:3]}")
    return len(latencies) / DURATION_S, latencies


def run():
    org_id = ensure_data()
    with gunicorn() as (base, _):
        reps = _reps(base, org_id)
        ours_rate, ours = hammer(base + "/api/v1/visits", reps, org_id)
    with gunicorn(app="bench._bare_flask:app") as (base, _):
        raw_rate, raw = hammer(base + "/bench/bare-visits", reps, org_id, extra_fields=True)
    with gunicorn(app="bench._bare_check_in:app") as (base, _):
        wsgi_rate, _wsgi = hammer(base + "/visits", reps, org_id, extra_fields=True)
    return result(
        "check_in", ours_rate, raw_rate, "req/s", higher_is_better=True,
        notes=f"{CLIENTS} clients, {DURATION_S} s; p50 {percentile(ours, 50):.1f} ms / p99 "
              f"{percentile(ours, 99):.1f} ms vs bare insert route in the same app p50 "
              f"{percentile(raw, 50):.1f} ms / p99 {percentile(raw, 99):.1f} ms; a bare WSGI "
              f"insert without Flask does {wsgi_rate:.0f} req/s (ratio "
              f"{ours_rate / wsgi_rate:.2f}); target >= 0.6")


if __name__ == "__main__":
    print(run())
