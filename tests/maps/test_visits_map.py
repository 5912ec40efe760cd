"""GET /maps/visits: GeoJSON built by PostGIS, the caller's scope, filters, the 5,000 cap."""
import re
from datetime import timedelta

import pytest
from sqlalchemy import text

from tests.factories.visits import map_visit
from tests.maps.helpers import features, ids, local

DAY = {"from": "2026-11-20", "to": "2026-11-20"}
URL = "/api/v1/maps/visits"


def get(api, user, **params):
    return api.as_(user).get(URL, query_string=params)


def test_feature_collection_shape(api, world, mapdata):
    r = get(api, world.mgr_east, **DAY)
    assert r.mimetype == "application/geo+json"
    feats = features(r)
    by_id = {f["properties"]["visit_id"]: f for f in feats}
    e2 = by_id[str(mapdata.e2.id)]
    assert set(e2) == {"type", "id", "geometry", "properties"}
    assert e2["type"] == "Feature" and e2["id"] == str(mapdata.e2.id)
    assert e2["geometry"] == {"type": "Point", "coordinates": [121.48, 31.24]}  # [lng, lat]
    assert e2["properties"] == {
        "visit_id": str(mapdata.e2.id), "user_id": str(world.rep_east.id),
        "user_name": world.rep_east.name, "customer_id": str(mapdata.shop["east"].id),
        "customer_name": "East shop", "at": "2026-11-20T03:00:00Z", "status": "closed",
        "flags": ["outside_geofence"], "risk_score": 15}
    assert by_id[str(mapdata.e3.id)]["properties"]["status"] == "open"
    assert by_id[str(mapdata.e1.id)]["properties"]["flags"] == []
    # oldest check-in first
    times = [f["properties"]["at"] for f in feats]
    assert times == sorted(times)


def test_six_decimals_and_times_as_the_visit_api_writes_them(api, world, mapdata):
    v = map_visit(world.rep_east, mapdata.shop["east"], lat=31.123456789, lng=121.987654321,
              at=local(2026, 11, 20, 13) + timedelta(microseconds=120000))
    feat = next(f for f in features(get(api, world.admin, **DAY))
                if f["id"] == str(v.id))
    assert feat["geometry"]["coordinates"] == [121.987654, 31.123457]
    one = api.as_(world.admin).get(f"/api/v1/visits/{v.id}").json
    assert feat["properties"]["at"] == one["check_in"]["at"] == "2026-11-20T05:00:00.120000Z"
    whole = api.as_(world.admin).get(f"/api/v1/visits/{mapdata.e1.id}").json
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", whole["check_in"]["at"])
    e1 = next(f for f in features(get(api, world.admin, **DAY)) if f["id"] == str(mapdata.e1.id))
    assert e1["properties"]["at"] == whole["check_in"]["at"]


def test_scope_manager_sees_its_subtree_and_itself(api, world, mapdata):
    m = mapdata
    assert ids(get(api, world.mgr_east, **DAY)) == {str(v.id) for v in (m.e1, m.e2, m.e3, m.n1,
                                                                          m.m1)}
    assert ids(get(api, world.mgr_west, **DAY)) == {str(m.w1.id)}


@pytest.mark.parametrize("who", ["admin", "hr"])
def test_scope_admin_and_hr_see_their_org_only(api, world, mapdata, who):
    m = mapdata
    assert ids(get(api, getattr(world, who), **DAY)) == {
        str(v.id) for v in (m.e1, m.e2, m.e3, m.n1, m.m1, m.w1)}
    assert ids(get(api, world.admin_b, **DAY)) == {str(m.b1.id)}


@pytest.mark.parametrize("who", ["rep_east", "rep_west", "rep_b"])
def test_reps_are_refused(api, world, mapdata, who):
    r = get(api, getattr(world, who), **DAY)
    assert r.status_code == 403 and r.json["error"] == "forbidden"


def test_other_teams_people_match_nothing(api, world, mapdata):
    """Filters naming someone outside the caller's scope narrow the scope, never widen it."""
    assert ids(get(api, world.mgr_west, user_id=world.rep_east.id)) == set()
    assert ids(get(api, world.mgr_west, team_id=world.east.id)) == set()
    assert ids(get(api, world.admin_b, user_id=world.rep_east.id)) == set()
    assert ids(get(api, world.mgr_east, user_id=world.rep_west.id)) == set()


def test_filters(api, world, mapdata):
    m = mapdata
    as_admin = lambda **p: ids(get(api, world.admin, **p))  # noqa: E731
    assert as_admin(**DAY, user_id=world.rep_east.id) == {str(m.e1.id), str(m.e2.id),
                                                         str(m.e3.id)}
    # a team includes the teams below it
    assert as_admin(**DAY, team_id=world.east.id) == {str(v.id) for v in (m.e1, m.e2, m.e3,
                                                                          m.n1, m.m1)}
    assert as_admin(**DAY, team_id=world.north.id) == {str(m.n1.id)}
    assert as_admin(**DAY, flagged="true") == {str(m.e2.id), str(m.n1.id)}
    assert str(m.e2.id) not in as_admin(**DAY, flagged="false")
    assert len(as_admin(**DAY, flagged="false")) == 4
    # bbox MINLNG,MINLAT,MAXLNG,MAXLAT around e2 only
    assert as_admin(**DAY, bbox="121.475,31.238,121.485,31.242") == {str(m.e2.id)}
    # dates are the caller's local days (Asia/Shanghai): the 23:30 visit belongs to the 19th
    assert as_admin(**{"from": "2026-11-19", "to": "2026-11-19"}) == {str(m.eve.id)}
    # RFC 3339 times: `to` is inclusive
    assert as_admin(**{"from": "2026-11-20T10:00:00+08:00", "to": "2026-11-20T11:00:00+08:00"}) \
        == {str(m.n1.id), str(m.w1.id), str(m.e2.id)}
    assert as_admin(**{"from": "2026-11-20T02:30:00Z", "to": "2026-11-20T02:45:00Z"}) \
        == {str(m.w1.id)}
    # no filter at all: everything visible
    assert str(m.eve.id) in as_admin() and len(as_admin()) == 7


@pytest.mark.parametrize("params", [
    {"bbox": "1,2,3"}, {"bbox": "121.5,31,121.4,32"}, {"bbox": "a,b,c,d"},
    {"from": "yesterday"}, {"from": "2026-11-20T10:00:00"}, {"to": "2026-13-01"},
    {"user_id": "nope"}, {"flagged": "maybe"}, {"team_id": "1"},
])
def test_invalid_parameters_are_422(api, world, params):
    r = get(api, world.admin, **params)
    assert r.status_code == 422 and r.is_json and r.json["errors"]


def test_unknown_query_parameters_are_ignored_as_everywhere(api, world, mapdata):
    assert ids(get(api, world.admin, colour="red", **DAY)) == ids(get(api, world.admin, **DAY))


def _bulk(db, user, customer, n, lng0=121.30):
    """n visits of `user` on 2026-11-20 along a line of points (fast, in SQL)."""
    db.execute(text("""
        INSERT INTO visits (id, org_id, user_id, customer_id, status, in_at, in_device_time,
                            in_received_at, in_lat, in_lng, closed_at, closed_by, flags,
                            risk_score)
        SELECT gen_random_uuid(), :org, :user, :customer, 'closed', t, t, t, 31.0,
               :lng0 + g * 0.00001, t + interval '20 minutes', 'auto', '{}', 0
        FROM generate_series(1, :n) g,
             LATERAL (SELECT timestamptz '2026-11-20 09:00+08' + g * interval '1 second') s(t)
    """), {"org": user.org_id, "user": user.id, "customer": customer.id, "n": n, "lng0": lng0})
    db.commit()


def test_at_most_5000_features_then_422_too_many_features(api, world, mapdata, db):
    box = {"bbox": "121.29,30.99,121.40,31.01", **DAY}
    _bulk(db, world.rep_east, mapdata.shop["east"], 5000)
    r = get(api, world.admin, **box)
    assert len(features(r)) == 5000
    _bulk(db, world.rep_east, mapdata.shop["east"], 1, lng0=121.35)
    r = get(api, world.admin, **box)
    assert r.status_code == 422 and r.is_json
    assert r.json["error"] == "too_many_features" and r.json["limit"] == 5000
    # the team's other visits elsewhere are still there, and a narrower box works again
    assert len(features(get(api, world.admin, bbox="121.29,30.99,121.300015,31.01", **DAY))) \
        == 1
    assert ids(get(api, world.mgr_west, **box)) == set()  # West's map is unaffected
