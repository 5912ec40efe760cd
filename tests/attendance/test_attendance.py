"""GET /attendance: statuses built from visits, workdays, time zones (DST, late evening),
range limits, which users appear, pagination, and scope."""
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.attendance.helpers import days, local
from tests.factories.visits import day_visit

URL = "/api/v1/attendance"
# A past week, Monday to Sunday (the world's org works Monday to Friday, Asia/Shanghai).
MON = date(2026, 11, 9)
SUN = MON + timedelta(days=6)


def z(moment):
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def rows(client, **query):
    r = client.get(URL, query_string={"page_size": 100, **query})
    assert r.status_code == 200, r.json
    return r.json


def by_date(result):
    return {row["date"]: row for row in result}


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=31.23, lng=121.47)


def test_statuses_and_figures_from_the_days_visits(api, world, shop):
    rep = world.rep_east
    tue, wed, thu, sat = (MON + timedelta(days=n) for n in (1, 2, 3, 5))
    day_visit(rep, shop, at=local(MON, 9), minutes=30, flags=["outside_geofence"])
    day_visit(rep, shop, at=local(MON, 14), minutes=70, flags=["low_accuracy", "outside_geofence"])
    day_visit(rep, shop, at=local(MON, 16), minutes=20)
    day_visit(rep, shop, at=local(tue, 9), minutes=45)
    day_visit(rep, shop, at=local(tue, 11), closed="auto", minutes=600)
    day_visit(rep, shop, at=local(sat, 10), minutes=15, flags=["short_visit"])
    day_visit(rep, shop, at=local(wed, 17), closed=None)  # still open (one per rep)

    got = by_date(rows(api.as_(world.admin), user_id=rep.id, **{"from": MON, "to": SUN}))

    assert list(got) == [d.isoformat() for d in days(MON, SUN)]
    mon = got[MON.isoformat()]
    assert mon["status"] == "present"
    assert mon["user_id"] == str(rep.id) and mon["user_name"] == rep.name
    assert mon["team_id"] == str(world.east.id)
    assert mon["first_check_in_at"] == z(local(MON, 9))
    assert mon["last_check_out_at"] == z(local(MON, 16, 20))
    assert mon["worked_minutes"] == (local(MON, 16, 20) - local(MON, 9)).seconds // 60
    assert (mon["visits"], mon["flagged_visits"]) == (3, 2)
    assert mon["flags"] == {"outside_geofence": 2, "low_accuracy": 1}
    assert mon["daily_report"] == "missing"

    tue_row = got[tue.isoformat()]
    assert tue_row["status"] == "incomplete"  # the automatic close is not a check-out
    assert tue_row["last_check_out_at"] == z(local(tue, 9, 45))
    assert tue_row["worked_minutes"] == 45
    assert tue_row["flags"] == {"missing_check_out": 1}

    wed_row = got[wed.isoformat()]
    assert wed_row["status"] == "incomplete"
    assert (wed_row["visits"], wed_row["last_check_out_at"], wed_row["worked_minutes"]) == \
        (1, None, 0)

    assert got[thu.isoformat()]["status"] == "absent"
    assert got[thu.isoformat()]["visits"] == 0 and got[thu.isoformat()]["flags"] == {}
    fri = got[(MON + timedelta(days=4)).isoformat()]
    assert (fri["status"], fri["first_check_in_at"], fri["worked_minutes"]) == ("absent", None, 0)
    assert got[sat.isoformat()]["status"] == "present"  # a visit on a day off still counts
    assert got[SUN.isoformat()]["status"] == "off"
    assert {row["daily_report"] for row in got.values()} == {"missing"}


def test_workdays_setting_decides_absent_or_off(api, world):
    r = api.as_(world.admin).patch("/api/v1/org/settings", json={"workdays": [2, 3, 4, 5, 6]})
    assert r.status_code == 200
    got = by_date(rows(api.as_(world.admin), user_id=world.rep_west.id,
                       **{"from": MON, "to": SUN}))
    expected = {d.isoformat(): "absent" if d.isoweekday() in (2, 3, 4, 5, 6) else "off"
                for d in days(MON, SUN)}
    assert {d: row["status"] for d, row in got.items()} == expected
    assert got[MON.isoformat()]["status"] == "off" and got[SUN.isoformat()]["status"] == "off"


def test_a_late_evening_visit_belongs_to_the_users_local_date(api, world, shop):
    ny = factories.user(world.org, "rep", world.east, timezone="America/New_York")
    late = local(MON, 23, 30, "America/New_York")  # already Tuesday in UTC
    day_visit(ny, shop, at=late, minutes=20)
    early = local(MON, 7, 30)  # Shanghai (the org's zone): still Sunday in UTC
    day_visit(world.rep_east, shop, at=early, minutes=20)
    assert late.astimezone(UTC).date() != MON and early.astimezone(UTC).date() != MON

    ny_rows = by_date(rows(api.as_(world.admin), user_id=ny.id,
                           **{"from": MON - timedelta(days=1), "to": MON + timedelta(days=1)}))
    assert [ny_rows[d.isoformat()]["visits"] for d in days(MON - timedelta(days=1),
                                                           MON + timedelta(days=1))] == [0, 1, 0]
    assert ny_rows[MON.isoformat()]["first_check_in_at"] == z(late)
    assert ny_rows[MON.isoformat()]["last_check_out_at"] == z(late + timedelta(minutes=20))
    sh_rows = by_date(rows(api.as_(world.admin), user_id=world.rep_east.id,
                           **{"from": MON - timedelta(days=1), "to": MON}))
    assert sh_rows[MON.isoformat()]["visits"] == 1
    assert sh_rows[(MON - timedelta(days=1)).isoformat()]["status"] == "off"


def test_days_around_the_march_dst_change_in_berlin(api, world, shop):
    tz = "Europe/Berlin"
    berlin = factories.user(world.org, "rep", world.east, timezone=tz)
    sat, sun, mon = date(2026, 3, 28), date(2026, 3, 29), date(2026, 3, 30)  # clocks go 2→3
    visits = {sat: [local(sat, 23, 10, tz)],
              sun: [local(sun, 0, 30, tz), local(sun, 3, 30, tz), local(sun, 23, 30, tz)],
              mon: [local(mon, 0, 15, tz)]}
    for moments in visits.values():
        for at in moments:
            day_visit(berlin, shop, at=at, minutes=10)
    sunday = local(sun, 0, 0, tz)
    assert (local(mon, 0, 0, tz) - sunday) == timedelta(hours=23)  # the day really is short

    got = by_date(rows(api.as_(world.admin), user_id=berlin.id, **{"from": sat, "to": mon}))
    assert {d: row["visits"] for d, row in got.items()} == \
        {d.isoformat(): len(v) for d, v in visits.items()}
    sun_row = got[sun.isoformat()]
    assert sun_row["first_check_in_at"] == z(visits[sun][0])  # 23:30 UTC on Saturday
    assert sun_row["last_check_out_at"] == z(visits[sun][-1] + timedelta(minutes=10))
    # 23:40 local minus 00:30 local on a 23-hour day
    assert sun_row["worked_minutes"] == int(
        (visits[sun][-1] + timedelta(minutes=10) - visits[sun][0]).total_seconds() // 60)
    assert sun_row["worked_minutes"] == 22 * 60 + 10
    assert got[mon.isoformat()]["status"] == "present"


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
    ({"from": "2026-01-01", "to": "2026-04-04"}, "to"),  # 94 days
    ({"from": "2026-11-09"}, "to"),
    ({"to": "2026-11-09"}, "from"),
    ({"from": "2026-11-31", "to": "2026-12-01"}, "from"),
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ({"from": "2026-11-09", "to": "2026-11-10", "user_id": "nope"}, "user_id"),
])
@pytest.mark.parametrize("path", [URL, URL + ".csv"])
def test_invalid_ranges_are_422(api, world, query, field, path):
    r = api.as_(world.hr).get(path, query_string=query)
    assert r.status_code == 422, r.get_data(as_text=True)
    assert r.is_json and field in r.json["errors"]["query"]


def test_93_days_is_the_longest_range(api, world):
    first = date(2026, 1, 1)
    last = first + timedelta(days=92)
    r = api.as_(world.hr).get(URL, query_string={"from": first, "to": last,
                                                 "user_id": world.rep_east.id})
    assert r.status_code == 200
    assert r.headers["X-Pagination"] and r.json[0]["date"] == first.isoformat()
    import json

    assert json.loads(r.headers["X-Pagination"])["total"] == 93


def test_days_that_have_not_begun_are_left_out(api, world):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    got = rows(api.as_(world.admin), user_id=world.rep_east.id,
               **{"from": today - timedelta(days=2), "to": today + timedelta(days=3)})
    assert [row["date"] for row in got] == [(today - timedelta(days=n)).isoformat()
                                            for n in (2, 1, 0)]


def test_which_users_have_rows(api, world, shop):
    gone = factories.user(world.org, "rep", world.east, active=False)
    gone_but_visited = factories.user(world.org, "rep", world.east, active=False)
    day_visit(gone_but_visited, shop, at=local(MON, 10))
    got = rows(api.as_(world.admin), **{"from": MON, "to": MON})
    field_staff = [world.mgr_east, world.mgr_west, world.rep_east, world.rep_east2,
                   world.rep_north, world.rep_west, gone_but_visited]
    assert sorted(row["user_id"] for row in got) == sorted(str(u.id) for u in field_staff)
    assert str(gone.id) not in {row["user_id"] for row in got}
    # asked for by id, anyone visible has rows, whatever the role
    hr_rows = rows(api.as_(world.admin), user_id=world.hr.id, **{"from": MON, "to": MON})
    assert [(row["user_id"], row["status"]) for row in hr_rows] == [(str(world.hr.id), "absent")]


def test_team_filter_takes_the_subtree(api, world):
    got = rows(api.as_(world.hr), team_id=world.east.id, **{"from": MON, "to": MON})
    expected = {world.mgr_east.id, world.rep_east.id, world.rep_east2.id, world.rep_north.id}
    assert {row["user_id"] for row in got} == {str(i) for i in expected}
    north = rows(api.as_(world.hr), team_id=world.north.id, **{"from": MON, "to": MON})
    assert [row["user_id"] for row in north] == [str(world.rep_north.id)]


def test_pages_are_ordered_by_date_then_name(api, world):
    org = factories.org(timezone="Asia/Shanghai")
    admin = factories.user(org, "admin")
    team = factories.team(org)
    names = ["Chen", "Ahmed", "Brown"]
    for name in names:
        factories.user(org, "rep", team, name=name)
    first, last = MON, MON + timedelta(days=2)
    r = api.as_(admin).get(URL, query_string={"from": first, "to": last, "page_size": 4})
    import json

    assert r.status_code == 200
    page = json.loads(r.headers["X-Pagination"])
    assert (page["total"], page["total_pages"]) == (9, 3)
    expected = [(d.isoformat(), n) for d in days(first, last) for n in sorted(names)]
    seen = []
    for number in (1, 2, 3):
        r = api.as_(admin).get(URL, query_string={"from": first, "to": last, "page_size": 4,
                                                  "page": number})
        seen += [(row["date"], row["user_name"]) for row in r.json]
    assert seen == expected


# --- scope -----------------------------------------------------------------------------------

def user_ids(result):
    return {row["user_id"] for row in result}


def test_each_role_sees_its_own_people(api, world):
    window = {"from": MON, "to": MON}
    org_a_staff = {world.mgr_east, world.mgr_west, world.rep_east, world.rep_east2,
                   world.rep_north, world.rep_west}
    assert user_ids(rows(api.as_(world.hr), **window)) == {str(u.id) for u in org_a_staff}
    assert user_ids(rows(api.as_(world.admin), **window)) == {str(u.id) for u in org_a_staff}
    assert user_ids(rows(api.as_(world.mgr_east), **window)) == {
        str(u.id) for u in (world.mgr_east, world.rep_east, world.rep_east2, world.rep_north)}
    assert user_ids(rows(api.as_(world.rep_east), **window)) == {str(world.rep_east.id)}
    assert user_ids(rows(api.as_(world.admin_b), **window)) == {str(world.rep_b.id)}


OUTSIDERS = ["rep_west", "mgr_west", "admin_b"]


@pytest.mark.parametrize("path", [URL, URL + ".csv"])
@pytest.mark.parametrize("outsider", OUTSIDERS + ["rep_east2"])
def test_an_invisible_user_filter_is_404(api, world, outsider, path):
    r = api.as_(getattr(world, outsider)).get(
        path, query_string={"from": MON, "to": MON, "user_id": world.rep_east.id})
    assert r.status_code == 404 and r.json["error"] == "not_found"
    assert world.rep_east.name not in r.get_data(as_text=True)


@pytest.mark.parametrize("path", [URL, URL + ".csv"])
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_an_invisible_team_filter_is_404(api, world, outsider, path):
    r = api.as_(getattr(world, outsider)).get(
        path, query_string={"from": MON, "to": MON, "team_id": world.east.id})
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_insiders_filter_by_user_and_team(api, world):
    for who in (world.mgr_east, world.hr, world.admin):
        got = rows(api.as_(who), user_id=world.rep_north.id, **{"from": MON, "to": MON})
        assert user_ids(got) == {str(world.rep_north.id)}
    got = rows(api.as_(world.mgr_east), team_id=world.north.id, **{"from": MON, "to": MON})
    assert user_ids(got) == {str(world.rep_north.id)}
    assert rows(api.as_(world.rep_east), user_id=world.rep_east.id,
                **{"from": MON, "to": MON})[0]["status"] == "absent"


def test_a_rep_does_not_see_other_reps_in_its_team(api, world):
    got = rows(api.as_(world.rep_east), team_id=world.east.id, **{"from": MON, "to": MON})
    assert user_ids(got) == {str(world.rep_east.id)}


def test_daily_report_column_follows_the_saved_report(api, world):
    rep = world.rep_east
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    yesterday, before = today - timedelta(days=1), today - timedelta(days=2)
    writer = api.as_(rep)
    body = {"summary": "Visited two shops", "plan": "Follow up", "problems": ""}
    assert writer.put(f"/api/v1/daily-reports/{today}", json={**body, "submit": True}) \
        .status_code == 200
    assert writer.put(f"/api/v1/daily-reports/{yesterday}", json={**body, "submit": False}) \
        .status_code == 200
    got = by_date(rows(api.as_(world.hr), user_id=rep.id, **{"from": before, "to": today}))
    assert [got[d.isoformat()]["daily_report"] for d in (before, yesterday, today)] == \
        ["missing", "draft", "submitted"]
    csv = api.as_(world.hr).get("/api/v1/attendance.csv", query_string={
        "user_id": rep.id, "from": today, "to": today}).get_data(as_text=True)
    assert "submitted" in csv.splitlines()[1]
