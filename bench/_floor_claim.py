"""claim_next's SQL floor: what a claim-next (oldest first) sends to PostgreSQL, without HTTP
or Python layers, in the fewest statements: the claim statement (pick with SKIP LOCKED, daily
counter, claim with the holdings trigger, ledger entry: fieldsales/leads/claims.py's
CLAIM_NEXT_SQL) with the audit head lock in it, then one statement writing the audit entry
and the head; COMMIT. 4 round trips with psycopg2's BEGIN."""
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench._sql_floor import GENESIS, Chain, digest

CLAIM_OLDEST = """
WITH pick AS (
    SELECT l.id FROM leads l
    WHERE l.org_id = %(org)s AND l.pool_id = %(pool)s AND l.status = 'pooled'
      AND NOT EXISTS (SELECT 1 FROM lead_cooldowns c
                      WHERE c.lead_id = l.id AND c.user_id = %(user)s AND c.until > %(now)s)
    ORDER BY l.created_at, l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED
), counted AS (
    INSERT INTO lead_daily_claims AS d (org_id, pool_id, user_id, day, claims)
    SELECT %(org)s, %(pool)s, %(user)s, %(day)s, 1 FROM pick
    ON CONFLICT (pool_id, user_id, day) DO UPDATE SET claims = d.claims + 1
    WHERE d.claims < %(daily_limit)s
    RETURNING claims
), claimed AS (
    UPDATE leads l SET status = 'claimed', owner_id = %(user)s, claimed_at = %(now)s
    FROM pick, counted
    WHERE l.id = pick.id
    RETURNING l.*
), logged AS (
    INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, to_user_id)
    SELECT %(event_id)s, org_id, id, %(now)s, 'claimed', %(user)s, %(user)s FROM claimed
), audit_head AS (
    INSERT INTO audit_heads AS h (user_id, org_id, seq, hash)
    SELECT %(user)s, %(org)s, 0, %(genesis)s FROM claimed
    ON CONFLICT (user_id) DO UPDATE SET seq = h.seq
    RETURNING seq, hash
)
SELECT audit_head.seq, audit_head.hash, claimed.* FROM claimed, audit_head
"""


def claim_next(cur, *, org_id, pool_id, user_id, daily_limit, tz="Asia/Shanghai"):
    """Claim the oldest claimable lead for `user_id`; False when none was claimed."""
    now = datetime.now(UTC)
    params = {"org": org_id, "pool": pool_id, "user": user_id, "now": now,
              "day": now.astimezone(ZoneInfo(tz)).date(), "daily_limit": daily_limit,
              "event_id": str(uuid.uuid4()), "genesis": GENESIS}
    cur.execute(CLAIM_OLDEST, params)
    row = cur.fetchone()
    if row is None:
        return False
    lead = dict(zip([d.name for d in cur.description[2:]], row[2:], strict=True))
    chain = Chain(org_id, user_id, row[0], row[1])
    chain.append("lead.claimed", "lead", lead["id"],
                 {"lead_event_id": params["event_id"], "via": "claim_next",
                  "evidence_sha256": digest(lead)})
    audit, audit_params = chain.ctes()
    cur.execute(f"WITH {audit} SELECT 1", audit_params)
    return True
