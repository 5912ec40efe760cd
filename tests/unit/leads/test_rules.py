"""Pure lead-pool rules (no database): phones, masking, the recycle clock, local days, claim
states, refusals, and pool settings."""
from datetime import UTC, date, datetime, timedelta

import pytest

from fieldsales.leads import rules

T = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw, expected", [
    ("13812345678", "13812345678"),
    ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("+86-13812345678", "13812345678"),
    ("0086 138 1234 5678", "13812345678"),
    ("8613812345678", "13812345678"),         # 86 + mobile typed without the +
    ("(021) 6123-4567", "02161234567"),
    ("+86 21 6123 4567", "2161234567"),        # the contract strips +86, nothing more
    ("１３８１２３４５６７８", "13812345678"),  # full-width digits
    ("+1 415 555 0100", "+14155550100"),
    ("0044 20 7946 0000", "+442079460000"),
    ("861234", "861234"),                      # not 13 digits: a short number, kept
    ("", None), ("   ", None), (None, None),
])
def test_normalize_phone(raw, expected):
    assert rules.normalize_phone(raw) == expected


@pytest.mark.parametrize("raw", ["call me", "138x1234", "12", "1" * 21, "+", "138*1234"])
def test_normalize_phone_rejects_non_numbers(raw):
    with pytest.raises(ValueError):
        rules.normalize_phone(raw)


def test_same_number_written_differently_normalises_the_same():
    forms = ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "8613812345678",
             " 138.1234.5678 "]
    assert {rules.normalize_phone(f) for f in forms} == {"13812345678"}


@pytest.mark.parametrize("phone, masked", [
    ("13812345678", "138****5678"), ("+86 138 1234 5678", "138****5678"),
    ("02161234567", "021****4567"), ("6123456", "61****56"), ("12345", "****5"),
    ("", ""), (None, None)])
def test_mask_phone(phone, masked):
    assert rules.mask_phone(phone) == masked


@pytest.mark.parametrize("email, masked", [
    ("alice@example.com", "a***@example.com"), ("a@x.cn", "a***@x.cn"),
    ("not-an-email", "***"), (None, None)])
def test_mask_email(email, masked):
    assert rules.mask_email(email) == masked


def test_mask_never_shows_the_middle_digits():
    masked = rules.mask_phone("13887654321")
    assert "8765" not in masked and "7654" not in masked


def test_recycle_at_counts_from_the_later_of_claim_and_last_follow_up():
    claimed = T
    assert rules.recycle_at(status="claimed", claimed_at=claimed, last_follow_up_at=None,
                            recycle_after_days=7) == T + timedelta(days=7)
    later = T + timedelta(days=3)
    assert rules.recycle_at(status="claimed", claimed_at=claimed, last_follow_up_at=later,
                            recycle_after_days=7) == later + timedelta(days=7)
    # A follow-up by a previous holder (before this claim) does not shorten the new clock.
    earlier = T - timedelta(days=20)
    assert rules.recycle_at(status="claimed", claimed_at=claimed, last_follow_up_at=earlier,
                            recycle_after_days=7) == T + timedelta(days=7)


@pytest.mark.parametrize("status", ["pooled", "converted", "dead"])
def test_recycle_at_is_none_unless_claimed(status):
    assert rules.recycle_at(status=status, claimed_at=T, last_follow_up_at=None,
                            recycle_after_days=7) is None


@pytest.mark.parametrize("now_offset_h, warn_days, expected", [
    (-25, 1, False), (-24, 1, True), (-1, 1, True), (0, 1, True), (5, 1, True),
    (-1, 0, False), (0, 0, True), (-47, 2, True), (-49, 2, False)])
def test_recycle_warning_window(now_offset_h, warn_days, expected):
    due = T
    assert rules.recycle_warning(recycle_at=due, warn_before_days=warn_days,
                                 now=due + timedelta(hours=now_offset_h)) is expected


def test_no_warning_without_recycle_date():
    assert rules.recycle_warning(recycle_at=None, warn_before_days=1, now=T) is False


def test_cooldown_until():
    assert rules.cooldown_until(now=T, cooldown_days=3) == T + timedelta(days=3)
    assert rules.cooldown_until(now=T, cooldown_days=0) is None


@pytest.mark.parametrize("utc_time, tz, day", [
    (datetime(2026, 3, 2, 15, 59, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 2)),
    (datetime(2026, 3, 2, 16, 0, tzinfo=UTC), "Asia/Shanghai", date(2026, 3, 3)),
    (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "America/Los_Angeles", date(2026, 3, 1)),
    (datetime(2026, 3, 2, 23, 59, tzinfo=UTC), "UTC", date(2026, 3, 2))])
def test_local_day(utc_time, tz, day):
    assert rules.local_day(utc_time, tz) == day


def test_claim_state():
    me, other = object(), object()
    assert rules.claim_state(status="pooled", owner_id=None, caller_id=me) == rules.OPEN
    assert rules.claim_state(status="claimed", owner_id=me, caller_id=me) == rules.MINE
    assert rules.claim_state(status="claimed", owner_id=other, caller_id=me) == rules.TAKEN
    for status in ("converted", "dead"):
        assert rules.claim_state(status=status, owner_id=me, caller_id=me) == rules.CLOSED


@pytest.mark.parametrize("holding, claims, expected", [
    (0, 0, None), (19, 9, None), (20, 0, "holding_limit_reached"),
    (3, 10, "daily_claim_limit_reached"), (20, 10, "holding_limit_reached")])
def test_refusal(holding, claims, expected):
    quota = rules.Quota(holding=holding, holding_limit=20, claims_today=claims,
                        daily_claim_limit=10)
    assert rules.refusal(quota) == expected


def test_pool_settings_problem():
    ok = dict(rules.POOL_DEFAULTS)
    assert rules.pool_settings_problem(ok) is None
    assert rules.pool_settings_problem({**ok, "warn_before_days": 7})[0] == "warn_before_days"


# --- CSV rows -----------------------------------------------------------------------------------


@pytest.mark.parametrize("days_pooled, silent", [(13.9, False), (14, True), (30, True)])
def test_a_pooled_lead_turns_silent_after_silent_after_days(days_pooled, silent):
    assert rules.is_silent(pooled_at=T - timedelta(days=days_pooled), silent_after_days=14,
                           now=T) is silent


def test_a_lead_without_pooled_at_is_never_silent():
    assert rules.is_silent(pooled_at=None, silent_after_days=1, now=T) is False
