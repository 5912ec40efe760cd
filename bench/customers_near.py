"""customers_near: p50 latency of "customers within 5 km, nearest first" over 200,000
customers, through the API (gunicorn, auth, validation, scope, JSON) vs the best SQL for the same
answer (exact count + KNN-window page) run directly through psycopg2."""
import json
import random
import sys

from bench._load import Client
from bench.harness import (connect, ensure_org, gunicorn, login, percentile, result, scaled,
                           timed)

N_CUSTOMERS = scaled(200_000, minimum=5_000)
CENTER = (31.2304, 121.4737)
EMAIL = "bench-admin@bench.fieldsales.dev"
PASSWORD = "bench-password-1"

COUNT_SQL = """
SELECT count(*) FROM customers
WHERE org_id = %(org)s AND geom IS NOT NULL
  AND ST_DWithin(geography(geom), geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)), 5000)
"""
# The best SQL for the same answer: the ~3x page-size nearest visible rows by `<->` alone (GiST
# KNN scan), the radius applied to them, then ordered by (distance, id). The API falls back to
# the plain ORDER BY only when that window may cut a tie, which these random points never do.
PAGE_SQL = """
WITH p AS (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g)
SELECT w.*, ST_Distance(geography(w.geom), p.g)
FROM (
  SELECT c.*, geography(c.geom) <-> (SELECT g FROM p) AS knn
  FROM customers c
  WHERE c.org_id = %(org)s AND c.geom IS NOT NULL
  ORDER BY knn LIMIT 60
) w, p
WHERE ST_DWithin(geography(w.geom), p.g, 5000)
ORDER BY w.knn, w.id
LIMIT 20 OFFSET 0
"""


def ensure_data():
    """The bench org with 200k customers spread over ~55 x 57 km around the city centre."""
    org_id = ensure_org("Bench customers", EMAIL, PASSWORD)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers WHERE org_id = %s", (org_id,))
        have = cur.fetchone()[0]
        if have < N_CUSTOMERS:
            print(f"[bench] inserting {N_CUSTOMERS - have} customers …", file=sys.stderr)
            cur.execute("""
                INSERT INTO customers (id, org_id, name, lat, lng, tags, status, custom, version)
                SELECT gen_random_uuid(), %(org)s, 'Bench customer ' || (%(have)s + g),
                       %(lat)s + (random() - 0.5) * 0.5, %(lng)s + (random() - 0.5) * 0.6,
                       '{}', 'active', '{}', 1
                FROM generate_series(1, %(n)s) g
            """, {"org": org_id, "lat": CENTER[0], "lng": CENTER[1], "n": N_CUSTOMERS - have,
                  "have": have})
            cur.execute("ANALYZE customers")
    return org_id


def points(n, seed):
    rng = random.Random(seed)
    return [(CENTER[0] + rng.uniform(-0.1, 0.1), CENTER[1] + rng.uniform(-0.12, 0.12))
            for _ in range(n)]


def run():
    org_id = ensure_data()
    n = 400
    with connect() as conn, conn.cursor() as cur:
        pts = iter(points(n + 50, 1))

        def raw():
            lat, lng = next(pts)
            params = {"org": org_id, "lat": lat, "lng": lng}
            cur.execute(COUNT_SQL, params)
            cur.fetchone()
            cur.execute(PAGE_SQL, params)
            cur.fetchall()

        baseline = timed(raw, n, warmup=50)

    with gunicorn(workers=2) as (base, _):
        headers = login(base, EMAIL, PASSWORD)
        session = Client(base)
        pts2 = iter(points(n + 50, 1))
        sample = {}

        def api():
            lat, lng = next(pts2)
            r = session.get(f"{base}/api/v1/customers",
                            params={"near": f"{lat},{lng}", "radius_m": 5000, "page_size": 20},
                            headers=headers, timeout=30)
            r.raise_for_status()
            sample["total"] = json.loads(r.headers["X-Pagination"])["total"]

        ours = timed(api, n, warmup=50)

    p50_ours, p50_raw = percentile(ours, 50), percentile(baseline, 50)
    return result(
        "customers_near", p50_ours, p50_raw, "ms p50", higher_is_better=False,
        notes=f"{N_CUSTOMERS} customers, 5 km radius (~{sample['total']} matches), page of 20; "
              f"p99 ours {percentile(ours, 99):.1f} ms vs raw {percentile(baseline, 99):.1f} ms",
        min_ratio=0.8, max_ours=15)


if __name__ == "__main__":
    print(run())
