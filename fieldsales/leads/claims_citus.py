"""The claim statement in steps, for Citus: it routes a statement to one worker only when no
INSERT in it reads the statement's own rows (INSERT … SELECT in a CTE is planned apart, through
intermediate results), so there the claim is a locking read, then one routed statement per
write, in the lock order of the single statement (leads/claims.py): the lead, the day's
counter, the holding, the org and user keys, the lead's update, its ledger entry (the audit
chain head is locked last by the audit entry's own record()). Plain PostgreSQL keeps the single
statement."""
import functools
from types import SimpleNamespace

from sqlalchemy import text

from fieldsales.extensions import db

_COUNT = text("""INSERT INTO lead_daily_claims AS d (org_id, pool_id, user_id, day, claims)
    VALUES (:org_id, :pick_pool_id, :user_id, :day, 1)
    ON CONFLICT (org_id, pool_id, user_id, day) DO UPDATE SET claims = d.claims + 1
    RETURNING claims""")
_HOLD = text("""INSERT INTO lead_holdings AS h (org_id, pool_id, user_id, holding)
    VALUES (:org_id, :pick_pool_id, :user_id, 0)
    ON CONFLICT (org_id, pool_id, user_id) DO UPDATE SET holding = h.holding""")
_KEYS = text("""SELECT 1 FROM orgs o, users u
    WHERE o.id = :org_id AND u.org_id = :org_id AND u.id = :user_id FOR KEY SHARE OF o, u""")
_LOG = text("""INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, to_user_id)
    VALUES (:event_id, :org_id, :pick_id, :now, 'claimed', :user_id, :user_id)""")


@functools.cache
def _claim_sql(lead_columns):
    returning = ", ".join(f"l.{c.name}" for c in lead_columns)
    sql = f"""UPDATE leads l SET status = 'claimed', owner_id = :user_id, claimed_at = :now
        WHERE l.org_id = :org_id AND l.id = :pick_id RETURNING {returning}"""  # noqa: S608
    return text(sql).columns(*lead_columns)


def claim(params, pick_id, pick_pool_id, daily_claim_limit, lead_columns):
    """Claim the locked lead `pick_id`: its columns as updated, or None past the daily limit
    (the caller refuses, and its rollback undoes the count)."""
    step = {**params, "pick_id": pick_id, "pick_pool_id": pick_pool_id}
    session = db.session
    if session.execute(_COUNT, step).scalar_one() > daily_claim_limit:
        return None
    session.execute(_HOLD, step)
    session.execute(_KEYS, step)
    claimed = session.execute(_claim_sql(lead_columns), step).one()
    session.execute(_LOG, step)
    return SimpleNamespace(**claimed._asdict())
