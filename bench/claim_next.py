"""claim_next: claims per second with 16 concurrent reps over a pool of 10,000 leads, through
the API (gunicorn, auth, validation, scope, limits, ledger, audit chain, JSON) vs the raw SQL
claim of one row (UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED)) through psycopg2
at the same concurrency, each thread with its own connection, on a plain copy of the leads table
(no trigger, no foreign keys: the bare cost of the claim).

Then the limits under contention through the API: one rep firing 32 claim-next at once against
a pool with holding_limit 20, and against one with daily_claim_limit 10; and a check over the
whole run that no rep holds more than the holding limit, claimed more than the daily limit on
any local day, and that no lead was handed to two reps."""
import sys
import threading
import time
from collections import Counter

import requests

from bench.harness import connect, ensure_org, gunicorn, login, result

N_LEADS = 10_000
N_REPS = 16
CLAIMS_PER_REP_API = 250      # 4,000 API claims per run
CLAIMS_PER_REP_RAW = 500      # 8,000 raw claims per run (the raw path is much faster)
ROUNDS = 3
CENTER = (31.2304, 121.4737)
ADMIN = "bench-admin@bench-leads.fieldsales.dev"
PASSWORD = "bench-password-1"
TZ = "Asia/Shanghai"

RAW_CLAIM = """
UPDATE bench_raw_leads SET status = 'claimed', owner_id = %(user)s, claimed_at = now()
WHERE id = (SELECT id FROM bench_raw_leads
            WHERE pool_id = %(pool)s AND status = 'pooled'
            ORDER BY created_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id
"""


def _password_hash():
    from fieldsales import create_app
    from fieldsales.auth.passwords import hash_password

    with create_app().app_context():
        return hash_password(PASSWORD)


def ensure_data():
    """The bench org: a team, 16 reps and a rep for the limit checks, and three pools."""
    org_id = ensure_org("Bench leads", ADMIN, PASSWORD, TZ)
    emails = [f"bench-rep{i}@bench-leads.fieldsales.dev" for i in range(N_REPS + 1)]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE org_id = %s AND role = 'rep'", (org_id,))
        if cur.fetchone()[0] < len(emails):
            print("[bench] creating reps and pools …", file=sys.stderr)
            pw = _password_hash()
            cur.execute("INSERT INTO teams (id, org_id, name) VALUES (gen_random_uuid(), %s, "
                        "'Bench team') RETURNING id", (org_id,))
            team_id = cur.fetchone()[0]
            for email in emails:
                cur.execute("INSERT INTO users (id, org_id, email, name, role, team_id, "
                            "password_hash) VALUES (gen_random_uuid(), %s, %s, %s, 'rep', %s, %s)",
                            (org_id, email, email.split("@")[0], team_id, pw))
            for name, holding, daily in (("throughput", 10_000, 10_000),
                                         ("holding-check", 20, 1_000),
                                         ("daily-check", 1_000, 10)):
                cur.execute("INSERT INTO lead_pools (id, org_id, name, team_id, holding_limit, "
                            "daily_claim_limit) VALUES (gen_random_uuid(), %s, %s, %s, %s, %s)",
                            (org_id, name, team_id, holding, daily))
        cur.execute("SELECT name, id, holding_limit, daily_claim_limit FROM lead_pools "
                    "WHERE org_id = %s", (org_id,))
        pools = {name: (str(pid), hl, dl) for name, pid, hl, dl in cur.fetchall()}
        cur.execute("SELECT count(*) FROM leads WHERE pool_id = %s", (pools["throughput"][0],))
        if cur.fetchone()[0] < N_LEADS:
            print(f"[bench] inserting {N_LEADS} leads …", file=sys.stderr)
            for name, n in (("throughput", N_LEADS), ("holding-check", 200),
                            ("daily-check", 200)):
                cur.execute("""
                    INSERT INTO leads (id, org_id, pool_id, name, company, lat, lng, tags,
                                       status, follow_up_count, created_at)
                    SELECT gen_random_uuid(), %(org)s, %(pool)s, 'Bench lead ' || g,
                           'Bench company ' || g, %(lat)s + (random() - 0.5) * 0.5,
                           %(lng)s + (random() - 0.5) * 0.6, '{}', 'pooled', 0,
                           now() - make_interval(secs => g)
                    FROM generate_series(1, %(n)s) g
                """, {"org": org_id, "pool": pools[name][0], "n": n, "lat": CENTER[0],
                      "lng": CENTER[1]})
            cur.execute("ANALYZE leads")
    return org_id, emails, pools


def reset(org_id, pool_ids):
    """Every lead of the bench pools back in its pool, counters and ledger cleared, and a fresh
    raw copy of the throughput pool."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE leads SET status = 'pooled', owner_id = NULL, claimed_at = NULL "
                    "WHERE pool_id = ANY(%s::uuid[]) AND status <> 'pooled'", (pool_ids,))
        for table in ("lead_events", "lead_cooldowns"):
            cur.execute(f"DELETE FROM {table} WHERE lead_id IN "  # noqa: S608 (fixed names)
                        "(SELECT id FROM leads WHERE pool_id = ANY(%s::uuid[]))", (pool_ids,))
        cur.execute("DELETE FROM lead_daily_claims WHERE pool_id = ANY(%s::uuid[])",
                    (pool_ids,))
        cur.execute("CREATE TABLE IF NOT EXISTS bench_raw_leads (LIKE leads INCLUDING ALL)")
        cur.execute("TRUNCATE bench_raw_leads")
        cur.execute("SELECT string_agg(column_name, ', ') FROM information_schema.columns "
                    "WHERE table_name = 'leads' AND is_generated = 'NEVER'")
        columns = cur.fetchone()[0]
        cur.execute(f"INSERT INTO bench_raw_leads ({columns}) SELECT {columns} FROM leads "  # noqa: S608
                    "WHERE pool_id = %s", (pool_ids[0],))
        cur.execute("ANALYZE bench_raw_leads")
    conn = connect()
    conn.autocommit = True  # VACUUM runs outside a transaction
    try:
        with conn.cursor() as cur:
            for table in ("leads", "lead_holdings", "lead_daily_claims", "bench_raw_leads"):
                cur.execute(f"VACUUM ANALYZE {table}")
    finally:
        conn.close()


def run_concurrently(n, fn):
    """n threads start together; returns (results, elapsed seconds)."""
    barrier = threading.Barrier(n + 1)
    results = [None] * n
    errors = []

    def worker(i):
        try:
            barrier.wait()
            results[i] = fn(i)
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise RuntimeError(f"{len(errors)} worker(s) failed: {errors[0]!r}")
    return results, elapsed


def raw_round(pool_id, rep_ids):
    conns = [connect() for _ in rep_ids]
    for c in conns:
        c.autocommit = True

    def claim(i):
        got = []
        with conns[i].cursor() as cur:
            for _ in range(CLAIMS_PER_REP_RAW):
                cur.execute(RAW_CLAIM, {"user": rep_ids[i], "pool": pool_id})
                got.append(cur.fetchone()[0])
        return got

    try:
        results, elapsed = run_concurrently(len(rep_ids), claim)
    finally:
        for c in conns:
            c.close()
    claimed = [x for got in results for x in got]
    assert len(claimed) == len(set(claimed)), "raw: a lead was claimed twice"
    return len(claimed) / elapsed


def api_round(base, headers, pool_id):
    sessions = [requests.Session() for _ in headers]

    def claim(i):
        got = []
        for _ in range(CLAIMS_PER_REP_API):
            r = sessions[i].post(f"{base}/api/v1/lead-pools/{pool_id}/claim-next", json={},
                                 headers=headers[i], timeout=60)
            if r.status_code != 200:
                raise RuntimeError(f"claim-next: {r.status_code} {r.text[:200]}")
            got.append(r.json()["id"])
        return got

    results, elapsed = run_concurrently(len(headers), claim)
    claimed = [x for got in results for x in got]
    return len(claimed) / elapsed, claimed


def ceiling(base, headers, path, n=100):
    """Requests/s of a trivial GET at the same concurrency: what the HTTP stack (gunicorn,
    Flask, auth) allows on this machine before any claim work, for reading the ratio."""
    sessions = [requests.Session() for _ in headers]

    def get(i):
        for _ in range(n):
            sessions[i].get(base + path, headers=headers[i], timeout=60).raise_for_status()
        return n

    results, elapsed = run_concurrently(len(headers), get)
    return sum(results) / elapsed


def contention(base, headers, pool_id, expected_error):
    """One rep fires 32 claim-next at once: returns Counter of (status, error)."""
    session_headers = headers

    def fire(_):
        r = requests.post(f"{base}/api/v1/lead-pools/{pool_id}/claim-next", json={},
                          headers=session_headers, timeout=60)
        return r.status_code, r.json().get("error")

    results, _ = run_concurrently(32, fire)
    codes = Counter(results)
    assert set(codes) <= {(200, None), (422, expected_error)}, codes
    return codes


VIOLATIONS_SQL = {
    "reps over holding_limit": """
        SELECT count(*) FROM (
          SELECT l.owner_id FROM leads l JOIN lead_pools p ON p.id = l.pool_id
          WHERE l.org_id = %(org)s AND l.status = 'claimed'
          GROUP BY l.owner_id, l.pool_id, p.holding_limit HAVING count(*) > p.holding_limit) x
    """,
    "holdings counter drift": """
        SELECT count(*) FROM lead_holdings h
        WHERE h.org_id = %(org)s AND h.holding <> (
          SELECT count(*) FROM leads l WHERE l.pool_id = h.pool_id AND l.owner_id = h.user_id
          AND l.status = 'claimed')
    """,
    "rep-days over daily_claim_limit": """
        SELECT count(*) FROM (
          SELECT e.to_user_id FROM lead_events e JOIN leads l ON l.id = e.lead_id
          JOIN lead_pools p ON p.id = l.pool_id
          WHERE e.org_id = %(org)s AND e.action = 'claimed'
          GROUP BY e.to_user_id, l.pool_id, (e.at AT TIME ZONE 'Asia/Shanghai')::date,
                   p.daily_claim_limit
          HAVING count(*) > p.daily_claim_limit) x
    """,
    "leads claimed twice": """
        SELECT count(*) FROM (
          SELECT lead_id FROM lead_events WHERE org_id = %(org)s AND action = 'claimed'
          GROUP BY lead_id HAVING count(*) > 1) x
    """,
}


def violations(org_id):
    with connect() as conn, conn.cursor() as cur:
        out = {}
        for name, sql in VIOLATIONS_SQL.items():
            cur.execute(sql, {"org": org_id})
            out[name] = cur.fetchone()[0]
    return out


def run():
    org_id, emails, pools = ensure_data()
    throughput_pool, holding_pool, daily_pool = (pools["throughput"], pools["holding-check"],
                                                 pools["daily-check"])
    pool_ids = [throughput_pool[0], holding_pool[0], daily_pool[0]]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT email, id FROM users WHERE org_id = %s", (org_id,))
        ids = {email: str(uid) for email, uid in cur.fetchall()}
    rep_ids = [ids[e] for e in emails[:N_REPS]]

    raw_rates, api_rates = [], []
    with gunicorn() as (base, _):
        headers = [login(base, e, PASSWORD) for e in emails]
        for n in range(ROUNDS):
            reset(org_id, pool_ids)
            raw_rates.append(raw_round(throughput_pool[0], rep_ids))
            reset(org_id, pool_ids)
            rate, claimed = api_round(base, headers[:N_REPS], throughput_pool[0])
            api_rates.append(rate)
            dupes = len(claimed) - len(set(claimed))
            print(f"[bench] round {n + 1}: raw {raw_rates[-1]:.0f}/s, api {rate:.0f}/s, "
                  f"{dupes} leads handed out twice", file=sys.stderr)
        health = ceiling(base, [{}] * N_REPS, "/healthz")
        me = ceiling(base, headers[:N_REPS], "/api/v1/me")
        holding = contention(base, headers[N_REPS], holding_pool[0], "holding_limit_reached")
        daily = contention(base, headers[N_REPS], daily_pool[0], "daily_claim_limit_reached")
    found = violations(org_id)
    check = (f"limit check: holding pool ({holding_pool[1]}): {holding[(200, None)]} claimed of "
             f"32 concurrent; daily pool ({daily_pool[2]}): {daily[(200, None)]} claimed of 32; "
             + ", ".join(f"{k}: {v}" for k, v in found.items()))
    print(f"[bench] {check}", file=sys.stderr)
    ok = (holding[(200, None)] == holding_pool[1] and daily[(200, None)] == daily_pool[2]
          and not any(found.values()))
    ours, baseline = sorted(api_rates)[len(api_rates) // 2], sorted(raw_rates)[
        len(raw_rates) // 2]
    return result(
        "claim_next", ours, baseline, "claims/s", higher_is_better=True,
        notes=f"{N_REPS} concurrent reps, pool of {N_LEADS}, median of {ROUNDS} rounds "
              f"(api {', '.join(f'{r:.0f}' for r in api_rates)}; raw "
              f"{', '.join(f'{r:.0f}' for r in raw_rates)}); "
              f"{'ZERO limit violations' if ok else 'LIMIT VIOLATIONS'} ({check}); "
              f"stack ceiling at the same concurrency: GET /healthz {health:.0f}/s, "
              f"GET /api/v1/me {me:.0f}/s; target >= 0.5")


if __name__ == "__main__":
    print(run())
