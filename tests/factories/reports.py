"""Rows for daily report and alert tests, written through the models with exactly the times,
places and flags a test needs (committed; the `db` fixture rolls back). The API path (check-in,
check-out, claims) is covered by a few tests of its own; these make days with known answers."""
import itertools
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests.factories.core import _save

_n = itertools.count(1)


def local(day: date, hh: int, mm: int = 0, tz: str = "Asia/Shanghai") -> datetime:
    """A local wall-clock time on `day` in `tz`, as an aware datetime."""
    return datetime.combine(day, time(hh, mm), ZoneInfo(tz))


def today(tz: str = "Asia/Shanghai") -> date:
    return datetime.now(ZoneInfo(tz)).date()


def lead_event(lead, action, *, at, to_user=None, actor=None):
    from fieldsales.leads.models import LeadEvent

    return _save(LeadEvent(id=uuid.uuid4(), org_id=lead.org_id, lead_id=lead.id, at=at,
                           action=action, actor_id=(actor or to_user).id if (actor or to_user)
                           else None, to_user_id=to_user.id if to_user else None))


def lead_follow_up(lead, user, *, at, method="call", note=None):
    from fieldsales.leads.models import LeadFollowUp

    return _save(LeadFollowUp(id=uuid.uuid4(), org_id=lead.org_id, lead_id=lead.id,
                              user_id=user.id, method=method,
                              note=note or f"follow-up {next(_n)}", created_at=at))


def contact_record(customer, user, *, at, method="call", summary=None, visit=None):
    from fieldsales.customers.models import ContactRecord

    return _save(ContactRecord(id=uuid.uuid4(), org_id=customer.org_id, customer_id=customer.id,
                               user_id=user.id, method=method,
                               summary=summary or f"record {next(_n)}",
                               visit_id=visit.id if visit else None, created_at=at))


EMPTY_STATS = {"visits": 0, "customers_visited": 0, "first_check_in_at": None,
               "last_check_out_at": None, "working_minutes": 0, "travel_km": 0.0,
               "flagged_visits": 0, "photos": 0, "leads_claimed": 0, "follow_ups": 0}


def report(user, day, *, status="draft", summary=None, reviewer=None, submitted_at=None):
    """A stored report row in any state (for rules that need an old or reviewed report)."""
    from fieldsales.reports.models import DailyReport

    now = datetime.now(UTC)
    fields = {}
    if status in ("submitted", "approved", "returned"):
        fields.update(frozen_stats=EMPTY_STATS, frozen_visits=[],
                      submitted_at=submitted_at or now)
    if status in ("approved", "returned"):
        fields.update(reviewed_by=reviewer.id, reviewed_at=now, review_decision=status,
                      review_comment="fix it" if status == "returned" else None)
    return _save(DailyReport(id=uuid.uuid4(), org_id=user.org_id, user_id=user.id, day=day,
                             status=status, summary=summary, **fields))


def days_ago(n: int, tz: str = "Asia/Shanghai") -> date:
    return today(tz) - timedelta(days=n)


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def local_date_of(value: str, tz: str = "Asia/Shanghai") -> date:
    """The local date of an API time (`...Z`) in `tz`."""
    return parse(value).astimezone(ZoneInfo(tz)).date()
