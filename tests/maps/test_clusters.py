"""GET /maps/clusters: a zoom-dependent grid whose counts add up to the matching visits."""
import random
from datetime import timedelta

import pytest

from fieldsales.maps import grid
from tests.factories.visits import map_visit
from tests.maps.helpers import features, ids, local

DAY = {"from": "2026-11-20", "to": "2026-11-20"}
URL = "/api/v1/maps/clusters"


def clusters(api, user, **params):
    return features(api.as_(user).get(URL, query_string=params))


def total(feats, key="count"):
    return sum(f["properties"][key] for f in feats)


def test_one_cluster_at_world_scale_with_mean_position_and_bbox(api, world, mapdata):
    m = mapdata
    r = api.as_(world.mgr_east).get(URL, query_string={"zoom": 3, **DAY})
    assert r.mimetype == "application/geo+json"
    [only] = features(r)
    mine = [m.e1, m.e2, m.e3, m.n1, m.m1]
    assert only["properties"] == {"count": 5, "flagged_count": 2}
    lng, lat = only["geometry"]["coordinates"]
    assert lng == pytest.approx(sum(v.in_lng for v in mine) / 5, abs=1e-6)
    assert lat == pytest.approx(sum(v.in_lat for v in mine) / 5, abs=1e-6)
    assert only["bbox"] == [121.46, 31.22, 121.48, 31.24]


def test_scope_every_caller_counts_only_its_own_visits(api, world, mapdata):
    assert total(clusters(api, world.mgr_east, zoom=10, **DAY)) == 5
    assert total(clusters(api, world.mgr_west, zoom=10, **DAY)) == 1
    assert total(clusters(api, world.admin, zoom=10, **DAY)) == 6
    assert total(clusters(api, world.hr, zoom=10, **DAY)) == 6
    assert total(clusters(api, world.admin_b, zoom=10, **DAY)) == 1
    assert clusters(api, world.mgr_west, zoom=10, user_id=world.rep_east.id) == []
    assert clusters(api, world.admin_b, zoom=10, team_id=world.east.id) == []
    r = api.as_(world.rep_west).get(URL, query_string={"zoom": 10})
    assert r.status_code == 403


@pytest.fixture
def scattered(world, mapdata, db):
    """300 visits of rep_east scattered over ~60 km around Shanghai, a third flagged."""
    rng = random.Random(5)
    rows = []
    for i in range(300):
        lat, lng = 31.23 + rng.uniform(-0.3, 0.3), 121.47 + rng.uniform(-0.3, 0.3)
        flags = ["low_accuracy"] if i % 3 == 0 else []
        rows.append(map_visit(world.rep_east, mapdata.shop["east"], lat=lat, lng=lng,
                          at=local(2026, 11, 21, 8) + timedelta(minutes=i), flags=flags,
                          commit=False))
    db.commit()
    return rows


@pytest.mark.parametrize("zoom", [0, 4, 8, 10, 11, 12, 13, 14, 16, 18, 22])
def test_counts_add_up_exactly_at_every_zoom(api, world, scattered, zoom):
    day = {"from": "2026-11-21", "to": "2026-11-21"}
    feats = clusters(api, world.mgr_east, zoom=zoom, **day)
    points = features(api.as_(world.mgr_east).get("/api/v1/maps/visits", query_string=day))
    assert len(points) == 300
    assert total(feats) == 300
    assert total(feats, "flagged_count") == 100
    # one cluster per occupied grid cell (cells computed here from the points themselves)
    cells = {grid.cell_of(v.in_lng, v.in_lat, zoom) for v in scattered}
    assert len(feats) == len(cells)
    for f in feats:
        west, south, east, north = f["bbox"]
        assert grid.cell_of(west, south, zoom) == grid.cell_of(east, north, zoom)
        lng, lat = f["geometry"]["coordinates"]
        assert west - 1e-6 <= lng <= east + 1e-6 and south - 1e-6 <= lat <= north + 1e-6


def test_clusters_take_the_same_filters(api, world, mapdata):
    assert total(clusters(api, world.admin, zoom=5, flagged="true", **DAY)) == 2
    assert total(clusters(api, world.admin, zoom=5, team_id=world.north.id, **DAY)) == 1
    assert total(clusters(api, world.admin, zoom=5, user_id=world.rep_east.id, **DAY)) == 3
    assert total(clusters(api, world.admin, zoom=5, bbox="121.475,31.238,121.485,31.242",
                          **DAY)) == 1
    assert total(clusters(api, world.admin, zoom=5)) == 7
    assert ids(api.as_(world.admin).get("/api/v1/maps/visits", query_string=DAY)) and \
        clusters(api, world.admin, zoom=5, **{"from": "2027-01-01"}) == []


@pytest.mark.parametrize("params", [{}, {"zoom": -1}, {"zoom": 23}, {"zoom": "x"},
                                    {"zoom": 5, "bbox": "0,0,1"}, {"zoom": 5, "from": "x"}])
def test_invalid_parameters_are_422(api, world, params):
    r = api.as_(world.admin).get(URL, query_string=params)
    assert r.status_code == 422 and r.json["errors"]
