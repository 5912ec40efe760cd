import uuid

import pytest

from tests.factories import leads as lf

DEFAULTS = {"holding_limit": 20, "daily_claim_limit": 10, "recycle_after_days": 7,
            "warn_before_days": 1, "cooldown_days": 3, "silent_after_days": 14}


def test_admin_creates_org_wide_pool_with_defaults(api, world):
    r = api.as_(world.admin).post("/api/v1/lead-pools", json={"name": "Open pool"})
    assert r.status_code == 201
    assert r.json == {"id": r.json["id"], "name": "Open pool", "team_id": None, **DEFAULTS,
                      "assignment": {"strategy": "claim"}}  # API.md: pools gain assignment


def test_manager_creates_pool_for_own_subtree_only(api, world):
    mgr = api.as_(world.mgr_east)
    r = mgr.post("/api/v1/lead-pools", json={"name": "North", "team_id": str(world.north.id),
                                             "holding_limit": 5, "cooldown_days": 0})
    assert r.status_code == 201 and r.json["holding_limit"] == 5 and r.json["cooldown_days"] == 0
    other = mgr.post("/api/v1/lead-pools", json={"name": "W", "team_id": str(world.west.id)})
    assert other.status_code == 422 and "team_id" in other.json["errors"]["json"]
    org_wide = mgr.post("/api/v1/lead-pools", json={"name": "Everyone"})
    assert org_wide.status_code == 403


@pytest.mark.parametrize("who", ["rep_east", "hr"])
def test_reps_and_hr_cannot_create_pools(api, world, who):
    r = api.as_(getattr(world, who)).post("/api/v1/lead-pools", json={"name": "x"})
    assert r.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"name": ""}, "name"), ({"name": "x", "holding_limit": 0}, "holding_limit"),
    ({"name": "x", "daily_claim_limit": -1}, "daily_claim_limit"),
    ({"name": "x", "recycle_after_days": 0}, "recycle_after_days"),
    ({"name": "x", "recycle_after_days": 3, "warn_before_days": 3}, "warn_before_days"),
    ({"name": "x", "cooldown_days": -1}, "cooldown_days"),
    ({"name": "x", "team_id": "nope"}, "team_id"),
    ({"name": "x", "owner": "me"}, "owner")])
def test_pool_validation(api, world, body, field):
    r = api.as_(world.admin).post("/api/v1/lead-pools", json=body)
    assert r.status_code == 422 and field in r.json["errors"]["json"], r.json


def test_idempotent_pool_create(api, world):
    body = {"id": str(uuid.uuid4()), "name": "Retry pool"}
    admin = api.as_(world.admin)
    first, again = admin.post("/api/v1/lead-pools", json=body), admin.post(
        "/api/v1/lead-pools", json=body)
    assert (first.status_code, again.status_code) == (201, 200) and first.json == again.json
    assert admin.post("/api/v1/lead-pools", json={**body, "name": "Other"}).status_code == 409


def test_pool_visibility(api, world):
    org_pool = lf.pool(world.org, name="org")
    east = lf.pool(world.org, world.east, name="east")
    north = lf.pool(world.org, world.north, name="north")
    west = lf.pool(world.org, world.west, name="west")
    lf.pool(world.org_b, name="b")

    def names(user):
        return {p["name"] for p in api.as_(user).get("/api/v1/lead-pools").json}

    # A pool is open to its team's subtree: North's reps see East's pool, not the reverse.
    assert names(world.rep_north) == {"org", "east", "north"}
    assert names(world.rep_east) == {"org", "east"}
    assert names(world.rep_west) == {"org", "west"}
    assert names(world.mgr_east) == {"org", "east", "north"}
    assert names(world.admin) == names(world.hr) == {"org", "east", "north", "west"}
    assert names(world.admin_b) == {"b"}
    assert api.as_(world.rep_east).get(f"/api/v1/lead-pools/{north.id}").status_code == 404
    assert api.as_(world.rep_north).get(f"/api/v1/lead-pools/{east.id}").status_code == 200
    assert api.as_(world.rep_east).get(f"/api/v1/lead-pools/{west.id}").status_code == 404
    assert api.as_(world.rep_east).get(f"/api/v1/lead-pools/{org_pool.id}").status_code == 200


def test_patch_pool(api, world):
    pool = lf.pool(world.org, world.east)
    path = f"/api/v1/lead-pools/{pool.id}"
    r = api.as_(world.mgr_east).patch(path, json={"holding_limit": 3, "name": "Renamed"})
    assert r.status_code == 200 and r.json["holding_limit"] == 3 and r.json["name"] == "Renamed"
    assert api.as_(world.rep_east).patch(path, json={"name": "x"}).status_code == 403
    assert api.as_(world.hr).patch(path, json={"name": "x"}).status_code == 403
    bad = api.as_(world.admin).patch(path, json={"warn_before_days": 7})
    assert bad.status_code == 422 and "warn_before_days" in bad.json["errors"]["json"]
    assert api.as_(world.mgr_east).patch(path, json={"team_id": None}).status_code == 403
    org_pool = lf.pool(world.org)
    # Org-wide pools are the admin's: managers see them but may not change them.
    assert api.as_(world.mgr_east).patch(f"/api/v1/lead-pools/{org_pool.id}",
                                         json={"name": "x"}).status_code == 403
    assert api.as_(world.admin).patch(f"/api/v1/lead-pools/{org_pool.id}",
                                      json={"team_id": str(world.west.id)}).status_code == 200
