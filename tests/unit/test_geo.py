"""Coordinate conversion against published reference points (wandergis/coordtransform README,
the reference implementation most Chinese map SDK wrappers test against) and round trips."""
import random

import pytest

from fieldsales import geo

# (lng, lat) pairs exactly as published for input (116.404, 39.915).
REF_IN = (39.915, 116.404)
REF_WGS84_TO_GCJ02 = (39.91640428150164, 116.41024449916938)
REF_GCJ02_TO_BD09 = (39.92133699351021, 116.41036949371029)
# The published inverses use a one-step approximation, good to ~1 m; ours iterate.
REF_BD09_TO_GCJ02 = (39.90865673957631, 116.39762729119315)
REF_GCJ02_TO_WGS84 = (39.91359571849836, 116.39775550083061)


def test_forward_transforms_match_published_values_exactly():
    assert geo.wgs84_to_gcj02(*REF_IN) == pytest.approx(REF_WGS84_TO_GCJ02, abs=1e-9)
    assert geo.gcj02_to_bd09(*REF_IN) == pytest.approx(REF_GCJ02_TO_BD09, abs=1e-9)


@pytest.mark.parametrize("fn, expected", [
    (geo.bd09_to_gcj02, REF_BD09_TO_GCJ02),
    (geo.gcj02_to_wgs84, REF_GCJ02_TO_WGS84),
])
def test_inverse_transforms_within_a_metre_of_published_values(fn, expected):
    lat, lng = fn(*REF_IN)
    assert geo.haversine_m(lat, lng, *expected) < 1.0


@pytest.mark.parametrize("crs, forward", [
    ("gcj02", geo.wgs84_to_gcj02),
    ("bd09", geo.wgs84_to_bd09),
])
def test_round_trip_error_under_one_centimetre_across_china(crs, forward):
    rng = random.Random(7)
    worst = 0.0
    for _ in range(2000):
        lat, lng = rng.uniform(18.2, 53.0), rng.uniform(73.8, 134.9)
        back = geo.to_wgs84(*forward(lat, lng), crs)
        worst = max(worst, geo.haversine_m(lat, lng, *back))
    assert worst < 0.01


def test_gcj02_offset_is_hundreds_of_metres_in_shanghai():
    # Sanity: the datums differ by a few hundred metres in China, so a missed conversion shows.
    lat, lng = 31.2304, 121.4737
    assert 300 < geo.haversine_m(lat, lng, *geo.wgs84_to_gcj02(lat, lng)) < 700


def test_outside_china_gcj02_is_wgs84():
    assert geo.to_wgs84(48.8566, 2.3522, "gcj02") == (48.8566, 2.3522)


def test_wgs84_is_identity():
    assert geo.to_wgs84(31.2, 121.4, "wgs84") == (31.2, 121.4)


@pytest.mark.parametrize("text", ["", "31.2", "a,b", "91,0", "0,181", "nan,1", "1,2,3"])
def test_parse_lat_lng_rejects_bad_input(text):
    with pytest.raises(ValueError):
        geo.parse_lat_lng(text)


def test_parse_lat_lng():
    assert geo.parse_lat_lng("31.2304,121.4737") == (31.2304, 121.4737)


def test_haversine_known_distance():
    # Paris → London is 343.5 km (great circle, mean Earth radius).
    assert geo.haversine_m(48.8566, 2.3522, 51.5074, -0.1278) == pytest.approx(343_500, rel=0.005)
