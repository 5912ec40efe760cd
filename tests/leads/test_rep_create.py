"""Reps create leads: into a pool open to them, claimed by themselves, within the pool's holding
and daily claim limits (the same database rules as claims), also under concurrency."""
from collections import Counter

from sqlalchemy import func, select

from fieldsales.leads.models import Lead, LeadDailyClaims, LeadEvent, LeadHolding
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import leads as lf


def _new(api, rep, pool, n, **fields):
    return api.as_(rep).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": f"Walk-in {n}", "phone": f"1360000{n:04d}", **fields})


def test_a_rep_creates_a_lead_claimed_by_itself(api, world, db):
    pool = lf.pool(world.org, world.east)
    r = _new(api, world.rep_east, pool, 1, intent="warm")
    assert r.status_code == 201, r.json
    lead = r.json
    assert (lead["status"], lead["owner_id"], lead["intent"]) == (
        "claimed", str(world.rep_east.id), "warm")
    assert lead["phone"] == "13600000001"  # its own: in full
    assert lead["claimed_at"] is not None and lead["recycle_at"] is not None
    events = api.as_(world.rep_east).get(f"/api/v1/leads/{lead['id']}/events").json
    assert [(e["action"], e["to_user_id"]) for e in events] == [
        ("created", str(world.rep_east.id))]
    assert db.scalar(select(LeadHolding.holding).where(
        LeadHolding.pool_id == pool.id, LeadHolding.user_id == world.rep_east.id)) == 1
    assert db.scalar(select(LeadDailyClaims.claims).where(
        LeadDailyClaims.pool_id == pool.id, LeadDailyClaims.user_id == world.rep_east.id)) == 1


def test_a_rep_cannot_create_into_a_pool_not_open_to_it(api, world):
    west = lf.pool(world.org, world.west)
    r = _new(api, world.rep_east, west, 2)
    assert r.status_code == 422 and "pool_id" in r.json["errors"]["json"]
    assert api.as_(world.hr).post("/api/v1/leads", json={
        "pool_id": str(west.id), "name": "x"}).status_code == 403


def test_a_rep_at_its_limits_gets_the_claims_refusals_and_nothing_is_written(api, world, db):
    pool = lf.pool(world.org, world.east, holding_limit=2, daily_claim_limit=10)
    assert _new(api, world.rep_east, pool, 3).status_code == 201
    assert _new(api, world.rep_east, pool, 4).status_code == 201
    r = _new(api, world.rep_east, pool, 5)
    assert (r.status_code, r.json["error"]) == (422, "holding_limit_reached")
    daily = lf.pool(world.org, world.east, holding_limit=10, daily_claim_limit=1)
    assert _new(api, world.rep_east, daily, 6).status_code == 201
    r = _new(api, world.rep_east, daily, 7)
    assert (r.status_code, r.json["error"]) == (422, "daily_claim_limit_reached")
    assert db.scalar(select(func.count()).select_from(Lead).where(
        Lead.phone_normalized.in_(["13600000005", "13600000007"]))) == 0
    # The refused phones were not taken either: a manager can add them.
    r = api.as_(world.mgr_east).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "x", "phone": "13600000005"})
    assert r.status_code == 201


def test_limits_hold_when_a_rep_fires_20_creates_at_once(app, committed):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    client = ApiClient(app, rep)
    for n, (holding, daily) in enumerate([(3, 100), (100, 4), (5, 5)]):
        pool = lf.pool(org, team, holding_limit=holding, daily_claim_limit=daily)
        results = run_threads(20, lambda i, pool=pool, n=n: client.post("/api/v1/leads", json={
            "pool_id": str(pool.id), "name": f"L{i}", "phone": f"1351{n:02d}{i:05d}"}))
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        limit = min(holding, daily)
        refusal = "holding_limit_reached" if holding < daily else "daily_claim_limit_reached"
        assert codes[(201, None)] == limit, codes
        assert codes[(201, None)] + codes[(422, "holding_limit_reached")] + codes[
            (422, "daily_claim_limit_reached")] == 20, codes
        if holding != daily:
            assert codes[(422, refusal)] == 20 - limit, codes
        committed.expire_all()
        assert committed.scalar(select(func.count()).select_from(Lead).where(
            Lead.pool_id == pool.id, Lead.owner_id == rep.id, Lead.status == "claimed")) == limit
        assert committed.scalar(select(LeadHolding.holding).where(
            LeadHolding.pool_id == pool.id, LeadHolding.user_id == rep.id)) == limit
        assert committed.scalar(select(LeadDailyClaims.claims).where(
            LeadDailyClaims.pool_id == pool.id, LeadDailyClaims.user_id == rep.id)) == limit
        assert committed.scalar(select(func.count()).select_from(LeadEvent).join(
            Lead, (Lead.org_id == LeadEvent.org_id) & (Lead.id == LeadEvent.lead_id)).where(Lead.pool_id == pool.id)) == limit
