"""Visits written straight into the table at chosen local times (attendance reads them; the
evidence tests go through the API instead, so that the audit chain is real)."""
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldsales.extensions import db

SHANGHAI = (31.2304, 121.4737)


def local(day, hh, mm=0, tz="Asia/Shanghai"):
    """`day` at hh:mm wall time in zone `tz`, as a UTC time (so that arithmetic on it is real
    elapsed time, also across a DST change)."""
    return datetime.combine(day, time(hh, mm), ZoneInfo(tz)).astimezone(UTC)


def add_visit(user, customer, *, at, minutes=30, closed="rep", flags=()):
    """A visit by `user` checked in at `at`: closed="rep" (checked out `minutes` later),
    "auto" (closed automatically, missing_check_out) or None (still open)."""
    from fieldsales.visits.models import Visit

    end = at + timedelta(minutes=minutes)
    flags = list(flags) + (["missing_check_out"] if closed == "auto" else [])
    visit = Visit(
        id=uuid.uuid4(), org_id=user.org_id, user_id=user.id, customer_id=customer.id,
        status="open" if closed is None else "closed",
        in_at=at, in_device_time=at, in_received_at=at, in_lat=SHANGHAI[0], in_lng=SHANGHAI[1],
        in_accuracy_m=10.0, in_provider="gps", in_mock=False,
        out_at=end if closed == "rep" else None, out_device_time=end if closed == "rep" else None,
        out_received_at=end if closed == "rep" else None,
        out_lat=SHANGHAI[0] if closed == "rep" else None,
        out_lng=SHANGHAI[1] if closed == "rep" else None,
        closed_at=end if closed else None, closed_by=closed, flags=flags,
        risk_score=min(100, 10 * len(flags)),
    )
    db.session.add(visit)
    db.session.commit()
    return visit


def days(first, last):
    out, day = [], first
    while day <= last:
        out.append(day)
        day += timedelta(days=1)
    return out
