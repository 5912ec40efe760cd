"""The shared data set of the issue-5 benchmarks (maps, attendance): one org with 500 reps in
10 teams, 5,000 customers around five cities of the Yangtze delta, and 1,000,000 visits over
the 100 days before DAY0 (about 20 per rep per day, check-ins scattered around their
customer), inserted in time order like real check-ins (heap correlation of `in_at` near 1).
Built with set-based SQL and kept in the bench database with its version (VERSION, scale): a
later call rebuilds it only when that changed."""
import json
import sys
from datetime import UTC, date, datetime

from bench.harness import connect, ensure_org, scaled

ADMIN = "bench-maps-admin@bench.fieldsales.dev"
PASSWORD = "bench-password-1"
REPS = 500
TEAMS = 10
CUSTOMERS = 5_000
VISITS = scaled(1_000_000, minimum=20_000)
# Bump when the generated rows change: the next run rebuilds the visits (2: in time order).
VERSION = 2
MARKER = f"visits v{VERSION} x{VISITS}"
DAYS = 100
DAY0 = date(2026, 10, 1)  # the data set covers the 100 local days before this one
TZ = "Asia/Shanghai"
CITIES = [  # (lat, lng, weight): Shanghai, Hangzhou, Suzhou, Nanjing, Ningbo
    (31.2304, 121.4737, 0.40), (30.2741, 120.1551, 0.20), (31.2989, 120.5853, 0.15),
    (32.0603, 118.7969, 0.15), (29.8683, 121.5440, 0.10),
]


def ensure(progress=lambda msg: print(msg, file=sys.stderr, flush=True)):
    """Build the data set if missing; return {org_id, admin, password, rep_password, day0}."""
    org_id = ensure_org("Bench maps", ADMIN, PASSWORD, TZ)
    with connect() as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        cur.execute("SELECT value FROM bench_meta WHERE key = 'dataset'")
        built = cur.fetchone()
        conn.commit()
        if built and built[0] == MARKER:
            return _info(org_id, cur)
        progress(f"[bench] building the data set ({MARKER}; found "
                 f"{built[0] if built else 'none'}): {REPS} reps, {CUSTOMERS} customers, "
                 f"{VISITS:,} visits …")
        cur.execute("SELECT password_hash FROM users WHERE email = %s", (ADMIN,))
        password_hash = cur.fetchone()[0]  # every bench user shares the admin's password
        cur.execute("""
            INSERT INTO teams (id, org_id, name)
            SELECT gen_random_uuid(), %(org)s, 'Bench team ' || t FROM generate_series(1, %(n)s) t
            WHERE NOT EXISTS (SELECT 1 FROM teams WHERE org_id = %(org)s)""",
                    {"org": org_id, "n": TEAMS})
        cur.execute("""
            WITH t AS (SELECT id, row_number() OVER (ORDER BY name) - 1 AS k
                       FROM teams WHERE org_id = %(org)s)
            INSERT INTO users (id, org_id, email, name, role, team_id, password_hash)
            SELECT gen_random_uuid(), %(org)s, 'bench-rep' || r || '@bench.fieldsales.dev',
                   'Bench rep ' || r, 'rep', t.id, %(hash)s
            FROM generate_series(1, %(n)s) r JOIN t ON t.k = r %% %(teams)s
            ON CONFLICT DO NOTHING""",
                    {"org": org_id, "hash": password_hash, "n": REPS, "teams": TEAMS})
        cur.execute("""
            INSERT INTO users (id, org_id, email, name, role, team_id, password_hash)
            SELECT gen_random_uuid(), %(org)s, 'bench-manager@bench.fieldsales.dev',
                   'Bench manager', 'manager', (SELECT id FROM teams WHERE org_id = %(org)s
                                                ORDER BY name LIMIT 1), %(hash)s
            ON CONFLICT DO NOTHING""", {"org": org_id, "hash": password_hash})
        cities = json.dumps([{"lat": a, "lng": b, "w": w} for a, b, w in CITIES])
        cur.execute("""
            WITH c AS (SELECT (e->>'lat')::float AS lat, (e->>'lng')::float AS lng,
                              sum((e->>'w')::float) OVER (ORDER BY ord) AS upto
                       FROM jsonb_array_elements(%(cities)s::jsonb) WITH ORDINALITY AS x(e, ord)),
                 g AS (SELECT n, random() AS pick, random() AS r1, random() AS r2
                       FROM generate_series(1, %(n)s) n)
            INSERT INTO customers (id, org_id, name, lat, lng, tags, status, custom, version)
            SELECT gen_random_uuid(), %(org)s, 'Bench customer ' || g.n,
                   c.lat + sqrt(-2 * ln(g.r1 + 1e-12)) * cos(2 * pi() * g.r2) * 0.08,
                   c.lng + sqrt(-2 * ln(g.r1 + 1e-12)) * sin(2 * pi() * g.r2) * 0.09,
                   '{}', 'active', '{}', 1
            FROM g CROSS JOIN LATERAL (SELECT lat, lng FROM c WHERE c.upto >= g.pick
                                       ORDER BY upto LIMIT 1) c
            WHERE NOT EXISTS (SELECT 1 FROM customers WHERE org_id = %(org)s)""",
                    {"org": org_id, "n": CUSTOMERS, "cities": cities})
        conn.commit()
        progress("[bench] … people and customers done; inserting visits …")
        _clear_visits(conn, org_id, progress)
        _insert_visits(cur, org_id, progress)
        conn.commit()
        cur.execute("ANALYZE visits; ANALYZE customers; ANALYZE users")
        cur.execute("SELECT correlation FROM pg_stats WHERE tablename = 'visits' "
                    "AND attname = 'in_at'")
        row = cur.fetchone()  # none on Citus: the statistics live on the workers' shards
        correlation = f"{row[0]:.4f}" if row else "n/a (Citus)"
        cur.execute("INSERT INTO bench_meta VALUES ('dataset', %(m)s), "
                    "('visits.in_at correlation', %(c)s) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value", {"m": MARKER, "c": correlation})
        conn.commit()
        progress(f"[bench] … data set ready; pg_stats.correlation of visits.in_at: "
                 f"{correlation}")
        return _info(org_id, cur)


def _clear_visits(conn, org_id, progress):
    """Delete an older build's visits, then rewrite the table compactly (VACUUM FULL), so the
    new rows are appended in the order they are inserted instead of filling freed space."""
    with conn.cursor() as cur:
        cur.execute("DELETE FROM visits WHERE org_id = %s", (org_id,))
        deleted = cur.rowcount
    conn.commit()
    if deleted:
        progress(f"[bench]   deleted {deleted:,} visits of the older build; VACUUM FULL visits …")
        vacuum = connect()  # its own connection: `with conn` keeps even autocommit in a block
        vacuum.autocommit = True
        try:
            with vacuum.cursor() as cur:
                cur.execute("VACUUM FULL visits")
        finally:
            vacuum.close()


def _insert_visits(cur, org_id, progress):
    """1M closed visits in time order: visit n falls on day n * DAYS / VISITS (oldest first) at
    a random time of the working day, each batch (whole days) inserted ORDER BY in_at; each rep
    visits random customers (10 reps share a customer set); check-in 0-300 m from the customer
    (a third beyond 200 m: outside_geofence)."""
    batch = VISITS // 10
    for start in range(0, VISITS, batch):
        cur.execute("""
            WITH reps AS (SELECT id, row_number() OVER (ORDER BY email) - 1 AS k
                          FROM users WHERE org_id = %(org)s AND role = 'rep'),
                 cust AS (SELECT id, lat, lng, row_number() OVER (ORDER BY id) - 1 AS k
                          FROM customers WHERE org_id = %(org)s),
                 g AS (SELECT n, (n %% %(reps)s) AS rep_k, random() AS r1, random() AS r2,
                              random() AS r3, random() AS r4, random() AS r5
                       FROM generate_series(%(start)s, %(stop)s) n),
                 v AS (
                   SELECT g.*, reps.id AS user_id, cust.id AS customer_id, cust.lat AS clat,
                          cust.lng AS clng,
                          (timestamp %(day0)s - make_interval(
                               days => %(days)s - ((g.n - 1) * %(days)s / %(visits)s)::int)
                           + make_interval(secs => 30600 + g.r2 * 32400))
                          AT TIME ZONE %(tz)s AS in_at
                   FROM g JOIN reps ON reps.k = g.rep_k
                   JOIN cust ON cust.k = ((g.rep_k / 10) * 100 + (g.r3 * 100)::int) %% %(ncust)s)
            INSERT INTO visits (id, org_id, user_id, customer_id, status, in_at, in_device_time,
                                in_received_at, in_lat, in_lng, in_accuracy_m, in_provider,
                                in_mock, in_distance_m, in_within_geofence, out_at,
                                out_device_time, out_received_at, out_lat, out_lng,
                                out_accuracy_m, out_provider, out_mock, out_distance_m,
                                out_within_geofence, closed_at, closed_by, flags, risk_score)
            SELECT gen_random_uuid(), %(org)s, user_id, customer_id, 'closed', in_at, in_at, in_at,
                   clat + (r4 - 0.5) * 0.005, clng + (r5 - 0.5) * 0.006, 5 + r4 * 40, 'gps',
                   false, r4 * 300, r4 * 300 <= 200,
                   in_at + make_interval(mins => 10 + (r5 * 50)::int),
                   in_at + make_interval(mins => 10 + (r5 * 50)::int),
                   in_at + make_interval(mins => 10 + (r5 * 50)::int),
                   clat, clng, 10, 'gps', false, 5, true,
                   in_at + make_interval(mins => 10 + (r5 * 50)::int), 'rep',
                   CASE WHEN r4 * 300 > 200 THEN '{outside_geofence}'::varchar[]
                        ELSE '{}'::varchar[] END,
                   CASE WHEN r4 * 300 > 200 THEN 15 ELSE 0 END
            FROM v ORDER BY in_at""", {"org": org_id, "reps": REPS, "start": start + 1,
                                       "stop": min(start + batch, VISITS),
                                       "day0": DAY0.isoformat(), "days": DAYS, "tz": TZ,
                                       "ncust": CUSTOMERS, "visits": VISITS})
        progress(f"[bench]   visits {min(start + batch, VISITS):,}/{VISITS:,}")


def _info(org_id, cur):
    cur.execute("SELECT value FROM bench_meta WHERE key = 'visits.in_at correlation'")
    return {"org_id": org_id, "admin": ADMIN, "password": PASSWORD,
            "manager": "bench-manager@bench.fieldsales.dev", "day0": DAY0, "tz": TZ,
            "built_at": datetime.now(UTC), "in_at_correlation": cur.fetchone()[0]}
