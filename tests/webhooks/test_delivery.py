"""Delivery to a real local HTTP receiver: signed bodies, retries with growing waits, `failed`
after the documented number of tries, two senders never sending one delivery at once."""
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldsales.webhooks.models import WebhookDelivery
from tests import factories
from tests.conftest import run_threads
from tests.factories import webhooks as wf
from tests.webhooks.receiver import receiver


def expected_signature(body: bytes) -> str:
    return "sha256=" + hmac.new(wf.SECRET.encode(), body, hashlib.sha256).hexdigest()


def queue(app, org, url, n=1, event="visit.flagged"):
    """Subscribe `url` and emit n events (committed); the delivery ids, oldest first."""
    from fieldsales.extensions import db
    from fieldsales.webhooks import emit

    with app.app_context():
        hook = wf.webhook(org, url, events=[event])
        for i in range(n):
            emit(org.id, event, {"n": i, "visit_id": f"v{i}"})
        db.session.commit()
        return hook.id, [str(i) for i in db.session.scalars(
            select(WebhookDelivery.id).where(WebhookDelivery.org_id == org.id,
                                             WebhookDelivery.webhook_id == hook.id)
            .order_by(WebhookDelivery.payload["n"].as_integer()))]


def rows(app, org):
    from fieldsales.extensions import db

    with app.app_context():
        return {str(d.id): d for d in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.org_id == org.id))}


def deliver(app, now=None):
    from fieldsales.webhooks.delivery import deliver_due

    with app.app_context():
        return deliver_due(now=now)


def test_delivered_once_signed_with_the_delivery_id(app, org):
    with receiver(200) as rx:
        _, [delivery_id] = queue(app, org, rx.url)
        assert deliver(app) >= 1
        [(headers, body)] = rx.requests
    assert headers["X-Fieldsales-Signature"] == expected_signature(body)
    assert headers["X-Fieldsales-Delivery"] == delivery_id
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)
    assert (sent["id"], sent["event"], sent["org_id"]) == (delivery_id, "visit.flagged",
                                                          str(org.id))
    assert sent["data"] == {"n": 0, "visit_id": "v0"}
    row = rows(app, org)[delivery_id]
    assert (row.status, row.attempts, row.response_status, row.last_error) == (
        "delivered", 1, 200, None)
    assert row.delivered_at is not None
    # delivered is final: nothing is sent again, even much later
    assert deliver(app, now=datetime.now(UTC) + timedelta(days=2)) == 0


def test_a_tampered_body_does_not_verify(app, org):
    with receiver(204) as rx:
        queue(app, org, rx.url)
        deliver(app)
        [(headers, body)] = rx.requests
    assert headers["X-Fieldsales-Signature"] != expected_signature(body + b" ")
    assert rows(app, org).popitem()[1].status == "delivered"  # any 2xx counts


def test_a_receiver_answering_500_forever_gets_8_tries_then_failed(app, org):
    from fieldsales.webhooks.delivery import deliver_one

    with receiver(500) as rx:
        _, [delivery_id] = queue(app, org, rx.url)
        now = datetime.now(UTC) + timedelta(seconds=1)
        waits = []
        for attempt in range(1, 9):
            with app.app_context():
                tried = deliver_one(now=now)
            assert tried is not None and str(tried.id) == delivery_id
            row = rows(app, org)[delivery_id]
            assert row.attempts == attempt and row.response_status == 500
            assert row.last_error == "HTTP 500"
            if attempt < 8:
                assert row.status == "pending"
                # not due before its next attempt time
                with app.app_context():
                    assert deliver_one(now=row.next_attempt_at - timedelta(seconds=1)) is None
                waits.append((row.next_attempt_at - now).total_seconds())
                now = row.next_attempt_at
            else:
                assert row.status == "failed"
        assert len(rx.requests) == 8
        # failed is final
        assert deliver(app, now=now + timedelta(days=30)) == 0
        assert len(rx.requests) == 8
    # the documented schedule: 10 s x 2^(attempts - 1)
    assert waits == [10, 20, 40, 80, 160, 320, 640]
    assert len({sig for sig in (h["X-Fieldsales-Signature"] for h, _ in rx.requests)}) == 1


def test_unreachable_and_redirecting_receivers_are_retried(app, org):
    with receiver(302) as rx:
        url = rx.url
        _, [redirected] = queue(app, org, url)
        deliver(app)
    row = rows(app, org)[redirected]
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, 302)
    # the receiver is gone now: connection refused is an error, retried later
    deliver(app, now=row.next_attempt_at)
    row = rows(app, org)[redirected]
    assert row.status == "pending" and row.attempts == 2 and row.response_status is None
    assert row.last_error and "refused" in row.last_error.lower()


def test_the_deliveries_list_shows_the_outcome(app, org):
    from tests.conftest import ApiClient

    with receiver(500) as rx:
        hook_id, _ = queue(app, org, rx.url)
        deliver(app)
    admin = factories.user(org, "admin")
    r = ApiClient(app, admin).get(f"/api/v1/webhooks/{hook_id}/deliveries")
    assert r.status_code == 200
    [d] = r.json
    assert (d["status"], d["attempts"], d["response_status"], d["last_error"]) == (
        "pending", 1, 500, "HTTP 500")


def test_two_senders_at_once_never_send_one_delivery_twice(app, org):
    with receiver(200) as rx:
        rx.pause = 0.05  # each request takes a while: senders overlap
        _, ids = queue(app, org, rx.url, n=24)
        tried = run_threads(4, lambda i: deliver(app))
        sent = [json.loads(body)["id"] for body in rx.bodies()]
    assert sorted(sent) == sorted(ids)  # each exactly once
    assert rx.overlaps == 0
    assert sum(tried) == 24
    assert {r.status for r in rows(app, org).values()} == {"delivered"}
