"""The HR export: GET /attendance.csv?lang=zh (Chinese headers, local times, team names) and
GET /attendance.xlsx (a real workbook with typed cells, read back with openpyxl); who may export
what; hostile query strings never 5xx. Expected cells are written by hand from the fixture."""
import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from tests import factories
from tests.factories.attendance import shift
from tests.factories.visits import visit

CSV = "/api/v1/attendance.csv"
XLSX = "/api/v1/attendance.xlsx"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MON = date(2026, 11, 9)
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
ZH_HEADER = ["员工ID", "姓名", "团队", "日期", "出勤状态", "首次签到时间", "最后签退时间",
             "工作时长(分钟)", "拜访次数", "异常拜访次数", "异常标记", "日报", "计划数",
             "已完成计划数", "迟到", "早退", "外出拜访次数", "已补卡"]
EN_HEADER = ["User ID", "Name", "Team", "Date", "Status", "First check-in", "Last check-out",
             "Worked minutes", "Visits", "Flagged visits", "Flags", "Daily report", "Plans",
             "Plans done", "Late", "Left early", "Outing visits", "Corrected"]


@pytest.fixture
def day(world):
    """Monday 2026-11-09: rep_east (East, Shanghai) 09:30-17:45 with a flagged visit; a New York
    rep in North 08:55-18:20 New York time."""
    shop = factories.customer(world.org, world.rep_east, lat=31.23, lng=121.47)
    visit(world.rep_east, shop, in_at=datetime(2026, 11, 9, 9, 30, tzinfo=SH),
          out_at=datetime(2026, 11, 9, 17, 45, tzinfo=SH), flags=["outside_geofence"])
    ny = factories.user(world.org, "rep", world.north, timezone="America/New_York",
                        name="Nora York")
    shift(ny, shop, datetime(2026, 11, 9, 8, 55, tzinfo=NY), datetime(2026, 11, 9, 18, 20,
                                                                      tzinfo=NY))
    return ny


def parse_csv(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


def workbook(r):
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.headers["Content-Type"] == XLSX_TYPE
    return openpyxl.load_workbook(io.BytesIO(r.get_data()))


def by_user(rows, user_id):
    return [row for row in rows if row[0] == str(user_id)]


# --- the Chinese CSV ------------------------------------------------------------------------

def test_zh_csv_headers_local_times_and_team_names(api, world, day):
    r = api.as_(world.hr).get(CSV, query_string={"from": MON, "to": MON, "lang": "zh"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="attendance_{MON}_{MON}.csv"'
    table = parse_csv(r.get_data())
    assert table[0] == ZH_HEADER
    assert by_user(table, world.rep_east.id) == [[
        str(world.rep_east.id), world.rep_east.name, "East", "2026-11-09", "present",
        "2026-11-09 09:30", "2026-11-09 17:45", "495", "1", "1", "outside_geofence:1",
        "missing", "0", "0", "是", "是", "0", "否"]]
    assert by_user(table, day.id) == [[
        str(day.id), "Nora York", "North", "2026-11-09", "present",
        "2026-11-09 08:55", "2026-11-09 18:20", "565", "1", "0", "", "missing", "0", "0",
        "否", "否", "0", "否"]]
    assert by_user(table, world.rep_west.id)[0][2:8] == [
        "West", "2026-11-09", "absent", "", "", "0"]


def test_default_csv_keeps_utc_times_and_team_ids(api, world, day):
    table = parse_csv(api.as_(world.hr).get(CSV, query_string={"from": MON, "to": MON})
                      .get_data())
    (row,) = by_user(table, day.id)
    assert row[2] == str(world.north.id)
    assert row[5:7] == ["2026-11-09T13:55:00Z", "2026-11-09T23:20:00Z"]
    assert row[-4:] == ["false", "false", "0", "false"]
    assert by_user(table, world.rep_east.id)[0][-4:] == ["true", "true", "0", "false"]


def test_zh_names_cannot_run_as_formulas(api, world):
    org = factories.org()
    admin = factories.user(org, "admin")
    team = factories.team(org, "=cmd|' /C calc'!A0")
    factories.user(org, "rep", team, name="@SUM(1+1)")
    table = parse_csv(api.as_(admin).get(CSV, query_string={"from": MON, "to": MON,
                                                            "lang": "zh"}).get_data())
    assert [row[1:3] for row in table[1:]] == [["'@SUM(1+1)", "'=cmd|' /C calc'!A0"]]


# --- the workbook ---------------------------------------------------------------------------

def test_xlsx_is_a_real_workbook_with_typed_cells(api, world, day):
    r = api.as_(world.hr).get(XLSX, query_string={"from": MON, "to": MON})
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="attendance_{MON}_{MON}.xlsx"'
    sheet = workbook(r).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]] == EN_HEADER
    assert len(rows) == 1 + 7  # six field staff of org A and the New York rep, one day
    (east,) = [row for row in rows if row[0].value == str(world.rep_east.id)]
    values = [c.value for c in east]
    assert values == [
        str(world.rep_east.id), world.rep_east.name, "East", datetime(2026, 11, 9),
        "present", datetime(2026, 11, 9, 9, 30), datetime(2026, 11, 9, 17, 45), 495, 1, 1,
        "outside_geofence:1", "missing", 0, 0, True, True, 0, False]
    types = [c.data_type for c in east]
    assert types == ["s", "s", "s", "d", "s", "d", "d", "n", "n", "n", "s", "s", "n", "n",
                     "b", "b", "n", "b"]
    assert east[3].number_format == "yyyy-mm-dd"
    assert east[5].number_format == "yyyy-mm-dd hh:mm"
    assert all(isinstance(east[i].value, int) and not isinstance(east[i].value, bool)
               for i in (7, 8, 9, 12, 13, 16))
    (ny,) = [row for row in rows if row[0].value == str(day.id)]
    assert [c.value for c in ny][2:8] == ["North", datetime(2026, 11, 9), "present",
                                          datetime(2026, 11, 9, 8, 55),
                                          datetime(2026, 11, 9, 18, 20), 565]
    assert [c.value for c in ny][-4:] == [False, False, 0, False]
    (west,) = [row for row in rows if row[0].value == str(world.rep_west.id)]
    assert [c.value for c in west][4:8] == ["absent", None, None, 0]
    assert [c.value for c in west][10] is None  # no flags: an empty cell


def test_xlsx_in_chinese(api, world, day):
    sheet = workbook(api.as_(world.admin).get(XLSX, query_string={
        "from": MON, "to": MON, "lang": "zh", "user_id": day.id})).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [ZH_HEADER, [
        str(day.id), "Nora York", "North", datetime(2026, 11, 9), "present",
        datetime(2026, 11, 9, 8, 55), datetime(2026, 11, 9, 18, 20), 565, 1, 0, None,
        "missing", 0, 0, False, False, 0, False]]


def test_xlsx_names_are_text_not_formulas(api, world):
    org = factories.org()
    admin = factories.user(org, "admin")
    team = factories.team(org, "+1+1")
    factories.user(org, "rep", team, name='=HYPERLINK("http://evil.example","x")')
    sheet = workbook(api.as_(admin).get(XLSX, query_string={"from": MON, "to": MON})).active
    name, team_cell = sheet["B2"], sheet["C2"]
    assert (name.value, name.data_type) == ('=HYPERLINK("http://evil.example","x")', "s")
    assert (team_cell.value, team_cell.data_type) == ("+1+1", "s")


def test_xlsx_is_streamed_from_a_generator(api, world, day):
    r = api.as_(world.hr).get(XLSX, query_string={"from": MON, "to": MON}, buffered=False)
    assert r.status_code == 200 and r.is_streamed
    body = b"".join(r.response)
    r.close()
    assert body.startswith(b"PK\x03\x04")  # a zip container, as every .xlsx is
    assert openpyxl.load_workbook(io.BytesIO(body)).active.max_row == 8


def test_an_empty_range_is_the_header_row_alone(api, world):
    sheet = workbook(api.as_(world.hr).get(XLSX, query_string={
        "from": "2099-01-01", "to": "2099-01-31"})).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [EN_HEADER]


# --- who exports what -----------------------------------------------------------------------

@pytest.mark.parametrize("path, lang", [(XLSX, "en"), (XLSX, "zh"), (CSV, "zh")])
def test_a_manager_exports_only_its_subtree(api, world, day, path, lang):
    r = api.as_(world.mgr_east).get(path, query_string={"from": MON, "to": MON, "lang": lang})
    assert r.status_code == 200
    if path == XLSX:
        ids = {row[0] for row in workbook(r).active.iter_rows(min_row=2, values_only=True)}
    else:
        ids = {row[0] for row in parse_csv(r.get_data())[1:]}
    assert ids == {str(u.id) for u in (world.mgr_east, world.rep_east, world.rep_east2,
                                       world.rep_north, day)}


@pytest.mark.parametrize("query", [{"lang": "en"}, {"lang": "zh"},
                                   {"lang": "zh", "user_id": "self"}])
@pytest.mark.parametrize("path", [XLSX, CSV])
def test_a_rep_gets_403_from_the_hr_export(api, world, path, query):
    query = {**query, "from": MON, "to": MON}
    if query.get("user_id") == "self":
        query["user_id"] = world.rep_east.id
    r = api.as_(world.rep_east).get(path, query_string=query)
    if path == CSV and query["lang"] == "en":
        assert r.status_code == 200  # the machine CSV of its own rows, as before
        return
    assert r.status_code == 403 and r.json["error"] == "forbidden"


@pytest.mark.parametrize("who", ["mgr_west", "admin_b"])
def test_an_invisible_team_is_404(api, world, who):
    r = api.as_(getattr(world, who)).get(XLSX, query_string={
        "from": MON, "to": MON, "team_id": world.east.id})
    assert r.status_code == 404 and r.json["error"] == "not_found"


def test_another_orgs_admin_sees_only_its_org(api, world, day):
    sheet = workbook(api.as_(world.admin_b).get(XLSX, query_string={"from": MON,
                                                                     "to": MON})).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == \
        [str(world.rep_b.id)]


# --- hostile query strings ------------------------------------------------------------------

@pytest.mark.parametrize("query, field", [
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),
    ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
    ({"from": "1899-12-31", "to": "1900-01-01"}, "from"),
    ({"from": "2199-12-31", "to": "2200-01-01"}, "to"),
    ({"from": "2026-01-01", "to": "9999-12-30"}, "to"),  # a huge range
    ({"from": "2026-01-01", "to": "2026-04-04"}, "to"),  # 94 days: one past the limit
    ({"from": "2026-11-10", "to": "2026-11-09"}, "to"),
    ({"from": "99999-01-01", "to": "2026-11-09"}, "from"),
    ({"from": "2026-11-09\x00", "to": "2026-11-09"}, None),
    ({"from": "1e9", "to": "2026-11-09"}, "from"),
    ({"from": "2026-11-09", "to": "2026-11-09", "lang": "fr"}, "lang"),
    ({"from": "2026-11-09", "to": "2026-11-09", "lang": "ZH"}, "lang"),
    ({"from": "2026-11-09", "to": "2026-11-09", "lang": ""}, "lang"),
    ({"from": "2026-11-09", "to": "2026-11-09", "lang": "zh\x00"}, None),
    ({"from": "2026-11-09", "to": "2026-11-09", "user_id": "../../etc/passwd"}, "user_id"),
])
@pytest.mark.parametrize("path", [XLSX, CSV])
def test_hostile_queries_are_422(api, world, path, query, field):
    r = api.as_(world.hr).get(path, query_string=query)
    assert r.status_code == 422, r.get_data(as_text=True)[:300]
    assert r.is_json
    if field:
        assert field in r.json["errors"]["query"]


@pytest.mark.parametrize("path", [XLSX, CSV])
def test_the_first_and_last_dates_allowed_never_5xx(api, world, path):
    """1900-01-01 has rows (days long past, nobody visited); 2199-12-31 has not begun (no
    rows). Excel has no day before 1900-03-01 (its phantom 1900-02-29), so the workbook writes
    such a date as text."""
    def get(query):
        r = api.as_(world.hr).get(path, query_string={**query, "lang": "zh"})
        assert r.status_code == 200, r.get_data(as_text=True)[:300]
        if path == XLSX:
            return [list(row) for row in workbook(r).active.iter_rows(values_only=True)]
        return parse_csv(r.get_data())

    first = get({"from": "1900-01-01", "to": "1900-01-02", "user_id": world.rep_east.id})
    assert first[0] == ZH_HEADER
    assert [row[3:5] for row in first[1:]] == [["1900-01-01", "absent"],
                                               ["1900-01-02", "absent"]]
    assert get({"from": "2199-12-31", "to": "2199-12-31"}) == [ZH_HEADER]
