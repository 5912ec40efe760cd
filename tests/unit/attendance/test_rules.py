"""The pure rules (no database): date ranges and flag counts."""
from datetime import date, timedelta

import pytest

from fieldsales.attendance import rules
from fieldsales.visits.flags import ALL_FLAGS


def test_ranges():
    jan1 = date(2026, 1, 1)
    assert rules.range_errors(jan1, jan1) == {}
    assert rules.range_errors(jan1, jan1 + timedelta(days=92)) == {}  # 93 days, both counted
    assert list(rules.range_errors(jan1, jan1 + timedelta(days=93))) == ["to"]
    assert list(rules.range_errors(jan1, jan1 - timedelta(days=1))) == ["to"]
    assert list(rules.range_errors(date.min, jan1)) == ["from"]
    assert list(rules.range_errors(jan1, date.max)) == ["to"]
    assert rules.day_count(date(2026, 3, 1), date(2026, 3, 31)) == 31
    assert rules.day_count(date(2024, 2, 1), date(2024, 3, 1)) == 30  # a leap year


def test_flag_counts_keep_the_vocabulary_order_and_drop_zeros():
    counts = [0] * len(ALL_FLAGS)
    counts[ALL_FLAGS.index("low_accuracy")] = 1
    counts[ALL_FLAGS.index("outside_geofence")] = 2
    assert list(rules.flag_counts(counts).items()) == [("outside_geofence", 2),
                                                        ("low_accuracy", 1)]
    with pytest.raises(ValueError):
        rules.flag_counts(counts[:-1])  # a column missing is a bug, not a quiet zero
