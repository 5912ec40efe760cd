"""POST /sync: an offline queue applied in order, each event on its own, idempotent."""
import uuid

import pytest
from sqlalchemy import func, select

from fieldsales.visits.models import Visit
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def sync(api, user, events):
    return api.as_(user).post("/api/v1/sync", json={"events": events})


def test_a_day_offline_replayed_in_order(api, world, shop):
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    v1, v2 = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        {"type": "check_in", **check_in_body(shop, id=v1, at=ago(hours=3))},
        {"type": "check_out", "visit_id": v1, **check_out_body(at=ago(hours=2), summary="ok")},
        {"type": "check_in", **check_in_body(other, id=v2, at=ago(minutes=90))},
    ]
    r = sync(api, world.rep_east, events)
    assert r.status_code == 200
    results = r.json["results"]
    assert [(x["index"], x["status"]) for x in results] == [(0, 201), (1, 200), (2, 201)]
    assert results[0]["body"]["id"] == v1 and results[2]["body"]["id"] == v2
    assert results[1]["body"]["status"] == "closed" and results[1]["body"]["closed_by"] == "rep"
    assert "late_sync" in results[0]["body"]["flags"]
    # the body is exactly what the single endpoint answers
    assert api.as_(world.rep_east).get(f"/api/v1/visits/{v2}").json == results[2]["body"]
    # replaying the whole queue (the phone never saw the answer) changes nothing
    again = sync(api, world.rep_east, events).json["results"]
    assert [x["status"] for x in again] == [200, 200, 200]
    assert again[0]["body"]["id"] == v1
    assert api.as_(world.rep_east).get(f"/api/v1/visits/{v1}").json["flags"] == \
        results[1]["body"]["flags"]


def test_one_failure_does_not_undo_the_others(api, world, shop, db):
    theirs = factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    good1, good2 = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        {"type": "check_in", **check_in_body(shop, id=good1, at=ago(minutes=50))},
        {"type": "check_in", **check_in_body(theirs, at=ago(minutes=40))},         # 404
        {"type": "check_out", "visit_id": str(uuid.uuid4()), **check_out_body()},  # 404
        {"type": "check_in", "customer_id": str(shop.id)},                         # 422
        {"type": "teleport"},                                                      # 422
        {"type": "check_out", "visit_id": "not-a-uuid", **check_out_body()},       # 422
        "not an object",                                                           # 422
        {"type": "check_in", **check_in_body(shop, id=good2, at=ago(minutes=30))},
        {"type": "check_out", "visit_id": good1, **check_out_body()},              # 409
    ]
    results = sync(api, world.rep_east, events).json["results"]
    assert [x["status"] for x in results] == [201, 404, 404, 422, 422, 422, 422, 201, 409]
    assert results[1]["body"]["error"] == "not_found"
    assert results[3]["body"]["errors"]["json"].keys() >= {"location", "device_time"}
    assert "type" in results[4]["body"]["errors"]["json"]
    assert "visit_id" in results[5]["body"]["errors"]["json"]
    assert results[8]["body"]["error"] == "already_checked_out"  # auto-closed by good2
    assert {x["body"]["code"] for x in results if x["status"] >= 400} <= {404, 409, 422}
    ids = set(db.scalars(select(Visit.id).where(Visit.user_id == world.rep_east.id)))
    assert ids == {uuid.UUID(good1), uuid.UUID(good2)}


def test_follow_up_events_reach_the_lead(api, world):
    from tests.factories import leads as lead_factories

    pool = lead_factories.pool(world.org)
    mine = lead_factories.lead(world.org, pool, owner=world.rep_east)
    theirs = lead_factories.lead(world.org, pool, owner=world.rep_east2)  # invisible to a rep
    pooled = lead_factories.lead(world.org, pool)  # visible, but not the rep's to follow up
    fid = str(uuid.uuid4())
    events = [
        {"type": "follow_up", "lead_id": str(mine.id), "id": fid, "method": "call",
         "note": "Called, will visit Friday"},
        {"type": "follow_up", "lead_id": str(theirs.id), "method": "call", "note": "x"},
        {"type": "follow_up", "lead_id": str(pooled.id), "method": "call", "note": "x"},
        {"type": "follow_up", "lead_id": str(mine.id), "method": "pigeon", "note": "x"},
    ]
    results = sync(api, world.rep_east, events).json["results"]
    assert [x["status"] for x in results] == [201, 404, 403, 422]
    assert results[0]["body"]["id"] == fid and results[0]["body"]["lead_id"] == str(mine.id)
    follow_ups = api.as_(world.rep_east).get(f"/api/v1/leads/{mine.id}/follow-ups").json
    assert [f["id"] for f in follow_ups] == [fid]
    # the phone replays its queue: the follow-up is not written twice
    again = sync(api, world.rep_east, events[:1]).json["results"]
    assert again[0]["status"] == 200 and again[0]["body"]["id"] == fid
    assert len(api.as_(world.rep_east).get(f"/api/v1/leads/{mine.id}/follow-ups").json) == 1


def test_idempotency_conflicts_are_reported_per_event(api, world, shop):
    vid = str(uuid.uuid4())
    sync(api, world.rep_east, [{"type": "check_in", **check_in_body(shop, id=vid)}])
    r = sync(api, world.rep_east, [{"type": "check_in", **check_in_body(shop, id=vid,
                                                                        note="changed")}])
    assert r.json["results"][0]["status"] == 409
    assert r.json["results"][0]["body"]["error"] == "idempotency_conflict"
    teammate = sync(api, world.rep_east2, [{"type": "check_in", **check_in_body(shop, id=vid)}])
    assert teammate.json["results"][0]["status"] == 409


def test_hr_events_are_403_each(api, world, shop):
    r = sync(api, world.hr, [{"type": "check_in", **check_in_body(shop)}])
    assert r.status_code == 200 and r.json["results"][0]["status"] == 403


@pytest.mark.parametrize("body", [{}, {"events": "x"}, {"events": [{}] * 201},
                                  {"events": [], "extra": 1}])
def test_envelope_validation(api, world, body):
    assert api.as_(world.rep_east).post("/api/v1/sync", json=body).status_code == 422


def test_empty_queue(api, world):
    r = sync(api, world.rep_east, [])
    assert r.status_code == 200 and r.json == {"results": []}


def test_200_events_fit(api, world, shop):
    events = [{"type": "check_in", **check_in_body(shop, at=ago(minutes=200 - i))}
              for i in range(200)]
    results = sync(api, world.rep_east, events).json["results"]
    assert [x["status"] for x in results] == [201] * 200


def test_concurrent_replays_of_one_queue_make_each_visit_once(app, committed):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app, rep)
    ids = [str(uuid.uuid4()) for _ in range(3)]
    events = [{"type": "check_in", **check_in_body(shop, id=vid, at=ago(minutes=30 - 10 * i))}
              for i, vid in enumerate(ids)]
    outcomes = run_threads(6, lambda i: [x["status"] for x in client.post(
        "/api/v1/sync", json={"events": events}).json["results"]])
    assert all(set(o) <= {200, 201} for o in outcomes)
    assert committed.scalar(select(func.count()).where(Visit.org_id == org.id)) == 3
    assert committed.scalar(select(func.count()).where(Visit.org_id == org.id,
                                                       Visit.status == "open")) == 1
