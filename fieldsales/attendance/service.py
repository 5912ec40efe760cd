"""Attendance: one row per user per local date, computed in SQL; the CSV export streamed from a
server-side cursor; the evidence bundle of one user's day.

A date is the user's own local date (user's zone, else the org's, else UTC): the grid of
(user, date) is generate_series in SQL, each date's bounds are `timezone(zone, date)` (so a
DST day is 23 or 25 hours long), and a visit belongs to the local date of its check-in.
"""
from datetime import UTC, datetime

from sqlalchemy import (Date, DateTime, Integer, Interval, and_, any_, case, cast, column,
                        exists, extract, false, func, lateral, literal, or_, select, true)
from sqlalchemy.orm import selectinload

from fieldsales.approvals import facts
from fieldsales.attendance import rules
from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from fieldsales.customers.models import Customer
from fieldsales.db import reading
from fieldsales.errors import Forbidden
from fieldsales.extensions import db
from fieldsales.openapi import describe
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.teams.models import Team
from fieldsales.timeutil import local_day_bounds
from fieldsales.users.models import User
from fieldsales.visits.flags import ALL_FLAGS
from fieldsales.visits.models import Visit, with_outing
from fieldsales.users.timezone import effective_timezone_sql

describe("""
## Attendance
`GET /attendance` and `GET /attendance.csv` give one row per user per local date from `from`
to `to` (both dates, at most 93 days, both counted), each user's dates in the user's own
time zone (user → org → UTC). Rows cover the field staff in the caller's scope — active reps
and managers, and deactivated ones who checked in during the range (hr, admin: the org;
managers: themselves and their teams' people; reps: themselves); with `user_id`, that user
whatever the role. A visit belongs to the local date of its check-in. Status: `present` —
visits, all checked out by the rep; `incomplete` — a visit still open or closed
automatically (`missing_check_out`); `absent` — no visit on a workday (org `workdays`);
`off` — no visit on another day. `late` / `left_early`: on a workday, the first check-in after
org `work_hours.start` + `grace_minutes`, the last check-out before `work_hours.end`, on the
user's own clock. Dates after the user's local today are left out. The JSON list is paginated
and ordered by date, then user name; the CSV has every row. The HR export — `GET
/attendance.xlsx` (typed cells) and `GET /attendance.csv?lang=zh` (Chinese headers) — gives
the same rows with local times and team names, for hr, admin and managers (403 for reps).
`GET /attendance/evidence` (hr, admin, the user's managers; 403 for reps) bundles one user's
local day for a dispute: the attendance row, the visits with photos and customers, the audit
entries of that day and about those visits, and the chain verified at that moment.
""")

# Who has attendance: the people who check in. hr and admin appear only when asked for by id.
FIELD_ROLES = ("rep", "manager")


def report_status_sql(org_id, user_id, day):
    """The status of the user's daily report for that local date, as a SQL expression; NULL
    (no report saved) reads as `missing`. The row, the CSV and the evidence bundle use it."""
    from fieldsales.reports.models import DailyReport

    return (select(DailyReport.status)
            .where(DailyReport.org_id == org_id, DailyReport.user_id == user_id,
                   DailyReport.day == day)
            .scalar_subquery())


# --- the SQL ---------------------------------------------------------------------------------

def _date(value):
    """A bound date, typed in the SQL text too (date + integer must read as a date)."""
    return cast(literal(value, Date), Date)


def _day_start(zone, day):
    """The UTC instant a local date begins in `zone` (a date column or a bound date)."""
    return func.timezone(zone, cast(day, DateTime(timezone=False)))


def people_cte(principal: Principal, filters: dict):
    """CTE of the users whose rows the caller asked for and may see: {user_id, user_name,
    team_id, tz, workdays}. An explicit user_id or team_id the caller cannot see is 404."""
    first, last = filters["from_"], filters["to"]
    zone = effective_timezone_sql()
    hours = Org.work_hours
    late_after = cast(hours["start"].astext, Interval) + func.make_interval(
        0, 0, 0, 0, 0, cast(hours["grace_minutes"].astext, Integer), type_=Interval)
    stmt = (select(User.id.label("user_id"), User.name.label("user_name"),
                   User.team_id.label("team_id"), zone.label("tz"),
                   Org.workdays.label("workdays"), late_after.label("late_after"),
                   cast(hours["end"].astext, Interval).label("leave_before"))
            .join(Org, Org.id == User.org_id)
            .where(principal.scope.users()))
    if "user_id" in filters:
        principal.scope.get(User, filters["user_id"], principal.scope.users())
        stmt = stmt.where(User.id == filters["user_id"])
    else:
        # Deactivated people keep their rows for ranges in which they still visited.
        # The caller's org as a parameter: Citus routes the statement by it.
        visited = exists().where(
            Visit.org_id == principal.org_id, Visit.user_id == User.id,
            Visit.in_at >= _day_start(zone, _date(first)),
            Visit.in_at < _day_start(zone, _date(last) + 1))
        stmt = stmt.where(User.role.in_(FIELD_ROLES), or_(User.active, visited))
    if "team_id" in filters:
        principal.scope.get(Team, filters["team_id"], principal.scope.teams())
        stmt = stmt.where(User.team_id.in_(team_subtree_ids(principal.org_id,
                                                            filters["team_id"])))
    return stmt.cte("people")


def _grid(people, first, last):
    """(user, local date) pairs from `first` to `last`, up to each user's local today: a day
    that has not begun has no attendance yet."""
    offsets = func.generate_series(0, rules.day_count(first, last) - 1) \
        .table_valued(column("n", Integer)).render_derived("offsets")
    day = _date(first) + offsets.c.n
    weekday = cast(extract("isodow", day), Integer)
    return (select(people.c.user_id, people.c.user_name, people.c.team_id, people.c.tz,
                   people.c.late_after, people.c.leave_before, day.label("date"),
                   (weekday == any_(people.c.workdays)).label("workday"))
            .select_from(people.join(offsets, true()))
            .where(day <= cast(func.timezone(people.c.tz, func.now()), Date)))


def _aggregates():
    """Per-day visit aggregates (one pass over the day's visits; one count per flag of the
    closed vocabulary instead of unnesting the arrays)."""
    return [
        func.min(Visit.in_at).label("first_check_in_at"),
        func.max(Visit.out_at).label("last_check_out_at"),
        func.count().label("visits"),
        func.count().filter(func.cardinality(Visit.flags) > 0).label("flagged_visits"),
        func.bool_or(or_(Visit.status == "open", Visit.closed_by == "auto")).label("incomplete"),
        *(func.count().filter(literal(flag) == any_(Visit.flags)).label(f"flag_{flag}")
          for flag in ALL_FLAGS),
    ]


def _plan_counts(org_id, user_id, day):
    """(plans, plans_done) of the user for that local date, cancelled plans not counted."""
    from fieldsales.plans.models import Plan

    def count(*where):
        return (select(func.count()).where(Plan.org_id == org_id, Plan.user_id == user_id,
                                           Plan.planned_date == day, *where)
                .scalar_subquery())

    return (count(Plan.status != "cancelled").label("plans"),
            count(Plan.status == "done").label("plans_done"))


def _local_clock(grid, offset):
    """The instant the row's local date reaches `offset` (an interval) on the user's clock."""
    return func.timezone(grid.c.tz, cast(grid.c.date, DateTime(timezone=False)) + offset)


def _work_hours_columns(grid, agg):
    """late / left_early: on a workday, the first check-in after start + grace, the last
    check-out before end (org `work_hours`, in the user's zone); false without one."""
    def rule(condition):
        return func.coalesce(and_(grid.c.workday, condition), false())

    return (
        rule(agg.c.first_check_in_at > _local_clock(grid, grid.c.late_after)).label("late"),
        rule(agg.c.last_check_out_at < _local_clock(grid, grid.c.leave_before))
        .label("left_early"),
    )


def _row_columns(org_id, grid, agg):
    visits = func.coalesce(agg.c.visits, 0)
    worked = func.floor(extract("epoch", agg.c.last_check_out_at - agg.c.first_check_in_at) / 60)
    return [
        grid.c.user_id, grid.c.user_name, grid.c.team_id, grid.c.tz, grid.c.date,
        case((visits == 0, case((grid.c.workday, "absent"), else_="off")),
             (agg.c.incomplete, "incomplete"), else_="present").label("status"),
        agg.c.first_check_in_at, agg.c.last_check_out_at,
        cast(func.coalesce(worked, 0), Integer).label("worked_minutes"),
        visits.label("visits"),
        func.coalesce(agg.c.flagged_visits, 0).label("flagged_visits"),
        *(func.coalesce(agg.c[f"flag_{flag}"], 0).label(f"flag_{flag}") for flag in ALL_FLAGS),
        func.coalesce(report_status_sql(org_id, grid.c.user_id, grid.c.date),
                      "missing").label("daily_report"),
        *_plan_counts(org_id, grid.c.user_id, grid.c.date),
        *_work_hours_columns(grid, agg),
        facts.outing_visits(org_id, grid.c.user_id, grid.c.tz, grid.c.date,
                            visits).label("outing"),
        facts.corrected(org_id, grid.c.user_id, grid.c.date).label("corrected"),
    ]


def row_order(columns):
    return (columns.date, columns.user_name, columns.user_id)


def _page_statement(principal, people, first, last, *, limit, offset):
    """One page of rows: the page of the grid first, then each row's day of visits through
    the (user_id, in_at) index (a page costs its rows, not the whole range)."""
    grid = _grid(people, first, last)
    page = grid.order_by(*row_order(grid.selected_columns)).limit(limit).offset(offset) \
        .subquery("g")
    agg = lateral(
        select(*_aggregates())
        .where(principal.scope.visits(), Visit.user_id == page.c.user_id,
               Visit.in_at >= _day_start(page.c.tz, page.c.date),
               Visit.in_at < _day_start(page.c.tz, page.c.date + 1))
    ).alias("a")
    return (select(*_row_columns(principal.org_id, page, agg))
            .select_from(page.outerjoin(agg, true())).order_by(*row_order(page.c)))


def range_statement(principal, people, first, last):
    """Every row of the range: per user, one index range scan over the whole range grouped by
    local date (500 reps x a month: 500 scans, not 15,500), joined to the grid."""
    grid = _grid(people, first, last).subquery("g")
    local_date = cast(func.timezone(people.c.tz, Visit.in_at), Date)
    per_user = lateral(
        select(local_date.label("date"), *_aggregates())
        .where(principal.scope.visits(), Visit.user_id == people.c.user_id,
               Visit.in_at >= _day_start(people.c.tz, _date(first)),
               Visit.in_at < _day_start(people.c.tz, _date(last) + 1))
        .group_by(local_date)
    ).alias("d")
    agg = (select(people.c.user_id, per_user).select_from(people.join(per_user, true()))
           .subquery("a"))
    return (select(*_row_columns(principal.org_id, grid, agg))
            .select_from(grid.outerjoin(agg, and_(agg.c.user_id == grid.c.user_id,
                                                  agg.c.date == grid.c.date)))
            .order_by(*row_order(grid.c)))


def _as_dict(row) -> dict:
    m = row._mapping
    return {
        "user_id": m["user_id"], "user_name": m["user_name"], "team_id": m["team_id"],
        "date": m["date"], "status": m["status"], "first_check_in_at": m["first_check_in_at"],
        "last_check_out_at": m["last_check_out_at"], "worked_minutes": m["worked_minutes"],
        "visits": m["visits"], "flagged_visits": m["flagged_visits"],
        "flags": rules.flag_counts(m[f"flag_{flag}"] for flag in ALL_FLAGS),
        "daily_report": m["daily_report"], "plans": m["plans"], "plans_done": m["plans_done"],
        "late": m["late"], "left_early": m["left_early"],
        "outing": m["outing"], "corrected": m["corrected"],
    }


# --- use cases -------------------------------------------------------------------------------

def list_attendance(*, principal: Principal, filters: dict, page):
    """One page of attendance rows (date, then user name), with the total for X-Pagination."""
    people = people_cte(principal, filters)
    first, last = filters["from_"], filters["to"]
    grid = _grid(people, first, last).subquery()
    stmt = _page_statement(principal, people, first, last, limit=page.page_size,
                           offset=page.first_item)
    with reading() as session:
        page.item_count = session.scalar(select(func.count()).select_from(grid))
        return [_as_dict(row) for row in session.execute(stmt)]


class _VisitWithCustomer:
    """A visit as the evidence bundle prints it: every Visit field plus its customer."""

    def __init__(self, visit, customer):
        self._visit, self.customer = visit, customer

    def __getattr__(self, name):
        return getattr(self._visit, name)


def evidence(*, principal: Principal, user_id, day):
    """Everything about one user's local day that HR files in a dispute: the attendance row,
    the visits with photos and customers, the day's audit entries, and the chain verified now.
    hr, admin and the user's managers (a manager's own day too); a rep is refused (403), even
    its own day."""
    user = principal.scope.get(User, user_id, principal.scope.users())
    if principal.is_rep:
        raise Forbidden("The evidence bundle is for hr, admins and the user's managers; a rep "
                        "reads its own visits through /visits.")
    zone = db.session.scalar(select(effective_timezone_sql()).join(Org, Org.id == User.org_id)
                             .where(User.id == user.id))
    start, end = local_day_bounds(day, zone)
    # The day's records from the read session (the user and its zone came from the primary,
    # which the replica may trail); the chain is verified on the primary, now.
    with reading() as session:
        visits = session.scalars(
            with_outing(select(Visit).where(principal.scope.visits(), Visit.user_id == user.id,
                                            Visit.in_at >= start, Visit.in_at < end),
                        principal.org_id)
            .order_by(Visit.in_at, Visit.id).options(selectinload(Visit.photos))
        ).all()
        visit_ids = [v.id for v in visits]
        customers = {
            c.id: {"id": c.id, "name": c.name,
                   "location": None if c.lat is None else {"lat": c.lat, "lng": c.lng}}
            for c in session.execute(
                select(Customer.id, Customer.name, Customer.lat, Customer.lng)
                .join(Visit, and_(Visit.org_id == Customer.org_id,
                                  Visit.customer_id == Customer.id))
                .where(principal.scope.visits(), Visit.id.in_(visit_ids)).distinct())
        }
        photo_ids = [p.id for v in visits for p in v.photos]
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.org_id == principal.org_id, AuditEntry.user_id == user.id,
                or_(and_(AuditEntry.at >= start, AuditEntry.at < end),
                    and_(AuditEntry.entity_type == "visit", AuditEntry.entity_id.in_(visit_ids)),
                    and_(AuditEntry.entity_type == "photo", AuditEntry.entity_id.in_(photo_ids))))
            .order_by(AuditEntry.seq)
        ).all()
        row = session.execute(_page_statement(
            principal,
            people_cte(principal, {"from_": day, "to": day, "user_id": user.id}), day, day,
            limit=1, offset=0)).first()
    verified_at = datetime.now(UTC)
    check = verify_chain(org_id=principal.org_id, user_id=user.id)
    head_seq = db.session.scalar(select(func.max(AuditEntry.seq)).where(
        AuditEntry.org_id == principal.org_id, AuditEntry.user_id == user.id))
    return {
        "user": user, "date": day, "timezone": zone, "day_start": start, "day_end": end,
        "attendance": _as_dict(row) if row else None,
        "visits": [_VisitWithCustomer(v, customers[v.customer_id]) for v in visits],
        "audit": entries,
        "chain": {"head_hash": check["head_hash"], "head_seq": head_seq,
                  "verified": check["ok"], "entries": check["entries"],
                  "first_bad_seq": check["first_bad_seq"], "verified_at": verified_at},
        "generated_at": datetime.now(UTC), "generated_by": principal.id,
    }
