"""Moving a held lead: release it, assign it, log a follow-up on it, mark it dead. Each is one
unit of work on the locked lead row, with its ledger entry sealed in the same transaction."""
from datetime import UTC, datetime

from sqlalchemy import select

from fieldsales import idempotency
from fieldsales.db import transaction
from fieldsales.errors import Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.leads.claims import start_cooldown
from fieldsales.leads.guards import (closed, flush_holding, lock_lead, lock_open_lead,
                                     not_claimed, require_holder_or_manager,
                                     require_owner_side)
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import LeadFollowUp
from fieldsales.plans.fulfil import fulfil_call
from fieldsales.leads.reading import reveal
from fieldsales.scope import Principal, team_ancestor_ids
from fieldsales.users.models import User


def release_lead(*, principal: Principal, lead_id, reason=None, now=None):
    """Put a claimed lead back into its pool; the previous holder's cooldown starts."""
    now = now or datetime.now(UTC)
    with transaction():
        lead = lock_open_lead(principal, lead_id)
        if lead.status != "claimed":
            raise not_claimed()
        require_holder_or_manager(principal, lead, "release")
        previous = lead.owner_id
        lead.status, lead.owner_id, lead.claimed_at = "pooled", None, None
        db.session.flush()
        start_cooldown(lead, lead.pool, previous, now)
        event = add_event(lead, "released", at=now, actor_id=principal.id,
                          from_user_id=previous, reason=reason)
        seal_event(lead, "released", event=event, user_id=previous, actor_id=principal.id,
                   reason=reason)
    return reveal(principal, lead)


def _assignee(principal, pool, user_id):
    user = db.session.scalar(select(User).where(User.org_id == principal.org_id,
                                                User.id == user_id))
    if user is None or not principal.scope.manages_user(user.id, user.team_id):
        raise field_error("user_id", "No such user in your scope.")
    if not user.active or user.role not in ("rep", "manager"):
        raise field_error("user_id", "Leads can be assigned to active reps and managers only.")
    if not pool_open_to(pool, user):
        raise field_error("user_id", "This lead's pool is not open to that user.")
    return user


def pool_open_to(pool, user) -> bool:
    """A pool of no team is open to everyone; a team's pool to that team and the teams below."""
    return pool.team_id is None or (
        user.team_id is not None and pool.team_id in team_ancestor_ids(user.org_id, user.team_id))


def assign_lead(*, principal: Principal, lead_id, user_id, now=None):
    """Give a lead to a user (managers, admin); the holding limit applies, cooldown does not."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    with transaction():
        lead = lock_lead(principal, lead_id, scope.leads_to_claim())
        scope.require_writer()
        scope.require_role("admin", "manager")
        if lead.status in ("converted", "dead"):
            raise closed()
        if lead.owner_id is not None:
            require_holder_or_manager(principal, lead, "reassign")
        pool = lead.pool
        user = _assignee(principal, pool, user_id)
        if lead.owner_id == user.id:
            return reveal(principal, lead)  # nothing written; the commit lets the lock go
        previous = lead.owner_id
        lead.status, lead.owner_id, lead.claimed_at = "claimed", user.id, now
        flush_holding(pool)
        event = add_event(lead, "assigned", at=now, actor_id=principal.id,
                          from_user_id=previous, to_user_id=user.id)
        seal_event(lead, "assigned", event=event, user_id=user.id, actor_id=principal.id,
                   from_user_id=previous)
    return reveal(principal, lead)


def add_follow_up(*, principal: Principal, lead_id, data: dict, now=None):
    """Log a follow-up on a lead the caller holds; it restarts the recycle clock. `data` as
    loaded by FollowUpCreateSchema (POST /sync uses this too). Returns (follow_up, created);
    a retry with the same id returns the stored one."""
    now = now or datetime.now(UTC)
    data = {**data, "lead_id": lead_id}  # the same id on another lead: 409

    def write():
        lead = lock_open_lead(principal, lead_id)
        if lead.status != "claimed" or lead.owner_id != principal.id:
            raise Forbidden("Only the lead's current owner may log follow-ups.",
                            error="not_lead_owner")
        fulfil_call(principal, at=now, lead_id=lead.id)
        follow_up = idempotency.stamp(LeadFollowUp(
            org_id=principal.org_id, lead_id=lead.id, user_id=principal.id,
            method=data["method"], note=data["note"],
            next_follow_up_at=data.get("next_follow_up_at"), created_at=now,
        ), principal=principal, data=data)
        db.session.add(follow_up)
        lead.last_follow_up_at = now
        lead.follow_up_count += 1  # the row is locked: no lost update
        event = add_event(lead, "followed_up", at=now, actor_id=principal.id)
        seal_event(lead, "followed_up", event=event, user_id=principal.id,
                   actor_id=principal.id, follow_up_id=follow_up.id, method=follow_up.method)
        return follow_up

    return idempotency.create(LeadFollowUp, principal=principal, data=data, write=write)


def mark_dead(*, principal: Principal, lead_id, reason: str, now=None):
    """Close a lead that will never buy (its holder, the holder's managers; for a pooled lead
    the pool's managers)."""
    now = now or datetime.now(UTC)
    with transaction():
        lead = lock_open_lead(principal, lead_id)
        require_owner_side(principal, lead, "close")
        owner = lead.owner_id
        lead.status = "dead"
        event = add_event(lead, "marked_dead", at=now, actor_id=principal.id,
                          from_user_id=owner, reason=reason)
        seal_event(lead, "marked_dead", event=event, user_id=owner or principal.id,
                   actor_id=principal.id, reason=reason)
    return reveal(principal, lead)
