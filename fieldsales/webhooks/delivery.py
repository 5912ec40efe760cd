"""Sending due deliveries: one row locked at a time (SKIP LOCKED), signed, at least once."""
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, select

from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.webhooks import transport
from fieldsales.webhooks.models import Webhook, WebhookDelivery

MAX_ATTEMPTS = 8  # the 8th failed try marks a delivery `failed`
BACKOFF_BASE = timedelta(seconds=10)
BACKOFF_CAP = timedelta(hours=1)
SIGNATURE_HEADER = "X-Fieldsales-Signature"
DELIVERY_HEADER = "X-Fieldsales-Delivery"


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try: 10 s, 20 s, 40 s ... at most an hour."""
    return min(BACKOFF_BASE * 2 ** (attempts - 1), BACKOFF_CAP)


def signature(secret: str, body: bytes) -> str:
    """The X-Fieldsales-Signature value: sha256=<hex HMAC-SHA256(secret, raw body)>."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(delivery: WebhookDelivery) -> bytes:
    """The JSON a receiver gets (the same bytes on every retry)."""
    return json.dumps({
        "id": str(delivery.id), "event": delivery.event, "org_id": str(delivery.org_id),
        "created_at": delivery.created_at.isoformat(), "data": delivery.payload,
    }, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def post(url: str, body: bytes, headers: dict) -> tuple[int | None, str | None]:
    """POST `body` as JSON; (HTTP status or None, error text or None when 2xx)."""
    headers = {"Content-Type": "application/json", "User-Agent": "fieldsales-webhooks",
               **headers}
    return transport.post(url, body, headers,
                          allow_private=current_app.config["WEBHOOK_PRIVATE_TARGETS"])


def _next_due(now: datetime):
    """Lock the oldest due pending delivery nobody else holds (FOR UPDATE SKIP LOCKED), looked
    for org by org: only the list of orgs with due rows reads across orgs (the locking query
    stays on one org, as Citus requires of a locking statement)."""
    due = and_(WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now)
    # The org that has waited longest first, so one org's backlog cannot starve the others.
    orgs = db.session.scalars(select(WebhookDelivery.org_id).where(due)
                              .group_by(WebhookDelivery.org_id)
                              .order_by(func.min(WebhookDelivery.next_attempt_at))).all()
    for org_id in orgs:
        found = db.session.execute(
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, and_(Webhook.org_id == WebhookDelivery.org_id,
                                Webhook.id == WebhookDelivery.webhook_id))
            .where(WebhookDelivery.org_id == org_id, Webhook.org_id == org_id, due)
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(1)
            .with_for_update(of=WebhookDelivery, skip_locked=True)).first()
        if found is not None:
            return found
    return None


def deliver_one(now: datetime | None = None) -> WebhookDelivery | None:
    """Try one due delivery, holding its row lock until the outcome is committed (a killed
    sender's lock dies with its connection, and the row is still pending); None if none due."""
    now = now or datetime.now(UTC)
    with transaction():
        found = _next_due(now)
        if found is None:
            return None
        delivery, url, secret = found
        body = body_of(delivery)
        status, error = post(url, body, {SIGNATURE_HEADER: signature(secret, body),
                                         DELIVERY_HEADER: str(delivery.id)})
        delivery.attempts += 1
        delivery.response_status = status
        delivery.last_error = error
        if error is None:
            delivery.status, delivery.delivered_at = "delivered", now
        elif delivery.attempts >= MAX_ATTEMPTS:
            delivery.status = "failed"
        else:
            delivery.next_attempt_at = now + backoff(delivery.attempts)
        return delivery


def deliver_due(now: datetime | None = None, limit: int = 100) -> int:
    """Try up to `limit` due deliveries one by one; how many were tried."""
    tried = 0
    while tried < limit and deliver_one(now) is not None:
        tried += 1
    return tried
