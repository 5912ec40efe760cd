"""Deciding: only the current step's approvers; repeats; withdraw; who may read."""
import pytest

from tests import factories
from tests.factories.approvals import APPROVALS, ask, decide, outing, target_change
from tests.factories.targets import target


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east)


@pytest.fixture
def pending(api, world, shop):
    return ask(api.as_(world.rep_east), outing(shop))


def test_the_manager_approves(api, world, pending):
    r = decide(api.as_(world.mgr_east), pending, comment="Go")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "approved" and r.json["decided_at"] is not None
    step = r.json["steps"][0]
    assert (step["decided_by"], step["decision"], step["comment"]) == (
        str(world.mgr_east.id), "approved", "Go")


def test_a_rejection_ends_it(api, world, pending):
    r = decide(api.as_(world.mgr_east), pending, "rejected", "No budget")
    assert r.status_code == 200 and r.json["status"] == "rejected"


@pytest.mark.parametrize("who, status", [("rep_east", 403), ("rep_east2", 404),
                                         ("admin", 403), ("mgr_west", 404), ("hr", 403),
                                         ("admin_b", 404)])
def test_only_an_approver_of_the_current_step_decides(api, world, pending, who, status):
    r = decide(api.as_(getattr(world, who)), pending)
    assert r.status_code == status, r.json
    assert api.as_(world.rep_east).get(f"{APPROVALS}/{pending['id']}").json["status"] == \
        "pending"


def test_the_same_decision_again_is_a_repeat_the_other_a_conflict(api, world, pending):
    mgr = api.as_(world.mgr_east)
    first = decide(mgr, pending).json
    again = decide(mgr, pending)
    assert again.status_code == 200 and again.json == first
    other = decide(mgr, pending, "rejected")
    assert other.status_code == 409 and other.json["error"] == "already_decided"


def test_two_levels_step_by_step(api, world):
    goal = target(world.org, world.rep_east, amount="100", created_by=world.mgr_east)
    approval = ask(api.as_(world.rep_east), target_change(goal, amount="150"))
    assert decide(api.as_(world.admin), approval).status_code == 403  # not its step yet
    r = decide(api.as_(world.mgr_east), approval)
    assert r.json["status"] == "pending" and r.json["steps"][0]["decision"] == "approved"
    todo = api.as_(world.admin).get(f"{APPROVALS}?box=todo").json
    assert [a["id"] for a in todo] == [approval["id"]]
    assert api.as_(world.mgr_east).get(f"{APPROVALS}?box=todo").json == []
    rep = api.as_(world.rep_east)
    assert rep.get(f"/api/v1/targets/{goal.id}").json["amount"] == "100.00"
    r = decide(api.as_(world.admin), approval)
    assert r.json["status"] == "approved"
    assert rep.get(f"/api/v1/targets/{goal.id}").json["amount"] == "150.00"


def test_withdraw(api, world, pending):
    rep = api.as_(world.rep_east)
    assert rep.post(f"{APPROVALS}/{pending['id']}/withdraw").status_code == 200
    again = rep.post(f"{APPROVALS}/{pending['id']}/withdraw")
    assert again.status_code == 200 and again.json["status"] == "withdrawn"
    r = decide(api.as_(world.mgr_east), pending)
    assert r.status_code == 409 and r.json["error"] == "approval_closed"


def test_a_decided_request_cannot_be_withdrawn(api, world, pending):
    decide(api.as_(world.mgr_east), pending)
    r = api.as_(world.rep_east).post(f"{APPROVALS}/{pending['id']}/withdraw")
    assert r.status_code == 409 and r.json["error"] == "approval_closed"


def test_only_the_requester_withdraws(api, world, pending):
    r = api.as_(world.mgr_east).post(f"{APPROVALS}/{pending['id']}/withdraw")
    assert r.status_code == 403


@pytest.mark.parametrize("who, visible", [
    ("rep_east", True), ("mgr_east", True), ("admin", True), ("rep_east2", False),
    ("rep_north", False), ("mgr_west", False), ("admin_b", False)])
def test_who_reads_it(api, world, pending, who, visible):
    client = api.as_(getattr(world, who))
    r = client.get(f"{APPROVALS}/{pending['id']}")
    assert r.status_code == (200 if visible else 404)
    listed = [a["id"] for a in client.get(APPROVALS).json]
    assert (pending["id"] in listed) is visible


def test_boxes_and_filters(api, world, shop, pending):
    rep, mgr = api.as_(world.rep_east), api.as_(world.mgr_east)
    assert [a["id"] for a in rep.get(f"{APPROVALS}?box=mine").json] == [pending["id"]]
    assert rep.get(f"{APPROVALS}?box=todo").json == []
    assert [a["id"] for a in mgr.get(f"{APPROVALS}?box=todo&kind=outing").json] == \
        [pending["id"]]
    assert mgr.get(f"{APPROVALS}?box=todo&kind=target_change").json == []
    assert mgr.get(f"{APPROVALS}?box=mine").json == []
    decide(mgr, pending)
    assert mgr.get(f"{APPROVALS}?box=todo").json == []
    assert [a["id"] for a in rep.get(f"{APPROVALS}?status=approved").json] == [pending["id"]]


def test_a_retry_with_the_same_id_is_answered_from_the_stored_request(api, world, shop):
    import uuid

    body = {**outing(shop), "id": str(uuid.uuid4())}
    rep = api.as_(world.rep_east)
    first = rep.post(APPROVALS, json=body)
    again = rep.post(APPROVALS, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    other = rep.post(APPROVALS, json={**body, "payload": {**body["payload"], "purpose": "x"}})
    assert other.status_code == 409 and other.json["error"] == "idempotency_conflict"
