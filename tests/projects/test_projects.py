import pytest

from tests import factories


def test_create_and_list(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/projects", json={"customer_id": str(c.id), "name": "Fit-out",
                                           "amount": "125000.50", "stage": "demo",
                                           "expected_close_date": "2027-01-15"})
    assert r.status_code == 201
    assert r.json["owner_id"] == str(world.rep_east.id) and r.json["amount"] == 125000.5
    assert r.json["stage"] == "demo"
    listed = rep.get(f"/api/v1/projects?customer_id={c.id}").json
    assert [p["id"] for p in listed] == [r.json["id"]]
    assert rep.get("/api/v1/projects?stage=won").json == []


@pytest.mark.parametrize("body", [
    {"name": "x"}, {"customer_id": "nope", "name": "x"}, {"stage": "maybe"},
    {"amount": -1}, {"expected_close_date": "soon"}])
def test_validation(api, world, body):
    c = factories.customer(world.org, world.rep_east)
    full = {"customer_id": str(c.id), "name": "x", **body}
    if body == {"name": "x"}:
        full.pop("customer_id")
    assert api.as_(world.rep_east).post("/api/v1/projects", json=full).status_code == 422


def test_invisible_customer_is_422(api, world):
    c = factories.customer(world.org, world.rep_west)
    r = api.as_(world.rep_east).post("/api/v1/projects", json={"customer_id": str(c.id),
                                                                "name": "x"})
    assert r.status_code == 422 and "customer_id" in r.json["errors"]["json"]


def test_patch_stage_with_etag(api, world):
    c = factories.customer(world.org, world.rep_east)
    p = factories.project(world.org, c, world.rep_east)
    rep = api.as_(world.rep_east)
    etag = rep.get(f"/api/v1/projects/{p.id}").headers["ETag"]
    r = rep.patch(f"/api/v1/projects/{p.id}", json={"stage": "quote"}, headers={"If-Match": etag})
    assert r.status_code == 200 and r.json["stage"] == "quote"
    assert rep.patch(f"/api/v1/projects/{p.id}", json={"stage": "won"},
                     headers={"If-Match": etag}).status_code == 412


def test_who_may_edit(api, world):
    c = factories.customer(world.org, world.rep_east)
    p = factories.project(world.org, c, world.rep_east)
    assert api.as_(world.rep_east2).patch(f"/api/v1/projects/{p.id}",
                                          json={"stage": "won"}).status_code == 403
    assert api.as_(world.hr).patch(f"/api/v1/projects/{p.id}",
                                   json={"stage": "won"}).status_code == 403
    # a won project needs an amount (API.md "Deals")
    assert api.as_(world.mgr_east).patch(f"/api/v1/projects/{p.id}",
                                         json={"stage": "won", "amount": "10.00"}
                                         ).status_code == 200
