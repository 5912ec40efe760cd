"""Putting one lead into a pool: admins and the managers of the pool's team add it pooled; a rep
adds it to a pool open to it, claimed by itself within the pool's limits. A phone or company
another customer or live lead holds is a duplicate (fieldsales/duplicates)."""
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from fieldsales import idempotency
from fieldsales.duplicates import service as duplicates
from fieldsales.errors import field_error
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.guards import daily_limit, flush_holding
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import Lead, LeadDailyClaims, LeadPool
from fieldsales.leads.pools import managed_pool
from fieldsales.leads.reading import reveal
from fieldsales.scope import Principal


def _lead_row(principal, pool, data) -> dict:
    loc = data.get("location")
    return {
        "org_id": principal.org_id, "pool_id": pool.id, "name": data["name"],
        "company": data.get("company"), "phone": data.get("phone"),
        "phone_normalized": rules.normalize_phone(data.get("phone")),
        "email": data.get("email"), "address": data.get("address"),
        "lat": loc["lat"] if loc else None, "lng": loc["lng"] if loc else None,
        "source": data.get("source"), "tags": data.get("tags", []), "status": "pooled",
        "intent": data.get("intent"),
    }


def _rep_pool(principal, pool_id):
    """A pool open to the rep (else 422 on pool_id, as for a manager's unknown pool)."""
    pool = db.session.scalar(select(LeadPool).where(LeadPool.id == pool_id,
                                                    principal.scope.pools_open_to_me()))
    if pool is None:
        raise field_error("pool_id", "No such pool open to you.")
    return pool


def count_claim(principal, pool, day):
    """Count one claim against the rep's daily limit in the pool, or refuse (nothing counted):
    the same conditional upsert as a claim's (claims._CLAIM `counted`), one atomic step."""
    stmt = pg_insert(LeadDailyClaims).values(org_id=principal.org_id, pool_id=pool.id,
                                             user_id=principal.id, day=day, claims=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["org_id", "pool_id", "user_id", "day"],
        set_={"claims": LeadDailyClaims.claims + 1},
        where=LeadDailyClaims.claims < pool.daily_claim_limit).returning(LeadDailyClaims.claims)
    if db.session.execute(stmt).first() is None:
        raise daily_limit(pool)


def _write(principal, data, now):
    rep = principal.is_rep
    if rep:
        pool = _rep_pool(principal, data["pool_id"])
    else:
        pool = managed_pool(principal, data["pool_id"],
                            missing=field_error("pool_id", "No such pool."))
    row = _lead_row(principal, pool, data)
    duplicates.check(principal.org_id, phone=row["phone"], company=row["company"],
                     exclude_id=data.get("id"))
    lead = idempotency.stamp(Lead(**row, follow_up_count=0), principal=principal, data=data)
    lead.created_at = now
    if rep:  # in the claims' lock order: the day's counter, then the holding (trigger)
        count_claim(principal, pool, rules.local_day(now, principal.timezone))
        lead.status, lead.owner_id, lead.claimed_at = "claimed", principal.id, now
    db.session.add(lead)
    flush_holding(pool)
    event = add_event(lead, "created", at=now, actor_id=principal.id,
                      to_user_id=lead.owner_id)
    seal_event(lead, "created", event=event, user_id=principal.id, actor_id=principal.id,
               name=lead.name)
    return lead


def create_lead(*, principal: Principal, data: dict):
    """Add one lead: admins and managers into a pool they manage (pooled), reps into a pool
    open to them (claimed by the rep, within its limits). Returns (lead, created)."""
    principal.scope.require_role("admin", "manager", "rep")
    keys = {"phone": data.get("phone"), "company": data.get("company")}
    with duplicates.guarded(principal.org_id, keys, exclude_id=data.get("id")):
        lead, created = idempotency.create(
            Lead, principal=principal, data=data,
            write=lambda: _write(principal, data, datetime.now(UTC)))
    return reveal(principal, lead), created
