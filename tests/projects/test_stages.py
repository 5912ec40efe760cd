"""Project stages (API.md "Deals"): forward only, lost with a reason, won with an amount,
reopening by the owner's managers and admins only, every move in GET /projects/{id}/stages."""
import pytest

from tests import factories


def _project(world, stage="prospecting", **fields):
    c = factories.customer(world.org, world.rep_east)
    return factories.project(world.org, c, world.rep_east, stage=stage, **fields)


def _move(client, project, **body):
    return client.patch(f"/api/v1/projects/{project.id}", json=body)


def test_forward_moves_and_skips_are_recorded_oldest_first(api, world):
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/projects", json={"customer_id": str(factories.customer(
        world.org, world.rep_east).id), "name": "Fit-out"})
    pid = r.json["id"]
    assert rep.patch(f"/api/v1/projects/{pid}", json={"stage": "demo"}).status_code == 200
    r = rep.patch(f"/api/v1/projects/{pid}", json={"stage": "negotiation"})
    assert r.status_code == 200 and r.json["stage"] == "negotiation"
    assert r.json["won_at"] is None and r.json["lost_at"] is None
    history = rep.get(f"/api/v1/projects/{pid}/stages").json
    assert [(h["from"], h["to"]) for h in history] == [
        (None, "prospecting"), ("prospecting", "demo"), ("demo", "negotiation")]
    assert {h["by"] for h in history} == {str(world.rep_east.id)}
    assert history[-1]["at"] == r.json["stage_changed_at"]


@pytest.mark.parametrize("back", ["prospecting", "needs_analysis", "quote"])
def test_going_back_is_409_and_changes_nothing(api, world, back):
    p = _project(world, stage="negotiation")
    for who in (world.rep_east, world.mgr_east, world.admin):
        r = _move(api.as_(who), p, stage=back)
        assert r.status_code == 409 and r.json["error"] == "stage_backwards"
    assert api.as_(world.rep_east).get(f"/api/v1/projects/{p.id}").json["stage"] == \
        "negotiation"
    assert api.as_(world.rep_east).get(f"/api/v1/projects/{p.id}/stages").json == []


def test_lost_needs_a_reason(api, world):
    p = _project(world, stage="quote")
    rep = api.as_(world.rep_east)
    r = _move(rep, p, stage="lost")
    assert r.status_code == 422 and "lost_reason" in r.json["errors"]["json"]
    r = _move(rep, p, stage="lost", lost_reason="Went with a cheaper supplier")
    assert r.status_code == 200
    assert r.json["lost_reason"] == "Went with a cheaper supplier" and r.json["lost_at"]
    last = rep.get(f"/api/v1/projects/{p.id}/stages").json[-1]
    assert (last["from"], last["to"], last["reason"]) == (
        "quote", "lost", "Went with a cheaper supplier")


def test_won_needs_an_amount(api, world):
    p = _project(world, stage="negotiation")
    rep = api.as_(world.rep_east)
    r = _move(rep, p, stage="won")
    assert r.status_code == 422 and "amount" in r.json["errors"]["json"]
    r = _move(rep, p, stage="won", amount="80000.00")
    assert r.status_code == 200 and r.json["won_at"] == r.json["stage_changed_at"]


def test_create_in_a_closing_stage_follows_the_same_rules(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    body = {"customer_id": str(c.id), "name": "x"}
    assert rep.post("/api/v1/projects", json={**body, "stage": "won"}).status_code == 422
    assert rep.post("/api/v1/projects", json={**body, "stage": "lost"}).status_code == 422
    r = rep.post("/api/v1/projects", json={**body, "stage": "won", "amount": "10.00"})
    assert r.status_code == 201 and r.json["won_at"]
    assert [(h["from"], h["to"]) for h in rep.get(
        f"/api/v1/projects/{r.json['id']}/stages").json] == [(None, "won")]


@pytest.mark.parametrize("closed", ["won", "lost"])
def test_reopen_is_for_the_owners_managers_and_admins_with_a_reason(api, world, closed):
    p = _project(world, stage=closed, amount=5000, lost_reason="x" if closed == "lost" else None)
    # the owner itself and a team mate: visible, not allowed
    for who in (world.rep_east, world.rep_east2):
        assert _move(api.as_(who), p, stage="quote", reason="again").status_code == 403
    assert _move(api.as_(world.hr), p, stage="quote", reason="again").status_code == 403
    # another team's manager does not even see it
    assert _move(api.as_(world.mgr_west), p, stage="quote", reason="again").status_code == 404
    mgr = api.as_(world.mgr_east)
    r = _move(mgr, p, stage="quote")
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    r = _move(mgr, p, stage="quote", reason="Customer came back")
    assert r.status_code == 200 and r.json["stage"] == "quote"
    assert r.json["won_at"] is None and r.json["lost_at"] is None and r.json["lost_reason"] is None
    history = mgr.get(f"/api/v1/projects/{p.id}/stages").json
    assert history == [{"at": r.json["stage_changed_at"], "from": closed, "to": "quote",
                        "by": str(world.mgr_east.id), "reason": "Customer came back"}]


def test_admin_reopens_and_a_manager_cannot_reopen_its_own_project(api, world):
    c = factories.customer(world.org, world.mgr_east)
    own = factories.project(world.org, c, world.mgr_east, stage="won", amount=1)
    assert _move(api.as_(world.mgr_east), own, stage="demo", reason="x").status_code == 403
    assert _move(api.as_(world.admin), own, stage="demo", reason="x").status_code == 200


def test_stages_of_an_invisible_project_are_404(api, world):
    p = _project(world)
    assert api.as_(world.rep_west).get(f"/api/v1/projects/{p.id}/stages").status_code == 404
    assert api.as_(world.admin_b).get(f"/api/v1/projects/{p.id}/stages").status_code == 404
