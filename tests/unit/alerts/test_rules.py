"""The alerts' pure rules: workday arithmetic per time zone, and the sentences."""
from datetime import UTC, date, datetime

import pytest

from fieldsales.alerts import rules

MON_FRI = [1, 2, 3, 4, 5]


@pytest.mark.parametrize("today, workdays, expected", [
    (date(2026, 3, 2), MON_FRI, [date(2026, 2, 27), date(2026, 2, 26)]),  # Monday → Fri, Thu
    (date(2026, 3, 3), MON_FRI, [date(2026, 3, 2), date(2026, 2, 27)]),   # Tuesday → Mon, Fri
    (date(2026, 3, 1), MON_FRI, [date(2026, 2, 27), date(2026, 2, 26)]),  # Sunday
    (date(2026, 3, 4), [1, 2, 3, 4, 5, 6, 7], [date(2026, 3, 3), date(2026, 3, 2)]),
    (date(2026, 3, 4), [6], [date(2026, 2, 28), date(2026, 2, 21)]),      # Saturdays only
    (date(2026, 3, 4), [], []),
])
def test_previous_workdays(today, workdays, expected):
    assert rules.previous_workdays(today, workdays, 2) == expected


def test_windows_follow_the_zone():
    # 2026-03-02 02:00 UTC: Monday 10:00 in Shanghai, still Sunday 21:00 in New York
    now = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    shanghai = rules.windows(now, "Asia/Shanghai", MON_FRI)
    assert shanghai.report_day == date(2026, 2, 27)
    assert shanghai.report_due == datetime(2026, 2, 27, 16, 0, tzinfo=UTC)  # Sat 00:00 +08
    assert shanghai.idle_since == datetime(2026, 2, 25, 16, 0, tzinfo=UTC)  # Thu 00:00 +08
    new_york = rules.windows(now, "America/New_York", [1, 2, 3, 4, 5, 6, 7])
    assert new_york.report_day == date(2026, 2, 28)  # the day before its Sunday
    assert new_york.report_due == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)
    assert rules.windows(now, "UTC", []) == rules.Windows(None, None, None)


def test_windows_across_a_dst_change():
    # Europe/Berlin moves to summer time on Sunday 2026-03-29; Monday's previous workday is
    # Friday the 27th (winter time, +01:00)
    now = datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    w = rules.windows(now, "Europe/Berlin", MON_FRI)
    assert w.report_day == date(2026, 3, 27)
    assert w.report_due == datetime(2026, 3, 27, 23, 0, tzinfo=UTC)


def test_details_read_as_sentences():
    assert rules.detail("stale_lead", {
        "lead_name": "Li", "company": "Jinqiao Foods", "last_activity": "2026-03-01T02:00:00Z",
        "recycle_at": "2026-03-08T10:00:00+08:00"}) == (
        "No follow-up on lead 'Li' (Jinqiao Foods) since 2026-03-01 02:00 UTC; it returns to "
        "the pool at 2026-03-08 02:00 UTC.")
    assert "was due back" in rules.detail("recycle_soon", {
        "lead_name": "Li", "company": None, "recycle_at": "2026-03-08T02:00:00Z",
        "overdue": True})
    assert rules.detail("risky_visit", {"risk_score": 80, "flags": ["mock_location"],
                                        "customer_name": "Shop"}) == (
        "Risk 80 at Shop: mock_location.")
    assert rules.detail("idle_rep", {"last_check_in_at": None}).endswith("nor ever before.")
    assert rules.detail("missing_daily_report", {"date": "2026-02-27", "status": None}) == (
        "No submitted daily report for 2026-02-27 (none was saved).")
    with pytest.raises(ValueError):
        rules.detail("party", {})
