import pytest


def test_admin_creates_and_lists_teams(api, world):
    admin = api.as_(world.admin)
    r = admin.post("/api/v1/teams", json={"name": "South", "parent_id": str(world.west.id)})
    assert r.status_code == 201 and r.json["parent_id"] == str(world.west.id)
    names = {t["name"] for t in admin.get("/api/v1/teams?page_size=100").json}
    assert names == {"East", "North", "West", "South"}


def test_manager_sees_own_subtree_and_rep_own_team(api, world):
    assert {t["name"] for t in api.as_(world.mgr_east).get("/api/v1/teams").json} == {"East",
                                                                                       "North"}
    assert {t["name"] for t in api.as_(world.rep_north).get("/api/v1/teams").json} == {"North"}


@pytest.mark.parametrize("who", ["mgr_east", "hr", "rep_east"])
def test_only_admin_creates_teams(api, world, who):
    assert api.as_(getattr(world, who)).post("/api/v1/teams", json={"name": "X"}).status_code == 403


def test_cycle_is_422(api, world):
    admin = api.as_(world.admin)
    r = admin.patch(f"/api/v1/teams/{world.east.id}", json={"parent_id": str(world.north.id)})
    assert r.status_code == 422 and r.json["error"] == "team_cycle"
    r = admin.patch(f"/api/v1/teams/{world.east.id}", json={"parent_id": str(world.east.id)})
    assert r.status_code == 422 and r.json["error"] == "team_cycle"


def test_move_team(api, world):
    r = api.as_(world.admin).patch(f"/api/v1/teams/{world.north.id}",
                                   json={"parent_id": str(world.west.id), "name": "North-W"})
    assert r.status_code == 200 and r.json["parent_id"] == str(world.west.id)
    # The West manager now manages the North rep.
    assert api.as_(world.mgr_west).get(f"/api/v1/users/{world.rep_north.id}").status_code == 200
    assert api.as_(world.mgr_east).get(f"/api/v1/users/{world.rep_north.id}").status_code == 404


def test_parent_in_another_org_is_422(api, world):
    r = api.as_(world.admin).post("/api/v1/teams", json={"name": "X",
                                                         "parent_id": str(world.b_team.id)})
    assert r.status_code == 422
