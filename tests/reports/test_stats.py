"""The numbers of a day, against days built with known answers: each expected value is worked
out here from the rows the test wrote (distances with the haversine formula), never read back
from the code under test."""
from datetime import timedelta

import pytest

from fieldsales.geo import haversine_m
from tests import factories
from tests.factories import leads as lf
from tests.factories import reports as rf
from tests.factories import photos as fp
from tests.factories import visits as fv
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body, offset

TZ = "Asia/Shanghai"


def _get(api, user, day, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return api.as_(user).get(f"/api/v1/daily-reports/{day.isoformat()}?{query}")


def _km(*points):
    return sum(haversine_m(*a, *b) for a, b in zip(points, points[1:], strict=False)) / 1000


@pytest.fixture
def day():
    return rf.days_ago(2)


def test_a_full_day_compiles_to_the_numbers_a_manager_expects(api, world, day):
    rep, other = world.rep_east, world.rep_east2
    a_point, b_point = SHANGHAI, offset(SHANGHAI, north_m=3000, east_m=4000)
    c_point = offset(SHANGHAI, north_m=-8000, east_m=1500)
    shop_a = factories.customer(world.org, rep, lat=a_point[0], lng=a_point[1], name="Shop A")
    shop_b = factories.customer(world.org, rep, lat=b_point[0], lng=b_point[1], name="Shop B")
    shop_c = factories.customer(world.org, rep, lat=c_point[0], lng=c_point[1], name="Shop C")

    # The day before and the day after: none of it counts.
    fv.visit(rep, shop_b, in_at=rf.local(day - timedelta(days=1), 23, 50),
             out_at=rf.local(day, 0, 10))
    # The day, out of order on purpose (the route follows check-in times, not insert order).
    v3 = fv.visit(rep, shop_a, in_at=rf.local(day, 14), auto_closed_at=rf.local(day, 18),
                  flags=["missing_check_out"], risk_score=15)
    v1 = fv.visit(rep, shop_a, in_at=rf.local(day, 9), out_at=rf.local(day, 9, 40))
    v2 = fv.visit(rep, shop_b, in_at=rf.local(day, 11), out_at=rf.local(day, 11, 30),
                  flags=["outside_geofence"], risk_score=25)
    v4 = fv.visit(rep, shop_c, in_at=rf.local(day, 23, 30),
                  out_at=rf.local(day + timedelta(days=1), 0, 20))
    fv.visit(rep, shop_a, in_at=rf.local(day + timedelta(days=1), 0, 30),
             out_at=rf.local(day + timedelta(days=1), 1, 0))
    fv.visit(other, shop_a, in_at=rf.local(day, 10), out_at=rf.local(day, 10, 30))
    for v in (v2, v2, v3):
        fp.photo(v)

    pool = lf.pool(world.org, world.east)
    leads = [lf.lead(world.org, pool) for _ in range(5)]
    rf.lead_event(leads[0], "claimed", at=rf.local(day, 9, 5), to_user=rep)
    rf.lead_event(leads[1], "claimed", at=rf.local(day, 16), to_user=rep)
    rf.lead_event(leads[2], "assigned", at=rf.local(day, 12), to_user=rep,
                  actor=world.mgr_east)
    rf.lead_event(leads[3], "claimed", at=rf.local(day + timedelta(days=1), 8), to_user=rep)
    rf.lead_event(leads[4], "claimed", at=rf.local(day, 10), to_user=other)

    rf.lead_follow_up(leads[0], rep, at=rf.local(day, 10))
    copied = rf.lead_follow_up(leads[1], rep, at=rf.local(day, 17), note="Called, wants a demo")
    rf.lead_follow_up(leads[1], rep, at=rf.local(day - timedelta(days=1), 17))
    rf.contact_record(shop_a, rep, at=rf.local(day, 12), method="call")
    rf.contact_record(shop_a, rep, at=rf.local(day, 9, 40), method="visit", visit=v1)
    # what a lead conversion writes: a copy of the follow-up, same author, time, method, text
    rf.contact_record(shop_b, rep, at=copied.created_at, method="call",
                      summary="Called, wants a demo")
    rf.contact_record(shop_b, rep, at=rf.local(day + timedelta(days=1), 9), method="call")
    rf.contact_record(shop_b, other, at=rf.local(day, 9), method="call")

    r = _get(api, rep, day)
    assert r.status_code == 200, r.json
    body = r.json
    assert (body["id"], body["user_id"], body["date"], body["status"]) == (
        None, str(rep.id), day.isoformat(), "draft")
    stats = body["stats"]
    assert stats["visits"] == 4
    assert stats["customers_visited"] == 3
    assert stats["first_check_in_at"] == _z(rf.local(day, 9))
    assert stats["last_check_out_at"] == _z(rf.local(day + timedelta(days=1), 0, 20))
    # 09:00 → 00:20 the next morning (the 23:30 visit's check-out); the automatic close at
    # 18:00 is not a sign of work and does not matter here.
    assert stats["working_minutes"] == 15 * 60 + 20
    assert stats["travel_km"] == pytest.approx(_km(a_point, b_point, a_point, c_point),
                                               rel=0.005, abs=0.01)
    assert stats["flagged_visits"] == 2
    assert stats["photos"] == 3
    assert stats["leads_claimed"] == 2
    assert stats["follow_ups"] == 3  # two lead follow-ups and one call; not the copies

    assert [v["id"] for v in body["visits"]] == [str(v.id) for v in (v1, v2, v3, v4)]
    assert body["visits"][1] == {
        "id": str(v2.id), "customer_id": str(shop_b.id), "customer_name": "Shop B",
        "check_in_at": _z(rf.local(day, 11)), "check_out_at": _z(rf.local(day, 11, 30)),
        "flags": ["outside_geofence"]}
    assert body["visits"][2]["check_out_at"] is None  # closed automatically
    assert (body["summary"], body["plan"], body["problems"], body["review"]) == (
        None, None, None, None)


def _z(at):
    from datetime import UTC

    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_working_minutes_end_at_the_last_check_in_when_nothing_was_checked_out(api, world,
                                                                               day):
    rep = world.rep_east
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    fv.visit(rep, shop, in_at=rf.local(day, 10), auto_closed_at=rf.local(day, 13),
             flags=["missing_check_out"])
    fv.visit(rep, shop, in_at=rf.local(day, 13), auto_closed_at=rf.local(day + timedelta(days=1), 0),
             flags=["missing_check_out"])
    stats = _get(api, rep, day).json["stats"]
    assert stats["working_minutes"] == 180
    assert stats["last_check_out_at"] is None
    assert stats["travel_km"] == 0  # both at the same shop
    assert stats["customers_visited"] == 1


def test_an_empty_day_and_a_single_visit(api, world, day):
    rep = world.rep_east
    empty = _get(api, rep, day).json
    assert empty["stats"] == {
        "visits": 0, "customers_visited": 0, "first_check_in_at": None,
        "last_check_out_at": None, "working_minutes": 0, "travel_km": 0.0,
        "flagged_visits": 0, "photos": 0, "leads_claimed": 0, "follow_ups": 0, "plans": 0,
        "plans_done": 0, "plans_missed": 0}
    assert empty["visits"] == []
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    fv.visit(rep, shop, in_at=rf.local(day, 10), out_at=rf.local(day, 10, 45))
    stats = _get(api, rep, day).json["stats"]
    assert (stats["visits"], stats["working_minutes"], stats["travel_km"]) == (1, 45, 0.0)


# --- time zones ------------------------------------------------------------------------------

def test_a_visit_at_23_30_local_belongs_to_that_local_day(api, world):
    rep = factories.user(world.org, "rep", world.east, timezone="America/New_York")
    ny = "America/New_York"
    day = rf.days_ago(3, ny)
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    late = fv.visit(rep, shop, in_at=rf.local(day, 23, 30, ny),
                    out_at=rf.local(day + timedelta(days=1), 0, 15, ny))
    early = fv.visit(rep, shop, in_at=rf.local(day + timedelta(days=1), 0, 30, ny),
                     out_at=rf.local(day + timedelta(days=1), 1, 0, ny))
    # 23:30 in New York is already the next calendar day in UTC and in Shanghai (the org's
    # zone): the rep's own zone decides.
    assert rf.local(day, 23, 30, ny).astimezone(rf.ZoneInfo("UTC")).date() != day
    that_day = _get(api, rep, day).json
    assert [v["id"] for v in that_day["visits"]] == [str(late.id)]
    next_day = _get(api, rep, day + timedelta(days=1)).json
    assert [v["id"] for v in next_day["visits"]] == [str(early.id)]
    # A manager asking about the rep sees the rep's days, not the manager's.
    as_manager = _get(api, world.mgr_east, day, user_id=rep.id).json
    assert [v["id"] for v in as_manager["visits"]] == [str(late.id)]


def test_the_org_zone_applies_when_the_rep_has_none(api, world):
    rep = world.rep_east  # no zone of its own; the org is Asia/Shanghai
    day = rf.days_ago(3)
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    # 23:30 in Shanghai is 15:30 UTC the same day; 00:30 is 16:30 UTC the day before
    late = fv.visit(rep, shop, in_at=rf.local(day, 23, 30), out_at=rf.local(day, 23, 50))
    fv.visit(rep, shop, in_at=rf.local(day + timedelta(days=1), 0, 30),
             out_at=rf.local(day + timedelta(days=1), 0, 50))
    assert [v["id"] for v in _get(api, rep, day).json["visits"]] == [str(late.id)]


# --- through the real API --------------------------------------------------------------------

def test_a_day_made_through_the_api(api, world):
    rep = world.rep_east
    here, there = SHANGHAI, offset(SHANGHAI, north_m=2000)
    shop = factories.customer(world.org, rep, lat=here[0], lng=here[1])
    other = factories.customer(world.org, rep, lat=there[0], lng=there[1])
    client = api.as_(rep)
    first = client.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=25))).json
    client.post(f"/api/v1/visits/{first['id']}/check-out", json=check_out_body(
        point=here, at=ago(minutes=20), summary="Met the owner"))
    second = client.post("/api/v1/visits", json=check_in_body(other, at=ago(minutes=10))).json
    day = rf.local_date_of(first["check_in"]["at"])
    if rf.local_date_of(second["check_in"]["at"]) != day:
        pytest.skip("the two check-ins straddle local midnight")
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool)
    assert client.post(f"/api/v1/leads/{lead.id}/claim").status_code == 200
    assert client.post(f"/api/v1/leads/{lead.id}/follow-ups",
                       json={"method": "call", "note": "Intro call"}).status_code == 201
    body = _get(api, rep, day).json
    stats = body["stats"]
    assert (stats["visits"], stats["customers_visited"], stats["flagged_visits"]) == (2, 2, 0)
    assert stats["travel_km"] == pytest.approx(_km(here, there), rel=0.005, abs=0.01)
    # from the first check-in to the second one (the latest sign of work)
    span = rf.parse(second["check_in"]["at"]) - rf.parse(first["check_in"]["at"])
    assert stats["working_minutes"] == int(span.total_seconds() // 60)
    assert stats["last_check_out_at"] == first_check_out(client, first["id"])
    if rf.today() == day:
        assert (stats["leads_claimed"], stats["follow_ups"]) == (1, 1)
    assert [v["customer_name"] for v in body["visits"]] == [shop.name, other.name]


def first_check_out(client, visit_id):
    return client.get(f"/api/v1/visits/{visit_id}").json["check_out"]["at"]
