"""Handing a user's work to someone else (a rep leaves, changes territory): its customers,
claimed leads, open plans and active contracts move in one transaction, each lead with a
ledger entry, each contract sealed again for its new owner, the whole move in both users'
audit chains — and deactivating a user returns its leads to their pools, so nobody leaves
with them."""
from datetime import UTC, datetime

from sqlalchemy import select, update

from fieldsales import audit
from fieldsales.contracts.evidence import seal_contract
from fieldsales.contracts.models import Contract
from fieldsales.customers.models import Customer
from fieldsales.db import transaction
from fieldsales.errors import Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.leads.guards import flush_holding, holding_limit
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import Lead, LeadHolding
from fieldsales.leads.moves import pool_open_to
from fieldsales.plans.models import Plan
from fieldsales.plans.service import as_principal
from fieldsales.scope import Principal
from fieldsales.timeutil import local_date
from fieldsales.users.models import User


def handover(*, principal: Principal, user_id, to_user_id, now=None) -> dict:
    """Move a user's customers, claimed leads and open plans to another user (admin, the
    user's managers); returns how many of each moved (a repeat moves nothing: zeros)."""
    now = now or datetime.now(UTC)
    scope = principal.scope
    with transaction():
        source = scope.get(User, user_id, scope.users())
        scope.require_writer()
        if not scope.manages_user(source.id, source.team_id) or (
                source.id == principal.id and principal.role != "admin"):
            raise Forbidden("Only an admin or the user's managers may hand its work over.")
        if to_user_id == source.id:
            raise field_error("to_user_id", "Work cannot be handed over to the same user.")
        target = _recipient(principal, to_user_id)
        _lock_users(source.org_id, source.id, target.id)
        moved = {"customers": _customers(source, target, now),
                 "leads": _leads(principal, source, target, now),
                 "plans": _plans(source, target, now),
                 "contracts": _contracts(principal, source, target)}
        for user, direction in ((source, "out"), (target, "in")):
            audit.record(org_id=principal.org_id, user_id=user.id, actor_id=principal.id,
                         action=f"user.handover_{direction}", entity_type="user",
                         entity_id=source.id if direction == "in" else target.id,
                         data={"from_user_id": str(source.id), "to_user_id": str(target.id),
                               **{what: [str(i) for i in ids] for what, ids in moved.items()
                                  if ids}})
    return {what: len(ids) for what, ids in moved.items()}


def release_leads_of(*, principal: Principal, user, now) -> int:
    """Return every lead `user` holds to its pool (the user is being deactivated); each move in
    the ledger (`released`) and sealed in the user's chain. Inside the caller's transaction."""
    leads = db.session.scalars(select(Lead).where(
        Lead.org_id == user.org_id, Lead.owner_id == user.id, Lead.status == "claimed")
        .order_by(Lead.id).with_for_update()).all()
    for lead in leads:
        lead.status, lead.owner_id, lead.claimed_at = "pooled", None, None
        event = add_event(lead, "released", at=now, actor_id=principal.id, from_user_id=user.id,
                          reason="user deactivated")
        seal_event(lead, "released", event=event, user_id=user.id, actor_id=principal.id,
                   reason="user deactivated")
    db.session.flush()
    return len(leads)


def _recipient(principal, to_user_id):
    """An active rep or manager the caller manages (else a 422 on to_user_id)."""
    target = db.session.scalar(select(User).where(User.org_id == principal.org_id,
                                                  User.id == to_user_id))
    if target is None or not principal.scope.manages_user(target.id, target.team_id):
        raise field_error("to_user_id", "No such user in your scope.")
    if not target.active or target.role not in ("rep", "manager"):
        raise field_error("to_user_id", "Work can be handed over to active reps and managers "
                                        "only.")
    return target


def _lock_users(org_id, *ids):
    # In id order, so two handovers between the same two users queue instead of deadlocking.
    db.session.execute(select(User.id).where(User.org_id == org_id, User.id.in_(ids))
                       .order_by(User.id)
                       .with_for_update(key_share=True))


def _customers(source, target, now):
    return list(db.session.scalars(
        update(Customer).where(Customer.org_id == source.org_id, Customer.owner_id == source.id)
        .values(owner_id=target.id, version=Customer.version + 1, updated_at=now)
        .returning(Customer.id).execution_options(synchronize_session=False)))


def _leads(principal, source, target, now):
    leads = db.session.scalars(select(Lead).where(
        Lead.org_id == source.org_id, Lead.owner_id == source.id, Lead.status == "claimed")
        .order_by(Lead.id).with_for_update()).all()
    for lead in leads:
        if not pool_open_to(lead.pool, target):
            raise field_error("to_user_id", f"Lead pool '{lead.pool.name}' is not open to that "
                                            "user: hand over to someone in its team.")
    pools = {lead.pool_id: lead.pool for lead in leads}
    for pool in pools.values():
        holding = db.session.scalar(select(LeadHolding.holding).where(
            LeadHolding.org_id == pool.org_id, LeadHolding.pool_id == pool.id,
            LeadHolding.user_id == target.id)) or 0
        if holding + sum(lead.pool_id == pool.id for lead in leads) > pool.holding_limit:
            raise holding_limit(pool)  # named here; the trigger below has the final word
    for lead in leads:
        lead.owner_id, lead.claimed_at = target.id, now
    if leads:
        flush_holding(next(iter(pools.values())))
    for lead in leads:
        event = add_event(lead, "assigned", at=now, actor_id=principal.id,
                          from_user_id=source.id, to_user_id=target.id, reason="handover")
        seal_event(lead, "assigned", event=event, user_id=target.id, actor_id=principal.id,
                   from_user_id=source.id, reason="handover")
    return [lead.id for lead in leads]


def _contracts(principal, source, target):
    """Active contracts, each sealed again in its new owner's chain (the sealed owner must
    match the row, or audit verify would name the contract)."""
    contracts = db.session.scalars(select(Contract).where(
        Contract.org_id == source.org_id, Contract.owner_id == source.id,
        Contract.status == "active").order_by(Contract.id)
        .options(*principal.scope.routing).with_for_update()).all()
    for contract in contracts:
        contract.owner_id = target.id
        seal_contract(contract, action="handed_over", actor_id=principal.id,
                      data={"from_user_id": str(source.id)})
    return [contract.id for contract in contracts]


def _plans(source, target, now):
    """Plans still `planned` for the source user's today (at `now`) or later."""
    today = local_date(now, as_principal(source).timezone)
    return list(db.session.scalars(
        update(Plan).where(Plan.org_id == source.org_id, Plan.user_id == source.id,
                           Plan.status == "planned", Plan.planned_date >= today)
        .values(user_id=target.id).returning(Plan.id)
        .execution_options(synchronize_session=False)))
