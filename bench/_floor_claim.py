"""claim_next's SQL floor: what a claim-next (oldest first) sends to PostgreSQL, without HTTP
or Python layers — the claim statement (pick with SKIP LOCKED, daily counter, claim with the
holdings trigger, ledger entry: fieldsales/leads/claims.py's CLAIM_NEXT_SQL), the audit head
lock, one statement writing the audit entry and the head; commit. 5 round trips with
psycopg2's BEGIN and the COMMIT."""
import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bench._sql_floor import Chain, digest

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
)
SELECT * FROM claimed
"""


def claim_next(cur, *, org_id, pool_id, user_id, daily_limit, tz="Asia/Shanghai"):
    """Claim the oldest claimable lead for `user_id`; False when none was claimed."""
    now = datetime.now(UTC)
    params = {"org": org_id, "pool": pool_id, "user": user_id, "now": now,
              "day": now.astimezone(ZoneInfo(tz)).date(), "daily_limit": daily_limit,
              "event_id": str(uuid.uuid4())}
    cur.execute(CLAIM_OLDEST, params)
    row = cur.fetchone()
    if row is None:
        return False
    lead = dict(zip([d.name for d in cur.description], row, strict=True))
    chain = Chain(cur, org_id, user_id)
    chain.append("lead.claimed", "lead", lead["id"],
                 {"lead_event_id": params["event_id"], "via": "claim_next",
                  "evidence_sha256": digest(lead)})
    audit, audit_params = chain.ctes()
    cur.execute(f"WITH {audit} SELECT 1", audit_params)
    return True
