"""What makes an alert, pure (no database): thresholds, the workday arithmetic behind idle_rep
and missing_daily_report, and the sentence each alert shows a manager. Unit-tested in
tests/unit/alerts/test_rules.py; the alerts themselves are selected in SQL (service.py)."""
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fieldsales.timeutil import local_date, local_day_bounds

ALERT_TYPES = ("stale_lead", "recycle_soon", "idle_rep", "risky_visit", "missing_daily_report",
               "missed_plan", "overdue_follow_up", "customer_visit_overdue",
               "contract_expiring", "payment_overdue", "silent_leads")

# risky_visit: a visit with at least this risk score, checked in during the last 7 days.
RISKY_VISIT_MIN_RISK = 50
RISKY_VISIT_WINDOW = timedelta(days=7)

# idle_rep: no check-in on this many of the rep's latest workdays before today (nor today).
IDLE_WORKDAYS = 2

# stale_lead: a claimed lead with no follow-up for half its pool's recycle window (counted
# like the recycle clock, from the later of its claim and its last follow-up). Once the lead
# is inside the pool's warning window it is reported as recycle_soon instead, never as both.
STALE_HOURS_PER_RECYCLE_DAY = 12


def previous_workdays(today: date, workdays, n: int) -> list[date]:
    """The `n` latest workdays (ISO weekdays in `workdays`) before `today`, most recent first;
    empty when the org has no workdays."""
    days = set(workdays)
    if not days:
        return []
    found, day = [], today
    while len(found) < n:
        day -= timedelta(days=1)
        if day.isoweekday() in days:
            found.append(day)
    return found


@dataclass(frozen=True)
class Windows:
    """One time zone's view of `now`: since when a rep must have checked in not to be idle,
    and which day's report is due (None: the org has no workdays)."""

    idle_since: datetime | None
    report_day: date | None
    report_due: datetime | None  # the end of report_day: the report is missing from then on


def windows(now: datetime, tz: str, workdays) -> Windows:
    days = previous_workdays(local_date(now, tz), workdays, IDLE_WORKDAYS)
    if not days:
        return Windows(None, None, None)
    return Windows(idle_since=local_day_bounds(days[-1], tz)[0], report_day=days[0],
                   report_due=local_day_bounds(days[0], tz)[1])


def _at(value: str | None) -> str:
    """A time from the alert's facts (JSON, UTC) as people read it: minutes, UTC."""
    if value is None:
        return "?"
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _lead(facts: dict) -> str:
    name = f"'{facts.get('lead_name')}'"
    return f"{name} ({facts['company']})" if facts.get("company") else name


def detail(alert_type: str, facts: dict) -> str:
    """The alert in one sentence, for the manager."""
    if alert_type == "stale_lead":
        return (f"No follow-up on lead {_lead(facts)} since {_at(facts['last_activity'])}; "
                f"it returns to the pool at {_at(facts['recycle_at'])}.")
    if alert_type == "recycle_soon":
        if facts.get("overdue"):
            return (f"Lead {_lead(facts)} was due back in its pool at "
                    f"{_at(facts['recycle_at'])}; the next recycle run takes it.")
        return (f"Lead {_lead(facts)} returns to its pool at {_at(facts['recycle_at'])} "
                "unless followed up.")
    if alert_type == "idle_rep":
        if facts.get("last_check_in_at") is None:
            return f"No check-in in the last {IDLE_WORKDAYS} workdays, nor ever before."
        return (f"No check-in in the last {IDLE_WORKDAYS} workdays; the last one was at "
                f"{_at(facts['last_check_in_at'])}.")
    if alert_type == "risky_visit":
        flags = ", ".join(facts.get("flags") or []) or "no flags"
        return (f"Risk {facts['risk_score']} at {facts.get('customer_name') or 'a customer'}: "
                f"{flags}.")
    if alert_type == "missing_daily_report":
        status = facts.get("status")
        state = {None: "none was saved", "draft": "a draft was saved but not submitted",
                 "returned": "it was returned and not submitted again"}.get(status, status)
        return f"No submitted daily report for {facts['date']} ({state})."
    if alert_type == "missed_plan":
        what = {"visit": "Visit", "call": "Call", "follow_up": "Follow-up"}[facts["kind"]]
        return f"{what} planned for {facts['planned_date']} with {facts.get('name')} was missed."
    if alert_type == "overdue_follow_up":
        return f"Follow-up with {facts.get('name')} is overdue (set by a {facts['from']})."
    if alert_type == "customer_visit_overdue":
        last = facts.get("last_visit_at")
        since = f"last visited {_at(last)}" if last else "never visited"
        return (f"Grade {facts['grade']} customer {facts.get('name')} is due a visit "
                f"({since}).")
    if alert_type == "contract_expiring":
        left = facts["days_left"]
        when = (f"ends in {left} days ({facts['end_date']})" if left >= 0
                else f"ended {facts['end_date']} and is not renewed")
        return f"Contract {facts['number']} with {facts.get('customer_name')} {when}."
    if alert_type == "payment_overdue":
        return (f"Payment of {facts['amount']:.2f} on contract {facts['number']} "
                f"({facts.get('customer_name')}) was due {facts['due_date']}.")
    if alert_type == "silent_leads":
        return (f"{facts['count']} lead(s) in pool '{facts['pool_name']}' have waited unclaimed "
                "past its silent_after_days.")
    raise ValueError(f"unknown alert type {alert_type!r}")
