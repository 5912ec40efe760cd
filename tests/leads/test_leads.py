import json
import uuid

import pytest

from fieldsales import geo
from tests.factories.visits import SHANGHAI
from tests.factories import leads as lf

LEAD_FIELDS = {"id", "pool_id", "name", "company", "phone", "email", "address", "location",
               "source", "tags", "status", "owner_id", "claimed_at", "last_follow_up_at",
               "follow_up_count", "recycle_at", "recycle_warning", "converted_customer_id",
               "intent", "silent", "created_at"}


def test_manager_creates_lead_in_own_pool(api, world):
    pool = lf.pool(world.org, world.east)
    r = api.as_(world.mgr_east).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "Li Na", "company": "Jinqiao Foods",
        "phone": "+86 138-1234-5678", "email": "li@example.com", "address": "1 Century Ave",
        "location": {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}, "source": "expo",
        "tags": ["food"]})
    assert r.status_code == 201, r.json
    body = r.json
    assert set(body) == LEAD_FIELDS
    assert body["status"] == "pooled" and body["owner_id"] is None
    assert body["recycle_at"] is None and body["recycle_warning"] is False
    assert body["follow_up_count"] == 0 and body["created_at"].endswith("Z")
    # The pool's manager reads the contact details in full; the phone is stored as given.
    assert body["phone"] == "+86 138-1234-5678" and body["email"] == "li@example.com"
    events = api.as_(world.mgr_east).get(f"/api/v1/leads/{body['id']}/events").json
    assert [(e["action"], e["actor_id"]) for e in events] == [("created", str(world.mgr_east.id))]


def test_create_lead_rules(api, world):
    east, west, org_pool = (lf.pool(world.org, world.east), lf.pool(world.org, world.west),
                            lf.pool(world.org))

    def create(user, pool, **fields):
        return api.as_(user).post("/api/v1/leads", json={"pool_id": str(pool.id), "name": "x",
                                                         **fields})

    assert create(world.rep_east, west).status_code == 422  # not open to it
    assert create(world.hr, east).status_code == 403
    assert create(world.mgr_east, org_pool).status_code == 403  # the admin's pool
    r = create(world.mgr_east, west)
    assert r.status_code == 422 and "pool_id" in r.json["errors"]["json"]
    assert create(world.admin, west).status_code == 201
    r = create(world.admin_b, east)
    assert r.status_code == 422 and "pool_id" in r.json["errors"]["json"]


def test_duplicate_phone_in_org_is_409(api, world):
    pool = lf.pool(world.org)
    admin = api.as_(world.admin)
    assert admin.post("/api/v1/leads", json={"pool_id": str(pool.id), "name": "a",
                                             "phone": "13812345678"}).status_code == 201
    r = admin.post("/api/v1/leads", json={"pool_id": str(pool.id), "name": "b",
                                          "phone": "0086 138 1234 5678"})
    assert r.status_code == 409 and r.json["error"] == "duplicate_lead"
    other_org_pool = lf.pool(world.org_b)
    assert api.as_(world.admin_b).post("/api/v1/leads", json={
        "pool_id": str(other_org_pool.id), "name": "c", "phone": "13812345678"}
    ).status_code == 201


@pytest.mark.parametrize("fields, field", [
    ({"phone": "call me"}, "phone"), ({"email": "nope"}, "email"),
    ({"location": {"lat": 95, "lng": 0}}, "location"), ({"name": ""}, "name"),
    ({"status": "claimed"}, "status"), ({"owner_id": str(uuid.uuid4())}, "owner_id")])
def test_create_lead_validation(api, world, fields, field):
    pool = lf.pool(world.org)
    r = api.as_(world.admin).post("/api/v1/leads", json={"pool_id": str(pool.id), "name": "x",
                                                         **fields})
    assert r.status_code == 422 and field in r.json["errors"]["json"], r.json


def test_idempotent_lead_create(api, world):
    pool = lf.pool(world.org)
    body = {"id": str(uuid.uuid4()), "pool_id": str(pool.id), "name": "Retry",
            "phone": "13900001111"}
    admin = api.as_(world.admin)
    first, again = admin.post("/api/v1/leads", json=body), admin.post("/api/v1/leads", json=body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json == again.json
    assert admin.post("/api/v1/leads", json={**body, "name": "Changed"}).status_code == 409


def test_location_in_gcj02_is_stored_as_wgs84(api, world):
    pool = lf.pool(world.org)
    lat, lng = geo.wgs84_to_gcj02(*SHANGHAI)
    r = api.as_(world.admin).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "x", "location": {"lat": lat, "lng": lng,
                                                           "crs": "gcj02"}})
    loc = r.json["location"]
    assert geo.haversine_m(loc["lat"], loc["lng"], *SHANGHAI) < 0.05


def test_location_takes_the_full_coordinate_shape(api, world):
    pool = lf.pool(world.org)
    r = api.as_(world.admin).post("/api/v1/leads", json={
        "pool_id": str(pool.id), "name": "x", "location": {
            "lat": SHANGHAI[0], "lng": SHANGHAI[1], "accuracy_m": 20, "crs": "wgs84"}})
    assert r.status_code == 201, r.json
    assert r.json["location"] == {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}


def test_masking_by_caller(api, world):
    east = lf.pool(world.org, world.east)
    org_pool = lf.pool(world.org)
    pooled = lf.lead(world.org, east, phone_number="13812345678", email="alice@example.com")
    held = lf.lead(world.org, east, world.rep_east, phone_number="13811112222",
                   email="bob@example.com")
    open_lead = lf.lead(world.org, org_pool, phone_number="13833334444", email="c@example.com")

    def seen(user, lead):
        r = api.as_(user).get(f"/api/v1/leads/{lead.id}")
        assert r.status_code == 200, (user.role, r.json)
        return r.json["phone"], r.json["email"]

    masked = ("138****5678", "a***@example.com")
    full = ("13812345678", "alice@example.com")
    assert seen(world.rep_east, pooled) == masked
    assert seen(world.rep_north, pooled) == masked
    assert seen(world.mgr_east, pooled) == full  # manages the pool's team
    assert seen(world.admin, pooled) == full
    assert seen(world.hr, pooled) == masked
    assert seen(world.rep_east, held) == ("13811112222", "bob@example.com")
    assert seen(world.mgr_east, held) == ("13811112222", "bob@example.com")
    assert seen(world.hr, held) == ("138****2222", "b***@example.com")
    # Unowned leads of the org-wide pool: masked for managers too, full for the admin.
    assert seen(world.mgr_east, open_lead) == ("138****4444", "c***@example.com")
    assert seen(world.admin, open_lead)[0] == "13833334444"
    # Lists apply the same rule per row.
    listed = {x["id"]: x["phone"] for x in api.as_(world.rep_east).get(
        "/api/v1/leads?page_size=100").json}
    assert listed == {str(pooled.id): "138****5678", str(held.id): "13811112222",
                      str(open_lead.id): "138****4444"}
    mgr_listed = {x["id"]: x["phone"] for x in api.as_(world.mgr_east).get(
        "/api/v1/leads?page_size=100").json}
    assert mgr_listed[str(pooled.id)] == "13812345678"
    assert mgr_listed[str(open_lead.id)] == "138****4444"


def test_lead_visibility(api, world):
    east = lf.pool(world.org, world.east)
    west = lf.pool(world.org, world.west)
    org_pool = lf.pool(world.org)
    pooled_east = lf.lead(world.org, east)
    held_by_east2 = lf.lead(world.org, east, world.rep_east2)
    held_by_north = lf.lead(world.org, org_pool, world.rep_north)
    pooled_west = lf.lead(world.org, west)
    held_by_west = lf.lead(world.org, org_pool, world.rep_west)
    dead_east = lf.lead(world.org, east, status="dead")
    lf.lead(world.org_b, lf.pool(world.org_b))

    def ids(user, query=""):
        r = api.as_(user).get(f"/api/v1/leads?page_size=100{query}")
        assert r.status_code == 200
        return {x["id"] for x in r.json}

    s = {k: str(v.id) for k, v in locals().items() if hasattr(v, "pool_id")}
    assert ids(world.rep_east) == {s["pooled_east"]}
    assert ids(world.rep_east2) == {s["pooled_east"], s["held_by_east2"]}
    assert ids(world.rep_north) == {s["pooled_east"], s["held_by_north"]}
    assert ids(world.rep_west) == {s["pooled_west"], s["held_by_west"]}
    assert ids(world.mgr_east) == {s["pooled_east"], s["held_by_east2"], s["held_by_north"],
                                   s["dead_east"]}
    assert len(ids(world.admin)) == len(ids(world.hr)) == 6
    assert len(ids(world.admin_b)) == 1
    assert ids(world.rep_east2, "&owner_id=me") == {s["held_by_east2"]}
    assert ids(world.mgr_east, f"&owner_id={world.rep_north.id}") == {s["held_by_north"]}
    assert ids(world.admin, "&status=dead") == {s["dead_east"]}
    assert ids(world.admin, f"&pool_id={west.id}") == {s["pooled_west"]}


def test_near_and_radius(api, world):
    pool = lf.pool(world.org)
    spots = {"far": (31.30, 121.55), "near": (31.2310, 121.4740), "mid": (31.25, 121.49)}
    for name, (lat, lng) in spots.items():
        lf.lead(world.org, pool, name=name, lat=lat, lng=lng)
    lf.lead(world.org, pool, name="nowhere")
    rep = api.as_(world.rep_east)
    r = rep.get(f"/api/v1/leads?near={SHANGHAI[0]},{SHANGHAI[1]}")
    assert [x["name"] for x in r.json] == ["near", "mid", "far"]
    for x in r.json:
        assert x["distance_m"] == pytest.approx(geo.haversine_m(*SHANGHAI, *spots[x["name"]]),
                                                rel=0.005)
    r = rep.get(f"/api/v1/leads?near={SHANGHAI[0]},{SHANGHAI[1]}&radius_m=5000")
    assert [x["name"] for x in r.json] == ["near", "mid"]
    assert json.loads(r.headers["X-Pagination"])["total"] == 2


def test_q_matches_text_and_only_readable_phones(api, world):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, pool, name="Golden Tea", phone_number="13800000001")
    lf.lead(world.org, pool, name="Other", company="Tea Traders", phone_number="13800000002")
    mine = lf.lead(world.org, pool, world.rep_east, name="Mine", phone_number="13800000003")
    rep = api.as_(world.rep_east)
    assert {x["name"] for x in rep.get("/api/v1/leads?q=tea").json} == {"Golden Tea", "Other"}
    # A rep cannot probe the pool for a phone number it only sees masked...
    assert rep.get("/api/v1/leads?q=13800000001").json == []
    # ...but finds its own lead by phone, and the pool's manager finds any.
    assert [x["id"] for x in rep.get("/api/v1/leads?q=138-0000-0003").json] == [str(mine.id)]
    assert len(api.as_(world.mgr_east).get("/api/v1/leads?q=1380000000").json) == 3


@pytest.mark.parametrize("query", ["near=abc", "near=31,121&radius_m=0", "status=lost",
                                   "owner_id=someone", "pool_id=x", "page_size=101"])
def test_bad_lead_queries_are_422(api, world, query):
    assert api.as_(world.rep_east).get(f"/api/v1/leads?{query}").status_code == 422


def test_unknown_ids_are_404(api, world):
    rep = api.as_(world.rep_east)
    missing = uuid.uuid4()
    for method, path in [("GET", f"/api/v1/leads/{missing}"),
                         ("POST", f"/api/v1/leads/{missing}/claim"),
                         ("GET", f"/api/v1/lead-pools/{missing}"),
                         ("POST", f"/api/v1/lead-pools/{missing}/claim-next")]:
        r = rep.request(method, path, json={} if method == "POST" else None)
        assert r.status_code == 404 and r.json["error"] == "not_found", (path, r.json)
