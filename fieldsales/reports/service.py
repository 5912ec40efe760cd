"""Daily reports: read (a draft compiled from the day when nothing was saved), save, submit,
review, list.

Who may write what, and when (README "Daily reports and alerts"):
- Only the rep itself writes its report (PUT has no user_id); hr is read-only.
- A report is locked while submitted or approved (409 report_locked); a manager's `returned`
  unlocks it. A PUT that would change nothing answers 200 with the stored report, so a phone
  retrying a submission never sees a spurious 409.
- Only submitted reports can be reviewed (409 report_not_submitted); by the rep's managers
  and admin, never by the author.

Race safety: every write locks the report row (FOR UPDATE) before reading its status, and the
first save of a day goes through INSERT ... ON CONFLICT DO NOTHING on the unique
(org_id, user_id, day),
so submit, review and edit on one report run one after another and each sees what the previous
one committed. The audit entry (on the rep's chain, actor = whoever acted) is written in the
same transaction and seals the report's fields (evidence), so editing a report in SQL is caught
by audit verification.
"""
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from fieldsales import audit
from fieldsales.db import paginate, transaction
from fieldsales.errors import Conflict, Forbidden, NotFound, Unprocessable
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.reports import rules
from fieldsales.reports.compile import compile_days
from fieldsales.reports.models import DailyReport
from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.timeutil import iso_utc, local_date
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone_sql
from fieldsales.webhooks import events as webhook_events


def _now():
    return datetime.now(UTC)


@dataclass
class ReportView:
    """A report as the API shows it: stored fields, plus stats and visits (frozen or live)."""

    id: object
    user_id: object
    day: date
    status: str
    stats: dict
    visits: list
    summary: str | None = None
    plan: str | None = None
    problems: str | None = None
    submitted_at: datetime | None = None
    review: dict | None = None


# --- errors ----------------------------------------------------------------------------------

_MESSAGES = {
    "date_in_future": "This date has not begun yet in the rep's time zone.",
    "report_too_old": f"Reports can be written for the last {rules.WRITE_BACK_DAYS} days only "
                      "(older ones when a manager returned them).",
}


def _date_error(problem):
    message = _MESSAGES[problem]
    return Unprocessable(message, error=problem, errors={"path": {"date": [message]}})


def _locked(report):
    return Conflict(f"This report is {report.status}; it can be changed again only after a "
                    "manager returns it.", error="report_locked")


# --- evidence --------------------------------------------------------------------------------


def evidence(r: DailyReport, version=None) -> dict:
    """The report's fields as sealed in the rep's audit chain (the same in every version)."""
    return {
        "report_id": str(r.id), "org_id": str(r.org_id), "user_id": str(r.user_id),
        "date": r.day.isoformat(), "status": r.status, "summary": r.summary, "plan": r.plan,
        "problems": r.problems, "stats": r.frozen_stats, "visits": r.frozen_visits,
        "submitted_at": iso_utc(r.submitted_at, zulu=False),
        "reviewed_by": str(r.reviewed_by) if r.reviewed_by else None,
        "reviewed_at": iso_utc(r.reviewed_at, zulu=False),
        "review_decision": r.review_decision,
        "review_comment": r.review_comment,
    }


EVIDENCE = audit.Evidence("daily_report", DailyReport.__table__, evidence)


def _seal(report: DailyReport, *, action: str, actor_id, data=None):
    EVIDENCE.seal(report, action=f"daily_report.{action}", actor_id=actor_id,
                  data={"date": report.day.isoformat(), "status": report.status,
                        **(data or {})})


# --- views -----------------------------------------------------------------------------------

def _views(org_id, items) -> list[ReportView]:
    """ReportViews for (report | None, user_id, day, tz) items: stored reports that are
    submitted or approved show their frozen numbers; drafts, returned reports and days with
    nothing saved are compiled now, all of them in one go."""
    live = [(user_id, day, tz) for report, user_id, day, tz in items
            if report is None or not rules.is_locked(report.status)]
    compiled = compile_days(org_id=org_id, days=live)
    views = []
    for report, user_id, day, _tz in items:
        if report is None:
            stats, visits = compiled[(user_id, day)]
            views.append(ReportView(id=None, user_id=user_id, day=day, status="draft",
                                    stats=stats, visits=visits))
            continue
        if rules.is_locked(report.status):
            stats, visits = rules.thaw(report.frozen_stats, report.frozen_visits)
        else:
            stats, visits = compiled[(user_id, day)]
        review = None if report.reviewed_at is None else {
            "by": report.reviewed_by, "at": report.reviewed_at,
            "comment": report.review_comment, "decision": report.review_decision}
        views.append(ReportView(
            id=report.id, user_id=report.user_id, day=report.day, status=report.status,
            stats=stats, visits=visits, summary=report.summary, plan=report.plan,
            problems=report.problems, submitted_at=report.submitted_at, review=review))
    return views


def _rep(principal: Principal, user_id):
    """The report's rep, if the caller may see it (else 404), with its time zone."""
    row = db.session.execute(
        select(User.id, effective_timezone_sql()).join(Org, Org.id == User.org_id)
        .where(User.id == user_id, principal.scope.users())
    ).first()
    if row is None:
        raise NotFound("User not found.")
    return row


# --- use cases -------------------------------------------------------------------------------

def get_report(*, principal: Principal, day: date, user_id=None, now=None) -> ReportView:
    """The rep's report for its local `day`, or a draft compiled from the day."""
    user_id, tz = _rep(principal, user_id or principal.id)
    if problem := rules.date_problem(day, local_date(now or _now(), tz)):
        raise _date_error(problem)
    report = db.session.scalar(select(DailyReport).where(
        principal.scope.daily_reports(), DailyReport.user_id == user_id, DailyReport.day == day))
    return _views(principal.org_id, [(report, user_id, day, tz)])[0]


def _lock_own_report(principal: Principal, day: date) -> tuple[DailyReport, bool]:
    """The caller's report row for `day`, locked; created as an empty draft if missing.
    Returns (report, created)."""
    created = db.session.scalar(
        pg_insert(DailyReport)
        .values(org_id=principal.org_id, user_id=principal.id, day=day, status="draft")
        .on_conflict_do_nothing(index_elements=["org_id", "user_id", "day"])
        .returning(DailyReport.id))
    report = db.session.scalar(
        select(DailyReport).where(principal.scope.daily_reports(),
                                  DailyReport.user_id == principal.id, DailyReport.day == day)
        .with_for_update().execution_options(populate_existing=True))
    return report, created is not None


def save_report(*, principal: Principal, day: date, data: dict, now=None) -> ReportView:
    """The rep saves (submit false) or submits (submit true) its own report for `day`."""
    principal.scope.require_writer()
    now = now or _now()
    tz = principal.timezone
    today = local_date(now, tz)
    if problem := rules.date_problem(day, today):
        raise _date_error(problem)
    with transaction():
        report, created = _lock_own_report(principal, day)
        status = None if created else report.status
        stored = {k: getattr(report, k) for k in rules.TEXT_FIELDS}
        if rules.is_noop_put(stored, status, data):
            return _views(principal.org_id, [(report, principal.id, day, tz)])[0]
        if rules.is_locked(status):
            raise _locked(report)
        if problem := rules.write_problem(day, today, status):
            raise _date_error(problem)
        changed = rules.changes(stored, data)
        sealed = {"changed": sorted(changed)}
        if data.get("submit"):
            # Compiled under the report's lock, before the row changes (no autoflush between).
            stats, visits = compile_days(org_id=principal.org_id,
                                         days=[(principal.id, day, tz)])[(principal.id, day)]
            report.frozen_stats, report.frozen_visits = rules.freeze(stats, visits)
            report.submitted_at = now
            sealed["stats"] = report.frozen_stats
        for key, value in changed.items():
            setattr(report, key, value)
        report.status = rules.status_after_put(status, submit=data.get("submit", False))
        _seal(report, action="submitted" if data.get("submit") else "saved",
              actor_id=principal.id, data=sealed)
        if data.get("submit"):
            webhook_events.report_submitted(report)
    return _views(principal.org_id, [(report, principal.id, day, tz)])[0]


def review_report(*, principal: Principal, report_id, data: dict, now=None) -> ReportView:
    """A manager of the rep (or an admin) approves or returns a submitted report."""
    with transaction():
        report = principal.scope.get(DailyReport, report_id, principal.scope.daily_reports(),
                                     for_update=True)
        principal.scope.require_writer()
        if not principal.scope.can_review_report(report):
            raise Forbidden("Only the rep's managers or an admin may review this report "
                            "(never its author).")
        decision, comment = data["decision"], data.get("comment")
        tz = db.session.scalar(select(effective_timezone_sql()).select_from(User)
                               .join(Org, Org.id == User.org_id)
                               .where(User.org_id == principal.org_id,
                                      User.id == report.user_id))
        if (report.status == decision and report.reviewed_by == principal.id
                and report.review_comment == comment):
            return _views(principal.org_id, [(report, report.user_id, report.day, tz)])[0]
        if not rules.can_review(report.status):
            raise Conflict("Only submitted reports can be reviewed; this one is "
                           f"{report.status}.", error="report_not_submitted")
        report.status = decision
        report.review_decision, report.review_comment = decision, comment
        report.reviewed_by, report.reviewed_at = principal.id, now or _now()
        _seal(report, action=decision, actor_id=principal.id, data={"comment": comment})
    return _views(principal.org_id, [(report, report.user_id, report.day, tz)])[0]


def list_reports(*, principal: Principal, filters: dict, page) -> list[ReportView]:
    """Saved reports the caller may see (reps: their own), newest day first."""
    stmt = (select(DailyReport, effective_timezone_sql())
            .join(User, (User.org_id == DailyReport.org_id) & (User.id == DailyReport.user_id))
            .join(Org, Org.id == DailyReport.org_id)
            .where(principal.scope.daily_reports()))
    if "user_id" in filters:
        stmt = stmt.where(DailyReport.user_id == filters["user_id"])
    if "team_id" in filters:
        stmt = stmt.where(User.team_id.in_(team_subtree_ids(principal.org_id,
                                                             filters["team_id"])))
    if "from_" in filters:
        stmt = stmt.where(DailyReport.day >= filters["from_"])
    if "to" in filters:
        stmt = stmt.where(DailyReport.day <= filters["to"])
    if "status" in filters:
        stmt = stmt.where(DailyReport.status == filters["status"])
    rows = paginate(stmt.order_by(DailyReport.day.desc(), User.name, DailyReport.id), page,
                    scalars=False)
    return _views(principal.org_id, [(r, r.user_id, r.day, tz) for r, tz in rows])
