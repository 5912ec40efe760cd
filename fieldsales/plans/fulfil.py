"""Fulfilment: which plan an event (check-in, contact record, lead follow-up) carries out.

The plan is found and locked inside the event's own statements (visits/writes.py for check-in)
and marked done in the event's transaction; plans.visit_id and plans.contact_record_id are
unique, and visits.plan_id too, so one event fulfils at most one plan and a plan is done once.
"""
from fieldsales.errors import Conflict, Forbidden, NotFound, field_error


def require_planned(status: str):
    """A plan can change only while it is planned (409 plan_closed)."""
    if status != "planned":
        raise Conflict(f"The plan is {status}.", error="plan_closed")


def plan_for_check_in(row, *, principal, data, customer_id):
    """The id of the plan a check-in fulfils (None: an unplanned visit). `row` is the check-in
    read statement's: the named plan (visible to the caller), else the rep's planned visit
    to this customer on that local day."""
    if data.get("plan_id") is None:
        return row.plan_id
    if row.plan_id is None:
        raise NotFound("Plan not found.")
    if row.plan_user_id != principal.id:
        raise Forbidden("Only the plan's own rep carries it out.")
    require_planned(row.plan_status)
    if row.plan_kind != "visit" or row.plan_customer_id != customer_id:
        raise field_error("plan_id", "This is not a visit plan for this customer.")
    return row.plan_id


def fulfil_call(principal, *, at, customer_id=None, lead_id=None, contact_record_id=None):
    """Mark done the caller's planned call/follow_up plan for this customer or lead on the
    local day of `at` (earliest start first), in one statement inside the caller's
    transaction, before it writes its audit entries (a plan is locked before an audit head);
    returns the plan's id, or None when nothing was planned."""
    from sqlalchemy import func, select, update

    from fieldsales.extensions import db
    from fieldsales.plans.models import Plan
    from fieldsales.timeutil import local_date

    subject = Plan.customer_id == customer_id if lead_id is None else Plan.lead_id == lead_id
    target = (select(Plan.id).where(
        Plan.org_id == principal.org_id, Plan.user_id == principal.id, subject,
        Plan.kind.in_(("call", "follow_up")), Plan.status == "planned",
        Plan.planned_date == local_date(at, principal.timezone))
        .order_by(Plan.planned_start.asc().nulls_last(), Plan.created_at, Plan.id)
        .limit(1).with_for_update().scalar_subquery())
    return db.session.scalar(
        update(Plan).where(Plan.org_id == principal.org_id, Plan.id == target)
        .values(status="done", contact_record_id=contact_record_id,
                updated_at=func.statement_timestamp())
        .returning(Plan.id).execution_options(synchronize_session=False))
