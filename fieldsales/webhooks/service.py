"""Webhook subscriptions (admin): create, list, delete, and their deliveries."""
from sqlalchemy import select

from fieldsales.db import paginate, transaction
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.webhooks.models import Webhook, WebhookDelivery


def create_webhook(*, principal: Principal, data: dict) -> Webhook:
    """Subscribe a URL to events (admin)."""
    principal.scope.webhooks()  # admin only
    with transaction():
        hook = Webhook(org_id=principal.org_id, url=data["url"],
                       events=list(dict.fromkeys(data["events"])), secret=data["secret"],
                       created_by=principal.id)
        db.session.add(hook)
    return hook


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
        db.session.delete(get_webhook(principal=principal, webhook_id=webhook_id))


def list_deliveries(*, principal: Principal, webhook_id, page):
    """A webhook's deliveries (admin), newest first."""
    hook = get_webhook(principal=principal, webhook_id=webhook_id)
    return paginate(select(WebhookDelivery).where(
        WebhookDelivery.org_id == principal.org_id, WebhookDelivery.webhook_id == hook.id)
        .order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id), page)
