"""Claiming leads: claim one by id, claim-next (nearest or oldest), the limits and the cooldown.

Each claim is one statement (then the audit entry's, then COMMIT): the caller's scope, the
lock, the limits, the claim, the ledger entry and the lock of the audit chain head, so a claim
costs two round trips after authentication. Refusals are explained afterwards, off the hot path.

How the limits hold under concurrency (never count in Python, then write):
- One owner per lead: a claim locks the lead row (FOR UPDATE; claim-next with SKIP LOCKED, so
  concurrent claimers take different leads instead of queueing) and claims it only if the
  locked row is still claimable.
- holding_limit: the trigger leads_track_holdings (migration 0003) keeps lead_holdings per
  (pool, rep) on every change of a lead and raises check_violation `lead_holding_limit` when a
  change would take the rep past the limit; its row lock queues one rep's claims behind each
  other, and each sees what the previous one committed.
- daily_claim_limit: an upsert of lead_daily_claims (pool, rep, local day) increments it and
  locks the row, and the lead is claimed only if the new count is within the limit (a refused
  claim rolls back, count and all); the row lock makes the increment and the check one atomic
  step. (No subquery in ON CONFLICT … WHERE: Citus refuses one.)
Locks are taken in one order on every path: the lead, the day's counter, the holding, then the
audit chain head (its CTE reads the claimed row), as moves and recycling take them too.
"""
import functools
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import DateTime, Integer, String, Uuid, bindparam, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from fieldsales import scope_sql
from fieldsales.audit.service import HEAD_PARAMS, adopt, head_cte
from fieldsales.db import on_citus, transaction
from fieldsales.errors import Conflict, Forbidden, NotFound, Unprocessable
from fieldsales.extensions import db
from fieldsales.leads import claims_citus, rules
from fieldsales.leads.guards import closed, daily_limit, holding_limit, is_holding_limit
from fieldsales.leads.ledger import seal_event
from fieldsales.leads.models import (Lead, LeadCooldown, LeadDailyClaims, LeadHolding, LeadPool,
                                     LeadRow)
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc

_LEAD_COLUMNS = tuple(c for c in Lead.__table__.columns if c.name != "geom")
# What the response (recycle_at, recycle_warning, reveal) and the refusals need of the pool.
_POOL_COLUMNS = tuple(LeadPool.__table__.c[name] for name in (
    "holding_limit", "daily_claim_limit", "recycle_after_days", "warn_before_days", "team_id"))
_RESULT_TYPES = {**{c.name: c.type for c in _LEAD_COLUMNS + _POOL_COLUMNS},
                 "audit_seq": Integer(), "audit_hash": String(),
                 "cooldown_until": DateTime(timezone=True), "claimed_now": DateTime(timezone=True)}

# (S608: only the constant fragments of this module and SQL compiled from the scope's clauses
# are formatted into these statements; every value is bound.)
_COOLDOWN = """SELECT c.until FROM lead_cooldowns c
    WHERE c.org_id = :org_id AND c.lead_id = {lead} AND c.user_id = :user_id AND c.until > :now"""
# A lead `l` the caller may claim now: pooled, and not in the caller's cooldown.
_CLAIMABLE = f"l.status = 'pooled' AND NOT EXISTS ({_COOLDOWN.format(lead='l.id')})"
# ... of the requested pool, once the caller's scope showed it and while the caller has room
# under both limits (`room` is not empty). A caller at a limit must not lock a lead it cannot
# take: SKIP LOCKED would hide that lead from a claimer who can, and tell them `pool_empty`.
_IN_POOL = (f"l.org_id = :org_id AND l.pool_id = :pool_id AND {_CLAIMABLE} "
            "AND EXISTS (SELECT FROM room)")
_ROOM = """room AS (SELECT 1 AS ok FROM pool WHERE coalesce((SELECT h.holding FROM lead_holdings h
        WHERE h.org_id = :org_id AND h.pool_id = :pool_id AND h.user_id = :user_id), 0)
        < pool.holding_limit
    AND coalesce((SELECT d.claims FROM lead_daily_claims d WHERE d.org_id = :org_id
        AND d.pool_id = :pool_id AND d.user_id = :user_id AND d.day = :day), 0)
        < pool.daily_claim_limit)"""
# A claimable lead that a concurrent claimer has locked: waited for, then re-checked (a
# claimed one drops out and the next is tried), so `pool_empty` is only ever said of a pool
# with nothing claimable left. Runs only when claim-next found nothing.
_ATTEMPTS = 3
_LOCKED_LEFT = text(f"""WITH room AS (SELECT 1 AS ok) SELECT l.id FROM leads l WHERE {_IN_POOL}
    LIMIT 1 FOR UPDATE OF l""")  # noqa: S608

# Count the claim against today's limit (only if a lead was picked: nothing is claimed past the
# limit: `within`), claim the lead (the holdings trigger checks holding_limit), write the
# ledger entry, and lock the caller's audit chain head, last, as every other move of a lead does.
# Last for real: the holdings trigger and the foreign-key checks are AFTER triggers and run when
# the whole statement is done, after the head CTE. So the statement takes their locks itself
# before the head: `held` the holding row (created empty if need be), `keys` the key-share
# locks the foreign keys take on the org and the caller's user row (the same locks, earlier).
# Otherwise a manager assigning a lead to the caller (holding, then head) or an admin editing
# the caller (user row, then head) would deadlock with the claim. `head` reads `keys`, which
# reads `held`: it runs after both. (Every CTE has a column: Citus plans CTEs it cannot push
# down as intermediate results, which cannot be empty rows.)
_CLAIM = f"""counted AS (
    INSERT INTO lead_daily_claims AS d (org_id, pool_id, user_id, day, claims)
    SELECT :org_id, pick.pool_id, :user_id, :day, 1 FROM pick
    ON CONFLICT (org_id, pool_id, user_id, day) DO UPDATE SET claims = d.claims + 1
    RETURNING claims
), within AS (
    SELECT 1 AS ok FROM counted, pool WHERE counted.claims <= pool.daily_claim_limit
), held AS (
    INSERT INTO lead_holdings AS h (org_id, pool_id, user_id, holding)
    SELECT :org_id, pick.pool_id, :user_id, 0 FROM pick, within
    ON CONFLICT (org_id, pool_id, user_id) DO UPDATE SET holding = h.holding
    RETURNING holding
), claimed AS (
    UPDATE leads l SET status = 'claimed', owner_id = :user_id, claimed_at = :now
    FROM pick, within
    WHERE l.org_id = :org_id AND l.id = pick.id
    RETURNING {", ".join(f"l.{c.name}" for c in _LEAD_COLUMNS)}
), logged AS (
    INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id, to_user_id)
    SELECT :event_id, org_id, id, :now, 'claimed', :user_id, :user_id FROM claimed
), keys AS (
    SELECT 1 AS ok FROM orgs o, users u, held
    WHERE o.id = :org_id AND u.org_id = :org_id AND u.id = :user_id
    FOR KEY SHARE OF o, u
), {head_cte("head", "SELECT c.owner_id, c.org_id FROM claimed c, keys")}"""  # noqa: S608

# The hottest (intent_rank: hot, warm, cold, unknown, none), then oldest claimable lead: the
# queue pattern on ix_leads_pooled_oldest (pool_id, intent_rank, created_at, id).
_OLDEST = f"""SELECT l.id, l.pool_id FROM leads l WHERE {_IN_POOL} {{also}}
    ORDER BY l.intent_rank, l.created_at, l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED"""  # noqa: S608
_PICK_OLDEST = f"pick AS ({_OLDEST.format(also='')})"
# The nearest one, in two steps: a KNN scan of ix_leads_pooled_geom for candidates, then the
# lock on the closest free one by true (geography) distance. Locking straight off a KNN scan
# fails on PostgreSQL 15 ("attempted to lock invisible tuple" from the reordering GiST scan),
# and a geography KNN scan is ~30x slower than the planar one; among 64 planar-nearest points
# the true nearest is always found at city scale, and the 64 outnumber concurrent lockers.
# Intent comes before distance: the candidates are the located leads of the best intent any
# claimable lead of the pool has (one step down ix_leads_pooled_oldest). No located lead of
# that intent: the hottest, then oldest one (its scan runs only then).
_PICK_NEAREST = f"""best AS (
    SELECT l.intent_rank FROM leads l WHERE {_IN_POOL}
    ORDER BY l.intent_rank LIMIT 1
), nearby AS (
    SELECT l.id FROM leads l WHERE {_IN_POOL} AND l.geom IS NOT NULL
      AND l.intent_rank = (SELECT intent_rank FROM best)
    ORDER BY l.geom <-> ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)
    LIMIT 64
), nearest AS (
    SELECT l.id, l.pool_id FROM leads l
    WHERE l.org_id = :org_id AND l.id IN (SELECT id FROM nearby) AND l.status = 'pooled'
    ORDER BY geography(l.geom) <-> geography(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)), l.id
    LIMIT 1
    FOR UPDATE OF l SKIP LOCKED
), oldest AS ({_OLDEST.format(also="AND NOT EXISTS (SELECT FROM nearest)")}
), pick AS (SELECT id, pool_id FROM nearest UNION ALL SELECT id, pool_id FROM oldest)"""  # noqa: S608

# On Citus (leads/claims_citus.py): the same locking reads, without the writes.
_PICK_NEXT = """WITH pool AS ({pool}), {room}, {pick}
SELECT {pool_columns}, pick.id AS pick_id, pick.pool_id AS pick_pool_id
FROM pool LEFT JOIN pick ON true"""

# No row: the pool is not visible. A row without a lead: nothing was claimed (a limit, named
# by _explain_limit, or `pool_empty`).
_CLAIM_NEXT = """WITH pool AS ({pool}), {room}, {pick}, {claim}
SELECT {pool_columns}, {lead_columns}, head.seq AS audit_seq, head.hash AS audit_hash
FROM pool LEFT JOIN claimed ON true LEFT JOIN head ON true"""

# The lead as locked (before the claim), whether it was claimed, and the caller's cooldown on
# it. No row: the lead is not visible.
_CLAIM_LEAD = f"""WITH target AS ({{target}}), pool AS (
    SELECT {", ".join(f"p.{c.name}" for c in _POOL_COLUMNS)} FROM lead_pools p, target t
    WHERE p.org_id = :org_id AND p.id = t.pool_id
), cooling AS ({_COOLDOWN.format(lead=":lead_id")}
), pick AS (SELECT l.id, l.pool_id FROM target l WHERE {_CLAIMABLE}), {_CLAIM}
SELECT target.*, {{pool_columns}}, cooling.until AS cooldown_until,
       claimed.claimed_at AS claimed_now, head.seq AS audit_seq, head.hash AS audit_hash
FROM target CROSS JOIN pool LEFT JOIN cooling ON true LEFT JOIN claimed ON true
     LEFT JOIN head ON true"""  # noqa: S608

_PICK_LEAD = f"""WITH target AS ({{target}}), pool AS (
    SELECT {", ".join(f"p.{c.name}" for c in _POOL_COLUMNS)} FROM lead_pools p, target t
    WHERE p.org_id = :org_id AND p.id = t.pool_id
), cooling AS ({_COOLDOWN.format(lead=":lead_id")})
SELECT target.*, {{pool_columns}}, cooling.until AS cooldown_until,
       target.status = 'pooled' AND cooling.until IS NULL AS claimable
FROM target CROSS JOIN pool LEFT JOIN cooling ON true"""  # noqa: S608


def _statement(sql: str, constants: dict):
    head = HEAD_PARAMS if ":audit_genesis" in sql else {}  # not in Citus's locking reads
    return text(sql).bindparams(**constants, **head).columns(**_RESULT_TYPES)


def _pool_columns(alias):
    return ", ".join(f"{alias}.{c.name}" for c in _POOL_COLUMNS)


@functools.cache
def _claim_next_sql(shape: tuple, near: bool, sql=_CLAIM_NEXT):
    scope = scope_sql.template(shape).scope
    pool, constants = scope_sql.compile_sql(select(*_POOL_COLUMNS).where(
        LeadPool.id == bindparam("pool_id", type_=Uuid), scope.lead_pools()))
    return _statement(sql.format(
        pool=pool, room=_ROOM, pick=_PICK_NEAREST if near else _PICK_OLDEST, claim=_CLAIM,
        pool_columns=_pool_columns("pool"),
        lead_columns=", ".join(f"claimed.{c.name}" for c in _LEAD_COLUMNS)), constants)


@functools.cache
def _claim_lead_sql(shape: tuple, sql=_CLAIM_LEAD):
    scope = scope_sql.template(shape).scope
    target, constants = scope_sql.compile_sql(
        select(*_LEAD_COLUMNS).where(Lead.id == bindparam("lead_id", type_=Uuid),
                                     scope.leads_to_claim()).with_for_update(of=Lead))
    return _statement(sql.format(target=target, pool_columns=_pool_columns("pool")),
                      constants)


def _claim_lead_row(shape, params):
    """The claim of one lead: the single statement, or on Citus its steps."""
    if not on_citus(db.engine):
        return db.session.execute(_claim_lead_sql(shape), params).first()
    row = db.session.execute(_claim_lead_sql(shape, _PICK_LEAD), params).first()
    if row is None:
        return None
    claimed = row.claimable and claims_citus.claim(params, row.id, row.pool_id,
                                                   row.daily_claim_limit, _LEAD_COLUMNS)
    return SimpleNamespace(**row._asdict(), claimed_now=claimed.claimed_at if claimed else None,
                           audit_seq=None, audit_hash=None)


def _claim_next_row(shape, near, params):
    """The claim of the next lead of a pool: the single statement, or on Citus its steps."""
    if not on_citus(db.engine):
        return db.session.execute(_claim_next_sql(shape, near), params).first()
    row = db.session.execute(_claim_next_sql(shape, near, _PICK_NEXT), params).first()
    if row is None:
        return None
    claimed = row.pick_id is not None and claims_citus.claim(
        params, row.pick_id, row.pick_pool_id, row.daily_claim_limit, _LEAD_COLUMNS)
    lead = {c.name: getattr(claimed, c.name) if claimed else None for c in _LEAD_COLUMNS}
    return SimpleNamespace(**{c.name: getattr(row, c.name) for c in _POOL_COLUMNS}, **lead,
                           audit_seq=None, audit_hash=None)


def start_cooldown(lead, pool, user_id, now):
    """The previous holder may not claim `lead` back for the pool's cooldown_days."""
    until = rules.cooldown_until(now=now, cooldown_days=pool.cooldown_days)
    if until is None:
        return
    stmt = pg_insert(LeadCooldown).values(org_id=lead.org_id, lead_id=lead.id, user_id=user_id,
                                          until=until)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["org_id", "lead_id", "user_id"],
                                                  set_={"until": stmt.excluded.until}))


def claim_lead(*, principal: Principal, lead_id, now=None):
    """Claim a pooled lead for the caller (already the caller's: unchanged)."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    _require_writer(principal, lambda: scope.get(Lead, lead_id, scope.leads_to_claim()))
    params = _params(principal, now, lead_id=lead_id)
    with transaction():
        row = _run(lambda: _claim_lead_row(scope_sql.shape(principal), params),
                   lambda: scope.get(Lead, lead_id, scope.leads_to_claim()).pool)
        if row is None:
            raise NotFound("Lead not found.")
        pool = _pool(row, row.pool_id)
        lead = LeadRow({c.name: getattr(row, c.name) for c in _LEAD_COLUMNS}, pool)
        if row.claimed_now is None:
            _refuse(principal, lead, pool, row.cooldown_until)
            return _revealed(principal, lead)  # already the caller's: nothing written
        lead.status, lead.owner_id, lead.claimed_at = "claimed", principal.id, row.claimed_now
        _seal(principal, row, lead, params)
    return _revealed(principal, lead)


def claim_next(*, principal: Principal, pool_id, near=None, now=None):
    """Claim the nearest (with `near`) or oldest claimable lead of a pool, atomically."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    _require_writer(principal, lambda: scope.get(LeadPool, pool_id, scope.lead_pools()))
    params = _params(principal, now, pool_id=pool_id)
    if near:
        params.update(lat=near["lat"], lng=near["lng"])
    for attempt in range(_ATTEMPTS):
        with transaction():
            row = _run(lambda: _claim_next_row(scope_sql.shape(principal), bool(near), params),
                       lambda: scope.get(LeadPool, pool_id, scope.lead_pools()))
            if row is None:
                raise NotFound("LeadPool not found.")
            pool = _pool(row, pool_id)
            if row.id is None:
                _explain_limit(principal, pool, params["day"])
                if attempt + 1 < _ATTEMPTS and db.session.execute(_LOCKED_LEFT, params).first():
                    continue  # a concurrent claimer let a lead go: try again
                raise NotFound("No lead in this pool is claimable by you right now.",
                               error="pool_empty")
            lead = LeadRow({c.name: getattr(row, c.name) for c in _LEAD_COLUMNS}, pool)
            _seal(principal, row, lead, params, via="claim_next")
            return _revealed(principal, lead)


def _require_writer(principal, load):
    """hr is read-only; an invisible row is still 404 first, as everywhere (`load` reads it
    only then: building the scope clause costs ~2 ms, and a writer never needs it here)."""
    try:
        principal.scope.require_writer()
    except Forbidden:
        load()
        raise


def _params(principal, now, **ids):
    return {**scope_sql.params(principal), **ids, "now": now, "event_id": uuid.uuid4(),
            "day": rules.local_day(now, principal.timezone)}


def _run(claim, load_pool):
    """The claim's one row (None: not visible); the holdings trigger's refusal as
    holding_limit_reached, naming the limit of the pool `load_pool` reads after the rollback."""
    try:
        return claim()
    except IntegrityError as exc:
        if not is_holding_limit(exc):
            raise
    db.session.rollback()
    raise holding_limit(load_pool())


def _pool(row, pool_id):
    return SimpleNamespace(id=pool_id, **{c.name: getattr(row, c.name) for c in _POOL_COLUMNS})


def _revealed(principal, lead):
    lead.reveal = principal.scope.reveals_lead_contact(lead)  # the caller's own lead: True
    return lead


def _seal(principal, row, lead, params, **data):
    """Seal the ledger entry the statement wrote, on the chain head it locked (the entry is
    written at commit, in one statement)."""
    # An ORM copy of the lead loaded earlier in this session (a job, a test) must not keep
    # its state from before the claim: the statement bypassed the ORM.
    copy = db.session.identity_map.get(identity_key(Lead, (lead.org_id, lead.id)))
    if copy is not None:
        for key in ("status", "owner_id", "claimed_at"):
            set_committed_value(copy, key, getattr(lead, key))
    if row.audit_seq is not None:  # None on Citus: record() locks the head itself, last
        adopt(user_id=principal.id, org_id=principal.org_id, seq=row.audit_seq,
              hash_=row.audit_hash)
    event = SimpleNamespace(id=params["event_id"], org_id=lead.org_id, lead_id=lead.id,
                            at=params["now"], action="claimed", actor_id=principal.id,
                            from_user_id=None, to_user_id=principal.id,
                            reason=None)  # as the statement wrote it
    seal_event(lead, "claimed", event=event, user_id=principal.id, actor_id=principal.id, **data)


def _refuse(principal, lead, pool, cooldown_until):
    """The locked lead was not claimed: why (returns when it is already the caller's)."""
    state = rules.claim_state(status=lead.status, owner_id=lead.owner_id,
                              caller_id=principal.id)
    if state == rules.CLOSED:
        raise closed()
    if state == rules.TAKEN:
        raise Conflict("Someone else claimed this lead first.", error="already_claimed")
    if state == rules.MINE:
        return
    if cooldown_until is not None:
        raise Unprocessable("You released this lead recently; you may claim it again later.",
                            error="cooldown_active", until=iso_utc(cooldown_until))
    raise daily_limit(pool)


def _explain_limit(principal, pool, day):
    """Nothing was claimed: the limit that stopped it (returns if none did)."""
    holding = db.session.scalar(select(LeadHolding.holding).where(
        LeadHolding.org_id == principal.org_id, LeadHolding.pool_id == pool.id,
        LeadHolding.user_id == principal.id)) or 0
    claims = db.session.scalar(select(LeadDailyClaims.claims).where(
        LeadDailyClaims.org_id == principal.org_id, LeadDailyClaims.pool_id == pool.id,
        LeadDailyClaims.user_id == principal.id,
        LeadDailyClaims.day == day)) or 0
    refusal = rules.refusal(rules.Quota(holding=holding, holding_limit=pool.holding_limit,
                                        claims_today=claims,
                                        daily_claim_limit=pool.daily_claim_limit))
    if refusal == "holding_limit_reached":
        raise holding_limit(pool)
    if refusal == "daily_claim_limit_reached":
        raise daily_limit(pool)
