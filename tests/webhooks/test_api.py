"""Webhook subscriptions through the API: admin only, per org, secrets never returned, bad
input 422 with nothing written."""
import pytest
from sqlalchemy import func, select

from fieldsales.webhooks.models import Webhook, WebhookDelivery
from tests.factories import webhooks as wf

BODY = {"url": "https://example.com/hooks", "events": ["visit.flagged", "report.submitted"],
        "secret": "0123456789abcdef-secret"}


def test_create_list_delete(api, world, db):
    admin = api.as_(world.admin)
    r = admin.post("/api/v1/webhooks", json=BODY)
    assert r.status_code == 201, r.json
    created = r.json
    assert created["url"] == BODY["url"] and created["events"] == BODY["events"]
    assert "secret" not in created
    assert db.scalar(select(Webhook.secret).where(Webhook.id == created["id"])) == BODY["secret"]

    listed = admin.get("/api/v1/webhooks")
    assert listed.status_code == 200
    assert listed.json == [created]
    assert BODY["secret"] not in listed.text
    # another org's admin sees none of it
    assert api.as_(world.admin_b).get("/api/v1/webhooks").json == []
    assert api.as_(world.admin_b).get(
        f"/api/v1/webhooks/{created['id']}/deliveries").status_code == 404
    assert api.as_(world.admin_b).request("DELETE", f"/api/v1/webhooks/{created['id']}").status_code == 404

    deliveries = admin.get(f"/api/v1/webhooks/{created['id']}/deliveries")
    assert deliveries.status_code == 200 and deliveries.json == []

    assert admin.request("DELETE", f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert admin.get("/api/v1/webhooks").json == []
    assert admin.request("DELETE", f"/api/v1/webhooks/{created['id']}").status_code == 404


def test_deliveries_are_listed_with_their_state(api, world, db):
    from fieldsales.webhooks import emit

    hook = wf.webhook(world.org, "http://127.0.0.1:9/x", events=["lead.recycled"])
    emit(world.org.id, "lead.recycled", {"lead_id": "abc"})
    db.commit()
    r = api.as_(world.admin).get(f"/api/v1/webhooks/{hook.id}/deliveries")
    assert r.status_code == 200
    [d] = r.json
    assert d["event"] == "lead.recycled" and d["status"] == "pending" and d["attempts"] == 0
    assert d["last_error"] is None and d["response_status"] is None
    assert d["next_attempt_at"] is not None and d["delivered_at"] is None


@pytest.mark.parametrize("who", ["mgr_east", "rep_east", "hr"])
def test_only_admins(api, world, db, who):
    client = api.as_(getattr(world, who))
    assert client.post("/api/v1/webhooks", json=BODY).status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 403
    hook = wf.webhook(world.org, "https://example.com/x")
    assert client.get(f"/api/v1/webhooks/{hook.id}/deliveries").status_code == 403
    assert client.request("DELETE", f"/api/v1/webhooks/{hook.id}").status_code == 403
    assert db.scalar(select(func.count()).select_from(Webhook)
                     .where(Webhook.org_id == world.org.id)) == 1


@pytest.mark.parametrize("change", [
    {"url": "ftp://example.com/x"},
    {"url": "file:///etc/passwd"},
    {"url": "javascript:alert(1)"},
    {"url": "example.com/hooks"},
    {"url": "http://"},
    {"url": ""},
    {"events": []},
    {"events": ["visit.flagged", "visit.deleted"]},
    {"events": "visit.flagged"},
    {"secret": "short"},
    {"role": "admin"},
])
def test_bad_input_is_422_and_writes_nothing(api, world, db, change):
    r = api.as_(world.admin).post("/api/v1/webhooks", json={**BODY, **change})
    assert r.status_code == 422, r.json
    assert db.scalar(select(func.count()).select_from(Webhook)
                     .where(Webhook.org_id == world.org.id)) == 0


@pytest.mark.parametrize("missing", ["url", "events", "secret"])
def test_missing_fields_are_422(api, world, missing):
    body = {k: v for k, v in BODY.items() if k != missing}
    assert api.as_(world.admin).post("/api/v1/webhooks", json=body).status_code == 422


def test_emit_writes_one_row_per_subscribed_webhook_of_the_org(world, db):
    from fieldsales.webhooks import emit

    a = wf.webhook(world.org, "https://a.example/x", events=["visit.flagged"])
    b = wf.webhook(world.org, "https://b.example/x", events=["visit.flagged", "lead.recycled"])
    wf.webhook(world.org, "https://c.example/x", events=["report.submitted"])
    wf.webhook(world.org_b, "https://d.example/x", events=["visit.flagged"])
    emit(world.org.id, "visit.flagged", {"visit_id": "v1", "risk_score": 60})
    rows = db.execute(select(WebhookDelivery.webhook_id, WebhookDelivery.payload)
                      .where(WebhookDelivery.event == "visit.flagged")).all()
    assert sorted(r.webhook_id for r in rows) == sorted([a.id, b.id])
    assert all(r.payload == {"visit_id": "v1", "risk_score": 60} for r in rows)
    # rolled back with the caller's transaction: nothing is queued
    db.rollback()
    assert db.scalar(select(func.count()).select_from(WebhookDelivery)
                     .where(WebhookDelivery.org_id == world.org.id)) == 0
