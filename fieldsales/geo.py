"""Coordinates: the JSON location field and conversion of Chinese map datums to WGS-84.

GCJ-02 (AMap, Tencent, Apple in China) and BD-09 (Baidu) are obfuscated datums with published
forward formulas and no closed-form inverse. The PyPI packages for this (eviltransform,
coord-convert) are unmaintained since 2018/2019 and use the one-step approximate inverse, which
is off by up to ~2 m; ours inverts the forward formula by fixed-point iteration to well under
1 cm, which the "round trip < 1 m" rule needs. Reference points in tests/unit/test_geo.py.
"""
import math

import marshmallow as ma
from geoalchemy2 import Geography
from sqlalchemy import cast, func

CRS_CHOICES = ("wgs84", "gcj02", "bd09")
PROVIDERS = ("gps", "network", "fused", "cached")

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def _out_of_china(lng, lat):
    return not (73.66 < lng < 135.05 and 3.86 < lat < 53.55)


def _transform_lat(x, y):
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x, y):
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lat, lng):
    if _out_of_china(lng, lat):
        return lat, lng
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lat + dlat, lng + dlng


def gcj02_to_bd09(lat, lng):
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065


def _invert(forward, lat, lng, tolerance_deg=1e-10, max_iter=30):
    """Find p with forward(p) == (lat, lng): the offsets vary slowly, so p -= forward(p) - target
    converges in a handful of steps."""
    guess_lat, guess_lng = lat, lng
    for _ in range(max_iter):
        f_lat, f_lng = forward(guess_lat, guess_lng)
        d_lat, d_lng = f_lat - lat, f_lng - lng
        guess_lat, guess_lng = guess_lat - d_lat, guess_lng - d_lng
        if abs(d_lat) < tolerance_deg and abs(d_lng) < tolerance_deg:
            break
    return guess_lat, guess_lng


def gcj02_to_wgs84(lat, lng):
    if _out_of_china(lng, lat):
        return lat, lng
    return _invert(wgs84_to_gcj02, lat, lng)


def bd09_to_gcj02(lat, lng):
    return _invert(gcj02_to_bd09, lat, lng)


def bd09_to_wgs84(lat, lng):
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lng))


def wgs84_to_bd09(lat, lng):
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lng))


def to_wgs84(lat, lng, crs="wgs84"):
    """(lat, lng) in `crs` → (lat, lng) in WGS-84."""
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lng)
    if crs == "bd09":
        return bd09_to_wgs84(lat, lng)
    return lat, lng


def checked_wgs84(lat, lng, crs="wgs84"):
    """to_wgs84, but ValueError when the converted point falls outside lat [-90, 90] /
    lng [-180, 180] (BD-09's offset near the south pole or the antimeridian): refused rather
    than folded onto another point, since the phone's map never meant one there."""
    out_lat, out_lng = to_wgs84(lat, lng, crs)
    if not (-90 <= out_lat <= 90 and -180 <= out_lng <= 180):
        raise ValueError(f"This {crs} point converts to WGS-84 outside lat [-90, 90] / "
                         "lng [-180, 180].")
    return out_lat, out_lng


def haversine_m(lat1, lng1, lat2, lng2):
    """Great-circle distance in metres (for tests and quick estimates; SQL uses geography)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


# --- SQL helpers -------------------------------------------------------------------------

def point_wkt(lat, lng):
    return f"SRID=4326;POINT({lng!r} {lat!r})"


def make_point(lat, lng):
    """A geometry(Point, 4326) SQL expression."""
    return func.ST_SetSRID(func.ST_MakePoint(lng, lat), 4326)


def geog(column_or_expr):
    """Cast to geography: distances in metres on the spheroid, using the geography GIST index."""
    return cast(column_or_expr, Geography(srid=4326))


# --- JSON fields -------------------------------------------------------------------------

class LatLng(ma.Schema):
    """A WGS-84 point as returned by the API."""

    lat = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    lng = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))


class LocationIn(ma.Schema):
    """A point sent by a phone; `crs` says which datum its map used. Loaded as WGS-84.

    API.md gives every coordinate in a body one shape, so `accuracy_m` is accepted (and
    validated) here too; only a device fix (GpsLocationIn) keeps it."""

    keeps_accuracy = False

    lat = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-90, 90))
    lng = ma.fields.Float(required=True, allow_nan=False, validate=ma.validate.Range(-180, 180))
    accuracy_m = ma.fields.Float(
        allow_none=True, allow_nan=False, validate=ma.validate.Range(min=0, max=100000),
        metadata={"description": "GPS accuracy in metres, as the phone reports it."},
    )
    crs = ma.fields.String(
        load_default="wgs84", validate=ma.validate.OneOf(CRS_CHOICES),
        metadata={"description": "Datum of lat/lng: wgs84 (default), gcj02 or bd09. A point "
                                 "whose conversion to WGS-84 falls outside lat [-90, 90] / "
                                 "lng [-180, 180] (bd09 near the south pole or the "
                                 "antimeridian) is refused with 422, never folded."},
    )

    @ma.post_load
    def to_wgs84(self, data, **kwargs):
        try:
            data["lat"], data["lng"] = checked_wgs84(data["lat"], data["lng"], data.pop("crs"))
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None
        if not self.keeps_accuracy:
            data.pop("accuracy_m", None)
        return data


class GpsLocationIn(LocationIn):
    """A device fix: a point plus what the phone says about its quality."""

    keeps_accuracy = True

    altitude_m = ma.fields.Float(allow_none=True, allow_nan=False)
    provider = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(PROVIDERS))


def parse_lat_lng(text):
    """'LAT,LNG' from a query string → (lat, lng), or ValueError with a readable message."""
    try:
        lat_s, lng_s = text.split(",")
        lat, lng = float(lat_s), float(lng_s)
    except ValueError:
        raise ValueError("Expected LAT,LNG (e.g. 31.2304,121.4737).") from None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or math.isnan(lat) or math.isnan(lng):
        raise ValueError("lat must be within [-90, 90] and lng within [-180, 180].")
    return lat, lng


class LatLngParam(ma.fields.String):
    """Query parameter 'LAT,LNG' (WGS-84)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parse_lat_lng(value)
        except ValueError as exc:
            raise ma.ValidationError(str(exc)) from None


class BBoxParam(ma.fields.String):
    """Query parameter 'MINLNG,MINLAT,MAXLNG,MAXLAT' (WGS-84)."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            parts = [float(p) for p in value.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 4 or any(math.isnan(p) for p in parts):
            raise ma.ValidationError("Expected MINLNG,MINLAT,MAXLNG,MAXLAT.")
        min_lng, min_lat, max_lng, max_lat = parts
        if not (-180 <= min_lng <= max_lng <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ma.ValidationError("bbox must be min <= max within lng [-180,180], lat [-90,90].")
        return min_lng, min_lat, max_lng, max_lat
