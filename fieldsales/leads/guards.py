"""What every move of a lead checks first: the locked row, who may move it, and the refusals
shared by claims, moves and conversions."""
from sqlalchemy.exc import IntegrityError

from fieldsales.db import violated
from fieldsales.errors import Conflict, Forbidden, Unprocessable
from fieldsales.extensions import db
from fieldsales.leads.models import Lead


def closed():
    return Conflict("This lead is converted or dead.", error="lead_closed")


def not_claimed():
    return Conflict("This lead is not claimed by anyone.", error="lead_not_claimed")


def holding_limit(pool):
    return Unprocessable(f"A rep may hold at most {pool.holding_limit} leads from this pool at "
                         "once (its holding limit).", error="holding_limit_reached",
                         limit=pool.holding_limit)


def daily_limit(pool):
    return Unprocessable(f"You have claimed {pool.daily_claim_limit} leads from this pool today "
                         "(its daily limit).", error="daily_claim_limit_reached",
                         limit=pool.daily_claim_limit)


def is_holding_limit(exc: IntegrityError) -> bool:
    """The holdings trigger (migration 0003) refused a change past the pool's holding limit."""
    return violated(exc, "23514", "lead_holding_limit")


def flush_holding(pool):
    """Flush a lead change; the holdings trigger answers for the holding limit (the caller's
    unit of work rolls back)."""
    refusal = holding_limit(pool)  # built now: the rollback expires `pool`
    try:
        db.session.flush()
    except IntegrityError as exc:
        if is_holding_limit(exc):
            raise refusal from None
        raise


def lock_lead(principal, lead_id, clause=None):
    """A visible lead, locked for the rest of the unit of work (invisible → 404)."""
    scope = principal.scope
    return scope.get(Lead, lead_id, clause if clause is not None else scope.leads(),
                     for_update=True)


def lock_open_lead(principal, lead_id):
    """A visible lead, locked, that the caller may write to and that is neither converted nor
    dead (the first checks of every move of a held lead)."""
    lead = lock_lead(principal, lead_id)
    principal.scope.require_writer()
    if lead.status in ("converted", "dead"):
        raise closed()
    return lead


def require_holder_or_manager(principal, lead, what):
    if lead.owner_id != principal.id and not principal.scope.manages_user(lead.owner_id):
        raise Forbidden(f"Only the lead's owner, its managers or an admin may {what} it.")


def require_owner_side(principal, lead, what):
    """A held lead: its owner, the owner's managers or an admin; a pooled one: the managers of
    its pool's team or an admin."""
    if lead.owner_id is not None:
        require_holder_or_manager(principal, lead, what)
    elif not principal.scope.can_manage_pool(lead.pool):
        raise Forbidden(f"Only admins and the managers of the pool's team may {what} a pooled "
                        "lead.")
