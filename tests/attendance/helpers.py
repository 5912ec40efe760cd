"""Local times and day ranges for attendance tests (the visit rows come from
tests.factories.visits.day_visit)."""
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def local(day, hh, mm=0, tz="Asia/Shanghai"):
    """`day` at hh:mm wall time in zone `tz`, as a UTC time (so that arithmetic on it is real
    elapsed time, also across a DST change)."""
    return datetime.combine(day, time(hh, mm), ZoneInfo(tz)).astimezone(UTC)


def days(first, last):
    out, day = [], first
    while day <= last:
        out.append(day)
        day += timedelta(days=1)
    return out
