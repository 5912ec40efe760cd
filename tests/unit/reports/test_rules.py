"""The daily report's pure rules: dates, status changes, retries, frozen JSON."""
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from fieldsales.reports import rules

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize("day, status, expected", [
    (TODAY, None, None),
    (TODAY + timedelta(days=1), None, "date_in_future"),
    (TODAY + timedelta(days=1), "returned", "date_in_future"),
    (TODAY - timedelta(days=7), None, None),
    (TODAY - timedelta(days=7), "draft", None),
    (TODAY - timedelta(days=8), None, "report_too_old"),
    (TODAY - timedelta(days=8), "draft", "report_too_old"),
    (TODAY - timedelta(days=400), "returned", None),  # a returned report may always be fixed
])
def test_which_days_a_rep_may_write(day, status, expected):
    assert rules.write_problem(day, TODAY, status) == expected


def test_reading_has_only_the_future_limit():
    assert rules.date_problem(TODAY - timedelta(days=3650), TODAY) is None
    assert rules.date_problem(TODAY + timedelta(days=1), TODAY) == "date_in_future"


@pytest.mark.parametrize("status, submit, expected", [
    (None, False, "draft"), (None, True, "submitted"),
    ("draft", False, "draft"), ("draft", True, "submitted"),
    ("returned", False, "returned"), ("returned", True, "submitted"),
])
def test_status_after_a_put(status, submit, expected):
    assert rules.status_after_put(status, submit=submit) == expected


@pytest.mark.parametrize("status", ["submitted", "approved"])
def test_locked_reports_have_no_next_status(status):
    assert rules.is_locked(status)
    with pytest.raises(ValueError):
        rules.status_after_put(status, submit=True)


def test_changes_only_names_fields_that_differ():
    stored = {"summary": "a", "plan": None, "problems": "p"}
    assert rules.changes(stored, {"summary": "a", "plan": None, "submit": True}) == {}
    assert rules.changes(stored, {"summary": "b", "problems": None}) == {
        "summary": "b", "problems": None}


@pytest.mark.parametrize("status, data, noop", [
    (None, {"summary": None}, False),                 # the first save creates the report
    ("draft", {"summary": "a"}, True),
    ("draft", {"summary": "a", "submit": True}, False),  # submitting is a change
    ("draft", {"summary": "b"}, False),
    ("submitted", {"summary": "a", "submit": True}, True),  # a retried submission
    ("submitted", {"summary": "a"}, True),            # a late retry of the save before
    ("submitted", {"summary": "b", "submit": True}, False),
    ("approved", {"submit": True}, True),
    ("approved", {"plan": "x"}, False),
    ("returned", {"summary": "a", "submit": True}, False),
    ("returned", {}, True),
])
def test_what_counts_as_a_retry(status, data, noop):
    stored = {"summary": "a", "plan": None, "problems": None}
    assert rules.is_noop_put(stored, status, data) is noop


def test_only_submitted_reports_are_reviewed():
    assert [s for s in rules.STATUSES if rules.can_review(s)] == ["submitted"]


def test_freeze_and_thaw_round_trip():
    at = datetime(2026, 3, 10, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    stats = {"visits": 2, "customers_visited": 1, "first_check_in_at": at,
             "last_check_out_at": None, "working_minutes": 75, "travel_km": 3.25,
             "flagged_visits": 1, "photos": 4, "leads_claimed": 0, "follow_ups": 2,
             "plans": 3, "plans_done": 2, "plans_missed": 1}
    import uuid

    vid, cid = uuid.uuid4(), uuid.uuid4()
    visits = [{"id": vid, "customer_id": cid, "customer_name": "Shop", "check_in_at": at,
               "check_out_at": None, "flags": ("low_accuracy",)}]
    frozen_stats, frozen_visits = rules.freeze(stats, visits)
    assert frozen_stats["first_check_in_at"] == "2026-03-10T01:30:00Z"
    assert frozen_visits == [{"id": str(vid), "customer_id": str(cid), "customer_name": "Shop",
                              "check_in_at": "2026-03-10T01:30:00Z", "check_out_at": None,
                              "flags": ["low_accuracy"]}]
    import json

    json.dumps([frozen_stats, frozen_visits])  # storable as JSON as it is
    thawed_stats, thawed_visits = rules.thaw(frozen_stats, frozen_visits)
    assert thawed_stats == {**stats, "first_check_in_at": at.astimezone(UTC)}
    assert thawed_visits[0]["check_in_at"] == at
