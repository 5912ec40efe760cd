"""Claiming leads: claim one by id, claim-next (nearest or oldest), the limits and the cooldown.

How the limits hold under concurrency (never count in Python, then write):
- One owner per lead: a claim locks the lead row (FOR UPDATE; claim-next with SKIP LOCKED, so
  concurrent claimers take different leads instead of queueing) and re-reads its state.
- holding_limit: the trigger leads_track_holdings (migration 0003) keeps lead_holdings per
  (pool, rep) on every change of a lead and raises check_violation `lead_holding_limit` when a
  change would take the rep past the limit; its row lock queues one rep's claims behind each
  other, and each sees what the previous one committed.
- daily_claim_limit: a conditional upsert of lead_daily_claims (pool, rep, local day) that
  only increments while below the limit; it locks the row, so the check and the increment are
  one atomic step.
"""
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from fieldsales.db import transaction
from fieldsales.errors import Conflict, NotFound, Unprocessable
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.guards import (closed, daily_limit, flush_holding, holding_limit,
                                     is_holding_limit)
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import Lead, LeadCooldown, LeadDailyClaims, LeadHolding, LeadPool
from fieldsales.leads.reading import reveal
from fieldsales.scope import Principal

_COUNT_DAILY_CLAIM = text("""
    INSERT INTO lead_daily_claims AS d (org_id, pool_id, user_id, day, claims)
    VALUES (:org_id, :pool_id, :user_id, :day, 1)
    ON CONFLICT (pool_id, user_id, day) DO UPDATE SET claims = d.claims + 1
    WHERE d.claims < :daily_limit
    RETURNING claims
""")

_LEAD_COLUMNS = ", ".join(f"l.{c.name}" for c in Lead.__table__.columns if c.name != "geom")

# One statement: pick a claimable lead (skipping rows other claimers hold), count the claim
# against today's limit (only if a lead was picked; nothing is claimed past the limit), claim
# it (the holdings trigger checks holding_limit) and write the ledger entry.
CLAIM_NEXT_SQL = """
WITH {pick}, counted AS (
    INSERT INTO lead_daily_claims AS d (org_id, pool_id, user_id, day, claims)
    SELECT :org_id, :pool_id, :user_id, :day, 1 FROM pick
    ON CONFLICT (pool_id, user_id, day) DO UPDATE SET claims = d.claims + 1
    WHERE d.claims < :daily_limit
    RETURNING claims
), claimed AS (
    UPDATE leads l SET status = 'claimed', owner_id = :user_id, claimed_at = :now
    FROM pick, counted
    WHERE l.id = pick.id
    RETURNING {columns}
), logged AS (
    INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, to_user_id)
    SELECT :event_id, org_id, id, :now, 'claimed', :user_id, :user_id FROM claimed
)
SELECT * FROM claimed
"""
_CLAIMABLE = """
    l.org_id = :org_id AND l.pool_id = :pool_id AND l.status = 'pooled'
    AND NOT EXISTS (SELECT 1 FROM lead_cooldowns c
                    WHERE c.lead_id = l.id AND c.user_id = :user_id AND c.until > :now)
"""
# The oldest claimable lead: the queue pattern on ix_leads_pooled_oldest.
# (S608: only the constant fragment _CLAIMABLE is formatted into these statements.)
_PICK_OLDEST = f"""pick AS (
    SELECT l.id FROM leads l WHERE {_CLAIMABLE}
    ORDER BY l.created_at, l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED
)"""  # noqa: S608
# The nearest one, in two steps: a KNN scan of ix_leads_pooled_geom for candidates, then the
# lock on the closest free one by true (geography) distance. Locking straight off a KNN scan
# fails on PostgreSQL 15 ("attempted to lock invisible tuple" from the reordering GiST scan),
# and a geography KNN scan is ~30x slower than the planar one; among 64 planar-nearest points
# the true nearest is always found at city scale, and the 64 outnumber concurrent lockers.
_PICK_NEAREST = f"""nearby AS (
    SELECT l.id FROM leads l WHERE {_CLAIMABLE} AND l.geom IS NOT NULL
    ORDER BY l.geom <-> ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)
    LIMIT 64
), pick AS (
    SELECT l.id FROM leads l
    WHERE l.id IN (SELECT id FROM nearby) AND l.status = 'pooled'
    ORDER BY geography(l.geom) <-> geography(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)), l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED
)"""  # noqa: S608
_OLDEST = text(CLAIM_NEXT_SQL.format(pick=_PICK_OLDEST, columns=_LEAD_COLUMNS))
_NEAREST = text(CLAIM_NEXT_SQL.format(pick=_PICK_NEAREST, columns=_LEAD_COLUMNS))


def _iso(at):
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _cooldown_until(lead_id, user_id, now):
    return db.session.scalar(select(LeadCooldown.until).where(
        LeadCooldown.lead_id == lead_id, LeadCooldown.user_id == user_id,
        LeadCooldown.until > now))


def start_cooldown(lead, pool, user_id, now):
    """The previous holder may not claim `lead` back for the pool's cooldown_days."""
    until = rules.cooldown_until(now=now, cooldown_days=pool.cooldown_days)
    if until is None:
        return
    stmt = pg_insert(LeadCooldown).values(org_id=lead.org_id, lead_id=lead.id, user_id=user_id,
                                          until=until)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["lead_id", "user_id"],
                                                  set_={"until": stmt.excluded.until}))


def claim_lead(*, principal: Principal, lead_id, now=None):
    """Claim a pooled lead for the caller (already the caller's: unchanged)."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    with transaction():
        lead = scope.get(Lead, lead_id, scope.leads_to_claim(), for_update=True)
        scope.require_writer()
        state = rules.claim_state(status=lead.status, owner_id=lead.owner_id,
                                  caller_id=principal.id)
        if state == rules.CLOSED:
            raise closed()
        if state == rules.TAKEN:
            raise Conflict("Someone else claimed this lead first.", error="already_claimed")
        if state == rules.MINE:
            return reveal(principal, lead)  # nothing written; the commit lets the lock go
        pool = lead.pool
        if until := _cooldown_until(lead.id, principal.id, now):
            raise Unprocessable("You released this lead recently; you may claim it again "
                                "later.", error="cooldown_active", until=_iso(until))
        counted = db.session.execute(_COUNT_DAILY_CLAIM, {
            "org_id": principal.org_id, "pool_id": pool.id, "user_id": principal.id,
            "day": rules.local_day(now, principal.timezone),
            "daily_limit": pool.daily_claim_limit}).first()
        if counted is None:
            raise daily_limit(pool)
        lead.status, lead.owner_id, lead.claimed_at = "claimed", principal.id, now
        flush_holding(pool)
        event = add_event(lead, "claimed", at=now, actor_id=principal.id,
                          to_user_id=principal.id)
        seal_event(lead, "claimed", event=event, user_id=principal.id, actor_id=principal.id)
    return reveal(principal, lead)


def claim_next(*, principal: Principal, pool_id, near=None, now=None):
    """Claim the nearest (with `near`) or oldest claimable lead of a pool, atomically."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    with transaction():
        pool = scope.get(LeadPool, pool_id, scope.lead_pools())
        scope.require_writer()
        day = rules.local_day(now, principal.timezone)
        params = {"org_id": principal.org_id, "pool_id": pool.id, "user_id": principal.id,
                  "now": now, "day": day, "daily_limit": pool.daily_claim_limit,
                  "event_id": uuid.uuid4()}
        refusal = holding_limit(pool)  # built now: the rollback expires `pool`
        lead = None
        try:
            if near:
                lead = _claim_one(_NEAREST, {**params, "lat": near["lat"], "lng": near["lng"]})
            if lead is None:
                # No located lead left near the caller: fall back to the oldest one.
                lead = _claim_one(_OLDEST, params)
        except IntegrityError as exc:
            if is_holding_limit(exc):
                raise refusal from None
            raise
        if lead is None:
            _explain_empty(principal, pool, day)
        set_committed_value(lead, "pool", pool)
        event = SimpleNamespace(id=params["event_id"], org_id=lead.org_id, lead_id=lead.id,
                                at=now, action="claimed", actor_id=principal.id,
                                from_user_id=None, to_user_id=principal.id,
                                reason=None)  # as the statement wrote it
        seal_event(lead, "claimed", event=event, user_id=principal.id, actor_id=principal.id,
                   via="claim_next")
    lead.reveal = True
    return lead


def _claim_one(stmt, params):
    return db.session.scalars(select(Lead).from_statement(stmt.bindparams(**params))).first()


def _explain_empty(principal, pool, day):
    """Nothing was claimed: a limit, or no claimable lead."""
    holding = db.session.scalar(select(LeadHolding.holding).where(
        LeadHolding.pool_id == pool.id, LeadHolding.user_id == principal.id)) or 0
    claims = db.session.scalar(select(LeadDailyClaims.claims).where(
        LeadDailyClaims.pool_id == pool.id, LeadDailyClaims.user_id == principal.id,
        LeadDailyClaims.day == day)) or 0
    refusal = rules.refusal(rules.Quota(holding=holding, holding_limit=pool.holding_limit,
                                        claims_today=claims,
                                        daily_claim_limit=pool.daily_claim_limit))
    if refusal == "holding_limit_reached":
        raise holding_limit(pool)
    if refusal == "daily_claim_limit_reached":
        raise daily_limit(pool)
    raise NotFound("No lead in this pool is claimable by you right now.", error="pool_empty")
