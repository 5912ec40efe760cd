"""agenda: p50 latency of GET /agenda?near= for a rep with 2,000 customers (grades A/B/C), 200
open follow-ups and 20 plans today, through the API (gunicorn, auth, scope, three statements,
JSON) vs the same three lists from raw SQL through psycopg2 in the same run."""
import random
import sys
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from bench.harness import connect, ensure_org, gunicorn, login, percentile, result, timed

N_CUSTOMERS, N_FOLLOW_UPS, N_PLANS = 2000, 200, 20
CENTER = (31.2304, 121.4737)
TZ = "Asia/Shanghai"
EMAIL = "bench-agenda-admin@bench.fieldsales.dev"
REP_EMAIL = "bench-agenda-rep@bench.fieldsales.dev"
PASSWORD = "bench-password-1"

PLANS_SQL = """
WITH p AS (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g)
SELECT pl.*, c.id, c.name, c.lat, c.lng, ST_Distance(geography(c.geom), (SELECT g FROM p))
FROM plans pl LEFT JOIN customers c ON c.org_id = pl.org_id AND c.id = pl.customer_id
WHERE pl.org_id = %(org)s AND pl.user_id = %(user)s AND pl.planned_date = %(day)s
ORDER BY geography(c.geom) <-> (SELECT g FROM p) NULLS LAST, pl.planned_start NULLS LAST,
         pl.created_at, pl.id
LIMIT 100
"""
DUE_SQL = """
WITH p AS (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g),
latest AS (
  SELECT DISTINCT ON (customer_id) customer_id, next_follow_up_at, source FROM (
    SELECT customer_id, in_at AS at, next_follow_up_at, 'visit' AS source FROM visits
     WHERE org_id = %(org)s AND user_id = %(user)s
    UNION ALL
    SELECT customer_id, created_at, next_follow_up_at, 'contact_record' FROM contact_records
     WHERE org_id = %(org)s AND user_id = %(user)s AND visit_id IS NULL) e
  ORDER BY customer_id, at DESC),
held AS (
  SELECT DISTINCT ON (lead_id) lead_id, next_follow_up_at FROM lead_follow_ups
   WHERE org_id = %(org)s AND user_id = %(user)s ORDER BY lead_id, created_at DESC)
SELECT * FROM (
  SELECT 'customer' AS type, c.id, c.name, l.next_follow_up_at, l.source,
         ST_Distance(geography(c.geom), (SELECT g FROM p)) AS distance_m,
         geography(c.geom) <-> (SELECT g FROM p) AS knn
  FROM latest l JOIN customers c ON c.org_id = %(org)s AND c.id = l.customer_id
  WHERE l.next_follow_up_at < %(day_end)s
    AND (c.owner_id = %(user)s
         OR c.owner_id IN (SELECT id FROM users WHERE org_id = %(org)s AND team_id = %(team)s)
         OR (c.owner_id IS NULL AND (c.team_id IS NULL OR c.team_id = %(team)s)))
  UNION ALL
  SELECT 'lead', ld.id, ld.name, h.next_follow_up_at, 'lead_follow_up',
         ST_Distance(geography(ld.geom), (SELECT g FROM p)),
         geography(ld.geom) <-> (SELECT g FROM p)
  FROM held h JOIN leads ld ON ld.org_id = %(org)s AND ld.id = h.lead_id
  WHERE ld.owner_id = %(user)s AND ld.status = 'claimed' AND h.next_follow_up_at < %(day_end)s
) d ORDER BY knn NULLS LAST, next_follow_up_at, id LIMIT 100
"""
OVERDUE_SQL = """
WITH p AS (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g)
SELECT gc.*, ST_Distance(geography(gc.geom), (SELECT g FROM p)) FROM (
  SELECT c.id, c.name, c.lat, c.lng, c.grade, c.geom, lv.at AS last_visit_at,
         coalesce(lv.at, c.created_at)
           + (o.visit_cadence_days ->> c.grade)::int * interval '1 day' AS due_since
  FROM customers c JOIN orgs o ON o.id = c.org_id
  LEFT JOIN LATERAL (SELECT max(in_at) AS at FROM visits v
                      WHERE v.org_id = c.org_id AND v.customer_id = c.id) lv ON true
  WHERE c.org_id = %(org)s AND c.owner_id = %(user)s AND c.grade IS NOT NULL
    AND o.visit_cadence_days ? c.grade) gc
WHERE gc.due_since < %(day_end)s
ORDER BY geography(gc.geom) <-> (SELECT g FROM p), gc.id LIMIT 100
"""


def ensure_rep(base):
    """The bench rep (created through the API by the bench admin), its id and team."""
    admin = login(base, EMAIL, PASSWORD)
    users = requests.get(f"{base}/api/v1/users", headers=admin, timeout=30).json()
    rep = next((u for u in users if u["email"] == REP_EMAIL), None)
    if rep is None:
        team = requests.post(f"{base}/api/v1/teams", json={"name": "Agenda team"},
                             headers=admin, timeout=30).json()
        rep = requests.post(f"{base}/api/v1/users", headers=admin, timeout=30, json={
            "email": REP_EMAIL, "name": "Agenda rep", "password": PASSWORD, "role": "rep",
            "team_id": team["id"]}).json()
    return rep["id"], rep["team_id"]


def ensure_data(org_id, rep_id, day):
    """2,000 graded customers of the rep (cards made over the last 60 days: many overdue), 200
    of them with an open follow-up, 20 plans on `day`."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM customers WHERE org_id = %s", (org_id,))
        if cur.fetchone()[0] < N_CUSTOMERS:
            print("[bench] agenda: inserting customers, follow-ups …", file=sys.stderr)
            cur.execute("""
                INSERT INTO customers (id, org_id, name, lat, lng, owner_id, tags, status, custom,
                                       version, grade, created_at)
                SELECT gen_random_uuid(), %(org)s, 'Agenda customer ' || g,
                       %(lat)s + (random() - 0.5) * 0.3, %(lng)s + (random() - 0.5) * 0.3,
                       %(rep)s, '{}', 'active', '{}', 1, (ARRAY['A', 'B', 'C'])[1 + g %% 3],
                       now() - random() * interval '60 days'
                FROM generate_series(1, %(n)s) g
            """, {"org": org_id, "lat": CENTER[0], "lng": CENTER[1], "rep": rep_id,
                  "n": N_CUSTOMERS})
            cur.execute("""
                INSERT INTO contact_records (id, org_id, customer_id, user_id, method, summary,
                                             next_follow_up_at, created_at)
                SELECT gen_random_uuid(), %(org)s, id, %(rep)s, 'call', 'call back',
                       now() - random() * interval '3 days', now() - interval '4 days'
                FROM customers WHERE org_id = %(org)s ORDER BY id LIMIT %(n)s
            """, {"org": org_id, "rep": rep_id, "n": N_FOLLOW_UPS})
            cur.execute("ANALYZE customers; ANALYZE contact_records")
        cur.execute("SELECT count(*) FROM plans WHERE org_id = %s AND planned_date = %s",
                    (org_id, day))
        if cur.fetchone()[0] < N_PLANS:
            cur.execute("""
                INSERT INTO plans (org_id, id, user_id, kind, customer_id, planned_date, status,
                                   source, created_by)
                SELECT %(org)s, gen_random_uuid(), %(rep)s, 'visit', id, %(day)s, 'planned',
                       'self', %(rep)s
                FROM customers WHERE org_id = %(org)s ORDER BY random() LIMIT %(n)s
            """, {"org": org_id, "rep": rep_id, "day": day, "n": N_PLANS})
            cur.execute("ANALYZE plans")


def points(n, seed):
    rng = random.Random(seed)
    return [(CENTER[0] + rng.uniform(-0.1, 0.1), CENTER[1] + rng.uniform(-0.1, 0.1))
            for _ in range(n)]


def run():
    org_id = ensure_org("Bench agenda", EMAIL, PASSWORD, timezone=TZ)
    n = 300
    with gunicorn(workers=2) as (base, _):
        rep_id, team_id = ensure_rep(base)
        day = datetime.now(ZoneInfo(TZ)).date()
        ensure_data(org_id, rep_id, day)
        headers = login(base, REP_EMAIL, PASSWORD)
        session = requests.Session()
        pts = iter(points(n + 50, 2))
        sizes = {}

        def api():
            lat, lng = next(pts)
            r = session.get(f"{base}/api/v1/agenda", params={"near": f"{lat},{lng}"},
                            headers=headers, timeout=30)
            r.raise_for_status()
            sizes.update({k: len(v) for k, v in r.json().items() if isinstance(v, list)})

        ours = timed(api, n, warmup=50)
    day_end = datetime.combine(day + timedelta(days=1), datetime.min.time(), ZoneInfo(TZ))
    with connect() as conn, conn.cursor() as cur:
        raw_pts = iter(points(n + 50, 2))

        def raw():
            lat, lng = next(raw_pts)
            params = {"org": org_id, "user": rep_id, "team": team_id, "day": day,
                      "day_end": day_end, "lat": lat, "lng": lng}
            for sql in (PLANS_SQL, DUE_SQL, OVERDUE_SQL):
                cur.execute(sql, params)
                cur.fetchall()

        baseline = timed(raw, n, warmup=50)
    p50_ours, p50_raw = percentile(ours, 50), percentile(baseline, 50)
    return result(
        "agenda", p50_ours, p50_raw, "ms p50", higher_is_better=False,
        notes=f"{N_CUSTOMERS} customers A/B/C, {N_FOLLOW_UPS} open follow-ups, {N_PLANS} plans; "
              f"lists {sizes}; p99 ours {percentile(ours, 99):.1f} ms vs raw "
              f"{percentile(baseline, 99):.1f} ms", min_ratio=0.7)


if __name__ == "__main__":
    print(run())
