"""The daily report's rules, pure (no database, no Flask): which dates a rep may write, what a
PUT or a review does to a report's status, and how compiled stats are frozen into JSON and read
back. Unit-tested in tests/unit/reports/test_rules.py; the race-prone part (two writers on one
report) is the database's job (row lock, unique (user_id, day); see service.py)."""
from datetime import date, datetime, timedelta

from fieldsales.timeutil import iso_utc

STATUSES = ("draft", "submitted", "approved", "returned")
DECISIONS = ("approved", "returned")
LOCKED = ("submitted", "approved")  # only a manager's `returned` unlocks these
TEXT_FIELDS = ("summary", "plan", "problems")

# A rep may write the report of its local today and of the WRITE_BACK_DAYS days before (catching
# up after a weekend or a trip); older days only when a manager returned the report.
WRITE_BACK_DAYS = 7

# No report is older than this (it also keeps local-day arithmetic away from year 1).
EARLIEST_DATE = date(2000, 1, 1)

PLAN_STATS = ("plans", "plans_done", "plans_missed")
STATS_FIELDS = ("visits", "customers_visited", "first_check_in_at", "last_check_out_at",
                "working_minutes", "travel_km", "flagged_visits", "photos", "leads_claimed",
                "follow_ups", *PLAN_STATS)
_STATS_TIMES = ("first_check_in_at", "last_check_out_at")
_VISIT_TIMES = ("check_in_at", "check_out_at")


def date_problem(day: date, today: date) -> str | None:
    """Why nobody can have a report for `day` yet (the rep's local `today`), or None."""
    if day > today:
        return "date_in_future"
    return None


def write_problem(day: date, today: date, status: str | None) -> str | None:
    """Why the rep may not write its report for `day` now, or None (locking aside)."""
    if problem := date_problem(day, today):
        return problem
    if day < today - timedelta(days=WRITE_BACK_DAYS) and status != "returned":
        return "report_too_old"
    return None


def is_locked(status: str | None) -> bool:
    return status in LOCKED


def changes(stored: dict, data: dict) -> dict:
    """The text fields a PUT changes (fields it leaves out keep their value)."""
    return {k: data[k] for k in TEXT_FIELDS if k in data and data[k] != stored.get(k)}


def status_after_put(status: str | None, *, submit: bool) -> str:
    """The status after the rep saves (submit false) or submits its report. A returned report
    stays `returned` while the rep edits it, so the manager's comment keeps its meaning until
    it is submitted again. Callers refuse locked reports first."""
    if is_locked(status):
        raise ValueError(f"a {status} report is locked")
    if submit:
        return "submitted"
    return "returned" if status == "returned" else "draft"


def is_noop_put(stored: dict, status: str | None, data: dict) -> bool:
    """A PUT that would change nothing (a retry of the last save or submission): answered with
    the stored report, whatever its status, and not written or audited again."""
    if status is None or changes(stored, data):
        return False
    # Submitting a draft or a returned report is a change; anything else without a text change
    # (a repeated save, a repeated submission, a late retry of a save) is not.
    return not (data.get("submit") and status not in LOCKED)


def can_review(status: str) -> bool:
    return status == "submitted"


# --- stats as JSON ---------------------------------------------------------------------------



def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def freeze(stats: dict, visits: list[dict]) -> tuple[dict, list[dict]]:
    """Compiled stats and visit list as JSON (times as RFC 3339 UTC strings, ids as strings),
    to store at submission."""
    frozen_stats = {k: iso_utc(stats[k]) if k in _STATS_TIMES else stats[k]
                    for k in STATS_FIELDS}
    frozen_visits = [
        {k: (iso_utc(v) if k in _VISIT_TIMES else str(v) if k in ("id", "customer_id")
             else list(v) if k == "flags" else v) for k, v in visit.items()}
        for visit in visits
    ]
    return frozen_stats, frozen_visits


def thaw(frozen_stats: dict, frozen_visits: list[dict]) -> tuple[dict, list[dict]]:
    """The stored JSON back as compiled values (times as datetimes), for serialising."""
    # Reports submitted before plans existed had none to count.
    stats = {**dict.fromkeys(PLAN_STATS, 0),
             **{k: _parse(v) if k in _STATS_TIMES else v for k, v in frozen_stats.items()}}
    visits = [{k: _parse(v) if k in _VISIT_TIMES else v for k, v in visit.items()}
              for visit in frozen_visits]
    return stats, visits
