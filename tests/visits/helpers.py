"""Building check-in/check-out bodies for tests (times relative to the real clock, since the
server stamps received_at itself)."""
from datetime import UTC, datetime, timedelta

from fieldsales import geo
from tests.factories.visits import SHANGHAI


def ago(**kwargs):
    return datetime.now(UTC) - timedelta(**kwargs)


def iso(moment):
    return moment.isoformat()


def offset(point, north_m=0.0, east_m=0.0):
    """A point `north_m`/`east_m` metres from `point` (small distances)."""
    import math

    lat, lng = point
    return (lat + north_m / 111_320.0,
            lng + east_m / (111_320.0 * math.cos(math.radians(lat))))


def location(point=SHANGHAI, accuracy_m=10.0, **extra):
    return {"lat": point[0], "lng": point[1], "accuracy_m": accuracy_m, **extra}


def check_in_body(customer, *, point=None, at=None, accuracy_m=10.0, **extra):
    point = point or (customer.lat, customer.lng) if customer.lat is not None else SHANGHAI
    return {"customer_id": str(customer.id), "location": location(point, accuracy_m),
            "device_time": iso(at or ago(seconds=5)), **extra}


def check_out_body(*, point=SHANGHAI, at=None, accuracy_m=10.0, **extra):
    return {"location": location(point, accuracy_m), "device_time": iso(at or ago(seconds=1)),
            **extra}


def distance_m(a, b):
    return geo.haversine_m(a[0], a[1], b[0], b[1])
