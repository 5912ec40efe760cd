"""Org setting work_hours and the attendance flags it drives: `late` (first check-in after start
+ grace) and `left_early` (last check-out before end), to the second, in each user's own zone,
across DST changes; and the setting's validation."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.factories.attendance import shift
from tests.factories.visits import day_visit

URL = "/api/v1/attendance"
SETTINGS = "/api/v1/org/settings"
MON = date(2026, 11, 9)  # a Monday; the world's org: Asia/Shanghai, Monday to Friday
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")


def at(day, hh, mm, ss=0, tz=SH):
    return datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=tz)


def row(api, who, user, day):
    r = api.as_(who).get(URL, query_string={"from": day, "to": day, "user_id": user.id})
    assert r.status_code == 200, r.json
    (only,) = r.json
    return only


def flags(api, who, user, day):
    got = row(api, who, user, day)
    return got["late"], got["left_early"]


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=31.23, lng=121.47)


def every_day(api, world):
    r = api.as_(world.admin).patch(SETTINGS, json={"workdays": [1, 2, 3, 4, 5, 6, 7]})
    assert r.status_code == 200


# --- the exact boundaries (default work_hours: 09:00-18:00, grace 10) -----------------------

@pytest.mark.parametrize("check_in, check_out, expected", [
    (at(MON, 9, 10, 0), at(MON, 18, 0, 0), (False, False)),
    (at(MON, 9, 10, 1), at(MON, 18, 0, 0), (True, False)),
    (at(MON, 9, 10, 0), at(MON, 17, 59, 59), (False, True)),
    (at(MON, 9, 10, 1), at(MON, 17, 59, 59), (True, True)),
    (at(MON, 8, 0), at(MON, 20, 0), (False, False)),
])
def test_late_and_left_early_at_the_exact_second(api, world, shop, check_in, check_out,
                                                  expected):
    shift(world.rep_east, shop, check_in, check_out)
    assert flags(api, world.hr, world.rep_east, MON) == expected


def test_first_check_in_and_last_check_out_of_the_day_decide(api, world, shop):
    rep = world.rep_east
    shift(rep, shop, at(MON, 9, 5), at(MON, 10, 0))  # on time
    shift(rep, shop, at(MON, 11, 0), at(MON, 12, 0))  # later visits do not make it late
    shift(rep, shop, at(MON, 16, 0), at(MON, 18, 30))  # the last check-out is after 18:00
    assert flags(api, world.hr, rep, MON) == (False, False)


def test_days_without_a_check_in_or_out_are_neither(api, world, shop):
    rep = world.rep_east
    tue = MON + timedelta(days=1)
    day_visit(rep, shop, at=at(tue, 10, 0), closed=None)  # open: no check-out
    got = {r["date"]: (r["status"], r["late"], r["left_early"]) for r in api.as_(world.hr).get(
        URL, query_string={"from": MON, "to": tue, "user_id": rep.id}).json}
    assert got == {"2026-11-09": ("absent", False, False),
                   "2026-11-10": ("incomplete", True, False)}


def test_a_day_off_is_never_late(api, world, shop):
    sat = MON + timedelta(days=5)
    shift(world.rep_east, shop, at(sat, 11, 0), at(sat, 12, 0))
    assert row(api, world.hr, world.rep_east, sat)["status"] == "present"
    assert flags(api, world.hr, world.rep_east, sat) == (False, False)


def test_the_org_setting_moves_the_boundaries(api, world, shop):
    shift(world.rep_east, shop, at(MON, 8, 0, 1), at(MON, 16, 59, 59))
    assert flags(api, world.hr, world.rep_east, MON) == (False, True)  # defaults: 09:10 / 18:00
    r = api.as_(world.admin).patch(SETTINGS, json={"work_hours": {
        "start": "08:00", "end": "17:00", "grace_minutes": 0}})
    assert r.status_code == 200
    assert r.json["work_hours"] == {"start": "08:00", "end": "17:00", "grace_minutes": 0}
    assert flags(api, world.hr, world.rep_east, MON) == (True, True)
    # another org keeps its own hours
    assert api.as_(world.admin_b).get(SETTINGS).json["work_hours"] == {
        "start": "09:00", "end": "18:00", "grace_minutes": 10}


# --- time zones -----------------------------------------------------------------------------

def test_each_user_is_measured_on_its_own_clock(api, world, shop):
    ny = factories.user(world.org, "rep", world.east, timezone="America/New_York")
    # 09:05 in New York is 22:05 in Shanghai (the org's zone): on time for the NY rep.
    shift(ny, shop, at(MON, 9, 5, tz=NY), at(MON, 18, 5, tz=NY))
    # 09:30 in Shanghai is 20:30 of the day before in New York: late for the Shanghai rep.
    shift(world.rep_east, shop, at(MON, 9, 30), at(MON, 17, 30))
    assert flags(api, world.hr, ny, MON) == (False, False)
    assert flags(api, world.hr, world.rep_east, MON) == (True, True)
    # the same instant as the NY rep's check-in is late on the Shanghai clock
    tue = MON + timedelta(days=1)
    instant = at(tue, 9, 5, tz=NY)
    shift(world.rep_east2, shop, instant, instant + timedelta(hours=1))
    assert instant.astimezone(SH).hour == 22
    assert row(api, world.hr, world.rep_east2, tue)["late"] is True


@pytest.mark.parametrize("tz, day, hh, mm, late", [
    # New York springs forward on Sunday 2026-03-08 (02:00 -> 03:00, EST -> EDT):
    # 09:10 that day is 13:10 UTC, not 14:10 (the offset at midnight).
    ("America/New_York", date(2026, 3, 8), 9, 10, False),
    ("America/New_York", date(2026, 3, 8), 9, 30, True),
    ("America/New_York", date(2026, 3, 8), 9, 9, False),
    # and falls back on Sunday 2026-11-01: 09:10 is 14:10 UTC, not 13:10.
    ("America/New_York", date(2026, 11, 1), 9, 5, False),
    ("America/New_York", date(2026, 11, 1), 9, 11, True),
    # Berlin springs forward on Sunday 2026-03-29 and falls back on Sunday 2026-10-25.
    ("Europe/Berlin", date(2026, 3, 29), 9, 10, False),
    ("Europe/Berlin", date(2026, 3, 29), 9, 15, True),
    ("Europe/Berlin", date(2026, 10, 25), 9, 5, False),
    ("Europe/Berlin", date(2026, 10, 25), 9, 11, True),
])
def test_dst_change_days(api, world, shop, tz, day, hh, mm, late):
    every_day(api, world)
    rep = factories.user(world.org, "rep", world.east, timezone=tz)
    zone = ZoneInfo(tz)
    shift(rep, shop, at(day, hh, mm, tz=zone), at(day, 17, 59, 59, tz=zone))
    got = row(api, world.hr, rep, day)
    assert (got["late"], got["left_early"]) == (late, True)


def test_dst_day_boundaries_in_utc_written_by_hand(api, world, shop):
    """The same rule with the instants spelled out in UTC (no zone arithmetic in the test)."""
    every_day(api, world)
    utc = ZoneInfo("UTC")
    ny = factories.user(world.org, "rep", world.east, timezone="America/New_York")
    berlin = factories.user(world.org, "rep", world.east, timezone="Europe/Berlin")
    day_ny, day_be = date(2026, 3, 8), date(2026, 3, 29)
    # NY 09:10:00 EDT = 13:10:00Z; 18:00 EDT = 22:00Z
    shift(ny, shop, at(day_ny, 13, 10, 0, tz=utc), at(day_ny, 22, 0, 0, tz=utc))
    # Berlin 09:10:01 CEST = 07:10:01Z; 18:00 CEST = 16:00Z, so 15:59:59Z is early
    shift(berlin, shop, at(day_be, 7, 10, 1, tz=utc), at(day_be, 15, 59, 59, tz=utc))
    assert flags(api, world.hr, ny, day_ny) == (False, False)
    assert flags(api, world.hr, berlin, day_be) == (True, True)


def test_the_evidence_bundle_carries_the_same_flags(api, world, shop):
    shift(world.rep_east, shop, at(MON, 9, 10, 1), at(MON, 18, 0))
    r = api.as_(world.hr).get("/api/v1/attendance/evidence",
                              query_string={"user_id": world.rep_east.id, "date": MON})
    assert r.status_code == 200
    assert (r.json["attendance"]["late"], r.json["attendance"]["left_early"]) == (True, False)


# --- the setting ----------------------------------------------------------------------------

@pytest.mark.parametrize("hours", [
    {"start": "18:00", "end": "09:00", "grace_minutes": 10},  # end before start
    {"start": "09:00", "end": "09:00", "grace_minutes": 10},  # an empty day
    {"start": "09:00", "end": "25:00", "grace_minutes": 10},
    {"start": "24:00", "end": "18:00", "grace_minutes": 10},
    {"start": "9:00", "end": "18:00", "grace_minutes": 10},
    {"start": "09:60", "end": "18:00", "grace_minutes": 10},
    {"start": "09:00:00", "end": "18:00", "grace_minutes": 10},
    {"start": "09:00", "end": "18:00", "grace_minutes": -1},
    {"start": "09:00", "end": "18:00", "grace_minutes": 1e9},
    {"start": "09:00", "end": "18:00", "grace_minutes": 1000000000},
    {"start": "09:00", "end": "18:00", "grace_minutes": 241},
    {"start": "09:00", "end": "18:00", "grace_minutes": 2.5},
    {"start": "09:00", "end": "18:00", "grace_minutes": "10"},
    {"start": "09:00", "end": "18:00", "grace_minutes": True},
    {"start": "09:00", "end": "18:00", "grace_minutes": None},
    {"start": "09:00\u0000", "end": "18:00", "grace_minutes": 10},
    {"start": "\u0000", "end": "18:00", "grace_minutes": 10},
    {"start": "09:00\n", "end": "18:00", "grace_minutes": 10},
    {"start": "09:00", "end": "18:00\n", "grace_minutes": 10},
    {"start": "０９:００", "end": "18:00", "grace_minutes": 10},
    {"start": "09:00", "end": "18:00"},  # all three together
    {"start": "09:00", "end": "18:00", "grace_minutes": 10, "lunch": "12:00"},
    {"start": ["09:00"], "end": "18:00", "grace_minutes": 10},
    None, "09:00-18:00", [], {},
])
def test_invalid_work_hours_are_422_and_change_nothing(api, world, hours):
    r = api.as_(world.admin).patch(SETTINGS, json={"work_hours": hours})
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.is_json
    assert api.as_(world.admin).get(SETTINGS).json["work_hours"] == {
        "start": "09:00", "end": "18:00", "grace_minutes": 10}


def test_only_an_admin_sets_work_hours(api, world):
    body = {"work_hours": {"start": "08:30", "end": "17:30", "grace_minutes": 5}}
    for who in (world.hr, world.mgr_east, world.rep_east):
        assert api.as_(who).patch(SETTINGS, json=body).status_code == 403
    r = api.as_(world.admin).patch(SETTINGS, json=body)
    assert r.status_code == 200 and r.json["work_hours"] == body["work_hours"]
    assert api.as_(world.rep_east).get(SETTINGS).json["work_hours"] == body["work_hours"]


def test_the_database_refuses_unreadable_work_hours(db, world):
    """The check constraint: a bad value cannot be stored by a path that skips the schema."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    for bad in ('{"start": "18:00", "end": "09:00", "grace_minutes": 10}',
                '{"start": "25:00", "end": "26:00", "grace_minutes": 10}',
                '{"start": "09:00", "end": "18:00", "grace_minutes": -1}',
                '{"start": "09:00", "end": "18:00"}'):
        with pytest.raises(IntegrityError), db.begin_nested():
            db.execute(text("UPDATE orgs SET work_hours = CAST(:v AS jsonb) WHERE id = :id"),
                       {"v": bad, "id": world.org.id})
