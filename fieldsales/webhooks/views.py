from fieldsales.auth.guard import current
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe, responds
from fieldsales.webhooks import service
from fieldsales.webhooks.delivery import (BACKOFF_BASE, BACKOFF_CAP, DELIVERY_HEADER,
                                          MAX_ATTEMPTS, SIGNATURE_HEADER)
from fieldsales.webhooks.models import EVENTS
from fieldsales.webhooks.schemas import (WebhookCreateSchema, WebhookDeliverySchema,
                                         WebhookSchema)

blp = Blueprint("webhooks", __name__, url_prefix="/api/v1",
                description="Webhooks: events pushed to your systems (admin)")

describe(f"""
### Webhooks

An admin subscribes a URL (http or https) to events: {", ".join(EVENTS)}.
`visit.flagged` is a visit whose risk score reached 50 or more (check-in, check-out, photo);
`lead.recycled` a lead returned to its pool by the recycling job; `report.submitted` a daily
report submitted; `approval.requested` an approval asked for, `approval.decided` its final
decision (approved or rejected); `alert.raised` an alert of `GET /alerts` (as the org's admins
see it) that had not been raised before, found by the alert evaluation job every 5 minutes:
`data` is the alert as `GET /alerts` lists it, and each alert is raised once.

Each event is written to an outbox in the transaction that caused it, and sent by a job queue
at least once: `POST` of `{{id, event, org_id, created_at, data}}` with
`{SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256(secret, raw body)>` and `{DELIVERY_HEADER}: <id>`
(the same on every retry: drop duplicates by it). A delivery is `delivered` after a 2xx answer
only; otherwise it is retried after {int(BACKOFF_BASE.total_seconds())} s × 2^(attempts − 1)
(at most {int(BACKOFF_CAP.total_seconds())} s) and is `failed` after {MAX_ATTEMPTS} tries.
Redirects are not followed. The secret is never returned.

Receivers must be public addresses: a URL naming a loopback, private or link-local host is
refused (422 `webhook_url_private`), and a name resolving to one is not called (the delivery
fails as unreachable), unless the server sets `FIELDSALES_WEBHOOK_PRIVATE_TARGETS` (it is set
in development). Creating and deleting a webhook is recorded in the admin's audit chain.
""")


@blp.post("/webhooks")
@blp.arguments(WebhookCreateSchema)
@blp.response(201, WebhookSchema)
@responds(blp, 403, "webhook_url_private")
def create_webhook(data):
    """Subscribe a URL to events (admin)."""
    return service.create_webhook(principal=current(), data=data)


@blp.get("/webhooks")
@blp.response(200, WebhookSchema(many=True))
@blp.paginate()
@responds(blp, 403)
def list_webhooks(pagination_parameters):
    """List the org's webhooks (admin)."""
    return service.list_webhooks(principal=current(), page=pagination_parameters)


@blp.delete("/webhooks/<uuid:webhook_id>")
@blp.response(204)
@responds(blp, 403, 404)
def delete_webhook(webhook_id):
    """Delete a webhook and its deliveries (admin)."""
    service.delete_webhook(principal=current(), webhook_id=webhook_id)


@blp.get("/webhooks/<uuid:webhook_id>/deliveries")
@blp.response(200, WebhookDeliverySchema(many=True))
@blp.paginate()
@responds(blp, 403, 404)
def list_deliveries(webhook_id, pagination_parameters):
    """A webhook's deliveries, newest first (admin)."""
    return service.list_deliveries(principal=current(), webhook_id=webhook_id,
                                   page=pagination_parameters)
