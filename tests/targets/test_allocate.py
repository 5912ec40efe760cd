"""POST /targets/{id}/allocate and publish's allocation_short: splitting by period and among
the subject's teams and people, one transaction, and two managers splitting at once."""
import uuid

from sqlalchemy import func, select

from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import targets as tf

TARGETS = "/api/v1/targets"


def child(row, amount, period=None):
    c = {"subject": tf.subject(row), "amount": amount}
    return {**c, "period": period} if period else c


def test_a_year_split_to_teams_then_months(api, world):
    admin = api.as_(world.admin)
    year = admin.post(TARGETS, json={"metric": "visits", "period": "2027", "amount": "1000",
                                     "subject": tf.subject(world.org)}).json
    r = admin.post(f"{TARGETS}/{year['id']}/allocate",
                   json={"children": [child(world.east, "600"), child(world.west, "300")]})
    assert r.status_code == 200, r.json
    assert [(c["subject"]["id"], c["period"], c["amount"], c["parent_id"], c["status"])
            for c in r.json] == [(str(world.east.id), "2027", "600.00", year["id"], "draft"),
                                 (str(world.west.id), "2027", "300.00", year["id"], "draft")]
    # 900 < 1000: not yet
    short = admin.post(f"{TARGETS}/{year['id']}/publish")
    assert short.status_code == 422 and short.json["error"] == "allocation_short"
    # the east manager splits its own team's target among its sub-team and people, and months
    east = r.json[0]
    mgr = api.as_(world.mgr_east)
    r = mgr.post(f"{TARGETS}/{east['id']}/allocate", json={"children": [
        child(world.north, "200"), child(world.rep_east, "250"), child(world.rep_east2, "150"),
        child(world.east, "300", "2027-Q1"), child(world.east, "300", "2027-Q2")]})
    assert r.status_code == 200, r.json
    assert admin.post(f"{TARGETS}/{year['id']}/allocate", json={"children": [
        child(world.rep_east, "1", "2027")]}).status_code == 422  # not a direct person of org
    assert admin.post(f"{TARGETS}/{year['id']}/allocate",  # itself, same period
                      json={"children": [child(world.org, "100")]}).status_code == 422
    again = admin.post(f"{TARGETS}/{year['id']}/allocate", json={"children": [
        child(world.west, "400")]})
    assert again.status_code == 409 and again.json["error"] == "target_exists"
    r = admin.post(f"{TARGETS}/{year['id']}/allocate", json={"children": [
        child(world.org, "500", "2027-Q1"),
        child(world.org, "500", "2027-Q2")]})
    assert r.status_code == 200
    # period split 1000 and subject split 900: still short until West gets 400
    assert admin.post(f"{TARGETS}/{year['id']}/publish").json["error"] == "allocation_short"
    west = admin.get(f"{TARGETS}?team_id={world.west.id}").json[0]
    assert admin.patch(f"{TARGETS}/{west['id']}", json={"amount": "400"}).status_code == 200
    pub = admin.post(f"{TARGETS}/{year['id']}/publish")
    assert pub.status_code == 200 and pub.json["status"] == "published"
    # east's children: months add up to 600 of 600, people and sub-team to 600
    assert mgr.post(f"{TARGETS}/{east['id']}/publish").status_code == 200


def test_children_must_be_direct_parts_or_sub_periods(api, world):
    admin = api.as_(world.admin)
    east = tf.target(world.org, world.east, period="2027-Q1", created_by=world.admin).id
    bad = [
        child(world.rep_north, "1"),                 # below north, not directly in east
        child(world.west, "1"),                      # a sibling team
        child(world.east, "1", "2027"),              # not inside 2027-Q1
        child(world.east, "1", "2027-Q1"),           # not smaller than it
        child(world.east, "1", "2027-04"),
        child(world.north, "1", "2027-01"),          # another subject covers the same period
        child(world.rep_b, "1"),                     # another org
        child(world.rep_east, "1.5"),                # visits are whole
    ]
    for c in bad:
        r = admin.post(f"{TARGETS}/{east}/allocate", json={"children": [c]})
        assert r.status_code == 422, (c, r.json)
    ok = admin.post(f"{TARGETS}/{east}/allocate", json={"children": [
        child(world.east, "10", "2027-01"), child(world.north, "5"), child(world.mgr_east, "1")]})
    assert ok.status_code == 200, ok.json


def test_who_may_split(api, world):
    east = tf.target(world.org, world.east, created_by=world.admin).id
    rep_t = tf.target(world.org, world.rep_east, created_by=world.mgr_east).id
    mgr_t = tf.target(world.org, world.mgr_east, created_by=world.admin).id
    months = {"children": [child(world.rep_east, "1", "2027-01")]}
    assert api.as_(world.rep_east).post(f"{TARGETS}/{rep_t}/allocate",
                                        json=months).status_code == 403
    assert api.as_(world.hr).post(f"{TARGETS}/{rep_t}/allocate",
                                  json=months).status_code == 403
    assert api.as_(world.mgr_west).post(f"{TARGETS}/{rep_t}/allocate",
                                        json=months).status_code == 404
    assert api.as_(world.mgr_east).post(f"{TARGETS}/{mgr_t}/allocate", json={
        "children": [child(world.mgr_east, "1", "2027-01")]}).status_code == 403
    assert api.as_(world.mgr_east).post(f"{TARGETS}/{rep_t}/allocate",
                                        json=months).status_code == 200
    r = api.as_(world.mgr_east).post(f"{TARGETS}/{east}/allocate",
                                     json={"children": [child(world.north, "1")]})
    assert r.status_code == 200


def test_a_failed_child_writes_none_of_them(api, world, db):
    from fieldsales.targets.models import Target

    east = tf.target(world.org, world.east, created_by=world.admin).id
    tf.target(world.org, world.rep_east2, parent=None)
    r = api.as_(world.admin).post(f"{TARGETS}/{east}/allocate", json={"children": [
        child(world.rep_east, "10"), child(world.rep_east2, "10")]})
    assert r.status_code == 409 and r.json["error"] == "target_exists"
    assert db.scalar(select(func.count()).select_from(Target).where(
        Target.parent_id == east)) == 0


def _committed_world():
    o = factories.org()
    east = factories.team(o, "East")
    return o, east, factories.user(o, "admin"), [factories.user(o, "manager", east)
                                                 for _ in range(2)], \
        [factories.user(o, "rep", east) for _ in range(3)]


def test_two_managers_splitting_at_once_write_one_split(app, committed):
    from fieldsales.targets.models import Target

    o, east, admin, managers, reps = _committed_world()
    parent = tf.target(o, east, amount="90", created_by=admin).id
    split = [child(r, "30") for r in reps]
    # the two managers list the same people in opposite orders: without the parent's lock
    # their inserts would wait on each other (a deadlock) instead of one of them losing cleanly
    splits = [{"children": split if i % 2 else split[::-1]} for i in range(8)]
    callers = [ApiClient(app, managers[i % 2]) for i in range(8)]
    results = run_threads(8, lambda i: callers[i].post(f"{TARGETS}/{parent}/allocate",
                                                       json=splits[i]))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [409] * 7, codes
    assert all(r.json["error"] == "target_exists" for r in results if r.status_code == 409)
    committed.remove()
    n = committed.scalar(select(func.count()).select_from(Target).where(
        Target.org_id == o.id, Target.parent_id == parent))
    assert n == 3


def test_the_same_create_at_once_writes_one_target(app, committed):
    from fieldsales.targets.models import Target

    o, east, admin, managers, reps = _committed_world()
    callers = [ApiClient(app, admin if i % 2 else managers[0]) for i in range(8)]
    body = {"metric": "visits", "period": "2027-05", "amount": "40",
            "subject": tf.subject(reps[0])}
    results = run_threads(8, lambda i: callers[i].post(TARGETS, json={
        **body, "id": str(uuid.uuid4())}))
    codes = sorted(r.status_code for r in results)
    assert codes == [201] + [409] * 7, codes
    assert {r.json["error"] for r in results if r.status_code == 409} == {"target_exists"}
    committed.remove()
    assert committed.scalar(select(func.count()).select_from(Target).where(
        Target.org_id == o.id)) == 1
