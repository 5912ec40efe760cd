"""Visits written straight into the table for map tests: the map reads stored visits, so the
tests choose times, points and flags exactly instead of going through check-in rules."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from fieldsales.extensions import db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(y, m, d, hh=10, mm=0, tz=SHANGHAI):
    return datetime(y, m, d, hh, mm, tzinfo=tz)


def visit(user, customer, *, lat, lng, at, flags=(), status="closed", risk_score=None,
          commit=True):
    """A stored visit of `user` at `customer`, checked in at (lat, lng) at `at`."""
    from fieldsales.visits.models import Visit

    closed = status == "closed"
    row = Visit(
        id=uuid.uuid4(), org_id=user.org_id, user_id=user.id, customer_id=customer.id,
        status=status, in_at=at, in_device_time=at, in_received_at=at, in_lat=lat, in_lng=lng,
        in_accuracy_m=10.0, in_provider="gps", in_mock=False,
        closed_at=at + timedelta(minutes=30) if closed else None,
        closed_by="auto" if closed else None, flags=list(flags),
        risk_score=risk_score if risk_score is not None else 15 * len(flags),
    )
    db.session.add(row)
    if commit:
        db.session.commit()
    return row


def features(response):
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True))
    body = response.get_json(force=True)
    assert body["type"] == "FeatureCollection"
    return body["features"]


def ids(response):
    return {f["properties"]["visit_id"] for f in features(response)}
