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
