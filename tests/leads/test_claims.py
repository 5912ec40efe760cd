"""Claim, claim-next, release, assign, follow-ups, mark-dead: one request at a time (the
concurrent proofs are in test_concurrency.py)."""
import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.factories.visits import SHANGHAI
from tests import factories
from tests.factories import leads as lf



def claim(api, user, lead):
    return api.as_(user).post(f"/api/v1/leads/{lead.id}/claim")


def claim_next(api, user, pool, body=None):
    return api.as_(user).post(f"/api/v1/lead-pools/{pool.id}/claim-next", json=body or {})


def test_claim_makes_caller_owner_and_reveals_contact(api, world, db):
    pool = lf.pool(world.org, world.east, recycle_after_days=7, warn_before_days=1)
    lead = lf.lead(world.org, pool, phone_number="13812345678")
    before = datetime.now(UTC)
    r = claim(api, world.rep_east, lead)
    assert r.status_code == 200, r.json
    body = r.json
    assert body["status"] == "claimed" and body["owner_id"] == str(world.rep_east.id)
    assert body["phone"] == "13812345678"
    claimed_at = datetime.fromisoformat(body["claimed_at"])
    assert before <= claimed_at <= datetime.now(UTC)
    assert datetime.fromisoformat(body["recycle_at"]) == claimed_at + timedelta(days=7)
    assert body["recycle_warning"] is False
    again = claim(api, world.rep_east, lead)
    assert again.status_code == 200 and again.json["claimed_at"] == body["claimed_at"]
    taken = claim(api, world.rep_east2, lead)
    assert taken.status_code == 409 and taken.json["error"] == "already_claimed"
    events = api.as_(world.rep_east).get(f"/api/v1/leads/{lead.id}/events").json
    assert [(e["action"], e["to_user_id"]) for e in events] == [
        ("claimed", str(world.rep_east.id))]
    from fieldsales.audit.models import AuditEntry
    entries = db.scalars(select(AuditEntry).where(AuditEntry.entity_id == lead.id)).all()
    assert [(e.action, e.user_id) for e in entries] == [("lead.claimed", world.rep_east.id)]


@pytest.mark.parametrize("status", ["converted", "dead"])
def test_claiming_a_closed_lead_is_409(api, world, status):
    pool = lf.pool(world.org, world.east)
    fields = {}
    if status == "converted":
        fields["converted_customer_id"] = factories.customer(world.org, world.rep_east).id
    lead = lf.lead(world.org, pool, status=status, **fields)
    # A rep cannot see a closed unowned lead, but the pool's manager can try to claim it.
    r = claim(api, world.mgr_east, lead)
    assert r.status_code == 409 and r.json["error"] == "lead_closed"


def test_holding_limit_on_claim_and_claim_next(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=2, daily_claim_limit=10)
    leads = lf.leads(world.org, pool, 4)
    assert claim(api, world.rep_east, leads[0]).status_code == 200
    assert claim_next(api, world.rep_east, pool).status_code == 200
    r = claim(api, world.rep_east, leads[2])
    assert r.status_code == 422 and r.json["error"] == "holding_limit_reached"
    assert r.json["limit"] == 2
    r = claim_next(api, world.rep_east, pool)
    assert r.status_code == 422 and r.json["error"] == "holding_limit_reached"
    # Another rep is not affected, and releasing one frees a slot.
    assert claim(api, world.rep_east2, leads[2]).status_code == 200
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{leads[0].id}/release",
                                        json={}).status_code == 200
    assert claim(api, world.rep_east, leads[3]).status_code == 200


def test_daily_limit_counts_claims_not_holdings(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=10, daily_claim_limit=2, cooldown_days=0)
    leads = lf.leads(world.org, pool, 4)
    rep = api.as_(world.rep_east)
    for lead in leads[:2]:
        assert claim(api, world.rep_east, lead).status_code == 200
        assert rep.post(f"/api/v1/leads/{lead.id}/release", json={}).status_code == 200
    r = claim(api, world.rep_east, leads[2])
    assert r.status_code == 422 and r.json["error"] == "daily_claim_limit_reached"
    r = claim_next(api, world.rep_east, pool)
    assert r.status_code == 422 and r.json["error"] == "daily_claim_limit_reached"
    # Assignment by a manager is not a claim: it is not refused by the daily limit.
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{leads[2].id}/assign",
                                     json={"user_id": str(world.rep_east.id)})
    assert r.status_code == 200 and r.json["owner_id"] == str(world.rep_east.id)


def test_daily_limit_is_per_local_day(app, world, db):
    """Shanghai is UTC+8: 23:30 and 00:30 local are two days, 15:30Z and 16:30Z in UTC."""
    from fieldsales.errors import Unprocessable
    from fieldsales.leads import claims
    pool = lf.pool(world.org, world.east, daily_claim_limit=1, holding_limit=10)
    leads = lf.leads(world.org, pool, 3)
    late = datetime(2026, 3, 2, 15, 30, tzinfo=UTC)  # 23:30 on 2 March in Shanghai
    with as_principal(app, world.rep_east):
        claims.claim_lead(principal=principal_of(world.rep_east), lead_id=leads[0].id,
                          now=late)
    with as_principal(app, world.rep_east), pytest.raises(Unprocessable) as exc:
        claims.claim_lead(principal=principal_of(world.rep_east), lead_id=leads[1].id,
                          now=late + timedelta(minutes=20))
    assert exc.value.error == "daily_claim_limit_reached"
    with as_principal(app, world.rep_east):
        lead = claims.claim_lead(principal=principal_of(world.rep_east), lead_id=leads[1].id,
                                 now=late + timedelta(hours=1))  # 00:30 on 3 March
    assert lead.status == "claimed"


def test_cooldown_after_release(api, world):
    pool = lf.pool(world.org, world.east, cooldown_days=3)
    lead = lf.lead(world.org, pool)
    assert claim(api, world.rep_east, lead).status_code == 200
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/release",
                                     json={"reason": "not reachable"})
    assert r.status_code == 200 and r.json["status"] == "pooled" and r.json["owner_id"] is None
    r = claim(api, world.rep_east, lead)
    assert r.status_code == 422 and r.json["error"] == "cooldown_active"
    until = datetime.fromisoformat(r.json["until"])
    assert timedelta(days=3) - timedelta(minutes=1) < until - datetime.now(UTC) <= timedelta(
        days=3)
    # claim-next skips it for that rep: the pool looks empty to them, not to others.
    r = claim_next(api, world.rep_east, pool)
    assert r.status_code == 404 and r.json["error"] == "pool_empty"
    assert claim(api, world.rep_east2, lead).status_code == 200
    events = api.as_(world.rep_east2).get(f"/api/v1/leads/{lead.id}/events").json
    assert [(e["action"], e["reason"]) for e in events] == [
        ("claimed", None), ("released", "not reachable"), ("claimed", None)]
    assert events[1]["from_user_id"] == str(world.rep_east.id)


def test_claim_next_oldest_then_nearest(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=10)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    oldest = lf.lead(world.org, pool, created_at=t0, lat=31.40, lng=121.60)
    near = lf.lead(world.org, pool, created_at=t0 + timedelta(days=2), lat=31.2310, lng=121.4740)
    unlocated = lf.lead(world.org, pool, created_at=t0 + timedelta(days=1))
    r = claim_next(api, world.rep_east, pool)
    assert r.status_code == 200 and r.json["id"] == str(oldest.id)
    r = claim_next(api, world.rep_east, pool, {"near": {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}})
    assert r.json["id"] == str(near.id)
    # No located lead left: `near` falls back to the oldest claimable one.
    r = claim_next(api, world.rep_east, pool, {"near": {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}})
    assert r.json["id"] == str(unlocated.id)
    r = claim_next(api, world.rep_east, pool)
    assert r.status_code == 404 and r.json["error"] == "pool_empty"


def test_claim_next_nearest_uses_crs(api, world):
    from fieldsales import geo
    pool = lf.pool(world.org)
    a = lf.lead(world.org, pool, lat=31.2304, lng=121.4737)
    lf.lead(world.org, pool, lat=31.2404, lng=121.4837)
    lat, lng = geo.wgs84_to_bd09(31.2304, 121.4737)
    r = claim_next(api, world.rep_west, pool, {"near": {"lat": lat, "lng": lng, "crs": "bd09",
                                                        "accuracy_m": 35}})
    assert r.json["id"] == str(a.id)


@pytest.mark.parametrize("body", [{"near": {"lat": 91, "lng": 0}}, {"near": {"lat": 1}},
                                  {"pool": 1}])
def test_claim_next_validation(api, world, body):
    pool = lf.pool(world.org)
    assert claim_next(api, world.rep_east, pool, body).status_code == 422


def test_claim_rules_for_roles(api, world):
    east = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, east)
    assert claim(api, world.hr, lead).status_code == 403
    assert claim_next(api, world.hr, east).status_code == 403
    assert claim(api, world.rep_west, lead).status_code == 404
    assert claim_next(api, world.rep_west, east).status_code == 404
    assert claim(api, world.rep_north, lead).status_code == 200  # East's pool is open to North


def test_release_rules(api, world):
    pool = lf.pool(world.org, world.east)
    pooled = lf.lead(world.org, pool)
    held = lf.lead(world.org, pool, world.rep_east)
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{pooled.id}/release", json={})
    assert r.status_code == 409 and r.json["error"] == "lead_not_claimed"
    assert api.as_(world.rep_east2).post(f"/api/v1/leads/{held.id}/release",
                                         json={}).status_code == 404
    assert api.as_(world.hr).post(f"/api/v1/leads/{held.id}/release", json={}).status_code == 403
    long_reason = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/release",
                                               json={"reason": "x" * 501})
    assert long_reason.status_code == 422
    # A manager may take a lead back from its rep; the rep's cooldown starts.
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{held.id}/release",
                                     json={"reason": "idle"})
    assert r.status_code == 200 and r.json["status"] == "pooled"
    r = claim(api, world.rep_east, held)
    assert r.status_code == 422 and r.json["error"] == "cooldown_active"


def test_assign(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=1, cooldown_days=3)
    lead = lf.lead(world.org, pool)
    other = lf.lead(world.org, pool)
    mgr = api.as_(world.mgr_east)
    r = mgr.post(f"/api/v1/leads/{lead.id}/assign", json={"user_id": str(world.rep_east.id)})
    assert r.status_code == 200 and r.json["owner_id"] == str(world.rep_east.id)
    assert r.json["recycle_at"] is not None
    r = mgr.post(f"/api/v1/leads/{other.id}/assign", json={"user_id": str(world.rep_east.id)})
    assert r.status_code == 422 and r.json["error"] == "holding_limit_reached"
    # Reassignment moves the holding: rep_east is free again, rep_north now holds one.
    r = mgr.post(f"/api/v1/leads/{lead.id}/assign", json={"user_id": str(world.rep_north.id)})
    assert r.status_code == 200
    assert mgr.post(f"/api/v1/leads/{other.id}/assign",
                    json={"user_id": str(world.rep_east.id)}).status_code == 200
    events = mgr.get(f"/api/v1/leads/{lead.id}/events").json
    assert [(e["action"], e["from_user_id"], e["to_user_id"]) for e in events] == [
        ("assigned", None, str(world.rep_east.id)),
        ("assigned", str(world.rep_east.id), str(world.rep_north.id))]


def test_assign_rules(api, world):
    east = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, east)
    mgr = api.as_(world.mgr_east)
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/assign", json={
        "user_id": str(world.rep_east.id)}).status_code == 403
    assert api.as_(world.hr).post(f"/api/v1/leads/{lead.id}/assign", json={
        "user_id": str(world.rep_east.id)}).status_code == 403
    for target in (world.rep_west, world.hr, world.rep_b):
        r = mgr.post(f"/api/v1/leads/{lead.id}/assign", json={"user_id": str(target.id)})
        assert r.status_code == 422 and "user_id" in r.json["errors"]["json"], target.role
    # The admin manages everyone, but East's pool is not open to a West rep.
    r = api.as_(world.admin).post(f"/api/v1/leads/{lead.id}/assign",
                                  json={"user_id": str(world.rep_west.id)})
    assert r.status_code == 422 and "user_id" in r.json["errors"]["json"]
    assert mgr.post(f"/api/v1/leads/{lead.id}/assign", json={}).status_code == 422
    # A lead held by someone the manager does not manage cannot be taken from them.
    org_pool = lf.pool(world.org)
    west_held = lf.lead(world.org, org_pool, world.rep_west)
    r = mgr.post(f"/api/v1/leads/{west_held.id}/assign", json={"user_id": str(world.rep_east.id)})
    assert r.status_code == 403


def test_follow_ups_reset_the_recycle_clock(api, world):
    pool = lf.pool(world.org, world.east, recycle_after_days=7)
    claimed_at = datetime.now(UTC) - timedelta(days=5)
    lead = lf.lead(world.org, pool, world.rep_east, claimed_at=claimed_at)
    rep = api.as_(world.rep_east)
    body = rep.get(f"/api/v1/leads/{lead.id}").json
    assert datetime.fromisoformat(body["recycle_at"]) == claimed_at + timedelta(days=7)
    r = rep.post(f"/api/v1/leads/{lead.id}/follow-ups", json={
        "method": "call", "note": "Asked for a quote", "next_follow_up_at":
            "2026-12-01T10:00:00+08:00"})
    assert r.status_code == 201, r.json
    fu = r.json
    assert fu["user_id"] == str(world.rep_east.id) and fu["lead_id"] == str(lead.id)
    assert fu["next_follow_up_at"] == "2026-12-01T02:00:00Z"
    body = rep.get(f"/api/v1/leads/{lead.id}").json
    assert body["follow_up_count"] == 1 and body["last_follow_up_at"] == fu["created_at"]
    assert datetime.fromisoformat(body["recycle_at"]) == datetime.fromisoformat(
        fu["created_at"]) + timedelta(days=7)
    listed = rep.get(f"/api/v1/leads/{lead.id}/follow-ups").json
    assert [x["id"] for x in listed] == [fu["id"]]
    events = rep.get(f"/api/v1/leads/{lead.id}/events").json
    assert [e["action"] for e in events] == ["followed_up"]


def test_follow_up_rules(api, world):
    import uuid
    pool = lf.pool(world.org, world.east)
    held = lf.lead(world.org, pool, world.rep_east)
    pooled = lf.lead(world.org, pool)
    body = {"method": "call", "note": "x"}
    r = api.as_(world.mgr_east).post(f"/api/v1/leads/{held.id}/follow-ups", json=body)
    assert r.status_code == 403 and r.json["error"] == "not_lead_owner"
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{pooled.id}/follow-ups", json=body)
    assert r.status_code == 403
    assert api.as_(world.rep_east2).post(f"/api/v1/leads/{held.id}/follow-ups",
                                         json=body).status_code == 404
    for bad in ({"method": "fax", "note": "x"}, {"method": "call"},
                {"method": "call", "note": ""},
                {"method": "call", "note": "x", "next_follow_up_at": "tomorrow"}):
        assert api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/follow-ups",
                                            json=bad).status_code == 422
    keyed = {**body, "id": str(uuid.uuid4())}
    rep = api.as_(world.rep_east)
    first = rep.post(f"/api/v1/leads/{held.id}/follow-ups", json=keyed)
    again = rep.post(f"/api/v1/leads/{held.id}/follow-ups", json=keyed)
    assert (first.status_code, again.status_code) == (201, 200) and first.json == again.json
    assert rep.get(f"/api/v1/leads/{held.id}").json["follow_up_count"] == 1
    assert rep.post(f"/api/v1/leads/{held.id}/follow-ups",
                    json={**keyed, "note": "different"}).status_code == 409
    # The same id and body on another lead is not a retry of this follow-up.
    other = lf.lead(world.org, pool, world.rep_east)
    r = rep.post(f"/api/v1/leads/{other.id}/follow-ups", json=keyed)
    assert r.status_code == 409 and r.json["error"] == "idempotency_conflict"
    assert rep.get(f"/api/v1/leads/{other.id}").json["follow_up_count"] == 0


def test_add_follow_up_service_for_sync(app, world, db):
    """POST /sync calls add_follow_up directly: same result, idempotent by id."""
    import uuid

    from fieldsales.leads import moves
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east)
    data = {"id": uuid.uuid4(), "method": "message", "note": "offline note"}
    with as_principal(app, world.rep_east):
        fu, created = moves.add_follow_up(principal=principal_of(world.rep_east),
                                          lead_id=lead.id, data=data)
    with as_principal(app, world.rep_east):
        again, created_again = moves.add_follow_up(principal=principal_of(world.rep_east),
                                                   lead_id=lead.id, data=data)
    assert (created, created_again) == (True, False) and again.id == fu.id == data["id"]


def test_mark_dead(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=1)
    held = lf.lead(world.org, pool, world.rep_east)
    pooled = lf.lead(world.org, pool)
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/mark-dead",
                                        json={}).status_code == 422
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/mark-dead",
                                     json={"reason": "Company closed"})
    assert r.status_code == 200 and r.json["status"] == "dead"
    again = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/mark-dead",
                                         json={"reason": "x"})
    assert again.status_code == 409 and again.json["error"] == "lead_closed"
    # The dead lead no longer counts against the holding limit.
    assert claim(api, world.rep_east, pooled).status_code == 200
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{held.id}/follow-ups",
                                     json={"method": "call", "note": "x"})
    assert r.status_code == 409 and r.json["error"] == "lead_closed"
    events = api.as_(world.rep_east).get(f"/api/v1/leads/{held.id}/events").json
    assert (events[-1]["action"], events[-1]["reason"]) == ("marked_dead", "Company closed")


def test_mark_dead_pooled_lead_needs_pool_manager(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool)
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/mark-dead",
                                        json={"reason": "spam"}).status_code == 403
    assert api.as_(world.hr).post(f"/api/v1/leads/{lead.id}/mark-dead",
                                  json={"reason": "spam"}).status_code == 403
    assert api.as_(world.mgr_east).post(f"/api/v1/leads/{lead.id}/mark-dead",
                                        json={"reason": "spam"}).status_code == 200


def test_recycle_warning(api, world):
    pool = lf.pool(world.org, world.east, recycle_after_days=7, warn_before_days=2)
    fresh = lf.lead(world.org, pool, world.rep_east,
                    claimed_at=datetime.now(UTC) - timedelta(days=4))
    due_soon = lf.lead(world.org, pool, world.rep_east,
                       claimed_at=datetime.now(UTC) - timedelta(days=5, hours=1))
    rep = api.as_(world.rep_east)
    assert rep.get(f"/api/v1/leads/{fresh.id}").json["recycle_warning"] is False
    assert rep.get(f"/api/v1/leads/{due_soon.id}").json["recycle_warning"] is True


# --- helpers for calling the service directly ----------------------------------------------

@contextlib.contextmanager
def as_principal(app, user):
    """An app context with `g.principal` set, for calling services without HTTP."""
    from flask import g

    with app.test_request_context():
        g.principal = principal_of(user)
        yield


def principal_of(user):
    from fieldsales.extensions import db
    from fieldsales.orgs.models import Org
    from fieldsales.scope import Principal
    org_tz = db.session.get(Org, user.org_id).timezone
    return Principal.for_user(user, org_timezone=org_tz)


def test_bodies_are_optional_where_every_field_is(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool)
    r = api.as_(world.rep_east).request("POST", f"/api/v1/lead-pools/{pool.id}/claim-next")
    assert r.status_code == 200 and r.json["id"] == str(lead.id)
    r = api.as_(world.rep_east).request("POST", f"/api/v1/leads/{lead.id}/release")
    assert r.status_code == 200 and r.json["status"] == "pooled"
