from datetime import UTC, date, datetime

import marshmallow as ma
import pytest

from fieldsales.timeutil import TimeOrDate, local_day_bounds, lower_bound, upper_bound


def test_local_day_in_shanghai():
    start, end = local_day_bounds(date(2026, 11, 22), "Asia/Shanghai")
    assert start == datetime(2026, 11, 21, 16, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 22, 16, 0, tzinfo=UTC)


def test_dst_day_is_23_hours_in_berlin():
    start, end = local_day_bounds(date(2026, 3, 29), "Europe/Berlin")
    assert (end - start).total_seconds() == 23 * 3600


def test_bounds_from_times_and_dates():
    t = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)
    assert lower_bound(t, "UTC") == t
    assert upper_bound(t, "UTC") > t
    assert upper_bound(date(2026, 11, 22), "UTC") == datetime(2026, 11, 23, tzinfo=UTC)


class S(ma.Schema):
    v = TimeOrDate()


@pytest.mark.parametrize("raw, expected", [
    ("2026-11-22", date(2026, 11, 22)),
    ("2026-11-22T08:00:00Z", datetime(2026, 11, 22, 8, tzinfo=UTC)),
])
def test_field_parses(raw, expected):
    assert S().load({"v": raw})["v"] == expected


@pytest.mark.parametrize("raw", ["2026-11-22T08:00:00", "22/11/2026", "2026-13-01", ""])
def test_field_rejects(raw):
    with pytest.raises(ma.ValidationError):
        S().load({"v": raw})
