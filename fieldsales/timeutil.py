"""Times and local days (API.md: a date means a local day in the user's IANA time zone)."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import marshmallow as ma

# API.md: dates outside this range are a 422. Far enough from year 1 and 9999 that neither an
# offset nor a day of local-day arithmetic can overflow Python's datetime.
EARLIEST_DAY, LATEST_DAY = date(1900, 1, 1), date(2199, 12, 31)


def check_calendar(value):
    """Raise a ValidationError when a date (or a time, by the date written in it) falls
    outside EARLIEST_DAY … LATEST_DAY; return the value otherwise."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise ma.ValidationError(f"Dates must fall between {EARLIEST_DAY} and {LATEST_DAY}.")
    return value


def iso_utc(at: datetime | None, *, zulu: bool = True) -> str | None:
    """A time in UTC as ISO 8601 text (None stays None): with `Z`, as the API writes times, or
    with `+00:00` (zulu=False), as audit entries and sealed evidence have always been written
    (their digests depend on the exact text)."""
    if at is None:
        return None
    text = at.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z") if zulu else text


def local_day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """[start, end) of a local calendar day, in UTC (DST-safe: 23- and 25-hour days)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time.min, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_date(at: datetime, tz: str) -> date:
    return at.astimezone(ZoneInfo(tz)).date()


def lower_bound(value, tz: str) -> datetime:
    """`from`: a time as given, or the start of a local day."""
    if isinstance(value, datetime):
        return value
    return local_day_bounds(value, tz)[0]


def upper_bound(value, tz: str) -> datetime:
    """`to` as an exclusive bound: just after a given time, or the end of a local day."""
    if isinstance(value, datetime):
        return value + timedelta(microseconds=1)
    return local_day_bounds(value, tz)[1]


class TimeOrDate(ma.fields.String):
    """Query value: an RFC 3339 time with offset, or a date (YYYY-MM-DD) meaning a local day."""

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        try:
            if len(value) == 10:
                return check_calendar(date.fromisoformat(value))
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ma.ValidationError(
                "Expected an RFC 3339 time with offset or a date (YYYY-MM-DD).") from None
        if parsed.tzinfo is None:
            raise ma.ValidationError("A time needs an offset (e.g. 2026-11-22T09:00:00+08:00).")
        return check_calendar(parsed)
