"""GET /targets/progress: each visible target with what was achieved, computed live in one SQL
statement (never stored), its children nested, and the linear pace to date.

Whose achievement: an event counts for the user it belongs to (metrics.py) on that user's
local date (the user's time zone, else the org's); for a team, for the team the user was in
*at the time of the event* (user_team_history, kept by a trigger on users), summed over the
team's whole subtree as it is today; for the org, everything in it. A rep who moves from East
to West in March leaves February's visits with East and brings April's to West."""
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import literal_column, select, text
from sqlalchemy.dialects import postgresql

from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal
from fieldsales.targets import metrics, periods
from fieldsales.targets.models import Target
from fieldsales.targets.service import matches
from fieldsales.timeutil import local_date
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone, effective_timezone_sql

CENT = Decimal("0.01")


def _zone_sql() -> str:
    expr = effective_timezone_sql(literal_column("u.timezone"), literal_column("o.timezone"))
    return str(expr.compile(dialect=postgresql.dialect(),
                            compile_kwargs={"literal_binds": True}))


# Built from constants (metrics.py, the zone rule); the request supplies bind values only.
# The events of the span are read once and rolled up per (metric, user, team of the time,
# local day); each target then sums the rows of its user, its teams or the whole org.
ACHIEVED = text(f"""
WITH t AS (
    SELECT id, metric, subject_type, subject_id, starts, ends FROM targets
     WHERE org_id = :org_id AND id = ANY(CAST(:ids AS uuid[]))
), span AS (
    SELECT metric, min(starts) AS first, max(ends) AS last,
           (min(starts) - 2)::timestamp AT TIME ZONE 'UTC' AS lo,
           (max(ends) + 2)::timestamp AT TIME ZONE 'UTC' AS hi
      FROM t GROUP BY metric
), located AS (  -- each event's local day, and its time (a day's: its local midnight)
    SELECT ev.metric, ev.user_id, ev.value,
           coalesce(ev.day, (ev.at AT TIME ZONE {_zone_sql()})::date) AS day,
           coalesce(ev.at, ev.day::timestamp AT TIME ZONE {_zone_sql()}) AS at
      FROM ({metrics.events_sql()}) ev (metric, user_id, at, day, value)
      JOIN orgs o ON o.id = :org_id
      LEFT JOIN users u ON u.org_id = :org_id AND u.id = ev.user_id
), daily AS (
    SELECT ev.metric, ev.user_id, h.team_id, ev.day, sum(ev.value) AS value
      FROM located ev
      LEFT JOIN user_team_history h
        ON h.org_id = :org_id AND h.user_id = ev.user_id
       AND h.since <= ev.at AND (h.until IS NULL OR ev.at < h.until)
     GROUP BY 1, 2, 3, 4
), team_of AS (  -- each team target's team and the teams below it today
    SELECT t.id, sub.team_id FROM t CROSS JOIN LATERAL (
        WITH RECURSIVE sub(team_id) AS (
            SELECT t.subject_id
            UNION ALL
            SELECT tm.id FROM teams tm JOIN sub ON tm.parent_id = sub.team_id
             WHERE tm.org_id = :org_id)
        SELECT team_id FROM sub) sub
     WHERE t.subject_type = 'team'
), credit AS (
    SELECT t.id, d.value FROM t JOIN daily d
        ON d.metric = t.metric AND d.day BETWEEN t.starts AND t.ends
     WHERE t.subject_type = 'org'
    UNION ALL
    SELECT t.id, d.value FROM t JOIN daily d
        ON d.metric = t.metric AND d.user_id = t.subject_id AND d.day BETWEEN t.starts AND t.ends
     WHERE t.subject_type = 'user'
    UNION ALL
    SELECT t.id, d.value FROM t JOIN team_of tt ON tt.id = t.id JOIN daily d
        ON d.metric = t.metric AND d.team_id = tt.team_id AND d.day BETWEEN t.starts AND t.ends
)
SELECT t.id, coalesce(sum(c.value), 0) AS achieved
  FROM t LEFT JOIN credit c ON c.id = t.id
 GROUP BY t.id
""")  # noqa: S608


def achieved(org_id, ids) -> dict:
    """{target id: achieved} for these targets of the org (one statement)."""
    if not ids:
        return {}
    rows = db.session.execute(ACHIEVED, {"org_id": org_id, "ids": list(ids)})
    return {row.id: row.achieved for row in rows}


def _today(target: Target, zones: dict, as_of):
    """The day the pace is computed for: `as_of`, or today where the subject is."""
    if as_of is not None:
        return as_of
    zone = zones.get(target.subject_id) if target.subject_type == "user" else None
    return local_date(datetime.now(UTC), zone or zones["org"])


def _zones(principal: Principal, targets) -> dict:
    """The effective time zone of the org and of each user a target is for."""
    users = {t.subject_id for t in targets if t.subject_type == "user"}
    org_tz = db.session.scalar(select(Org.timezone).where(Org.id == principal.org_id))
    zones = {"org": effective_timezone(None, org_tz)}
    if users:
        zones.update(db.session.execute(select(User.id, User.timezone).where(
            User.org_id == principal.org_id, User.id.in_(users))).all())
        zones = {k: effective_timezone(v, org_tz) for k, v in zones.items()}
    return zones


def _entry(target, done: dict, kids: dict, today_of):
    amount, got = target.amount, done.get(target.id, Decimal(0))
    period = periods.parse(target.period)
    expected = (amount * period.elapsed_days(today_of(target)) / period.days).quantize(
        CENT, ROUND_HALF_UP)
    return {
        "target": target, "achieved": got,
        "rate": float(round(got / amount, 4)) if amount else None,
        "expected_to_date": expected, "gap": expected - got,
        "children": [_entry(c, done, kids, today_of) for c in kids.get(target.id, [])],
    }


def progress(*, principal: Principal, filters: dict):
    """The visible targets matching the filters (those whose parent does not match too), each
    with its visible children's progress nested."""
    rows = db.session.execute(select(Target, matches(filters).label("matching"))
                              .where(principal.scope.targets())).all()
    visible = [t for t, _ in rows]
    ids = {t.id for t, matching in rows if matching}
    roots = [t for t, matching in rows if matching and t.parent_id not in ids]
    kids: dict = {}
    for t in sorted(visible, key=lambda t: (t.starts, t.subject_type, str(t.subject_id))):
        if t.parent_id is not None:
            kids.setdefault(t.parent_id, []).append(t)
    tree, stack = [], list(roots)
    while stack:
        t = stack.pop()
        tree.append(t)
        stack.extend(kids.get(t.id, []))
    done = achieved(principal.org_id, {t.id for t in tree})
    zones = _zones(principal, tree)
    roots.sort(key=lambda t: (t.starts, t.ends, t.metric, t.subject_type, str(t.subject_id)))
    return [_entry(t, done, kids, lambda t: _today(t, zones, filters.get("as_of")))
            for t in roots]
