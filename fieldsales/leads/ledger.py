"""The ownership ledger: one lead_events row per move of a lead, sealed on the audit chain of
the user the move is about."""
import uuid
from datetime import UTC

from sqlalchemy import select

from fieldsales import audit
from fieldsales.extensions import db
from fieldsales.leads.models import LeadEvent


def add_event(lead, action, *, at, actor_id, from_user_id=None, to_user_id=None, reason=None):
    """Add a ledger entry; returns it for seal_event to seal."""
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

