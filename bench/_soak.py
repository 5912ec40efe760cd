"""`make soak`: two minutes of mixed traffic from 32 concurrent clients through a real gunicorn
on loopback — check-ins with photos, check-outs, lead claims and releases, visit lists, map
reads and attendance CSV exports — then per endpoint: requests, p50/p99, and any 5xx. Also
samples the gunicorn workers' memory at minute 1 and minute 2. Exits 1 on any 5xx or when the
workers' RSS grew by more than 10 % between the two samples. Not part of `make test`."""
import io
import json
import os
import random
import sys
import threading
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime

import psutil
import requests
from PIL import Image

from bench.harness import exit_on_sigterm, gunicorn, login, percentile

CLIENTS = int(os.environ.get("SOAK_CLIENTS", 32))
DURATION_S = int(os.environ.get("SOAK_SECONDS", 120))
PASSWORD = "fieldsales-demo"  # the demo seed's password
ADMIN = "admin@demo.fieldsales.dev"


def photo_bytes(seed):
    rng = random.Random(seed)
    im = Image.new("RGB", (1600, 1200), tuple(rng.randrange(256) for _ in range(3)))
    for _ in range(40):
        x, y = rng.randrange(1500), rng.randrange(1100)
        im.paste(tuple(rng.randrange(256) for _ in range(3)), (x, y, x + 100, y + 100))
    out = io.BytesIO()
    im.save(out, "JPEG", quality=85)
    return out.getvalue()


def setup(base):
    """32 soak reps (two teams), a lead pool with 3,000 leads; returns the clients' logins."""
    admin = login(base, ADMIN, PASSWORD)
    teams = requests.get(base + "/api/v1/teams", headers=admin, timeout=30).json()
    reps = []
    for i in range(CLIENTS):
        email = f"soak-rep{i}@demo.fieldsales.dev"
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": email, "name": f"Soak rep {i}", "password": PASSWORD, "role": "rep",
            "team_id": teams[i % len(teams)]["id"]})
        reps.append(email)
    pool = requests.post(base + "/api/v1/lead-pools", headers=admin, timeout=30, json={
        "name": f"Soak pool {uuid.uuid4().hex[:6]}", "holding_limit": 1000,
        "daily_claim_limit": 1000}).json()
    rows = "".join(f"Lead {i},Firm {i},139{random.randrange(10**8):08d},,,,,soak,\n"
                   for i in range(3000))
    requests.post(f"{base}/api/v1/lead-pools/{pool['id']}/import", headers={
        **admin, "Content-Type": "text/csv"}, timeout=120,
        data="name,company,phone,email,address,lat,lng,source,tags\n" + rows).raise_for_status()
    return reps, pool["id"]


class Client(threading.Thread):
    def __init__(self, base, email, pool_id, stop, stats, lock, seed):
        super().__init__(daemon=True)
        self.base, self.stop, self.stats, self.lock = base, stop, stats, lock
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.headers = login(base, email, PASSWORD)
        self.manager = login(base, "manager.east@demo.fieldsales.dev", PASSWORD)
        self.hr = login(base, "hr@demo.fieldsales.dev", PASSWORD)
        self.pool_id = pool_id
        self.customers = self.call("customers", "GET", "/api/v1/customers?page_size=50").json()
        self.photo = photo_bytes(seed)
        self.open_visit = None
        self.leads = []

    def call(self, name, method, path, headers=None, **kw):
        t = time.perf_counter()
        r = self.session.request(method, self.base + path, headers=headers or self.headers,
                                 timeout=60, **kw)
        ms = (time.perf_counter() - t) * 1000
        with self.lock:
            self.stats[name].append((ms, r.status_code))
        return r

    def check_in(self):
        c = self.rng.choice(self.customers)
        loc = c["location"] or {"lat": 31.23, "lng": 121.47}
        r = self.call("check_in", "POST", "/api/v1/visits", json={
            "id": str(uuid.uuid4()), "customer_id": c["id"],
            "device_time": datetime.now(UTC).isoformat(),
            "location": {"lat": loc["lat"], "lng": loc["lng"], "accuracy_m": 12}})
        if r.status_code == 201:
            self.open_visit = r.json()["id"]
            if self.rng.random() < 0.5:
                # A JPEG comment segment after SOI makes the bytes unique, the image the same.
                tag = uuid.uuid4().bytes
                data = self.photo[:2] + b"\xff\xfe" + (len(tag) + 2).to_bytes(2, "big") + tag \
                    + self.photo[2:]
                self.call("photo_upload", "POST", f"/api/v1/visits/{self.open_visit}/photos",
                          files={"file": ("p.jpg", data)})

    def check_out(self):
        self.call("check_out", "POST", f"/api/v1/visits/{self.open_visit}/check-out", json={
            "device_time": datetime.now(UTC).isoformat(), "summary": "soak visit",
            "location": {"lat": 31.23, "lng": 121.47, "accuracy_m": 10}})
        self.open_visit = None

    def claim(self):
        if self.leads and self.rng.random() < 0.3:
            self.call("release", "POST", f"/api/v1/leads/{self.leads.pop()}/release", json={})
            return
        r = self.call("claim_next", "POST", f"/api/v1/lead-pools/{self.pool_id}/claim-next",
                      json={})
        if r.status_code == 200:
            self.leads.append(r.json()["id"])

    def map_read(self):
        today = datetime.now(UTC).date().isoformat()
        self.call("map_visits", "GET", f"/api/v1/maps/visits?bbox=121.2,31.0,121.8,31.5"
                  f"&from={today}&to={today}", headers=self.manager)

    def visits_list(self):
        self.call("visits_list", "GET", "/api/v1/visits?page_size=20")

    def attendance_csv(self):
        today = datetime.now(UTC).date().isoformat()
        self.call("attendance_csv", "GET", f"/api/v1/attendance.csv?from={today}&to={today}",
                  headers=self.hr)

    def run(self):
        actions = [(self.claim, 20), (self.map_read, 12), (self.visits_list, 10),
                   (self.attendance_csv, 3), (None, 55)]  # None: the visit flow
        while not self.stop.is_set():
            action = self.rng.choices([a for a, _ in actions], [w for _, w in actions])[0]
            try:
                if action is None:
                    self.check_out() if self.open_visit else self.check_in()
                else:
                    action()
            except requests.RequestException as exc:
                with self.lock:
                    self.stats["transport_error"].append((0, repr(exc)[:80]))


def worker_rss(master):
    return sum(p.memory_info().rss for p in psutil.Process(master.pid).children())


def main():
    exit_on_sigterm()
    stats, lock, stop = defaultdict(list), threading.Lock(), threading.Event()
    with gunicorn() as (base, master):
        print(f"[soak] setting up {CLIENTS} reps and a lead pool …", file=sys.stderr)
        reps, pool_id = setup(base)
        clients = [Client(base, email, pool_id, stop, stats, lock, i)
                   for i, email in enumerate(reps)]
        for c in clients:
            c.start()
        print(f"[soak] {CLIENTS} clients for {DURATION_S} s …", file=sys.stderr)
        time.sleep(DURATION_S / 2)
        rss1 = worker_rss(master)
        print(f"[soak] minute 1: workers' RSS {rss1 / 2**20:.0f} MB", file=sys.stderr)
        time.sleep(DURATION_S / 2)
        rss2 = worker_rss(master)
        stop.set()
        for c in clients:
            c.join(timeout=60)
    total_5xx, rows = 0, []
    for name, samples in sorted(stats.items()):
        ms = [m for m, _ in samples]
        codes = defaultdict(int)
        for _, code in samples:
            codes[code] += 1
        errors = sum(n for code, n in codes.items() if isinstance(code, int) and code >= 500)
        total_5xx += errors + (len(samples) if name == "transport_error" else 0)
        rows.append({"endpoint": name, "requests": len(samples),
                     "p50_ms": round(percentile(ms, 50), 1), "p99_ms": round(percentile(ms, 99), 1),
                     "statuses": dict(sorted((str(k), v) for k, v in codes.items()))})
    growth = (rss2 - rss1) / rss1 * 100
    print(f"\n{'endpoint':<16} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for r in rows:
        print(f"{r['endpoint']:<16} {r['requests']:>8} {r['p50_ms']:>8} {r['p99_ms']:>8}  "
              f"{r['statuses']}")
    print(f"\n5xx: {total_5xx}; workers' RSS minute 1 {rss1 / 2**20:.0f} MB, minute 2 "
          f"{rss2 / 2**20:.0f} MB ({growth:+.1f} %)")
    ok = total_5xx == 0 and growth <= 10
    print("soak:", "PASS" if ok else "FAIL")
    with open(os.path.join(os.path.dirname(__file__), "soak-results.json"), "w") as fp:
        json.dump({"clients": CLIENTS, "seconds": DURATION_S, "endpoints": rows,
                   "5xx": total_5xx, "rss_mb": [rss1 / 2**20, rss2 / 2**20],
                   "rss_growth_pct": growth, "pass": ok}, fp, indent=2)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
