"""bd09 input at the poles and the antimeridian: the converted WGS-84 point must be a valid
one (lat within [-90, 90], lng within [-180, 180]), or the input is refused with 422."""
import uuid

import pytest

from fieldsales import geo
from tests.test_errors import assert_error_shape

EDGES = [(90, 0), (-90, 0), (0, 180), (0, -180), (90, 180), (-90, -180), (89.99999, 179.99999)]


@pytest.mark.parametrize("lat,lng", EDGES)
def test_converted_edges_stay_in_range_or_are_refused(api, world, lat, lng):
    body = {"name": f"edge {uuid.uuid4().hex[:8]}", "location": {"lat": lat, "lng": lng, "crs": "bd09"}}
    r = api.as_(world.rep_east).post("/api/v1/customers", json=body)
    if r.status_code == 201:
        out = r.json["location"]
        assert -90 <= out["lat"] <= 90 and -180 <= out["lng"] <= 180, out
    else:
        assert_error_shape(r, 422)
        assert "location" in r.json["errors"]["json"]


@pytest.mark.parametrize("lat,lng", EDGES)
def test_converted_points_are_valid_wgs84(lat, lng):
    """The rule, on the conversion alone: what comes out is in range or it is refused."""
    try:
        out_lat, out_lng = geo.checked_wgs84(lat, lng, "bd09")
    except ValueError:
        return
    assert -90 <= out_lat <= 90 and -180 <= out_lng <= 180


def test_points_pushed_past_the_edge_are_refused(api, world):
    # The choice (documented on the coordinate type): refuse, never fold a point elsewhere.
    # Baidu's offset pushes these past the south pole or the antimeridian.
    for lat, lng in [(-90, 0), (0, -180), (-90, -180)]:
        body = {"name": f"edge {uuid.uuid4().hex[:8]}", "location": {"lat": lat, "lng": lng, "crs": "bd09"}}
        r = api.as_(world.rep_east).post("/api/v1/customers", json=body)
        assert_error_shape(r, 422)
    # ...while these land inside the range and are kept as converted.
    for lat, lng in [(90, 0), (0, 180)]:
        body = {"name": f"edge {uuid.uuid4().hex[:8]}", "location": {"lat": lat, "lng": lng, "crs": "bd09"}}
        r = api.as_(world.rep_east).post("/api/v1/customers", json=body)
        assert r.status_code == 201
        out = r.json["location"]
        assert -90 <= out["lat"] <= 90 and -180 <= out["lng"] <= 180
        assert abs(out["lat"] - lat) < 0.01 and abs(out["lng"] - lng) < 0.01


def test_ordinary_bd09_points_still_convert(api, world):
    lat, lng = geo.wgs84_to_bd09(31.2304, 121.4737)
    body = {"name": f"shop {uuid.uuid4().hex[:8]}", "location": {"lat": lat, "lng": lng, "crs": "bd09"}}
    r = api.as_(world.rep_east).post("/api/v1/customers", json=body)
    assert r.status_code == 201
    assert geo.haversine_m(r.json["location"]["lat"], r.json["location"]["lng"],
                           31.2304, 121.4737) < 1


def test_the_choice_is_documented(app):
    spec = app.test_client().get("/openapi.json").json
    text = str(spec["components"]["schemas"])
    assert "outside" in text and "bd09" in text and "422" in text
