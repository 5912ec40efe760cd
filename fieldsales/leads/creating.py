"""Putting one lead into a pool (admins; managers of the pool's team); a phone number already
in the org is a duplicate."""
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsales import idempotency
from fieldsales.errors import Conflict, field_error
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import Lead
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
    }


def _duplicate():
    return Conflict("A lead with this phone number already exists in your organisation.",
                    error="duplicate_lead")


def create_lead(*, principal: Principal, data: dict):
    """Put one lead into a pool (admin; managers of the pool's team). Returns (lead, created)."""
    principal.scope.require_role("admin", "manager")

    def write():
        pool = managed_pool(principal, data["pool_id"],
                            missing=field_error("pool_id", "No such pool."))
        row = _lead_row(principal, pool, data)
        if row["phone_normalized"] and (holder := db.session.scalar(select(Lead.id).where(
                Lead.org_id == principal.org_id,
                Lead.phone_normalized == row["phone_normalized"]))) is not None:
            if holder == data.get("id"):  # our own id holds it: a retry that committed first
                raise idempotency.DuplicateId()
            raise _duplicate()
        lead = idempotency.stamp(Lead(**row, follow_up_count=0), principal=principal, data=data)
        db.session.add(lead)
        now = datetime.now(UTC)
        lead.created_at = now
        event = add_event(lead, "created", at=now, actor_id=principal.id)
        seal_event(lead, "created", event=event, user_id=principal.id, actor_id=principal.id,
                   name=lead.name)
        return lead

    try:
        lead, created = idempotency.create(Lead, principal=principal, data=data, write=write)
    except IntegrityError as exc:
        if idempotency.is_unique_violation(exc, "uq_leads_org_phone"):
            raise _duplicate() from None  # a concurrent create with the same phone won
        raise
    return reveal(principal, lead), created
