"""Dates and times outside 1900-01-01 … 2199-12-31 (API.md Conventions) answer 422, in query
strings, bodies and /sync events alike, never a 500 from date arithmetic (OverflowError)."""
import uuid

import pytest

from tests import factories
from tests.test_errors import assert_error_shape
from tests.visits.helpers import SHANGHAI, check_in_body, check_out_body

EDGES = ["0001-01-01", "9999-12-31", "1899-12-31", "2200-01-01"]
TIMES = ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-08:00",
         "1899-12-31T23:59:59Z", "2200-01-01T00:00:00Z"]


@pytest.mark.parametrize("day", EDGES)
@pytest.mark.parametrize("path", [
    "/api/v1/visits?{k}={d}", "/api/v1/maps/visits?{k}={d}",
    "/api/v1/maps/clusters?zoom=3&{k}={d}", "/api/v1/maps/tiles/0/0/0.mvt?{k}={d}",
    "/api/v1/audit?{k}={d}", "/api/v1/attendance?from=2026-11-01&to=2026-11-02&{k}={d}",
    "/api/v1/daily-reports?{k}={d}"])
@pytest.mark.parametrize("key", ["from", "to"])
def test_query_dates_outside_the_calendar_are_422(api, world, path, day, key):
    if "attendance" in path:
        path = path.replace(f"{key}=2026-11-0{1 if key == 'from' else 2}&", "")
    r = api.as_(world.admin).get(path.format(k=key, d=day))
    assert_error_shape(r, 422)


@pytest.mark.parametrize("moment", TIMES)
def test_query_times_outside_the_calendar_are_422(api, world, moment):
    from urllib.parse import quote

    for path in ("/api/v1/visits?from=", "/api/v1/maps/visits?to=", "/api/v1/audit?from=",
                 "/api/v1/customers?updated_since="):
        assert_error_shape(api.as_(world.admin).get(path + quote(moment)), 422)


@pytest.mark.parametrize("day", EDGES)
def test_date_parameters_outside_the_calendar_are_422(api, world, day):
    admin = api.as_(world.admin)
    uid = world.rep_east.id
    assert_error_shape(admin.get(f"/api/v1/maps/routes?user_id={uid}&date={day}"), 422)
    assert_error_shape(admin.get(f"/api/v1/attendance/evidence?user_id={uid}&date={day}"), 422)
    assert_error_shape(admin.get(f"/api/v1/daily-reports/{day}?user_id={uid}"), 422)


def test_the_edges_of_the_calendar_are_accepted(api, world):
    admin = api.as_(world.admin)
    assert admin.get("/api/v1/visits?from=1900-01-01&to=2199-12-31").status_code == 200
    assert admin.get("/api/v1/audit?from=1900-01-01T00:00:00%2B14:00").status_code == 200
    assert admin.get("/api/v1/maps/visits?to=2199-12-31T23:59:59-12:00").status_code == 200


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


@pytest.mark.parametrize("moment", TIMES)
def test_body_times_outside_the_calendar_are_422(api, world, shop, moment):
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/visits", json={**check_in_body(shop), "device_time": moment})
    assert_error_shape(r, 422)
    assert "device_time" in r.json["errors"]["json"]
    visit = rep.post("/api/v1/visits", json=check_in_body(shop)).json
    r = rep.post(f"/api/v1/visits/{visit['id']}/check-out",
                 json=check_out_body(next_follow_up_at=moment, summary="s"))
    assert_error_shape(r, 422)
    assert "next_follow_up_at" in r.json["errors"]["json"]
    r = rep.post(f"/api/v1/visits/{visit['id']}/check-out", json={**check_out_body(),
                                                                 "device_time": moment})
    assert_error_shape(r, 422)
    r = rep.post(f"/api/v1/customers/{shop.id}/contact-records",
                 json={"method": "call", "summary": "x", "next_follow_up_at": moment})
    assert_error_shape(r, 422)


@pytest.mark.parametrize("moment", TIMES[:2])
def test_sync_events_outside_the_calendar_are_422_results(api, world, shop, moment):
    vid = str(uuid.uuid4())
    events = [{"type": "check_in", **check_in_body(shop, id=vid), "device_time": moment},
              {"type": "check_in", **check_in_body(shop, id=vid)},
              {"type": "check_out", "visit_id": vid,
               **check_out_body(next_follow_up_at=moment, summary="s")},
              {"type": "check_out", "visit_id": vid, **check_out_body()}]
    r = api.as_(world.rep_east).post("/api/v1/sync", json={"events": events})
    assert r.status_code == 200, r.get_data(as_text=True)[:300]
    assert [x["status"] for x in r.json["results"]] == [422, 201, 422, 200]


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_body_dates_outside_the_calendar_are_422(api, world, shop, day):
    r = api.as_(world.rep_east).post("/api/v1/projects", json={
        "customer_id": str(shop.id), "name": "p", "expected_close_date": day})
    assert_error_shape(r, 422)
    assert "expected_close_date" in r.json["errors"]["json"]


def test_every_date_field_of_every_schema_is_bounded():
    """New fields inherit the rule only if they use the shared types: find any that do not."""
    import marshmallow as ma

    from fieldsales.schemas import Day, Timestamp
    from fieldsales.timeutil import TimeOrDate
    from tests.conftest import get_app

    get_app()
    seen, stray = 0, []

    def walk(cls):
        yield cls
        for sub in cls.__subclasses__():
            yield from walk(sub)

    for schema in set(walk(ma.Schema)):
        if not schema.__module__.startswith("fieldsales"):
            continue
        for name, field in schema._declared_fields.items():
            if isinstance(field, (ma.fields.Date, ma.fields.DateTime, TimeOrDate)):
                seen += 1
                if not isinstance(field, (Day, Timestamp, TimeOrDate)):
                    stray.append(f"{schema.__module__}.{schema.__name__}.{name}")
    assert seen > 20 and not stray, stray
