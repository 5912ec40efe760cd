"""claim_next: claims per second with 16 concurrent reps over a pool of 40,000 leads, through
the API (gunicorn, auth, validation, scope, limits, ledger, audit chain, JSON) with http.client
clients, against, in the same run and the same gunicorn (the app plus one bare route):
- the HTTP floor: POST /bench/bare-visits (bench/_bare_flask.py, one psycopg2 INSERT), same
  clients and concurrency (the ratio's denominator);
- the SQL floor: the statements a claim-next sends (claim statement, audit head, audit entry)
  straight through psycopg2 from 16 threads (bench/_floor_claim.py), reported beside.

Then the limits under contention through the API: one rep firing 32 claim-next at once against
a pool with holding_limit 20, and against one with daily_claim_limit 10; and a check over the
whole run that no rep holds more than the holding limit, claimed more than the daily limit on
any local day, and that no lead was handed to two reps."""
import sys
import threading
import time
from collections import Counter

import requests

from bench import check_in
from bench._floor_claim import claim_next
from bench._load import DURATION_S, ROUNDS, alternate, closed_loop, http_work, throughput_row
from bench._sql_floor import sql_work
from bench.harness import connect, ensure_org, gunicorn, login, scaled

# Enough for the fastest phase (the SQL floor) to run a round without emptying the pool.
N_LEADS = scaled(40_000, minimum=5_000)
N_REPS = 16
CENTER = (31.2304, 121.4737)
ADMIN = "bench-admin@bench-leads.fieldsales.dev"
PASSWORD = "bench-password-1"
TZ = "Asia/Shanghai"

def _password_hash():
    from fieldsales import create_app
    from fieldsales.auth.passwords import hash_password

    with create_app().app_context():
        return hash_password(PASSWORD)


def ensure_data():
    """The bench org: a team, 16 reps and a rep for the limit checks, and three pools."""
    org_id = ensure_org("Bench leads", ADMIN, PASSWORD, TZ)
    # N_REPS reps for the API, one for the limit checks, N_REPS for the SQL floor.
    emails = [f"bench-rep{i}@bench-leads.fieldsales.dev" for i in range(N_REPS + 1)]
    emails += [f"bench-sqlrep{i}@bench-leads.fieldsales.dev" for i in range(N_REPS)]
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM users WHERE org_id = %s AND role = 'rep'", (org_id,))
        if cur.fetchone()[0] < len(emails):
            print("[bench] creating reps and pools …", file=sys.stderr)
            pw = _password_hash()
            cur.execute("SELECT id FROM teams WHERE org_id = %s AND name = 'Bench team'",
                        (org_id,))
            team = cur.fetchone()
            if team is None:
                cur.execute("INSERT INTO teams (id, org_id, name) VALUES (gen_random_uuid(), "
                            "%s, 'Bench team') RETURNING id", (org_id,))
                team = cur.fetchone()
            team_id = team[0]
            for email in emails:
                cur.execute("INSERT INTO users (id, org_id, email, name, role, team_id, "
                            "password_hash) VALUES (gen_random_uuid(), %s, %s, %s, 'rep', %s, %s) "
                            "ON CONFLICT DO NOTHING",
                            (org_id, email, email.split("@")[0], team_id, pw))
            for name, holding, daily in (("throughput", 10_000, 10_000),
                                         ("holding-check", 20, 1_000),
                                         ("daily-check", 1_000, 10)):
                cur.execute("INSERT INTO lead_pools (id, org_id, name, team_id, holding_limit, "
                            "daily_claim_limit) SELECT gen_random_uuid(), %s, %s, %s, %s, %s "
                            "WHERE NOT EXISTS (SELECT 1 FROM lead_pools WHERE org_id = %s "
                            "AND name = %s)",
                            (org_id, name, team_id, holding, daily, org_id, name))
        cur.execute("SELECT name, id, holding_limit, daily_claim_limit FROM lead_pools "
                    "WHERE org_id = %s", (org_id,))
        pools = {name: (str(pid), hl, dl) for name, pid, hl, dl in cur.fetchall()}
        wanted = {"throughput": N_LEADS, "holding-check": 200, "daily-check": 200}
        for name, n in wanted.items():
            cur.execute("SELECT count(*) FROM leads WHERE pool_id = %s", (pools[name][0],))
            n -= cur.fetchone()[0]
            if n > 0:
                print(f"[bench] inserting {n:,} leads into {name} …", file=sys.stderr)
                cur.execute("""
                    INSERT INTO leads (id, org_id, pool_id, name, company, lat, lng, tags,
                                       status, follow_up_count, created_at)
                    SELECT gen_random_uuid(), %(org)s, %(pool)s, 'Bench lead ' || g,
                           -- unique: one company is one holder (duplicate guard)
                           'Bench company ' || gen_random_uuid(),
                           %(lat)s + (random() - 0.5) * 0.5,
                           %(lng)s + (random() - 0.5) * 0.6, '{}', 'pooled', 0,
                           now() - make_interval(secs => g)
                    FROM generate_series(1, %(n)s) g
                """, {"org": org_id, "pool": pools[name][0], "n": n, "lat": CENTER[0],
                      "lng": CENTER[1]})
        cur.execute("ANALYZE leads")
    return org_id, emails, pools


def reset(org_id, pool_ids):
    """Every lead of the bench pools back in its pool, counters and ledger cleared."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("UPDATE leads SET status = 'pooled', owner_id = NULL, claimed_at = NULL "
                    "WHERE pool_id = ANY(%s::uuid[]) AND status <> 'pooled'", (pool_ids,))
        for table in ("lead_events", "lead_cooldowns"):
            cur.execute(f"DELETE FROM {table} WHERE lead_id IN "  # noqa: S608 (fixed names)
                        "(SELECT id FROM leads WHERE pool_id = ANY(%s::uuid[]))", (pool_ids,))
        cur.execute("DELETE FROM lead_daily_claims WHERE pool_id = ANY(%s::uuid[])",
                    (pool_ids,))
        cur.execute("DROP TABLE IF EXISTS bench_raw_leads")  # the old raw baseline's copy
    conn = connect()
    conn.autocommit = True  # VACUUM runs outside a transaction
    try:
        with conn.cursor() as cur:
            for table in ("leads", "lead_holdings", "lead_daily_claims"):
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
    sql_reps = [ids[e] for e in emails[N_REPS + 1:]]
    visits_org = check_in.ensure_data()
    exhausted = []

    def sql_claim(cur, i):
        claimed = claim_next(cur, org_id=org_id, pool_id=throughput_pool[0], user_id=sql_reps[i],
                             daily_limit=throughput_pool[2])
        if not claimed:
            exhausted.append(i)
        return claimed

    with gunicorn(app="bench._bare_flask:app") as (base, _):
        headers = [login(base, e, PASSWORD) for e in emails[:N_REPS + 1]]
        floor_reps = check_in.reps_with_customers(base, "bench-visit-rep")
        loads = alternate({
            "ours": lambda: closed_loop(http_work(
                base, "POST", f"/api/v1/lead-pools/{throughput_pool[0]}/claim-next",
                body=lambda i: b"{}", headers=lambda i: headers[i], expect=(200,)), N_REPS),
            "HTTP floor": lambda: closed_loop(check_in.http_floor_work(
                base, floor_reps, visits_org), N_REPS),
            "SQL floor": lambda: closed_loop(sql_work(sql_claim), N_REPS),
        }, before=lambda label: label != "HTTP floor" and reset(org_id, pool_ids))
        holding = contention(base, headers[N_REPS], holding_pool[0], "holding_limit_reached")
        daily = contention(base, headers[N_REPS], daily_pool[0], "daily_claim_limit_reached")
    found = violations(org_id)
    check = (f"limit check: holding pool ({holding_pool[1]}): {holding[(200, None)]} claimed of "
             f"32 concurrent; daily pool ({daily_pool[2]}): {daily[(200, None)]} claimed of 32; "
             + ", ".join(f"{k}: {v}" for k, v in found.items()))
    print(f"[bench] {check}", file=sys.stderr)
    ok = (holding[(200, None)] == holding_pool[1] and daily[(200, None)] == daily_pool[2]
          and not any(found.values()))
    row = throughput_row(
        "claim_next", "claims/s", loads, min_ratio=0.5,
        what=f"{N_REPS} concurrent reps, pool of {N_LEADS:,}, {ROUNDS} rounds of "
             f"{DURATION_S:.0f} s",
        extra=f"; {'ZERO limit violations' if ok else 'LIMIT VIOLATIONS'} ({check})"
              + ("; THE POOL RAN EMPTY in the SQL floor: raise N_LEADS" if exhausted else ""))
    row["limits_ok"] = ok
    return row


if __name__ == "__main__":
    print(run())
