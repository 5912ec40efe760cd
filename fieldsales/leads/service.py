"""Lead pools and leads: claiming under contention, limits, cooldown, follow-ups, recycling,
conversion into customers, CSV import, and the ownership ledger.

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

from sqlalchemy import and_, func, literal_column, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from fieldsales import audit, idempotency
from fieldsales.customers import service as customers
from fieldsales.customers.models import Contact
from fieldsales.db import apply_changes, paginate, violated
from fieldsales.errors import (Conflict, Forbidden, IdempotencyConflict, NotFound, Unprocessable,
                               field_error)
from fieldsales.extensions import db
from fieldsales.geo import make_point
from fieldsales.leads import csv_import, importing, rules
from fieldsales.leads.models import (Lead, LeadCooldown, LeadDailyClaims, LeadEvent,
                                     LeadFollowUp, LeadHolding, LeadPool)
from fieldsales.leads.schemas import LeadFieldsSchema
from fieldsales.scope import Principal, scope, team_ancestor_ids
from fieldsales.teams.models import Team
from fieldsales.users.models import User

RECYCLE_BATCH = 200


def _now():
    return datetime.now(UTC)


def _iso(at):
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


# --- errors -----------------------------------------------------------------------------------

def _closed():
    return Conflict("This lead is converted or dead.", error="lead_closed")


def _not_claimed():
    return Conflict("This lead is not claimed by anyone.", error="lead_not_claimed")


def _holding_limit(pool):
    return Unprocessable(f"A rep may hold at most {pool.holding_limit} leads from this pool at "
                         "once (its holding limit).", error="holding_limit_reached",
                         limit=pool.holding_limit)


def _daily_limit(pool):
    return Unprocessable(f"You have claimed {pool.daily_claim_limit} leads from this pool today "
                         "(its daily limit).", error="daily_claim_limit_reached",
                         limit=pool.daily_claim_limit)


def _is_holding_limit(exc: IntegrityError) -> bool:
    return violated(exc, "23514", "lead_holding_limit")


def _flush_holding(pool):
    """Flush a lead change; the holdings trigger answers for the holding limit."""
    refusal = _holding_limit(pool)  # built now: the rollback below expires `pool`
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        if _is_holding_limit(exc):
            raise refusal from None
        raise


# --- ledger and audit -------------------------------------------------------------------------

def _event(lead, action, *, at, actor_id, from_user_id=None, to_user_id=None, reason=None):
    """Add a ledger entry; returns it for _audit to seal."""
    event = LeadEvent(id=uuid.uuid4(), org_id=lead.org_id, lead_id=lead.id, at=at, action=action,
                      actor_id=actor_id, from_user_id=from_user_id, to_user_id=to_user_id,
                      reason=reason)
    db.session.add(event)
    return event


def event_evidence(e) -> dict:
    """A ledger entry's fields, as sealed in the audit chain."""
    def text_or_none(value):
        return str(value) if value is not None else None

    return {"lead_event_id": str(e.id), "org_id": str(e.org_id), "lead_id": str(e.lead_id),
            "at": e.at.astimezone(UTC).isoformat(), "action": e.action,
            "actor_id": text_or_none(e.actor_id), "from_user_id": text_or_none(e.from_user_id),
            "to_user_id": text_or_none(e.to_user_id), "reason": e.reason}


@audit.register_evidence("lead_event")
def _live_event_evidence(ids, version):  # the same fields in every version
    # Plain rows, always read afresh: no ORM objects piling up in the session.
    rows = db.session.execute(select(LeadEvent.__table__).where(LeadEvent.id.in_(ids)))
    return {e.id: event_evidence(e) for e in rows}


def seal_event(lead, action, *, user_id, actor_id, event, **data):
    """Seal `event` with one entry on the chain of the user the move is about (new owner for
    claim/assign, previous owner for release/recycle); the entry names the event."""
    audit.record(org_id=lead.org_id, user_id=user_id, actor_id=actor_id, action=f"lead.{action}",
                 entity_type="lead", entity_id=lead.id,
                 data={"pool_id": lead.pool_id, "lead_event_id": event.id, **data},
                 evidence=event_evidence(event))


# --- pools ------------------------------------------------------------------------------------

def list_pools(*, principal: Principal, page):
    """Pools the caller can see."""
    stmt = select(LeadPool).where(scope().lead_pools())
    return paginate(stmt.order_by(LeadPool.name, LeadPool.id), page)


def get_pool(*, principal: Principal, pool_id):
    """One visible pool."""
    return scope().get(LeadPool, pool_id, scope().lead_pools())


def _check_pool_team(principal, team_id):
    """Admins may open a pool to the org or any team; managers only to a team of theirs."""
    if team_id is None:
        if not principal.is_admin:
            raise Forbidden("Only admins may open a pool to the whole organisation.")
        return
    if principal.is_manager and team_id not in scope().managed_team_ids:
        raise field_error("team_id", "No such team in your scope.")
    if db.session.scalar(select(Team.id).where(Team.org_id == principal.org_id,
                                               Team.id == team_id)) is None:
        raise field_error("team_id", "No such team in your organisation.")


def _check_settings(settings):
    if problem := rules.pool_settings_problem(settings):
        raise field_error(*problem)


def create_pool(*, principal: Principal, data: dict):
    """Create a pool (admin; managers for their teams). Returns (pool, created)."""
    scope().require_role("admin", "manager")

    def write():
        _check_pool_team(principal, data.get("team_id"))
        settings = {k: data.get(k, v) for k, v in rules.POOL_DEFAULTS.items()}
        _check_settings(settings)
        pool = idempotency.stamp(LeadPool(org_id=principal.org_id, name=data["name"],
                                          team_id=data.get("team_id"), **settings),
                                 principal=principal, data=data)
        db.session.add(pool)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="lead_pool.created", entity_type="lead_pool", entity_id=pool.id,
                     data={"name": pool.name, "team_id": pool.team_id, **settings})
        return pool

    return idempotency.create(LeadPool, principal=principal, data=data, write=write)


def update_pool(*, principal: Principal, pool_id, data: dict):
    """Rename a pool or change its rules (admin; managers of its team)."""
    pool = scope().get(LeadPool, pool_id, scope().lead_pools(), for_update=True)
    scope().require_writer()
    if not scope().can_manage_pool(pool):
        raise Forbidden("Only admins and the managers of the pool's team may change it.")
    if "team_id" in data and data["team_id"] != pool.team_id:
        _check_pool_team(principal, data["team_id"])
    _check_settings({k: data.get(k, getattr(pool, k)) for k in rules.POOL_DEFAULTS})
    changed = apply_changes(pool, data, data.keys())
    if changed:
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="lead_pool.updated", entity_type="lead_pool", entity_id=pool.id,
                     data=changed)
    db.session.commit()
    return pool


# --- reading leads ----------------------------------------------------------------------------

def _load_pools(leads):
    """Attach each lead's pool (one query for the page): serialising recycle_at needs it."""
    if ids := {lead.pool_id for lead in leads}:
        pools = {p.id: p for p in db.session.scalars(select(LeadPool).where(
            LeadPool.id.in_(ids)))}
        for lead in leads:
            set_committed_value(lead, "pool", pools[lead.pool_id])


def _reveal(lead):
    """Mark whether the caller reads the contact in full, and hold on to the lead's pool (the
    session keeps objects only weakly; the serialiser needs the pool after we return)."""
    lead.pool  # noqa: B018 (loads it, from the identity map when the service had it)
    lead.reveal = scope().reveals_lead_contact(lead)
    return lead


def list_leads(*, principal: Principal, filters: dict, page):
    """Visible leads, filtered; with `near`, nearest first with distance_m."""
    revealed = scope().lead_contact_revealed()
    stmt = select(Lead, revealed.label("reveal")).where(scope().leads())
    if "pool_id" in filters:
        stmt = stmt.where(Lead.pool_id == filters["pool_id"])
    if "status" in filters:
        stmt = stmt.where(Lead.status == filters["status"])
    if "owner_id" in filters:
        owner = principal.id if filters["owner_id"] == "me" else filters["owner_id"]
        stmt = stmt.where(Lead.owner_id == owner)
    if q := filters.get("q"):
        like = f"%{q}%"
        matches = [Lead.name.ilike(like), Lead.company.ilike(like), Lead.address.ilike(like)]
        try:
            digits = rules.normalize_phone(q)
        except ValueError:
            digits = None
        if digits:
            # Only where the caller reads the phone anyway: masked leads are no phone book.
            matches.append(and_(revealed, Lead.phone_normalized.contains(digits)))
        stmt = stmt.where(or_(*matches))
    if "near" in filters:
        point = func.geography(make_point(*filters["near"]))
        geog = func.geography(Lead.geom)
        stmt = stmt.where(Lead.geom.is_not(None))
        if "radius_m" in filters:
            stmt = stmt.where(func.ST_DWithin(geog, point, filters["radius_m"]))
        stmt = stmt.add_columns(func.ST_Distance(geog, point).label("distance_m"))
        stmt = stmt.order_by(geog.op("<->")(point), Lead.id)
    else:
        stmt = stmt.order_by(Lead.created_at.desc(), Lead.id)
    rows = paginate(stmt, page, scalars=False)
    leads = []
    for row in rows:
        lead = row[0]
        lead.reveal = bool(row.reveal)
        if "near" in filters:
            lead.distance_m = round(row.distance_m, 1)
        leads.append(lead)
    _load_pools(leads)
    return leads


def get_lead(*, principal: Principal, lead_id):
    """One visible lead (contact details masked unless the caller may read them)."""
    return _reveal(scope().get(Lead, lead_id, scope().leads()))


def list_follow_ups(*, principal: Principal, lead_id, page):
    """Follow-ups of a visible lead, newest first."""
    lead = scope().get(Lead, lead_id, scope().leads())
    stmt = select(LeadFollowUp).where(LeadFollowUp.org_id == principal.org_id,
                                      LeadFollowUp.lead_id == lead.id)
    return paginate(stmt.order_by(LeadFollowUp.created_at.desc(), LeadFollowUp.id), page)


def list_events(*, principal: Principal, lead_id, page):
    """The ownership ledger of a visible lead, oldest first."""
    lead = scope().get(Lead, lead_id, scope().leads())
    stmt = select(LeadEvent).where(LeadEvent.org_id == principal.org_id,
                                   LeadEvent.lead_id == lead.id)
    return paginate(stmt.order_by(LeadEvent.at, LeadEvent.id), page)


# --- creating and importing -------------------------------------------------------------------

def _managed_pool(principal, pool_id, *, missing):
    """A pool the caller may add leads to: invisible → `missing`, visible but not theirs → 403."""
    pool = db.session.scalar(select(LeadPool).where(LeadPool.id == pool_id,
                                                    scope().lead_pools()))
    if pool is None:
        raise missing
    if not scope().can_manage_pool(pool):
        raise Forbidden("Only admins and the managers of the pool's team may add leads to it.")
    return pool


def _lead_row(principal, pool, data) -> dict:
    loc = data.get("location")
    return {
        "org_id": principal.org_id, "pool_id": pool.id, "name": data["name"],
        "company": data.get("company"), "phone": data.get("phone"),
        "phone_normalized": rules.normalize_phone(data.get("phone")),
        "email": data.get("email"), "address": data.get("address"),
        "lat": loc["lat"] if loc else None, "lng": loc["lng"] if loc else None,
        "source": data.get("source"), "tags": data.get("tags", []), "status": "pooled",
    }


def _duplicate():
    return Conflict("A lead with this phone number already exists in your organisation.",
                    error="duplicate_lead")


def create_lead(*, principal: Principal, data: dict):
    """Put one lead into a pool (admin; managers of the pool's team). Returns (lead, created)."""
    scope().require_role("admin", "manager")

    def write():
        pool = _managed_pool(principal, data["pool_id"],
                             missing=field_error("pool_id", "No such pool."))
        row = _lead_row(principal, pool, data)
        if row["phone_normalized"] and db.session.scalar(select(Lead.id).where(
                Lead.org_id == principal.org_id,
                Lead.phone_normalized == row["phone_normalized"])):
            raise _duplicate()
        lead = idempotency.stamp(Lead(**row, follow_up_count=0), principal=principal, data=data)
        db.session.add(lead)
        now = _now()
        lead.created_at = now
        event = _event(lead, "created", at=now, actor_id=principal.id)
        seal_event(lead, "created", event=event, user_id=principal.id, actor_id=principal.id,
                   name=lead.name)
        return lead

    try:
        lead, created = idempotency.create(Lead, principal=principal, data=data, write=write)
    except IntegrityError as exc:
        if idempotency.is_unique_violation(exc, "uq_leads_org_phone"):
            raise _duplicate() from None  # a concurrent create with the same phone won
        raise
    return _reveal(lead), created


def import_leads(*, principal: Principal, pool_id, stream, mimetype, charset):
    """Import a CSV into a pool: good rows are created, phones already in the org (or earlier
    in the file) are counted as duplicates, bad rows are reported by line. One transaction,
    one audit entry (see importing.py for how)."""
    pool = _managed_pool(principal, pool_id, missing=NotFound("LeadPool not found."))
    scope().require_writer()
    text_in = csv_import.text_stream(stream, mimetype=mimetype, charset=charset)
    try:
        result = importing.import_rows(text_in, schema=LeadFieldsSchema(),
                                       org_id=principal.org_id, pool_id=pool.id,
                                       actor_id=principal.id, now=_now())
    except UnicodeDecodeError:
        db.session.rollback()
        raise field_error("csv", f"The file is not valid {charset or 'UTF-8'}; send "
                          "`Content-Type: text/csv; charset=...` with its encoding.",
                          error="invalid_csv") from None
    digest = result.pop("lead_ids_sha256")
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="lead.imported", entity_type="lead_pool", entity_id=pool.id,
                 data={"created": result["created"], "duplicates": result["duplicates"],
                       "errors": result["errors_total"], "lead_ids_sha256": digest})
    db.session.commit()
    return result


# --- claiming ---------------------------------------------------------------------------------

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


def _cooldown_until(lead_id, user_id, now):
    return db.session.scalar(select(LeadCooldown.until).where(
        LeadCooldown.lead_id == lead_id, LeadCooldown.user_id == user_id,
        LeadCooldown.until > now))


def _start_cooldown(lead, pool, user_id, now):
    until = rules.cooldown_until(now=now, cooldown_days=pool.cooldown_days)
    if until is None:
        return
    stmt = pg_insert(LeadCooldown).values(org_id=lead.org_id, lead_id=lead.id, user_id=user_id,
                                          until=until)
    db.session.execute(stmt.on_conflict_do_update(index_elements=["lead_id", "user_id"],
                                                  set_={"until": stmt.excluded.until}))


def claim_lead(*, principal: Principal, lead_id, now=None):
    """Claim a pooled lead for the caller (already the caller's: unchanged)."""
    now = now or _now()
    lead = scope().get(Lead, lead_id, scope().leads_to_claim(), for_update=True)
    scope().require_writer()
    state = rules.claim_state(status=lead.status, owner_id=lead.owner_id,
                              caller_id=principal.id)
    if state == rules.CLOSED:
        raise _closed()
    if state == rules.TAKEN:
        raise Conflict("Someone else claimed this lead first.", error="already_claimed")
    if state == rules.MINE:
        db.session.rollback()  # nothing to write; let the row lock go
        return _reveal(lead)
    pool = lead.pool
    if until := _cooldown_until(lead.id, principal.id, now):
        raise Unprocessable("You released this lead recently; you may claim it again later.",
                            error="cooldown_active", until=_iso(until))
    counted = db.session.execute(_COUNT_DAILY_CLAIM, {
        "org_id": principal.org_id, "pool_id": pool.id, "user_id": principal.id,
        "day": rules.local_day(now, principal.timezone),
        "daily_limit": pool.daily_claim_limit}).first()
    if counted is None:
        raise _daily_limit(pool)
    lead.status, lead.owner_id, lead.claimed_at = "claimed", principal.id, now
    _flush_holding(pool)
    event = _event(lead, "claimed", at=now, actor_id=principal.id, to_user_id=principal.id)
    seal_event(lead, "claimed", event=event, user_id=principal.id, actor_id=principal.id)
    db.session.commit()
    return _reveal(lead)


def claim_next(*, principal: Principal, pool_id, near=None, now=None):
    """Claim the nearest (with `near`) or oldest claimable lead of a pool, atomically."""
    now = now or _now()
    pool = scope().get(LeadPool, pool_id, scope().lead_pools())
    scope().require_writer()
    day = rules.local_day(now, principal.timezone)
    params = {"org_id": principal.org_id, "pool_id": pool.id, "user_id": principal.id,
              "now": now, "day": day, "daily_limit": pool.daily_claim_limit,
              "event_id": uuid.uuid4()}
    lead = None
    try:
        if near:
            lead = _claim_one(_NEAREST, {**params, "lat": near["lat"], "lng": near["lng"]})
        if lead is None:
            # No located lead left near the caller: fall back to the oldest one.
            lead = _claim_one(_OLDEST, params)
    except IntegrityError as exc:
        refusal = _holding_limit(pool)
        db.session.rollback()
        if _is_holding_limit(exc):
            raise refusal from None
        raise
    if lead is None:
        db.session.rollback()
        _explain_empty(principal, pool, day)
    set_committed_value(lead, "pool", pool)
    event = SimpleNamespace(id=params["event_id"], org_id=lead.org_id, lead_id=lead.id, at=now,
                            action="claimed", actor_id=principal.id, from_user_id=None,
                            to_user_id=principal.id, reason=None)  # as the statement wrote it
    seal_event(lead, "claimed", event=event, user_id=principal.id, actor_id=principal.id,
               via="claim_next")
    db.session.commit()
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
        raise _holding_limit(pool)
    if refusal == "daily_claim_limit_reached":
        raise _daily_limit(pool)
    raise NotFound("No lead in this pool is claimable by you right now.", error="pool_empty")


# --- moving leads -----------------------------------------------------------------------------

def _lock_lead(lead_id, clause=None):
    return scope().get(Lead, lead_id, clause if clause is not None else scope().leads(),
                       for_update=True)


def _require_holder_or_manager(lead, what):
    if lead.owner_id != scope().p.id and not scope().manages_user(lead.owner_id):
        raise Forbidden(f"Only the lead's owner, its managers or an admin may {what} it.")


def release_lead(*, principal: Principal, lead_id, reason=None, now=None):
    """Put a claimed lead back into its pool; the previous holder's cooldown starts."""
    now = now or _now()
    lead = _lock_lead(lead_id)
    scope().require_writer()
    if lead.status in ("converted", "dead"):
        raise _closed()
    if lead.status != "claimed":
        raise _not_claimed()
    _require_holder_or_manager(lead, "release")
    previous = lead.owner_id
    lead.status, lead.owner_id, lead.claimed_at = "pooled", None, None
    db.session.flush()
    _start_cooldown(lead, lead.pool, previous, now)
    event = _event(lead, "released", at=now, actor_id=principal.id, from_user_id=previous,
                   reason=reason)
    seal_event(lead, "released", event=event, user_id=previous, actor_id=principal.id,
               reason=reason)
    db.session.commit()
    return _reveal(lead)


def _assignee(principal, pool, user_id):
    user = db.session.scalar(select(User).where(User.org_id == principal.org_id,
                                                User.id == user_id))
    if user is None or not scope().manages_user(user.id, user.team_id):
        raise field_error("user_id", "No such user in your scope.")
    if not user.active or user.role not in ("rep", "manager"):
        raise field_error("user_id", "Leads can be assigned to active reps and managers only.")
    if pool.team_id is not None and (
            user.team_id is None
            or pool.team_id not in team_ancestor_ids(principal.org_id, user.team_id)):
        raise field_error("user_id", "This lead's pool is not open to that user.")
    return user


def assign_lead(*, principal: Principal, lead_id, user_id, now=None):
    """Give a lead to a user (managers, admin); the holding limit applies, cooldown does not."""
    now = now or _now()
    lead = _lock_lead(lead_id, scope().leads_to_claim())
    scope().require_writer()
    scope().require_role("admin", "manager")
    if lead.status in ("converted", "dead"):
        raise _closed()
    if lead.owner_id is not None:
        _require_holder_or_manager(lead, "reassign")
    pool = lead.pool
    user = _assignee(principal, pool, user_id)
    if lead.owner_id == user.id:
        db.session.rollback()
        return _reveal(lead)
    previous = lead.owner_id
    lead.status, lead.owner_id, lead.claimed_at = "claimed", user.id, now
    _flush_holding(pool)
    event = _event(lead, "assigned", at=now, actor_id=principal.id, from_user_id=previous,
                   to_user_id=user.id)
    seal_event(lead, "assigned", event=event, user_id=user.id, actor_id=principal.id,
               from_user_id=previous)
    db.session.commit()
    return _reveal(lead)


def add_follow_up(*, principal: Principal, lead_id, data: dict, now=None):
    """Log a follow-up on a lead the caller holds; it restarts the recycle clock. `data` as
    loaded by FollowUpCreateSchema (POST /sync uses this too). Returns (follow_up, created);
    a retry with the same id returns the stored one."""
    now = now or _now()
    data = {**data, "lead_id": lead_id}  # the same id on another lead: 409

    def write():
        lead = _lock_lead(lead_id)
        scope().require_writer()
        if lead.status in ("converted", "dead"):
            raise _closed()
        if lead.status != "claimed" or lead.owner_id != principal.id:
            raise Forbidden("Only the lead's current owner may log follow-ups.",
                            error="not_lead_owner")
        follow_up = idempotency.stamp(LeadFollowUp(
            org_id=principal.org_id, lead_id=lead.id, user_id=principal.id,
            method=data["method"], note=data["note"],
            next_follow_up_at=data.get("next_follow_up_at"), created_at=now,
        ), principal=principal, data=data)
        db.session.add(follow_up)
        lead.last_follow_up_at = now
        lead.follow_up_count += 1  # the row is locked: no lost update
        event = _event(lead, "followed_up", at=now, actor_id=principal.id)
        seal_event(lead, "followed_up", event=event, user_id=principal.id,
                   actor_id=principal.id, follow_up_id=follow_up.id, method=follow_up.method)
        return follow_up

    return idempotency.create(LeadFollowUp, principal=principal, data=data, write=write)


def _already_converted_to(lead, data):
    wanted = data.get("customer_id") or (data.get("customer") or {}).get("id")
    return lead.status == "converted" and wanted == lead.converted_customer_id


def _new_customer(principal, lead, fields):
    data = dict(fields)
    data.setdefault("name", lead.company or lead.name)
    data.setdefault("owner_id", lead.owner_id)
    for key in ("phone", "address"):
        if getattr(lead, key):
            data.setdefault(key, getattr(lead, key))
    if lead.location:
        data.setdefault("location", dict(lead.location))
    if lead.tags:
        data.setdefault("tags", list(lead.tags))
    return customers.add_customer(principal=principal, data=data)


def _copy_history(principal, lead, customer):
    """The lead's person becomes a contact and its follow-ups contact records (author and time
    kept), so the history travels with the lead."""
    if lead.company and not db.session.scalar(select(Contact.id).where(
            Contact.org_id == lead.org_id, Contact.customer_id == customer.id,
            Contact.name == lead.name)):
        db.session.add(idempotency.stamp(Contact(
            org_id=lead.org_id, customer_id=customer.id, name=lead.name, phone=lead.phone,
            email=lead.email, title=None), principal=principal,
            data={"lead_id": lead.id, "name": lead.name}))
    follow_ups = db.session.scalars(select(LeadFollowUp).where(
        LeadFollowUp.org_id == lead.org_id, LeadFollowUp.lead_id == lead.id)
        .order_by(LeadFollowUp.created_at, LeadFollowUp.id)).all()
    for follow_up in follow_ups:
        record = customers.add_contact_record(principal=principal, customer=customer, data={
            "method": follow_up.method, "summary": follow_up.note,
            "next_follow_up_at": follow_up.next_follow_up_at, "lead_follow_up_id": follow_up.id})
        record.user_id, record.created_at = follow_up.user_id, follow_up.created_at


def convert_lead(*, principal: Principal, lead_id, data: dict, now=None):
    """Turn a claimed lead into a customer (existing or new); its follow-ups become contact
    records. Returns (customer, lead, created); a retry of the same conversion is not an
    error."""
    now = now or _now()
    lead = _lock_lead(lead_id)
    scope().require_writer()
    if _already_converted_to(lead, data):
        db.session.rollback()
        customer = customers.get_customer(principal=principal,
                                          customer_id=lead.converted_customer_id)
        return customer, _reveal(lead), False
    if lead.status in ("converted", "dead"):
        raise _closed()
    if lead.status != "claimed":
        raise _not_claimed()
    _require_holder_or_manager(lead, "convert")
    if "customer_id" in data:
        try:
            customer = customers.get_customer(principal=principal,
                                              customer_id=data["customer_id"])
        except NotFound:
            raise field_error("customer_id", "No such customer.") from None
    else:
        customer = _new_customer(principal, lead, data["customer"])
        try:
            db.session.flush()
        except IntegrityError as exc:
            db.session.rollback()
            if idempotency.is_unique_violation(exc, "pk_customers"):
                raise IdempotencyConflict() from None
            raise
    _copy_history(principal, lead, customer)
    owner = lead.owner_id
    lead.status, lead.converted_customer_id = "converted", customer.id
    event = _event(lead, "converted", at=now, actor_id=principal.id, from_user_id=owner,
                   reason=f"Converted to customer {customer.id}.")
    seal_event(lead, "converted", event=event, user_id=owner, actor_id=principal.id,
               customer_id=customer.id)
    db.session.commit()
    return customer, _reveal(lead), True


def mark_dead(*, principal: Principal, lead_id, reason: str, now=None):
    """Close a lead that will never buy (its holder, the holder's managers; for a pooled lead
    the pool's managers)."""
    now = now or _now()
    lead = _lock_lead(lead_id)
    scope().require_writer()
    if lead.status in ("converted", "dead"):
        raise _closed()
    if lead.owner_id is not None:
        _require_holder_or_manager(lead, "close")
    elif not scope().can_manage_pool(lead.pool):
        raise Forbidden("Only admins and the managers of the pool's team may close a pooled "
                        "lead.")
    owner = lead.owner_id
    lead.status = "dead"
    event = _event(lead, "marked_dead", at=now, actor_id=principal.id, from_user_id=owner,
                   reason=reason)
    seal_event(lead, "marked_dead", event=event, user_id=owner or principal.id,
               actor_id=principal.id, reason=reason)
    db.session.commit()
    return _reveal(lead)


# --- recycling (the `fieldsales leads recycle` job) -------------------------------------------

# SQL for the recycle rules; alerts use them too, so there is one definition of "due".

def recycle_started_sql():
    """When the recycle clock of a claimed lead started: its claim or its last follow-up."""
    return func.greatest(Lead.claimed_at, func.coalesce(Lead.last_follow_up_at, Lead.claimed_at))


def days_sql(column):
    """An integer column as an interval of that many days."""
    return column * literal_column("interval '1 day'")


def overdue_clause(now):
    """Claimed leads whose recycle time has come."""
    return and_(Lead.status == "claimed",
                recycle_started_sql() + days_sql(LeadPool.recycle_after_days) <= now)


def warned_clause(now):
    """Claimed leads within warn_before_days of their recycle time."""
    due = recycle_started_sql() + days_sql(LeadPool.recycle_after_days)
    return and_(Lead.status == "claimed", due > now,
                due - days_sql(LeadPool.warn_before_days) <= now)


def _count(clause):
    return db.session.scalar(select(func.count()).select_from(Lead)
                             .join(LeadPool, LeadPool.id == Lead.pool_id).where(clause))


def recycle_overdue(*, now=None, dry_run=False, progress=None):
    """Return every overdue claimed lead (all orgs) to its pool, starting the previous owner's
    cooldown; returns {"recycled", "warned"} (warned: claimed leads inside their warning
    window). Batches commit on their own; leads locked by a concurrent claim or follow-up are
    skipped and left for the next run."""
    now = now or _now()
    if dry_run:
        return {"recycled": _count(overdue_clause(now)), "warned": _count(warned_clause(now))}
    total = _count(overdue_clause(now))
    recycled = 0
    while True:
        batch = db.session.execute(
            select(Lead, LeadPool).join(LeadPool, LeadPool.id == Lead.pool_id)
            .where(overdue_clause(now)).order_by(Lead.claimed_at, Lead.id).limit(RECYCLE_BATCH)
            .with_for_update(of=Lead, skip_locked=True)).all()
        if not batch:
            break
        # One batch touches many reps' holding rows and audit chains: take them in one global
        # order (rep, pool), flushing lead by lead, so two runs (or a run and a rep's own
        # release) can never wait on each other in a circle.
        batch.sort(key=lambda row: (str(row[0].owner_id), str(row[0].pool_id), str(row[0].id)))
        for lead, pool in batch:
            previous, started = lead.owner_id, max(lead.claimed_at, lead.last_follow_up_at
                                                   or lead.claimed_at)
            reason = rules.recycle_reason(recycle_after_days=pool.recycle_after_days,
                                          last_activity=started)
            lead.status, lead.owner_id, lead.claimed_at = "pooled", None, None
            db.session.flush()  # the holdings trigger runs now, in this order
            _start_cooldown(lead, pool, previous, now)
            event = _event(lead, "recycled", at=now, actor_id=None, from_user_id=previous,
                           reason=reason)
            seal_event(lead, "recycled", event=event, user_id=previous, actor_id=None,
                       reason=reason)
        db.session.commit()
        recycled += len(batch)
        if progress:
            progress(f"recycled {recycled}/{total}")
    return {"recycled": recycled, "warned": _count(warned_clause(now))}
