"""Hostile input: a clear 422 (or 404 for what the requester cannot see), never a 5xx, nothing
half-written."""
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.factories.approvals import APPROVALS, correction, outing, target_change
from tests.factories.targets import target
from tests.test_errors import assert_error_shape


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east)


@pytest.fixture
def goal(world):
    return target(world.org, world.rep_east, metric="won_amount", created_by=world.mgr_east)


def _now():
    return datetime.now(UTC)


def _bodies(shop, goal):
    o, c, t = outing(shop), correction(), target_change(goal)
    p = o["payload"]
    return {
        "unknown kind": {"kind": "vacation", "payload": p},
        "no kind": {"payload": p},
        "no payload": {"kind": "outing"},
        "payload of another kind": {"kind": "outing", "payload": t["payload"]},
        "payload not an object": {"kind": "outing", "payload": "go"},
        "payload a list": {"kind": "outing", "payload": [p]},
        "payload null": {"kind": "outing", "payload": None},
        "extra payload field": {"kind": "outing", "payload": {**p, "user_id": str(uuid.uuid4())}},
        "extra body field": {**o, "requester_id": str(uuid.uuid4())},
        "ends before starts": {"kind": "outing", "payload": {**p, "ends_at": p["starts_at"]}},
        "a month-long outing": {"kind": "outing", "payload": {
            **p, "ends_at": (_now() + timedelta(days=30)).isoformat()}},
        "outing in 0001": {"kind": "outing", "payload": {
            **p, "starts_at": "0001-01-01T00:00:00Z", "ends_at": "0001-01-01T04:00:00Z"}},
        "outing in 9999": {"kind": "outing", "payload": {
            **p, "starts_at": "9999-12-31T00:00:00Z", "ends_at": "9999-12-31T23:59:59Z"}},
        "outing years ahead": {"kind": "outing", "payload": {
            **p, "starts_at": "2150-01-01T00:00:00Z", "ends_at": "2150-01-01T04:00:00Z"}},
        "naive time": {"kind": "outing", "payload": {
            **p, "starts_at": "2026-11-01T09:00:00", "ends_at": "2026-11-01T10:00:00"}},
        "NUL in purpose": {"kind": "outing", "payload": {**p, "purpose": "go\u0000"}},
        "empty purpose": {"kind": "outing", "payload": {**p, "purpose": ""}},
        "huge purpose": {"kind": "outing", "payload": {**p, "purpose": "x" * 5000}},
        "not a uuid": {"kind": "outing", "payload": {**p, "customer_id": "1 OR 1=1"}},
        "correction 0001-01-01": {**c, "payload": {**c["payload"], "date": "0001-01-01"}},
        "correction 9999-12-31": {**c, "payload": {**c["payload"], "date": "9999-12-31"}},
        "correction a year ago": {**c, "payload": {
            **c["payload"], "date": (_now() - timedelta(days=365)).date().isoformat()}},
        "correction at another day": {**c, "payload": {
            **c["payload"], "at": (_now() - timedelta(days=9)).isoformat()}},
        "correction missing what": {**c, "payload": {**c["payload"], "missing": "lunch"}},
        "correction of another's visit": {**c, "payload": {
            **c["payload"], "visit_id": str(uuid.uuid4())}},
        "huge amount": {**t, "payload": {**t["payload"], "amount": "1" + "0" * 30}},
        "amount 10^12": {**t, "payload": {**t["payload"], "amount": "1000000000000"}},
        "negative amount": {**t, "payload": {**t["payload"], "amount": "-5"}},
        "amount NaN": {**t, "payload": {**t["payload"], "amount": "NaN"}},
        "amount Infinity": {**t, "payload": {**t["payload"], "amount": "Infinity"}},
        "amount exponent": {**t, "payload": {**t["payload"], "amount": "1e400"}},
        "amount a float": {**t, "payload": {**t["payload"], "amount": 1e308}},
        "amount bool": {**t, "payload": {**t["payload"], "amount": True}},
        "NUL in reason": {**t, "payload": {**t["payload"], "reason": "\u0000"}},
    }




@pytest.mark.parametrize("case", [
    "unknown kind", "no kind", "no payload", "payload of another kind",
    "payload not an object", "payload a list", "payload null", "extra payload field",
    "extra body field", "ends before starts", "a month-long outing", "outing in 0001",
    "outing in 9999", "outing years ahead", "naive time", "NUL in purpose", "empty purpose",
    "huge purpose", "not a uuid", "correction 0001-01-01", "correction 9999-12-31",
    "correction a year ago", "correction at another day", "correction missing what",
    "correction of another's visit", "huge amount", "amount 10^12", "negative amount",
    "amount NaN", "amount Infinity", "amount exponent", "amount a float", "amount bool",
    "NUL in reason"])
def test_bad_requests_are_422_and_write_nothing(api, world, shop, goal, case):
    rep = api.as_(world.rep_east)
    r = rep.post(APPROVALS, json=_bodies(shop, goal)[case])
    assert_error_shape(r, 422)
    assert rep.get(APPROVALS).json == []


def test_what_the_requester_cannot_see_is_404(api, world, shop, goal):
    west_card = factories.customer(world.org, world.rep_west)
    west_goal = target(world.org, world.rep_west, created_by=world.mgr_west)
    rep = api.as_(world.rep_east)
    assert_error_shape(rep.post(APPROVALS, json=outing(west_card)), 404)
    assert_error_shape(rep.post(APPROVALS, json=target_change(west_goal)), 404)
    other_org = factories.customer(world.org_b, world.rep_b)
    assert_error_shape(rep.post(APPROVALS, json=outing(other_org)), 404)
    foreign_project = factories.project(world.org, west_card, world.rep_west)
    r = rep.post(APPROVALS, json=outing(shop, project_id=str(foreign_project.id)))
    assert_error_shape(r, 422)
    assert rep.get(APPROVALS).json == []


def test_hr_cannot_ask(api, world, shop):
    assert_error_shape(api.as_(world.hr).post(APPROVALS, json=outing(shop)), 403)


@pytest.mark.parametrize("body", [{}, {"decision": "maybe"}, {"decision": None},
                                  {"decision": "approved", "comment": "x" * 3000},
                                  {"decision": "approved", "comment": "a\u0000b"},
                                  {"decision": "approved", "extra": 1}])
def test_bad_decisions_are_422(api, world, shop, body):
    approval = api.as_(world.rep_east).post(APPROVALS, json=outing(shop)).json
    r = api.as_(world.mgr_east).post(f"{APPROVALS}/{approval['id']}/decide", json=body)
    assert_error_shape(r, 422)


@pytest.mark.parametrize("query", ["box=all", "kind=vacation", "status=done", "page=0",
                                   "kind=%00"])
def test_bad_list_queries_are_422(api, world, query):
    assert_error_shape(api.as_(world.rep_east).get(f"{APPROVALS}?{query}"), 422)


def test_unknown_approval_is_404(api, world):
    mgr = api.as_(world.mgr_east)
    assert_error_shape(mgr.get(f"{APPROVALS}/{uuid.uuid4()}"), 404)
    assert_error_shape(mgr.post(f"{APPROVALS}/{uuid.uuid4()}/decide",
                                json={"decision": "approved"}), 404)
    assert_error_shape(mgr.post(f"{APPROVALS}/{uuid.uuid4()}/withdraw"), 404)
