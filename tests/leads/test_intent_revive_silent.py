"""Lead intent and its effect on claim-next; reviving dead leads; silent pooled leads and their
alert."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from fieldsales.leads.models import Lead
from tests import factories
from tests.factories import leads as lf

SHANGHAI = {"lat": 31.2304, "lng": 121.4737}
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _next(api, rep, pool, near=None):
    return api.as_(rep).post(f"/api/v1/lead-pools/{pool.id}/claim-next",
                             json={"near": near} if near else {})


def test_claim_next_prefers_hot_then_warm_then_cold_then_unknown_then_none(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=20)
    order = []
    for age, intent in enumerate(["none", None, "cold", "warm", "hot"]):
        # the hotter, the younger: intent must beat age
        order.append(lf.lead(world.org, pool, created_at=T0 + timedelta(days=age), intent=intent))
    older_hot = lf.lead(world.org, pool, created_at=T0 - timedelta(days=1), intent="hot")
    got = [_next(api, world.rep_east, pool).json["id"] for _ in range(6)]
    assert got == [str(older_hot.id), *[str(x.id) for x in reversed(order)]]


def test_claim_next_near_prefers_intent_over_distance(api, world):
    pool = lf.pool(world.org, world.east, holding_limit=20)
    close = lf.lead(world.org, pool, lat=31.2305, lng=121.4738)
    far_warm = lf.lead(world.org, pool, lat=31.40, lng=121.70, intent="warm")
    unlocated_hot = lf.lead(world.org, pool, intent="hot")
    got = [_next(api, world.rep_east, pool, SHANGHAI).json["id"] for _ in range(3)]
    assert got == [str(unlocated_hot.id), str(far_warm.id), str(close.id)]


def test_intent_is_set_by_the_owner_or_its_managers(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east)
    url = f"/api/v1/leads/{lead.id}"
    assert api.as_(world.rep_east).patch(url, json={"intent": "hot"}).json["intent"] == "hot"
    assert api.as_(world.mgr_east).patch(url, json={"intent": None}).json["intent"] is None
    assert api.as_(world.rep_east2).patch(url, json={"intent": "cold"}).status_code == 404
    assert api.as_(world.mgr_west).patch(url, json={"intent": "cold"}).status_code == 404
    assert api.as_(world.rep_east).patch(url, json={"intent": "boiling"}).status_code == 422


def test_revive_puts_a_dead_lead_back_into_a_pool(api, world):
    pool = lf.pool(world.org, world.east)
    other = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east, status="dead")
    url = f"/api/v1/leads/{lead.id}/revive"
    assert api.as_(world.rep_east).post(url, json={"reason": "x"}).status_code == 403
    r = api.as_(world.mgr_east).post(url, json={"pool_id": str(other.id),
                                                "reason": "New budget"})
    assert r.status_code == 200, r.json
    assert (r.json["status"], r.json["owner_id"], r.json["pool_id"]) == (
        "pooled", None, str(other.id))
    events = api.as_(world.mgr_east).get(f"/api/v1/leads/{lead.id}/events").json
    assert (events[-1]["action"], events[-1]["actor_id"], events[-1]["reason"]) == (
        "revived", str(world.mgr_east.id), "New budget")
    r = api.as_(world.mgr_east).post(url, json={"reason": "again"})
    assert (r.status_code, r.json["error"]) == (422, "lead_not_dead")
    assert api.as_(world.mgr_east).post(url, json={}).status_code == 422
    # The revived lead is claimable again.
    assert api.as_(world.rep_east2).post(f"/api/v1/leads/{lead.id}/claim").status_code == 200


def test_revive_is_refused_when_its_phone_was_taken_meanwhile(api, world):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, status="dead", phone_number="13200000001")
    factories.customer(world.org, world.rep_east, phone="13200000001")
    r = api.as_(world.admin).post(f"/api/v1/leads/{lead.id}/revive", json={"reason": "x"})
    assert (r.status_code, r.json["error"]) == (409, "duplicate_customer")
    assert api.as_(world.admin).get(f"/api/v1/leads/{lead.id}").json["status"] == "dead"


def test_silent_leads_and_their_alert(api, world, db):
    pool = lf.pool(world.org, world.east, silent_after_days=14)
    quiet = lf.lead(world.org, pool)
    fresh = lf.lead(world.org, pool)
    now = datetime.now(UTC)
    db.execute(update(Lead).where(Lead.id == quiet.id).values(pooled_at=now - timedelta(days=15)))
    db.execute(update(Lead).where(Lead.id == fresh.id).values(pooled_at=now - timedelta(days=13)))
    db.commit()
    r = api.as_(world.mgr_east).get(f"/api/v1/leads?pool_id={pool.id}")
    assert {x["id"]: x["silent"] for x in r.json} == {str(quiet.id): True, str(fresh.id): False}
    alerts = api.as_(world.mgr_east).get("/api/v1/alerts?type=silent_leads").json
    mine = [a for a in alerts if a["subject_id"] == str(pool.id)]
    assert len(mine) == 1 and mine[0]["user_id"] is None and "1 lead" in mine[0]["detail"]
    assert not [a for a in api.as_(world.mgr_west).get("/api/v1/alerts?type=silent_leads").json
                if a["subject_id"] == str(pool.id)]
    # Claimed, then released: it enters the pool again and is no longer silent.
    assert api.as_(world.rep_east).post(f"/api/v1/leads/{quiet.id}/claim").status_code == 200
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{quiet.id}/release", json={})
    assert (r.status_code, r.json["silent"]) == (200, False)


def test_pools_carry_silent_after_days(api, world):
    r = api.as_(world.admin).post("/api/v1/lead-pools", json={"name": "Quiet"})
    assert r.json["silent_after_days"] == 14
    r = api.as_(world.admin).patch(f"/api/v1/lead-pools/{r.json['id']}",
                                   json={"silent_after_days": 30})
    assert r.json["silent_after_days"] == 30
