"""Webhooks and the network: private receivers refused unless allowed (SSRF), and who subscribed
what is in the audit chain."""
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from fieldsales.audit.models import AuditEntry
from tests.webhooks.receiver import receiver
from tests.webhooks.test_delivery import deliver, queue, rows

BODY = {"events": ["visit.flagged"], "secret": "0123456789abcdef-secret"}


@pytest.fixture
def production_network(app, monkeypatch):
    """The production default: private receivers refused."""
    monkeypatch.setitem(app.config, "WEBHOOK_PRIVATE_TARGETS", False)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080/hook", "https://localhost/hook",
                                 "http://169.254.169.254/latest/meta-data/",
                                 "http://[::1]/hook", "http://10.1.2.3/hook"])
def test_subscribing_a_private_address_is_422(api, world, db, production_network, url):
    r = api.as_(world.admin).post("/api/v1/webhooks", json={**BODY, "url": url})
    assert r.status_code == 422, r.json
    assert r.json["error"] == "webhook_url_private"
    assert api.as_(world.admin).get("/api/v1/webhooks").json == []


def test_private_addresses_are_allowed_where_configured(api, world, db):
    # development and tests set FIELDSALES_WEBHOOK_PRIVATE_TARGETS (local receivers)
    r = api.as_(world.admin).post("/api/v1/webhooks",
                                  json={**BODY, "url": "http://127.0.0.1:8080/hook"})
    assert r.status_code == 201, r.json


def test_the_worker_does_not_call_a_private_receiver(app, org, production_network):
    # A subscription made while allowed (or a name that later resolves to a private address):
    # the sender checks the resolved address itself and the receiver is never called.
    with receiver(200) as rx:
        _, [delivery_id] = queue(app, org, rx.url)
        assert deliver(app, now=datetime.now(UTC)) >= 1
        assert rx.requests == []
    row = rows(app, org)[delivery_id]
    assert (row.status, row.attempts, row.response_status) == ("pending", 1, None)
    assert "not public" in row.last_error


def test_the_same_receiver_is_called_when_allowed(app, org):
    with receiver(200) as rx:
        _, [delivery_id] = queue(app, org, rx.url)
        deliver(app)
        assert len(rx.requests) == 1
    assert rows(app, org)[delivery_id].status == "delivered"


def test_create_and_delete_are_in_the_admins_audit_chain(api, world, db):
    admin = api.as_(world.admin)
    url = "https://example.com/hooks"
    hook = admin.post("/api/v1/webhooks", json={**BODY, "url": url}).json
    assert admin.request("DELETE", f"/api/v1/webhooks/{hook['id']}").status_code == 204
    entries = db.execute(select(AuditEntry.action, AuditEntry.user_id, AuditEntry.data)
                         .where(AuditEntry.entity_type == "webhook",
                                AuditEntry.entity_id == hook["id"])
                         .order_by(AuditEntry.seq)).all()
    assert [(a, u) for a, u, _ in entries] == [("webhook.created", world.admin.id),
                                               ("webhook.deleted", world.admin.id)]
    assert all(d["url"] == url and d["events"] == ["visit.flagged"] for _, _, d in entries)
    assert BODY["secret"] not in str([d for _, _, d in entries])
