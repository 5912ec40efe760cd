"""Routing: the requester's team managers, else the nearest team above with one; then the next
levels up; then admins; never the requester."""
import pytest

from tests import factories
from tests.factories.approvals import ask, outing, target_change
from tests.factories.targets import target


def _approvers(approval):
    return [sorted(s["approver_ids"]) for s in approval["steps"]]


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east)


def test_a_rep_goes_to_its_teams_managers(api, world, shop):
    approval = ask(api.as_(world.rep_east), outing(shop))
    assert approval["status"] == "pending" and approval["requester_id"] == str(world.rep_east.id)
    assert _approvers(approval) == [[str(world.mgr_east.id)]]
    assert approval["steps"][0]["decision"] is None


def test_a_team_without_manager_goes_to_the_nearest_team_above(api, world):
    card = factories.customer(world.org, world.rep_north)
    approval = ask(api.as_(world.rep_north), outing(card))
    assert _approvers(approval) == [[str(world.mgr_east.id)]]


def test_a_manager_skips_itself_and_ends_with_the_admins(api, world, shop):
    second_admin = factories.user(world.org, "admin")
    approval = ask(api.as_(world.mgr_east), outing(shop))
    assert _approvers(approval) == [sorted([str(world.admin.id), str(second_admin.id)])]


def test_levels_climb_then_admins(api, world):
    mgr_north = factories.user(world.org, "manager", world.north)
    goal = target(world.org, world.rep_north, created_by=world.mgr_east)
    approval = ask(api.as_(world.rep_north), target_change(goal))  # default: 2 levels
    assert _approvers(approval) == [[str(mgr_north.id)], [str(world.mgr_east.id)]]
    r = api.as_(world.admin).patch("/api/v1/org/settings",
                                   json={"approval_levels": {"target_change": 5}})
    assert r.status_code == 200
    approval = ask(api.as_(world.rep_north), target_change(goal, amount="170"))
    assert _approvers(approval) == [[str(mgr_north.id)], [str(world.mgr_east.id)],
                                    [str(world.admin.id)]]


def test_inactive_managers_are_skipped(api, world, shop):
    factories.user(world.org, "manager", world.east, active=False)
    approval = ask(api.as_(world.rep_east), outing(shop))
    assert _approvers(approval) == [[str(world.mgr_east.id)]]


def test_the_only_admin_has_nobody_to_ask(api, world, shop):
    r = api.as_(world.admin).post("/api/v1/approvals", json=outing(shop))
    assert r.status_code == 422 and r.json["error"] == "no_approver"
