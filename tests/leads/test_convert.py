from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests import factories
from tests.factories import leads as lf


def _with_follow_ups(api, world, pool, owner, notes):
    lead = lf.lead(world.org, pool, owner, name="Li Na", company="Jinqiao Foods",
                   phone_number="13812345678", email="li@example.com", address="1 Century Ave",
                   lat=31.23, lng=121.50, tags=["food"])
    for method, note in notes:
        r = api.as_(owner).post(f"/api/v1/leads/{lead.id}/follow-ups",
                                json={"method": method, "note": note})
        assert r.status_code == 201
    return lead


def test_convert_into_new_customer_copies_history(api, world, db):
    pool = lf.pool(world.org, world.east, holding_limit=1)
    lead = _with_follow_ups(api, world, pool, world.rep_east,
                            [("call", "First call"), ("visit", "Met the buyer")])
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/convert",
                                     json={"customer": {"status": "prospect"}})
    assert r.status_code == 201, r.json
    customer, converted = r.json["customer"], r.json["lead"]
    assert customer["name"] == "Jinqiao Foods" and customer["phone"] == "13812345678"
    assert customer["owner_id"] == str(world.rep_east.id)
    assert customer["team_id"] == str(world.east.id)
    assert customer["location"] == {"lat": 31.23, "lng": 121.50}
    assert customer["tags"] == ["food"] and customer["status"] == "prospect"
    assert converted["status"] == "converted"
    assert converted["converted_customer_id"] == customer["id"]
    assert converted["recycle_at"] is None
    records = api.as_(world.rep_east).get(
        f"/api/v1/customers/{customer['id']}/contact-records").json
    assert sorted((x["method"], x["summary"], x["user_id"]) for x in records) == [
        ("call", "First call", str(world.rep_east.id)),
        ("visit", "Met the buyer", str(world.rep_east.id))]
    contacts = api.as_(world.rep_east).get(f"/api/v1/customers/{customer['id']}/contacts").json
    assert [(c["name"], c["phone"]) for c in contacts] == [("Li Na", "13812345678")]
    events = api.as_(world.rep_east).get(f"/api/v1/leads/{lead.id}/events").json
    assert events[-1]["action"] == "converted" and customer["id"] in events[-1]["reason"]
    # Converting freed the holding, and the lead is closed now.
    assert api.as_(world.rep_east).post(
        f"/api/v1/lead-pools/{pool.id}/claim-next", json={}).status_code == 404
    again = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/claim")
    assert again.status_code == 409 and again.json["error"] == "lead_closed"


def test_convert_into_existing_customer_keeps_follow_up_authors_and_times(api, world, db):
    pool = lf.pool(world.org, world.east)
    lead = _with_follow_ups(api, world, pool, world.rep_east, [("call", "Called")])
    customer = factories.customer(world.org, world.rep_east, name="Existing Ltd")
    # The manager converts the rep's lead.
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{lead.id}/convert",
                                     json={"customer_id": str(customer.id)})
    assert r.status_code == 201 and r.json["customer"]["id"] == str(customer.id)
    from fieldsales.customers.models import ContactRecord
    from fieldsales.leads.models import LeadFollowUp
    follow_up = db.scalars(select(LeadFollowUp).where(LeadFollowUp.lead_id == lead.id)).one()
    record = db.scalars(select(ContactRecord).where(
        ContactRecord.customer_id == customer.id)).one()
    assert (record.user_id, record.created_at, record.summary) == (
        world.rep_east.id, follow_up.created_at, "Called")
    # A retry of the same conversion answers 200 with the same result.
    retry = api.as_(world.mgr_east).post(f"/api/v1/leads/{lead.id}/convert",
                                         json={"customer_id": str(customer.id)})
    assert retry.status_code == 200 and retry.json["lead"]["converted_customer_id"] == str(
        customer.id)
    other = factories.customer(world.org, world.rep_east)
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{lead.id}/convert",
                                     json={"customer_id": str(other.id)})
    assert r.status_code == 409 and r.json["error"] == "lead_closed"


@pytest.mark.parametrize("body, field", [
    ({}, "customer_id"), ({"customer_id": None}, "customer_id"),
    ({"customer_id": "00000000-0000-0000-0000-000000000000", "customer": {}}, "customer_id"),
    ({"customer": {"location": {"lat": 100, "lng": 0}}}, "customer"),
    ({"customer": {"owner": "x"}}, "customer")])
def test_convert_validation(api, world, body, field):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east)
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/convert", json=body)
    assert r.status_code == 422 and field in r.json["errors"]["json"], r.json


def test_convert_rules(api, world, db):
    pool = lf.pool(world.org, world.east)
    pooled = lf.lead(world.org, pool)
    held = lf.lead(world.org, pool, world.rep_east)
    west_customer = factories.customer(world.org, world.rep_west)
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{pooled.id}/convert",
                                     json={"customer": {}})
    assert r.status_code == 409 and r.json["error"] == "lead_not_claimed"
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/convert",
                                     json={"customer_id": str(west_customer.id)})
    assert r.status_code == 422 and "customer_id" in r.json["errors"]["json"]
    assert api.as_(world.hr).post(f"/api/v1/leads/{held.id}/convert",
                                  json={"customer": {}}).status_code == 403
    assert api.as_(world.rep_east2).post(f"/api/v1/leads/{held.id}/convert",
                                         json={"customer": {}}).status_code == 404
    # Reps may not hand the new customer to someone else.
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/convert", json={
        "customer": {"owner_id": str(world.rep_east2.id)}})
    assert r.status_code == 403
    from fieldsales.leads.models import Lead
    db.expire_all()
    assert db.get(Lead, (held.org_id, held.id)).status == "claimed"  # nothing half-done


def test_converted_lead_recycle_fields(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east,
                   claimed_at=datetime.now(UTC) - timedelta(days=30))
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/convert",
                                     json={"customer": {"name": "Custom name"}})
    assert r.status_code == 201 and r.json["customer"]["name"] == "Custom name"
    assert r.json["lead"]["recycle_warning"] is False
