"""GET /attendance.csv: Excel-ready (BOM, header, download), the same rows as the JSON list,
streamed from a server-side cursor, and names that cannot run as formulas."""
import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import event

from fieldsales.attendance.columns import COLUMNS
from tests import factories
from tests.attendance.helpers import local
from tests.factories.visits import day_visit
from tests.attendance.test_attendance import MON, SUN

URL = "/api/v1/attendance.csv"
HEADER = ["user_id", "user_name", "team_id", "date", "status", "first_check_in_at",
          "last_check_out_at", "worked_minutes", "visits", "flagged_visits", "flags",
          "daily_report", "plans", "plans_done", "late", "left_early", "outing", "corrected"]


def parse(body: bytes):
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(body[3:].decode("utf-8"), newline="")))


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=31.23, lng=121.47)


def test_download_headers_bom_and_header_row(api, world):
    r = api.as_(world.hr).get(URL, query_string={"from": MON, "to": SUN})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == \
        f'attachment; filename="attendance_{MON}_{SUN}.csv"'
    table = parse(r.get_data())
    assert table[0] == HEADER
    assert len(table) == 1 + 6 * 7  # six field staff in org A, seven days


def test_the_same_rows_as_the_json_list(api, world, shop):
    rep = world.rep_east
    day_visit(rep, shop, at=local(MON, 9), minutes=30, flags=["outside_geofence"])
    day_visit(rep, shop, at=local(MON, 14), minutes=70, flags=["low_accuracy", "outside_geofence"])
    day_visit(rep, shop, at=local(MON + timedelta(days=1), 9), closed="auto")
    query = {"from": MON, "to": SUN}
    table = parse(api.as_(world.hr).get(URL, query_string=query).get_data())
    listed = []
    for page in (1, 2):
        r = api.as_(world.hr).get("/api/v1/attendance",
                                  query_string={**query, "page_size": 25, "page": page})
        listed += r.json
    assert json.loads(r.headers["X-Pagination"])["total"] == len(table) - 1 == len(listed)

    def as_cells(row):
        flags = ";".join(f"{flag}:{n}" for flag, n in row["flags"].items())
        return [row["user_id"], row["user_name"], row["team_id"] or "", row["date"],
                row["status"], row["first_check_in_at"] or "", row["last_check_out_at"] or "",
                str(row["worked_minutes"]), str(row["visits"]), str(row["flagged_visits"]),
                flags, row["daily_report"], str(row["plans"]), str(row["plans_done"]),
                str(row["late"]).lower(), str(row["left_early"]).lower(),
                str(row["outing"]), str(row["corrected"]).lower()]

    assert table[1:] == [as_cells(row) for row in listed]
    monday = next(cells for cells in table if cells[0] == str(rep.id) and cells[3] == str(MON))
    assert monday[10] == "outside_geofence:2;low_accuracy:1"
    assert monday[5] == "2026-11-09T01:00:00Z"  # 09:00 in Shanghai


def test_names_cannot_run_as_formulas(api, world):
    org = factories.org()
    admin = factories.user(org, "admin")
    team = factories.team(org)
    names = ['=HYPERLINK("http://evil.example","x")', "+SUM(A1:A9)", "-2+3", "@cmd",
             "\tTabbed", "\uff1dWIDE", "Plain, with comma", 'Say "hi"', "O'Brien"]
    for name in names:
        factories.user(org, "rep", team, name=name)
    table = parse(api.as_(admin).get(URL, query_string={"from": MON, "to": MON}).get_data())
    written = {cells[1] for cells in table[1:]}
    dangerous = ("=", "+", "-", "@", "\t", "\uff1d")
    expected = {("'" + n) if n.startswith(dangerous) else n for n in names}
    assert written == expected
    assert not any(cell.startswith(dangerous) for cells in table[1:] for cell in cells)


def test_rows_stream_from_a_server_side_cursor(api, world, monkeypatch):
    from fieldsales.attendance import export
    from fieldsales.extensions import db

    monkeypatch.setattr(export, "EXPORT_BATCH", 5)
    cursors = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        cursors.append((getattr(cursor, "name", None), statement))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        r = api.as_(world.hr).get(URL, query_string={"from": MON, "to": SUN}, buffered=False)
        assert r.status_code == 200 and r.is_streamed
        chunks = list(r.response)
        r.close()
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    export = [(name, sql) for name, sql in cursors if "generate_series" in sql]
    assert len(export) == 1 and export[0][0]  # a named (server-side) cursor
    rows = parse(b"".join(chunks))[1:]
    assert len(rows) == 42
    # one chunk per batch of 5 rows (the header rides with the first)
    assert len(chunks) == -(-42 // 5) and all(chunks)


def test_an_empty_export_is_the_header_alone(api, world):
    r = api.as_(world.rep_east).get(URL, query_string={"from": "2099-01-01",
                                                       "to": "2099-01-31"})
    assert r.status_code == 200 and parse(r.get_data()) == [HEADER]


def test_the_documented_columns_are_the_written_ones():
    assert [c.field for c in COLUMNS] == HEADER
