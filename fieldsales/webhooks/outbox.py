"""The outbox: events become delivery rows in the transaction that caused them."""
import json

from sqlalchemy import cast, func, insert, literal, select
from sqlalchemy.dialects.postgresql import JSONB

from fieldsales.extensions import db
from fieldsales.webhooks.models import EVENTS, Webhook, WebhookDelivery


def emit(org_id, event: str, payload: dict) -> None:
    """Queue `event` for every webhook of the org subscribed to it, in the caller's transaction
    (one INSERT ... SELECT, nothing committed): it is delivered if and only if that commits."""
    if event not in EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    data = json.loads(json.dumps(payload, default=str))  # UUIDs, times, Decimals as strings
    subscribed = select(
        Webhook.org_id, func.gen_random_uuid(), Webhook.id, literal(event),
        cast(literal(json.dumps(data)), JSONB),
    ).where(Webhook.org_id == org_id, Webhook.events.any_() == event)
    # No autoflush: a caller writing its rows with a statement of its own (the check-in) must
    # not have them flushed early by this one.
    with db.session.no_autoflush:
        db.session.execute(insert(WebhookDelivery).from_select(
            ["org_id", "id", "webhook_id", "event", "payload"], subscribed))
