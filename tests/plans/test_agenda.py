"""GET /agenda: the day's plans, the follow-ups due, the customers overdue by grade cadence;
nearest first with `near`; a rep sees its own day, managers their people's."""
from datetime import UTC, datetime, timedelta

import pytest

from fieldsales import geo
from tests import factories
from tests.factories import leads as lead_factories
from tests.factories.visits import visit as visit_row
from tests.plans.helpers import day, plan_body

AGENDA = "/api/v1/agenda"
HERE = (31.2304, 121.4737)


def _north(metres):
    return HERE[0] + metres / 111_320.0, HERE[1]


def _shop(world, metres, **fields):
    lat, lng = _north(metres)
    return factories.customer(world.org, world.rep_east, lat=lat, lng=lng, **fields)


def test_plans_of_the_day_nearest_first(api, world):
    rep = api.as_(world.rep_east)
    far, near, middle = _shop(world, 3000), _shop(world, 200), _shop(world, 1500)
    ids = {c.id: rep.post("/api/v1/plans", json=plan_body(c, offset=0)).json["id"]
           for c in (far, near, middle)}
    rep.post("/api/v1/plans", json=plan_body(near, offset=1))  # tomorrow: not today's
    pool = lead_factories.pool(world.org)
    lead = lead_factories.lead(world.org, pool, world.rep_east)
    lead_plan = rep.post("/api/v1/plans", json=plan_body(kind="call", offset=0,
                                                         lead_id=str(lead.id))).json
    r = rep.get(f"{AGENDA}?near={HERE[0]},{HERE[1]}")
    assert r.status_code == 200, r.json
    assert r.json["date"] == day(0)
    plans = r.json["plans"]
    assert [p["id"] for p in plans] == [ids[near.id], ids[middle.id], ids[far.id],
                                        lead_plan["id"]]
    for p, c in zip(plans[:3], (near, middle, far), strict=True):
        expected = geo.haversine_m(HERE[0], HERE[1], c.lat, c.lng)
        assert p["customer"]["distance_m"] == pytest.approx(expected, rel=0.01)
        assert p["customer"]["name"] == c.name and p["status"] == "planned"
    assert plans[3]["customer"] is None
    # without near: by start time, then creation
    plain = rep.get(AGENDA).json["plans"]
    assert [p["id"] for p in plain] == [ids[far.id], ids[near.id], ids[middle.id],
                                        lead_plan["id"]]
    assert plain[0]["customer"]["distance_m"] is None
    tomorrow = rep.get(f"{AGENDA}?date={day(1)}").json["plans"]
    assert [p["customer"]["id"] for p in tomorrow] == [str(near.id)]


def test_due_follow_ups(api, world):
    rep = api.as_(world.rep_east)
    now = datetime.now(UTC)
    called, settled, visited, later = (_shop(world, m) for m in (100, 200, 300, 400))
    url = "/api/v1/customers/{}/contact-records"
    rep.post(url.format(called.id), json={"method": "call", "summary": "call me back",
                                          "next_follow_up_at": (now - timedelta(hours=1))
                                          .isoformat()})
    rep.post(url.format(settled.id), json={"method": "call", "summary": "x",
                                           "next_follow_up_at": (now - timedelta(days=1))
                                           .isoformat()})
    rep.post(url.format(settled.id), json={"method": "email", "summary": "done since"})
    v = visit_row(world.rep_east, visited, in_at=now - timedelta(days=2),
                  out_at=now - timedelta(days=2, minutes=-30))
    v.next_follow_up_at = now - timedelta(days=1)
    factories._save(v)
    rep.post(url.format(later.id), json={"method": "call", "summary": "x",
                                         "next_follow_up_at": (now + timedelta(days=3))
                                         .isoformat()})
    pool = lead_factories.pool(world.org)
    lead = lead_factories.lead(world.org, pool, world.rep_east, lat=_north(50)[0], lng=HERE[1])
    rep.post(f"/api/v1/leads/{lead.id}/follow-ups", json={
        "method": "call", "note": "x", "next_follow_up_at": (now - timedelta(minutes=5))
        .isoformat()})
    # someone else's follow-up on a shared card is not this rep's to do
    api.as_(world.rep_east2).post(url.format(later.id), json={
        "method": "call", "summary": "x", "next_follow_up_at": now.isoformat()})

    due = rep.get(f"{AGENDA}?near={HERE[0]},{HERE[1]}").json["due_follow_ups"]
    assert [(d["type"], d["id"], d["from"]) for d in due] == [
        ("lead", str(lead.id), "lead_follow_up"), ("customer", str(called.id), "contact_record"),
        ("customer", str(visited.id), "visit")]
    by_time = rep.get(AGENDA).json["due_follow_ups"]
    assert [d["id"] for d in by_time] == [str(visited.id), str(called.id), str(lead.id)]
    in_four_days = rep.get(f"{AGENDA}?date={day(4)}").json["due_follow_ups"]
    assert str(later.id) in [d["id"] for d in in_four_days]


def test_overdue_customers_by_grade_cadence(api, world):
    rep = api.as_(world.rep_east)
    now = datetime.now(UTC)
    a_late = _shop(world, 500, grade="A")        # cadence 7: visited 10 days ago → overdue
    b_fine = _shop(world, 100, grade="B")        # cadence 14: visited 10 days ago → fine
    a_near = _shop(world, 50, grade="A")         # visited 8 days ago → overdue
    d_free = _shop(world, 10, grade="D")         # no cadence for D
    ungraded = _shop(world, 20)
    new_a = _shop(world, 30, grade="A")          # never visited, card made today: due in 7 days
    for customer, days_ago in ((a_late, 10), (b_fine, 10), (a_near, 8), (d_free, 90),
                               (ungraded, 90)):
        visit_row(world.rep_east2, customer, in_at=now - timedelta(days=days_ago),
                  out_at=now - timedelta(days=days_ago, minutes=-20))
    overdue = rep.get(f"{AGENDA}?near={HERE[0]},{HERE[1]}").json["overdue_customers"]
    assert [o["customer"]["id"] for o in overdue] == [str(a_near.id), str(a_late.id)]
    first = overdue[0]
    assert first["grade"] == "A"
    last = datetime.fromisoformat(first["last_visit_at"].replace("Z", "+00:00"))
    assert abs(last - (now - timedelta(days=8))) < timedelta(seconds=1)
    due_since = datetime.fromisoformat(first["due_since"].replace("Z", "+00:00"))
    assert abs(due_since - (now - timedelta(days=1))) < timedelta(seconds=1)
    by_due = rep.get(AGENDA).json["overdue_customers"]
    assert [o["customer"]["id"] for o in by_due] == [str(a_late.id), str(a_near.id)]
    # in 8 days: the new card's 7 days are up, and B's 14 days since its visit 10 days ago
    next_week = rep.get(f"{AGENDA}?date={day(8)}").json["overdue_customers"]
    assert {o["customer"]["id"] for o in next_week} == {str(a_late.id), str(a_near.id),
                                                        str(new_a.id), str(b_fine.id)}
    # the org's cadence decides
    api.as_(world.admin).patch("/api/v1/org/settings", json={"visit_cadence_days": {"A": 9}})
    assert [o["customer"]["id"] for o in rep.get(AGENDA).json["overdue_customers"]] == [
        str(a_late.id)]


@pytest.mark.parametrize("caller,status", [("rep_east", 200), ("mgr_east", 200), ("admin", 200),
                                           ("hr", 200), ("rep_east2", 404), ("mgr_west", 404),
                                           ("admin_b", 404)])
def test_whose_agenda(api, world, caller, status):
    c = _shop(world, 10)
    plan = api.as_(world.rep_east).post("/api/v1/plans", json=plan_body(c, offset=0)).json
    r = api.as_(getattr(world, caller)).get(f"{AGENDA}?user_id={world.rep_east.id}")
    assert r.status_code == status, r.json
    if status == 200:
        assert [p["id"] for p in r.json["plans"]] == [plan["id"]]


@pytest.mark.parametrize("query", ["near=91,0", "near=abc", "date=2300-01-01", "date=soon",
                                   "user_id=nope"])
def test_bad_queries_are_422(api, world, query):
    assert api.as_(world.rep_east).get(f"{AGENDA}?{query}").status_code == 422
