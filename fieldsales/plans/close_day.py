"""`fieldsales plans close-day` (cron): plans still planned after their user's local day are
missed. A day ends at the next local midnight in the user's zone (user → org → UTC), so a
23- or 25-hour day on a DST change ends when its people's clocks say so."""
from datetime import UTC, datetime
from itertools import groupby

from sqlalchemy import Date, DateTime, cast, func, literal, select, update

from fieldsales import audit
from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.plans.models import Plan
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone_sql


def _day_over(at):
    """SQL: the plan's local day ended at or before `at`."""
    next_midnight = cast(Plan.planned_date + literal(1), Date)
    return func.timezone(effective_timezone_sql(), cast(next_midnight, DateTime)) <= at


def close_day(*, now: datetime | None = None, progress=None) -> int:
    """Mark missed every planned plan whose local day is over; one transaction per user (its
    plans locked, then its audit chain). Returns how many were missed."""
    now = now or datetime.now(UTC)
    with transaction():
        due = db.session.execute(
            select(Plan.org_id, Plan.user_id, Plan.id)
            .join(User, (User.org_id == Plan.org_id) & (User.id == Plan.user_id))
            .join(Org, Org.id == Plan.org_id)
            .where(Plan.status == "planned", _day_over(now))
            .order_by(Plan.org_id, Plan.user_id, Plan.id)).all()
    missed = users = 0
    for (org_id, user_id), rows in groupby(due, key=lambda r: (r.org_id, r.user_id)):
        with transaction():
            # status re-checked under the row lock: a check-in or cancel that got there first
            # wins.
            ids = db.session.scalars(
                update(Plan).where(Plan.org_id == org_id, Plan.id.in_([r.id for r in rows]),
                                   Plan.status == "planned")
                .values(status="missed", updated_at=func.statement_timestamp())
                .returning(Plan.id).execution_options(synchronize_session=False)).all()
            for plan_id in sorted(ids):
                audit.record(org_id=org_id, user_id=user_id, actor_id=None,
                             action="plan.missed", entity_type="plan", entity_id=plan_id,
                             data={"at": now.isoformat()})
        missed += len(ids)
        users += 1
        if progress and users % 100 == 0:
            progress(f"plans close-day: {users} users, {missed} missed so far")
    if progress:
        progress(f"plans close-day: {users} users, {missed} missed")
    return missed
