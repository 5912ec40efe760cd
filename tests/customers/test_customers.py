import uuid

import pytest

from fieldsales import geo
from tests.factories.visits import SHANGHAI
from tests import factories
from tests.conftest import ApiClient, run_threads



def test_create_customer_as_rep_defaults_owner_and_team(api, world):
    r = api.as_(world.rep_east).post("/api/v1/customers", json={
        "name": "Acme", "address": "1 Nanjing Rd", "phone": "021-1234",
        "location": {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}, "tags": ["retail"],
        "custom": {"floor": 3}})
    assert r.status_code == 201
    body = r.json
    assert body["owner_id"] == str(world.rep_east.id) and body["team_id"] == str(world.east.id)
    assert body["location"] == {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}
    assert r.headers["ETag"]
    assert body["created_at"].endswith("Z")


@pytest.mark.parametrize("crs, forward", [("gcj02", geo.wgs84_to_gcj02),
                                          ("bd09", geo.wgs84_to_bd09)])
def test_location_in_chinese_datums_is_stored_as_wgs84(api, world, db, crs, forward):
    lat, lng = forward(*SHANGHAI)
    r = api.as_(world.rep_east).post("/api/v1/customers", json={
        "name": "Datum", "location": {"lat": lat, "lng": lng, "crs": crs}})
    assert r.status_code == 201
    loc = r.json["location"]
    assert geo.haversine_m(loc["lat"], loc["lng"], *SHANGHAI) < 0.05
    # The database's own point agrees with the returned lat/lng.
    from sqlalchemy import text
    x, y = db.execute(text("SELECT ST_X(geom), ST_Y(geom) FROM customers WHERE id = :id"),
                      {"id": r.json["id"]}).one()
    assert (y, x) == pytest.approx((loc["lat"], loc["lng"]), abs=1e-9)


def test_location_takes_the_full_coordinate_shape(api, world):
    """API.md: coordinates in bodies are {lat, lng, accuracy_m, crs}; a customer keeps the point."""
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/customers", json={"name": "Full shape", "location": {
        "lat": SHANGHAI[0], "lng": SHANGHAI[1], "accuracy_m": 12.5, "crs": "wgs84"}})
    assert r.status_code == 201, r.json
    assert r.json["location"] == {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}
    # Sending the same point again with another accuracy is not a change of the card.
    r2 = rep.patch(f"/api/v1/customers/{r.json['id']}", json={"location": {
        "lat": SHANGHAI[0], "lng": SHANGHAI[1], "accuracy_m": 30}})
    assert r2.status_code == 200 and r2.headers["ETag"] == r.headers["ETag"]


@pytest.mark.parametrize("location", [
    {"lat": 91, "lng": 0}, {"lat": 0, "lng": -181}, {"lat": "north", "lng": 0},
    {"lat": 10}, {"lat": 10, "lng": 10, "crs": "mars"},
    {"lat": 10, "lng": 10, "accuracy_m": -1}])
def test_bad_locations_are_422(api, world, location):
    r = api.as_(world.rep_east).post("/api/v1/customers", json={"name": "X", "location": location})
    assert r.status_code == 422 and "location" in r.json["errors"]["json"]


def test_near_orders_by_distance_and_reports_it(api, world):
    rep = world.rep_east
    spots = {"far": (31.30, 121.55), "near": (31.2310, 121.4740), "mid": (31.25, 121.49)}
    made = {k: factories.customer(world.org, rep, lat=v[0], lng=v[1], name=k)
            for k, v in spots.items()}
    factories.customer(world.org, rep, name="nowhere")  # no location: not in near results
    r = api.as_(rep).get(f"/api/v1/customers?near={SHANGHAI[0]},{SHANGHAI[1]}")
    assert [c["name"] for c in r.json] == ["near", "mid", "far"]
    for c in r.json:
        expected = geo.haversine_m(*SHANGHAI, *spots[c["name"]])
        assert c["distance_m"] == pytest.approx(expected, rel=0.005)
    r = api.as_(rep).get(f"/api/v1/customers?near={SHANGHAI[0]},{SHANGHAI[1]}&radius_m=5000")
    assert [c["id"] for c in r.json] == [str(made["near"].id), str(made["mid"].id)]
    assert "distance_m" not in api.as_(rep).get("/api/v1/customers").json[0]


@pytest.mark.parametrize("query", ["near=abc", "near=95,10", "near=31,121&radius_m=-1",
                                   "updated_since=yesterday", "status=sleeping", "page_size=101",
                                   "owner_id=xyz"])
def test_bad_query_parameters_are_422(api, world, query):
    assert api.as_(world.rep_east).get(f"/api/v1/customers?{query}").status_code == 422


def test_search_filters(api, world):
    rep = world.rep_east
    factories.customer(world.org, rep, name="Golden Tea House", tags=["tea", "retail"])
    factories.customer(world.org, rep, name="Silver Hardware", tags=["hardware"],
                       address="9 Tea Street")
    factories.customer(world.org, world.rep_east2, name="Bronze Tea", status="inactive")
    client = api.as_(rep)
    assert {c["name"] for c in client.get("/api/v1/customers?q=tea").json} == {
        "Golden Tea House", "Silver Hardware", "Bronze Tea"}
    assert [c["name"] for c in client.get("/api/v1/customers?tag=tea").json] == [
        "Golden Tea House"]
    assert [c["name"] for c in client.get(
        f"/api/v1/customers?owner_id={world.rep_east2.id}").json] == ["Bronze Tea"]
    assert [c["name"] for c in client.get("/api/v1/customers?status=inactive").json] == [
        "Bronze Tea"]


def test_pagination_header(api, world):
    for i in range(5):
        factories.customer(world.org, world.rep_east, name=f"P{i}")
    r = api.as_(world.rep_east).get("/api/v1/customers?page=2&page_size=2")
    assert r.status_code == 200 and len(r.json) == 2
    import json
    meta = json.loads(r.headers["X-Pagination"])
    assert meta["total"] == 5 and meta["total_pages"] == 3 and meta["page"] == 2


def test_rep_visibility_of_customers(api, world):
    mine = factories.customer(world.org, world.rep_east)
    teammate = factories.customer(world.org, world.rep_east2)
    unowned = factories.customer(world.org)
    other_team = factories.customer(world.org, world.rep_west)
    sub_team = factories.customer(world.org, world.rep_north)
    seen = {c["id"] for c in api.as_(world.rep_east).get("/api/v1/customers?page_size=100").json}
    assert seen == {str(mine.id), str(teammate.id), str(unowned.id)}
    mgr_seen = {c["id"] for c in api.as_(world.mgr_east).get(
        "/api/v1/customers?page_size=100").json}
    assert mgr_seen == {str(mine.id), str(teammate.id), str(unowned.id), str(sub_team.id)}
    assert str(other_team.id) not in mgr_seen
    assert len(api.as_(world.hr).get("/api/v1/customers?page_size=100").json) == 5
    assert api.as_(world.admin_b).get("/api/v1/customers").json == []


def test_etag_and_if_match(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    r = rep.get(f"/api/v1/customers/{c.id}")
    etag = r.headers["ETag"]
    assert rep.get(f"/api/v1/customers/{c.id}", headers={"If-None-Match": etag}).status_code == 304
    r = rep.patch(f"/api/v1/customers/{c.id}", json={"name": "New name"},
                  headers={"If-Match": etag})
    assert r.status_code == 200 and r.headers["ETag"] != etag
    stale = rep.patch(f"/api/v1/customers/{c.id}", json={"name": "Lost update"},
                      headers={"If-Match": etag})
    assert stale.status_code == 412 and stale.json["error"] == "precondition_failed"
    assert rep.get(f"/api/v1/customers/{c.id}").json["name"] == "New name"
    # Without If-Match the write goes through (clients that do not track ETags).
    assert rep.patch(f"/api/v1/customers/{c.id}", json={"phone": "1"}).status_code == 200


def test_who_may_edit(api, world):
    c = factories.customer(world.org, world.rep_east)
    assert api.as_(world.rep_east2).patch(f"/api/v1/customers/{c.id}",
                                          json={"name": "x"}).status_code == 403
    assert api.as_(world.hr).patch(f"/api/v1/customers/{c.id}",
                                   json={"name": "x"}).status_code == 403
    assert api.as_(world.mgr_east).patch(f"/api/v1/customers/{c.id}",
                                         json={"name": "by mgr"}).status_code == 200
    assert api.as_(world.admin).patch(f"/api/v1/customers/{c.id}",
                                      json={"name": "by admin"}).status_code == 200


def test_owner_assignment_rules(api, world):
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/customers", json={"name": "x", "owner_id": str(world.rep_east2.id)})
    assert r.status_code == 403
    r = api.as_(world.mgr_east).post("/api/v1/customers", json={
        "name": "x", "owner_id": str(world.rep_west.id)})
    assert r.status_code == 422 and "owner_id" in r.json["errors"]["json"]
    r = api.as_(world.mgr_east).post("/api/v1/customers", json={
        "name": "x", "owner_id": str(world.rep_north.id)})
    assert r.status_code == 201 and r.json["team_id"] == str(world.north.id)
    c = factories.customer(world.org, world.rep_east)
    r = rep.patch(f"/api/v1/customers/{c.id}", json={"owner_id": str(world.rep_east2.id)})
    assert r.status_code == 403


def test_hr_cannot_create(api, world):
    assert api.as_(world.hr).post("/api/v1/customers", json={"name": "x"}).status_code == 403


def test_idempotent_create(api, world, db):
    rep = api.as_(world.rep_east)
    body = {"id": str(uuid.uuid4()), "name": "Retry Ltd", "location": {"lat": 31.2, "lng": 121.4}}
    first = rep.post("/api/v1/customers", json=body)
    again = rep.post("/api/v1/customers", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert rep.post("/api/v1/customers", json={**body, "name": "Other"}).status_code == 409
    other_user = api.as_(world.rep_east2).post("/api/v1/customers", json=body)
    assert other_user.status_code == 409 and other_user.json["error"] == "idempotency_conflict"
    foreign = api.as_(world.rep_b).post("/api/v1/customers", json=body)
    assert foreign.status_code == 409


def test_concurrent_duplicate_creates_make_one_row(app, committed):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    client = ApiClient(app, rep)
    body = {"id": str(uuid.uuid4()), "name": "Race Ltd"}
    codes = run_threads(12, lambda i: client.post("/api/v1/customers", json=body).status_code)
    assert sorted(codes) == [200] * 11 + [201]
    from sqlalchemy import func, select

    from fieldsales.customers.models import Customer
    assert committed.scalar(select(func.count()).where(Customer.org_id == org.id)) == 1


def test_nothing_half_written_on_error(api, world, db):
    from sqlalchemy import func, select

    from fieldsales.customers.models import Customer
    before = db.scalar(select(func.count()).select_from(Customer))
    r = api.as_(world.mgr_east).post("/api/v1/customers", json={
        "name": "x", "owner_id": str(uuid.uuid4())})
    assert r.status_code == 422
    assert db.scalar(select(func.count()).select_from(Customer)) == before


def test_contacts(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    r = rep.post(f"/api/v1/customers/{c.id}/contacts", json={
        "name": "Ms Lin", "title": "Buyer", "phone": "13800001111", "email": "lin@example.test"})
    assert r.status_code == 201 and r.json["customer_id"] == str(c.id)
    assert [x["name"] for x in rep.get(f"/api/v1/customers/{c.id}/contacts").json] == ["Ms Lin"]
    bad = rep.post(f"/api/v1/customers/{c.id}/contacts", json={"name": "x", "email": "nope"})
    assert bad.status_code == 422
    assert api.as_(world.hr).post(f"/api/v1/customers/{c.id}/contacts",
                                  json={"name": "x"}).status_code == 403


def test_contact_records_and_timeline(api, world):
    c = factories.customer(world.org, world.rep_east)
    p = factories.project(world.org, c, world.rep_east, name="Big deal")
    rep = api.as_(world.rep_east)
    contact = rep.post(f"/api/v1/customers/{c.id}/contacts", json={"name": "Mr Wu"}).json
    r = rep.post(f"/api/v1/customers/{c.id}/contact-records", json={
        "method": "call", "contact_id": contact["id"], "summary": "Discussed pricing",
        "outcome": "interested", "next_follow_up_at": "2026-12-01T10:00:00+08:00"})
    assert r.status_code == 201
    assert r.json["user_id"] == str(world.rep_east.id)
    assert r.json["next_follow_up_at"] == "2026-12-01T02:00:00Z"
    records = rep.get(f"/api/v1/customers/{c.id}/contact-records").json
    assert [x["summary"] for x in records] == ["Discussed pricing"]
    timeline = rep.get(f"/api/v1/customers/{c.id}/timeline").json
    assert [(i["type"], i["id"]) for i in timeline] == [("contact_record", r.json["id"]),
                                                        ("project", str(p.id))]
    assert timeline[0]["detail"]["method"] == "call"
    # times inside `detail` are written like every other time: UTC with Z
    assert timeline[0]["detail"]["next_follow_up_at"] == "2026-12-01T02:00:00Z"
    assert timeline[1]["summary"] == "Big deal (prospecting)"


@pytest.mark.parametrize("body", [
    {"method": "pigeon", "summary": "x"}, {"method": "call"}, {"method": "call", "summary": ""},
    {"method": "call", "summary": "x", "next_follow_up_at": "2026-12-01T10:00:00"},
    {"method": "call", "summary": "x", "user_id": "00000000-0000-0000-0000-000000000000"}])
def test_contact_record_validation(api, world, body):
    c = factories.customer(world.org, world.rep_east)
    r = api.as_(world.rep_east).post(f"/api/v1/customers/{c.id}/contact-records", json=body)
    assert r.status_code == 422


def test_contact_record_with_contact_of_another_customer_is_422(api, world):
    c1 = factories.customer(world.org, world.rep_east)
    c2 = factories.customer(world.org, world.rep_east)
    contact = api.as_(world.rep_east).post(f"/api/v1/customers/{c2.id}/contacts",
                                           json={"name": "x"}).json
    r = api.as_(world.rep_east).post(f"/api/v1/customers/{c1.id}/contact-records", json={
        "method": "call", "summary": "x", "contact_id": contact["id"]})
    assert r.status_code == 422 and "contact_id" in r.json["errors"]["json"]


@pytest.mark.parametrize("path, body", [
    ("contacts", {"name": "Ms Lin"}),
    ("contact-records", {"method": "call", "summary": "Talked prices"})])
def test_same_client_id_under_another_customer_is_409(api, world, path, body):
    """A retry is the same create on the same customer; the id elsewhere is a conflict."""
    rep = api.as_(world.rep_east)
    a = factories.customer(world.org, world.rep_east)
    b = factories.customer(world.org, world.rep_east)
    keyed = {**body, "id": str(uuid.uuid4())}
    first = rep.post(f"/api/v1/customers/{a.id}/{path}", json=keyed)
    again = rep.post(f"/api/v1/customers/{a.id}/{path}", json=keyed)
    assert (first.status_code, again.status_code) == (201, 200)
    elsewhere = rep.post(f"/api/v1/customers/{b.id}/{path}", json=keyed)
    assert elsewhere.status_code == 409 and elsewhere.json["error"] == "idempotency_conflict"
    assert rep.get(f"/api/v1/customers/{b.id}/{path}").json == []
