"""GET /alerts: what needs a manager's attention in its people's work, selected in SQL as one
UNION ALL of the ten kinds and paginated there (an org of 500 reps can have thousands).

The rules (thresholds in rules.py; README "Daily reports and alerts"):
- stale_lead: a claimed lead with no follow-up for half its pool's recycle window (counted
  like the recycle clock), until it enters the pool's warning window.
- recycle_soon: a claimed lead inside its pool's warning window, or overdue and waiting for the
  next recycle run: the very clock of the recycle job (leads.recycle), so an alert and the
  lead's `recycle_warning` never disagree.
- idle_rep: an active rep with no check-in on its last 2 workdays before today (the org's
  workdays, the rep's local days) nor today; reps created since then are not idle yet.
- risky_visit: a visit of the last 7 days with risk_score ≥ 50.
- missing_daily_report: an active rep with no submitted (or approved) report for its previous
  workday; a draft or a returned report does not count.
- missed_plan: a plan missed on a day of the last 7 days (alerts/plans.py).
- overdue_follow_up: a customer or held lead whose follow-up is past due (plans/due.py).
- customer_visit_overdue: a graded customer not visited within its grade's cadence.
- contract_expiring: an active contract within one of its remind_days of its end_date.
- payment_overdue: a payment plan past due that the money received does not cover
  (alerts/deals.py).
- silent_leads: a pool the caller manages with pooled leads unclaimed for its
  silent_after_days (alerts/pools.py); user_id and user_name are null.
"""
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (DateTime, Date, Uuid, and_, bindparam, cast, column, func, literal,
                        literal_column, not_, or_, select, true, union_all)
from sqlalchemy.dialects.postgresql import ARRAY

from fieldsales.alerts import rules
from fieldsales.alerts.deals import deal_parts
from fieldsales.alerts.plans import plan_parts
from fieldsales.alerts.pools import silent_part
from fieldsales.customers.models import Customer
from fieldsales.db import paginate
from fieldsales.extensions import db
from fieldsales.leads.models import LEAD_POOL, Lead, LeadPool
# The recycle job's own clock: one definition of when a lead is warned about or overdue.
from fieldsales.leads.recycle import clock as recycle_clock
from fieldsales.orgs.models import Org
from fieldsales.reports.models import DailyReport
from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.users.models import User
from fieldsales.visits.models import Visit
from fieldsales.users.timezone import effective_timezone_sql

_TS = DateTime(timezone=True)


def _now():
    return datetime.now(UTC)


@dataclass
class Alert:
    type: str
    user_id: object
    user_name: str
    subject_id: object
    since: datetime
    detail: str


def _row(kind, user_id, subject_id, since, facts):
    return (literal(kind).label("type"), user_id.label("user_id"),
            subject_id.label("subject_id"), cast(since, _TS).label("since"),
            facts.label("facts"))


def _leads(principal, people, now):
    """stale_lead and recycle_soon."""
    clock = recycle_clock(now)
    started, due, warned = clock.started, clock.due, clock.warning
    base = (and_(principal.scope.leads(), Lead.status == "claimed", Lead.owner_id.in_(people)))
    half_window = LeadPool.recycle_after_days * literal_column(
        f"interval '{rules.STALE_HOURS_PER_RECYCLE_DAY} hours'")
    stale = (select(*_row("stale_lead", Lead.owner_id, Lead.id, started, func.jsonb_build_object(
                "lead_name", Lead.name, "company", Lead.company, "last_activity", started,
                "recycle_at", due)))
             .join(LeadPool, LEAD_POOL)
             .where(base, started + half_window <= now, not_(warned)))
    soon = (select(*_row("recycle_soon", Lead.owner_id, Lead.id, started, func.jsonb_build_object(
                "lead_name", Lead.name, "company", Lead.company, "recycle_at", due,
                "overdue", due <= now)))
            .join(LeadPool, LEAD_POOL)
            .where(base, warned))
    return [("stale_lead", stale), ("recycle_soon", soon)]


def _risky_visits(principal, people, now):
    # The threshold is rendered as a literal so that the planner can use the partial index
    # ix_visits_org_in_at_risky (a bound parameter cannot match its predicate).
    risky = literal_column(str(rules.RISKY_VISIT_MIN_RISK))
    return ("risky_visit", select(*_row(
        "risky_visit", Visit.user_id, Visit.id, Visit.in_at, func.jsonb_build_object(
            "risk_score", Visit.risk_score, "flags", Visit.flags, "customer_name", Customer.name)))
        .join(Customer, (Customer.org_id == Visit.org_id) & (Customer.id == Visit.customer_id))
        .where(principal.scope.visits(), Visit.user_id.in_(people), Visit.risk_score >= risky,
               Visit.in_at >= now - rules.RISKY_VISIT_WINDOW))


def _rep_windows(principal, people, now):
    """Per active rep in scope: since when it must have checked in, and which report is due;
    computed per time zone with the org's workdays. A table-valued unnest() of arrays."""
    workdays = db.session.scalar(select(Org.workdays).where(Org.id == principal.org_id))
    reps = db.session.execute(
        select(User.id, effective_timezone_sql())
        .join(Org, Org.id == User.org_id)
        .where(principal.scope.users(), User.id.in_(people), User.role == "rep", User.active)
    ).all()
    by_zone, ids, idle_since, report_day, report_due = {}, [], [], [], []
    for user_id, tz in reps:
        if tz not in by_zone:
            by_zone[tz] = rules.windows(now, tz, workdays)
        w = by_zone[tz]
        if w.report_day is None:
            continue  # an org without workdays expects neither visits nor reports
        ids.append(user_id)
        idle_since.append(w.idle_since)
        report_day.append(w.report_day)
        report_due.append(w.report_due)
    if not ids:
        return None
    return func.unnest(
        cast(bindparam("rep_ids", ids, type_=ARRAY(Uuid)), ARRAY(Uuid)),
        cast(bindparam("idle_since", idle_since, type_=ARRAY(_TS)), ARRAY(_TS)),
        cast(bindparam("report_day", report_day, type_=ARRAY(Date)), ARRAY(Date)),
        cast(bindparam("report_due", report_due, type_=ARRAY(_TS)), ARRAY(_TS)),
    ).table_valued(column("user_id", Uuid), column("idle_since", _TS),
                   column("report_day", Date), column("report_due", _TS)
                   ).render_derived(name="rep_windows")


def _idle_reps(win, principal):
    last = (select(func.max(Visit.in_at).label("at"))
            .where(Visit.org_id == principal.org_id, Visit.user_id == win.c.user_id)
            .lateral("last_check_in"))
    quiet_since = func.coalesce(last.c.at, User.created_at)
    return ("idle_rep", select(*_row(
        "idle_rep", User.id, User.id, quiet_since,
        func.jsonb_build_object("last_check_in_at", last.c.at)))
        .select_from(win)
        .join(User, (User.org_id == principal.org_id) & (User.id == win.c.user_id))
        .join(last, true())
        .where(quiet_since < win.c.idle_since))


def _missing_reports(win, principal):
    return ("missing_daily_report", select(*_row(
        "missing_daily_report", User.id, DailyReport.id, win.c.report_due,
        func.jsonb_build_object("date", win.c.report_day, "status", DailyReport.status)))
        .select_from(win)
        .join(User, (User.org_id == principal.org_id) & (User.id == win.c.user_id))
        .outerjoin(DailyReport, (DailyReport.org_id == principal.org_id)
                   & (DailyReport.user_id == win.c.user_id)
                   & (DailyReport.day == win.c.report_day))
        .where(or_(DailyReport.id.is_(None), DailyReport.status.not_in(("submitted", "approved"))),
               User.created_at < win.c.report_due))


def _select(principal, filters, now):
    """The caller's alerts as one SELECT (type, user_id, subject_id, since, facts, name), oldest
    first; None when no kind is wanted."""
    people = select(User.id).where(principal.scope.users())
    if "team_id" in filters:
        people = people.where(User.team_id.in_(team_subtree_ids(principal.org_id,
                                                                 filters["team_id"])))
    parts = [*_leads(principal, people, now), _risky_visits(principal, people, now),
             *plan_parts(principal, people, now, _row),
             *deal_parts(principal, people, now, _row),
             *silent_part(principal, filters, now, _row)]
    wanted = filters.get("type")
    if wanted in (None, "idle_rep", "missing_daily_report"):
        win = _rep_windows(principal, people, now)
        if win is not None:
            parts += [_idle_reps(win, principal), _missing_reports(win, principal)]
    selects = [stmt for kind, stmt in parts if wanted in (None, kind)]
    if not selects:
        return None
    alerts = union_all(*selects).subquery("alerts")
    return (select(alerts, User.name)  # silent_leads is about a pool: no user
            .outerjoin(User, (User.org_id == principal.org_id) & (User.id == alerts.c.user_id))
            .order_by(alerts.c.since, alerts.c.type, alerts.c.user_id, alerts.c.subject_id))


def _alert(r) -> Alert:
    return Alert(type=r.type, user_id=r.user_id, user_name=r.name, subject_id=r.subject_id,
                 since=r.since, detail=rules.detail(r.type, r.facts))


def list_alerts(*, principal: Principal, filters: dict, page, now=None) -> list[Alert]:
    """Alerts about the people in the caller's scope (managers, admin), oldest first."""
    principal.scope.require_role("admin", "manager")
    stmt = _select(principal, filters, now or _now())
    if stmt is None:
        page.item_count = 0
        return []
    return [_alert(r) for r in paginate(stmt, page, scalars=False)]


def current_alerts(*, principal: Principal, now=None) -> list[Alert]:
    """Every alert in the caller's scope now (managers, admin), oldest first, unpaginated: what
    the alert evaluation job (alerts/raised.py) compares with what it raised before."""
    principal.scope.require_role("admin", "manager")
    stmt = _select(principal, {}, now or _now())
    return [_alert(r) for r in db.session.execute(stmt)]
