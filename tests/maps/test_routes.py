"""GET /maps/routes: one rep's day (in the rep's time zone) as a line and numbered points."""
import pytest

from fieldsales import geo
from tests import factories
from tests.factories.visits import map_visit
from tests.maps.helpers import features, local

URL = "/api/v1/maps/routes"


def route(api, caller, user, day="2026-11-20"):
    return api.as_(caller).get(URL, query_string={"user_id": user.id, "date": day})


def test_route_through_the_days_check_ins_in_time_order(api, world, mapdata):
    m = mapdata
    # the same rep on the evening before and just after midnight: other local days
    map_visit(world.rep_east, m.shop["east"], lat=31.3, lng=121.3, at=local(2026, 11, 19, 23, 50))
    map_visit(world.rep_east, m.shop["east"], lat=31.3, lng=121.3, at=local(2026, 11, 21, 0, 10))
    r = route(api, world.mgr_east, world.rep_east)
    assert r.mimetype == "application/geo+json"
    line, *points = features(r)
    stops = [m.e1, m.e2, m.e3]
    assert line["geometry"] == {"type": "LineString",
                                "coordinates": [[v.in_lng, v.in_lat] for v in stops]}
    expected = sum(geo.haversine_m(a.in_lat, a.in_lng, b.in_lat, b.in_lng)
                   for a, b in zip(stops, stops[1:], strict=False))
    props = line["properties"]
    assert props["distance_m"] == pytest.approx(expected, rel=0.005)  # spheroid vs sphere
    assert {k: props[k] for k in ("kind", "user_id", "user_name", "date", "visits")} == {
        "kind": "route", "user_id": str(world.rep_east.id), "user_name": world.rep_east.name,
        "date": "2026-11-20", "visits": 3}
    assert [p["properties"]["seq"] for p in points] == [1, 2, 3]
    assert [p["id"] for p in points] == [str(v.id) for v in stops]
    assert [p["geometry"]["coordinates"] for p in points] == [[v.in_lng, v.in_lat]
                                                             for v in stops]
    assert points[1]["properties"] == {
        "kind": "check_in", "seq": 2, "visit_id": str(m.e2.id),
        "customer_id": str(m.shop["east"].id), "customer_name": "East shop",
        "at": "2026-11-20T03:00:00Z", "status": "closed", "flags": ["outside_geofence"],
        "risk_score": 15}


def test_the_day_is_the_reps_own_local_day(api, world, mapdata):
    berliner = factories.user(world.org, "rep", world.east, timezone="Europe/Berlin")
    shop = mapdata.shop["east"]
    # 23:30 in Berlin on the 20th is already the 21st in Shanghai (the caller's zone)
    late = map_visit(berliner, shop, lat=31.2, lng=121.4, at=local(2026, 11, 20, 23, 30,
                                                              tz=geo_tz("Europe/Berlin")))
    early = map_visit(berliner, shop, lat=31.21, lng=121.41,
                  at=local(2026, 11, 20, 0, 30, tz=geo_tz("Europe/Berlin")))
    _, *points = features(route(api, world.admin, berliner))
    assert [p["id"] for p in points] == [str(early.id), str(late.id)]


def geo_tz(name):
    from zoneinfo import ZoneInfo

    return ZoneInfo(name)


def test_fewer_than_two_check_ins(api, world, mapdata):
    line, point = features(route(api, world.mgr_east, world.rep_north))
    assert line["geometry"] is None
    assert line["properties"]["distance_m"] == 0 and line["properties"]["visits"] == 1
    assert point["id"] == str(mapdata.n1.id)
    [line] = features(route(api, world.mgr_east, world.rep_north, day="2026-11-01"))
    assert line["geometry"] is None and line["properties"]["visits"] == 0


def test_scope_outsiders_get_404_and_reps_403(api, world, mapdata):
    for outsider in (world.mgr_west, world.admin_b):
        r = route(api, outsider, world.rep_east)
        assert r.status_code == 404 and r.json["error"] == "not_found"
        assert "East shop" not in r.get_data(as_text=True)
    for rep in (world.rep_west, world.rep_east):
        r = route(api, rep, world.rep_east)
        assert r.status_code == 403
    # insiders: the rep's manager (its subtree too), admin, hr
    for insider in (world.mgr_east, world.admin, world.hr):
        assert len(features(route(api, insider, world.rep_east))) == 4
    assert len(features(route(api, world.mgr_east, world.rep_north))) == 2
    assert len(features(route(api, world.mgr_west, world.rep_west))) == 2


@pytest.mark.parametrize("params", [{}, {"date": "2026-11-20"}, {"user_id": "x",
                                                                  "date": "2026-11-20"}])
def test_invalid_parameters_are_422(api, world, params):
    r = api.as_(world.admin).get(URL, query_string=params)
    assert r.status_code == 422 and r.json["errors"]


def test_bad_date_is_422(api, world):
    r = api.as_(world.admin).get(URL, query_string={"user_id": world.rep_east.id,
                                                    "date": "2026-02-30"})
    assert r.status_code == 422
