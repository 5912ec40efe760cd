"""targets_progress: p50 latency of the org-level monthly progress tree — GET
/targets/progress?period=&metric=visits as the admin: the org's target, its 10 teams' and
500 reps' (511 targets) computed live from the shared 1M-visit data set (bench/_dataset.py)
— through the API (gunicorn, auth, scope, the targets, one achieved statement, JSON) vs the
same achieved statement and target rows read raw through psycopg2 in the same run.

The shared data set has visits only (no deals or payments yet), so the tree is of visits
targets; the statement reads only the metrics its targets name."""
import re
import sys

import requests

from bench import _dataset
from bench.harness import connect, gunicorn, login, percentile, result, timed

PERIOD, FIRST, LAST = "2026-09", "2026-09-01", "2026-09-30"  # inside the data set's 100 days
PER_REP = 20 * 30


def ensure_targets(org_id):
    """The org's, each team's and each rep's visits target for PERIOD (published)."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM targets WHERE org_id = %s AND period = %s",
                    (org_id, PERIOD))
        if cur.fetchone()[0]:
            return
        print("[bench] targets_progress: inserting targets …", file=sys.stderr)
        params = {"org": org_id, "period": PERIOD, "first": FIRST, "last": LAST, "per": PER_REP}
        cur.execute("""
            INSERT INTO targets (org_id, id, metric, period, starts, ends, subject_type,
                                 subject_id, amount, status)
            SELECT %(org)s, gen_random_uuid(), 'visits', %(period)s, %(first)s, %(last)s, 'org',
                   %(org)s, %(per)s * (SELECT count(*) FROM users
                                       WHERE org_id = %(org)s AND role = 'rep'), 'published'
        """, params)
        cur.execute("""
            INSERT INTO targets (org_id, id, metric, period, starts, ends, subject_type,
                                 subject_id, amount, parent_id, status)
            SELECT %(org)s, gen_random_uuid(), 'visits', %(period)s, %(first)s, %(last)s,
                   'team', tm.id, %(per)s * (SELECT count(*) FROM users u
                                             WHERE u.org_id = %(org)s AND u.team_id = tm.id
                                               AND u.role = 'rep'),
                   (SELECT id FROM targets WHERE org_id = %(org)s AND period = %(period)s
                                             AND subject_type = 'org'), 'published'
              FROM teams tm WHERE tm.org_id = %(org)s
        """, params)
        cur.execute("""
            INSERT INTO targets (org_id, id, metric, period, starts, ends, subject_type,
                                 subject_id, amount, parent_id, status)
            SELECT %(org)s, gen_random_uuid(), 'visits', %(period)s, %(first)s, %(last)s,
                   'user', u.id, %(per)s, t.id, 'published'
              FROM users u JOIN targets t ON t.org_id = %(org)s AND t.period = %(period)s
                                         AND t.subject_type = 'team' AND t.subject_id = u.team_id
             WHERE u.org_id = %(org)s AND u.role = 'rep'
        """, params)
        cur.execute("ANALYZE targets; ANALYZE user_team_history")


def raw_statement():
    """fieldsales.targets.progress.ACHIEVED in psycopg2's parameter style."""
    from fieldsales.targets.progress import ACHIEVED

    return re.sub(r"(?<!:):(\w+)", r"%(\1)s", str(ACHIEVED).replace("%", "%%"))


def run():
    ds = _dataset.ensure()
    org_id = ds["org_id"]
    ensure_targets(org_id)
    n = 40
    with gunicorn(workers=2) as (base, _):
        headers = login(base, ds["admin"], ds["password"])
        session = requests.Session()
        shape = {}

        def api():
            r = session.get(f"{base}/api/v1/targets/progress",
                            params={"period": PERIOD, "metric": "visits"}, headers=headers,
                            timeout=120)
            r.raise_for_status()
            tree = r.json()
            shape.update(roots=len(tree), teams=len(tree[0]["children"]),
                         achieved=tree[0]["achieved"])

        ours = timed(api, n, warmup=5)
    sql = raw_statement()
    with connect() as conn, conn.cursor() as cur:
        def raw():
            cur.execute("SELECT * FROM targets WHERE org_id = %(org)s AND period = %(period)s "
                        "AND metric = 'visits'", {"org": org_id, "period": PERIOD})
            ids = [row[1] for row in cur.fetchall()]
            cur.execute(sql, {"org_id": org_id, "ids": ids})
            cur.fetchall()

        baseline = timed(raw, n, warmup=5)
    p50_ours, p50_raw = percentile(ours, 50), percentile(baseline, 50)
    return result(
        "targets_progress", p50_ours, p50_raw, "ms p50", higher_is_better=False,
        min_ratio=0.8,
        notes=f"org + {shape.get('teams')} teams + reps visits targets for {PERIOD} over the "
              f"{_dataset.VISITS:,}-visit data set (achieved {shape.get('achieved')}); p50 ours "
              f"{p50_ours:.0f} ms vs raw {p50_raw:.0f} ms; target ratio >= 0.8")


if __name__ == "__main__":
    print(run())
