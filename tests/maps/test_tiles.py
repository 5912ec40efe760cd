"""GET /maps/tiles/{z}/{x}/{y}.mvt: Mapbox Vector Tiles made by ST_AsMVT, layer `visits`."""
import math

import mapbox_vector_tile
import pytest

from tests.factories.visits import map_visit
from tests.maps.helpers import local

DAY = {"from": "2026-11-20", "to": "2026-11-20"}
MVT = "application/vnd.mapbox-vector-tile"


def tile_of(lat, lng, z):
    """XYZ tile of a point, and its pixel inside the tile at extent 4096 (y down)."""
    n = 1 << z
    fx = (lng + 180.0) / 360.0 * n
    fy = (1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n
    return (int(fx), int(fy)), ((fx - int(fx)) * 4096, (fy - int(fy)) * 4096)


def url(z, x, y):
    return f"/api/v1/maps/tiles/{z}/{x}/{y}.mvt"


def decode(r):
    assert r.status_code == 200, (r.status_code, r.get_data(as_text=True)[:300])
    assert r.mimetype == MVT
    layers = mapbox_vector_tile.decode(r.data, default_options={"y_coord_down": True})
    assert set(layers) == {"visits"}
    assert layers["visits"]["extent"] == 4096
    return layers["visits"]["features"]


def visit_ids(r):
    return {f["properties"]["visit_id"] for f in decode(r)}


def shanghai_tile(z):
    (x, y), _ = tile_of(31.23, 121.47, z)
    return z, x, y


def test_tile_features_properties_and_pixels(api, world, mapdata):
    m = mapdata
    z, x, y = shanghai_tile(10)  # ~35 km: every test visit is inside
    feats = decode(api.as_(world.mgr_east).get(url(z, x, y), query_string=DAY))
    by_id = {f["properties"]["visit_id"]: f for f in feats}
    assert set(by_id) == {str(v.id) for v in (m.e1, m.e2, m.e3, m.n1, m.m1)}
    e2 = by_id[str(m.e2.id)]
    # every property from z11 on (z <= 10: only visit_id and flagged)
    (dx, dy), _ = tile_of(m.e2.in_lat, m.e2.in_lng, 11)
    detail = {f["properties"]["visit_id"]: f["properties"] for f in decode(
        api.as_(world.mgr_east).get(url(11, dx, dy), query_string=DAY))}
    assert detail[str(m.e2.id)] == {
        "visit_id": str(m.e2.id), "user_id": str(world.rep_east.id),
        "user_name": world.rep_east.name, "customer_id": str(m.shop["east"].id),
        "customer_name": "East shop", "at": "2026-11-20T03:00:00Z", "status": "closed",
        "flags": "outside_geofence", "flagged": True, "risk_score": 15}
    n1_tile, _ = tile_of(m.n1.in_lat, m.n1.in_lng, 11)
    assert {f["properties"]["visit_id"]: f["properties"] for f in decode(
        api.as_(world.mgr_east).get(url(11, *n1_tile), query_string=DAY))}[str(m.n1.id)][
        "flags"] == "mock_location,low_accuracy"
    assert by_id[str(m.e1.id)]["properties"]["flagged"] is False
    # the point lands on its pixel (Web Mercator, y down), to a pixel
    (tx, ty), (px, py) = tile_of(m.e2.in_lat, m.e2.in_lng, z)
    assert (tx, ty) == (x, y)
    assert e2["geometry"]["type"] == "Point"
    gx, gy = e2["geometry"]["coordinates"]
    assert abs(gx - px) <= 1 and abs(gy - py) <= 1


def test_scope_in_tiles(api, world, mapdata):
    m = mapdata
    tile = url(*shanghai_tile(10))
    assert visit_ids(api.as_(world.mgr_west).get(tile, query_string=DAY)) == {str(m.w1.id)}
    assert visit_ids(api.as_(world.admin_b).get(tile, query_string=DAY)) == {str(m.b1.id)}
    assert visit_ids(api.as_(world.hr).get(tile, query_string=DAY)) == {
        str(v.id) for v in (m.e1, m.e2, m.e3, m.n1, m.m1, m.w1)}
    # naming another team's rep: nothing, so no tile
    r = api.as_(world.mgr_west).get(tile, query_string={"user_id": world.rep_east.id})
    assert r.status_code == 204 and r.data == b""
    r = api.as_(world.admin_b).get(tile, query_string={"team_id": world.east.id})
    assert r.status_code == 204
    for rep in (world.rep_west, world.rep_east):
        assert api.as_(rep).get(tile).status_code == 403


def test_filters_in_tiles(api, world, mapdata):
    m = mapdata
    tile = url(*shanghai_tile(10))
    got = lambda **p: visit_ids(api.as_(world.admin).get(tile, query_string=p))  # noqa: E731
    assert got(flagged="true", **DAY) == {str(m.e2.id), str(m.n1.id)}
    assert got(team_id=world.north.id) == {str(m.n1.id)}
    assert got(**{"from": "2026-11-19", "to": "2026-11-19"}) == {str(m.eve.id)}


def test_neighbouring_tiles_split_the_points(api, world, mapdata):
    """At z16 (~500 m tiles) each visit is in the tile its coordinates say, and only there
    (or in a neighbour's 64 px buffer)."""
    m = mapdata
    mine = [m.e1, m.e2, m.e3, m.n1, m.m1]
    tiles = {}
    for v in mine:
        (x, y), _ = tile_of(v.in_lat, v.in_lng, 16)
        tiles.setdefault((x, y), set()).add(str(v.id))
    for (x, y), expected in tiles.items():
        got = visit_ids(api.as_(world.mgr_east).get(url(16, x, y), query_string=DAY))
        assert expected <= got
        assert got <= {str(v.id) for v in mine}


def test_empty_tile_is_204(api, world, mapdata):
    r = api.as_(world.admin).get(url(10, 0, 0), query_string=DAY)
    assert r.status_code == 204 and r.data == b""


@pytest.mark.parametrize("path", [url(3, 8, 0), url(3, 0, 8), url(23, 0, 0), url(0, 1, 0),
                                  "/api/v1/maps/tiles/3/-1/0.mvt", "/api/v1/maps/tiles/a/0/0.mvt"])
def test_tiles_outside_the_pyramid_are_404(api, world, path):
    r = api.as_(world.admin).get(path)
    assert r.status_code == 404 and r.is_json


def test_world_tile_and_bad_filters(api, world, mapdata):
    assert len(decode(api.as_(world.admin).get(url(0, 0, 0), query_string=DAY))) == 6
    r = api.as_(world.admin).get(url(0, 0, 0), query_string={"from": "soon"})
    assert r.status_code == 422


def test_a_new_visit_shows_in_the_next_request(api, world, mapdata):
    """A visit added after a tile was drawn shows in the next request (no stale cache)."""
    tile = url(*shanghai_tile(10))
    before = visit_ids(api.as_(world.mgr_east).get(tile, query_string=DAY))
    v = map_visit(world.rep_north, mapdata.shop["north"], lat=31.25, lng=121.5,
              at=local(2026, 11, 20, 17), status="open")
    after = visit_ids(api.as_(world.mgr_east).get(tile, query_string=DAY))
    assert after == before | {str(v.id)}


FULL = {"visit_id", "user_id", "user_name", "customer_id", "customer_name", "at", "status",
        "flags", "flagged", "risk_score"}


@pytest.mark.parametrize("z, expected", [(0, {"visit_id", "flagged"}),
                                         (10, {"visit_id", "flagged"}), (11, FULL),
                                         (16, FULL)])
def test_zoomed_out_tiles_carry_only_what_a_dot_needs(api, world, mapdata, z, expected):
    """At z <= 10 a visit is a dot (red when flagged; a click opens GET /visits/{id}): the
    names, times and flags of thousands of dots would only make the tile heavier."""
    (x, y), _ = tile_of(mapdata.e2.in_lat, mapdata.e2.in_lng, z)
    feats = decode(api.as_(world.mgr_east).get(url(z, x, y), query_string=DAY))
    e2 = next(f for f in feats if f["properties"]["visit_id"] == str(mapdata.e2.id))
    assert set(e2["properties"]) == expected
    assert e2["properties"]["flagged"] is True
