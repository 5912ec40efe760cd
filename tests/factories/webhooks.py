"""Webhook subscriptions, saved directly (the API's admin-only create is tested on its own)."""
from tests.factories.core import _save

SECRET = "s3cret-webhook-key-0123456789"


def webhook(org, url, events=("visit.flagged",), secret=SECRET, commit=True):
    from fieldsales.webhooks.models import Webhook

    return _save(Webhook(org_id=org.id, url=url, events=list(events), secret=secret),
                 commit=commit)


def queued(db, hook):
    """(event, payload) of the hook's deliveries, oldest first, read afresh."""
    from sqlalchemy import select

    from fieldsales.webhooks.models import WebhookDelivery

    db.expire_all()
    return db.execute(select(WebhookDelivery.event, WebhookDelivery.payload)
                      .where(WebhookDelivery.org_id == hook.org_id,
                             WebhookDelivery.webhook_id == hook.id)
                      .order_by(WebhookDelivery.created_at)).all()
