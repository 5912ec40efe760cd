"""Webhook subscriptions (admin): create, list, delete, and their deliveries."""
from flask import current_app
from sqlalchemy import select

from fieldsales import audit
from fieldsales.db import paginate, transaction
from fieldsales.errors import field_error
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.webhooks.models import Webhook, WebhookDelivery
from fieldsales.webhooks.transport import literal_private


def create_webhook(*, principal: Principal, data: dict) -> Webhook:
    """Subscribe a URL to events (admin)."""
    principal.scope.webhooks()  # admin only
    if not current_app.config["WEBHOOK_PRIVATE_TARGETS"] and literal_private(data["url"]):
        raise field_error("url", "The URL's host is not a public address.",
                          error="webhook_url_private")
    with transaction():
        hook = Webhook(org_id=principal.org_id, url=data["url"],
                       events=list(dict.fromkeys(data["events"])), secret=data["secret"],
                       created_by=principal.id)
        db.session.add(hook)
        db.session.flush()
        _audit(principal, "webhook.created", hook)
    return hook


def _audit(principal: Principal, action: str, hook: Webhook) -> None:
    # Who pointed the org's events at which URL is evidence (the secret is not).
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action=action, entity_type="webhook", entity_id=hook.id,
                 data={"url": hook.url, "events": list(hook.events)})


def list_webhooks(*, principal: Principal, page):
    """The org's webhooks (admin), oldest first."""
    return paginate(select(Webhook).where(principal.scope.webhooks())
                    .order_by(Webhook.created_at, Webhook.id), page)


def get_webhook(*, principal: Principal, webhook_id) -> Webhook:
    """One of the org's webhooks (admin), or 404."""
    return principal.scope.get(Webhook, webhook_id, principal.scope.webhooks())


def delete_webhook(*, principal: Principal, webhook_id) -> None:
    """Unsubscribe (admin); its deliveries go with it, pending ones unsent."""
    with transaction():
        hook = get_webhook(principal=principal, webhook_id=webhook_id)
        _audit(principal, "webhook.deleted", hook)
        db.session.delete(hook)


def list_deliveries(*, principal: Principal, webhook_id, page):
    """A webhook's deliveries (admin), newest first."""
    hook = get_webhook(principal=principal, webhook_id=webhook_id)
    return paginate(select(WebhookDelivery).where(
        WebhookDelivery.org_id == principal.org_id, WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id), page)
