"""Approvals: request, list, read and withdraw (deciding: approvals/deciding.py)."""
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.approvals import routing
from fieldsales.approvals.models import Approval
from fieldsales.approvals.schemas import PAYLOADS
from fieldsales.db import paginate, transaction
from fieldsales.errors import Conflict, Forbidden, Unprocessable
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc, local_date, local_day_bounds
from fieldsales.webhooks.outbox import emit

# How far an outing may lie from now, and how old a day a correction may be asked for.
OUTING_PAST = timedelta(days=31)
OUTING_FUTURE = timedelta(days=366)
CORRECTION_DAYS = 93


def payload_error(field, message, *, error="validation_error"):
    """A 422 naming one field of the payload, shaped like schema validation errors."""
    return Unprocessable(message, error=error,
                         errors={"json": {"payload": {field: [message]}}})


def closed(approval) -> Conflict:
    return Conflict(f"The approval is {approval.status}, no longer pending.",
                    error="approval_closed")


def _check_outing(principal: Principal, p: dict, now):
    from fieldsales.customers.models import Customer
    from fieldsales.projects.models import Project

    principal.scope.get(Customer, p["customer_id"], principal.scope.customers())
    if p.get("project_id") is not None and db.session.scalar(select(Project.id).where(
            principal.scope.projects(), Project.id == p["project_id"],
            Project.customer_id == p["customer_id"])) is None:
        raise payload_error("project_id", "No such project of this customer.")
    if not now - OUTING_PAST <= p["starts_at"] <= now + OUTING_FUTURE:
        raise payload_error("starts_at", "An outing starts at most 31 days ago and at most "
                                         "366 days ahead.")


def _check_correction(principal: Principal, p: dict, now):
    from fieldsales.visits.models import Visit

    today = local_date(now, principal.timezone)
    if p["date"] > today:
        raise payload_error("date", "This date has not begun yet in your time zone.",
                            error="date_in_future")
    if (today - p["date"]).days > CORRECTION_DAYS:
        raise payload_error("date", f"Corrections reach back at most {CORRECTION_DAYS} days.")
    start, end = local_day_bounds(p["date"], principal.timezone)
    if p["missing"] == "check_out":
        end += timedelta(days=1)  # a check-out may fall after midnight
    if not start <= p["at"] < end or p["at"] > now:
        raise payload_error("at", "Must fall on that date (a check-out up to a day later), "
                                  "not in the future.")
    if p.get("visit_id") is not None:
        day_start, day_end = local_day_bounds(p["date"], principal.timezone)
        if db.session.scalar(select(Visit.id).where(
                Visit.org_id == principal.org_id, Visit.id == p["visit_id"],
                Visit.user_id == principal.id, Visit.in_at >= day_start,
                Visit.in_at < day_end)) is None:
            raise payload_error("visit_id", "No visit of yours checked in on that date.")


def _check_target_change(principal: Principal, p: dict, now):
    import marshmallow as ma

    from fieldsales.targets.models import Target
    from fieldsales.targets.schemas import check_whole

    target = principal.scope.get(Target, p["target_id"], principal.scope.targets())
    try:
        check_whole(p, target.metric)
    except ma.ValidationError as exc:
        raise payload_error("amount", exc.messages[0]) from None


_CHECKS = {"outing": _check_outing, "attendance_correction": _check_correction,
           "target_change": _check_target_change}


def add_approval(*, principal: Principal, data: dict) -> Approval:
    """Route a new request and write it, its audit entry and its approval.requested event in
    the caller's transaction; not committed."""
    kind, payload = data["kind"], data["payload"]
    _CHECKS[kind](principal, payload, datetime.now(UTC))
    steps = routing.steps_for(principal, kind)
    approval = idempotency.stamp(Approval(
        org_id=principal.org_id, kind=kind, requester_id=principal.id, status="pending",
        payload=PAYLOADS[kind]().dump(payload), steps=steps, current_step=0,
        current_approvers=list(steps[0]["approver_ids"]),
    ), principal=principal, data=hashable(data))
    db.session.add(approval)
    db.session.flush()
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="approval.requested", entity_type="approval", entity_id=approval.id,
                 data={"kind": kind, "payload": approval.payload,
                       "approvers": [s["approver_ids"] for s in steps]})
    emit(principal.org_id, "approval.requested", {
        "approval_id": approval.id, "kind": kind, "requester_id": principal.id,
        "payload": approval.payload, "approver_ids": steps[0]["approver_ids"],
        "created_at": iso_utc(approval.created_at)})
    return approval


def hashable(data: dict) -> dict:
    """The request as JSON values, for the request digest (the payload as its kind dumps it)."""
    return {**data, "payload": PAYLOADS[data["kind"]]().dump(data["payload"])}


def create_approval(*, principal: Principal, data: dict):
    """Ask for an approval (the caller is the requester). Returns (approval, created)."""
    principal.scope.require_writer()
    return idempotency.create(Approval, principal=principal, data=hashable(data),
                              write=lambda: add_approval(principal=principal, data=data))


def list_approvals(*, principal: Principal, filters: dict, page):
    """Approvals the caller may read, newest first; `box` mine or todo."""
    stmt = select(Approval).where(principal.scope.approvals())
    if filters.get("box") == "mine":
        stmt = stmt.where(Approval.requester_id == principal.id)
    elif filters.get("box") == "todo":
        stmt = stmt.where(Approval.status == "pending",
                          Approval.current_approvers.contains([principal.id]))
    for key in ("kind", "status"):
        if key in filters:
            stmt = stmt.where(getattr(Approval, key) == filters[key])
    return paginate(stmt.order_by(Approval.created_at.desc(), Approval.id), page)


def get_approval(*, principal: Principal, approval_id, for_update=False) -> Approval:
    """One approval the caller may read (else 404)."""
    return principal.scope.get(Approval, approval_id, principal.scope.approvals(),
                               for_update=for_update)


def withdraw(*, principal: Principal, approval_id) -> Approval:
    """The requester takes back a pending request; withdrawing twice answers it unchanged."""
    principal.scope.require_writer()
    with transaction():
        approval = get_approval(principal=principal, approval_id=approval_id, for_update=True)
        if approval.requester_id != principal.id:
            raise Forbidden("Only the requester may withdraw a request.")
        if approval.status == "withdrawn":
            return approval
        if approval.status != "pending":
            raise closed(approval)
        approval.status, approval.current_approvers = "withdrawn", []
        approval.decided_at = datetime.now(UTC)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="approval.withdrawn", entity_type="approval",
                     entity_id=approval.id, data={"kind": approval.kind})
    return approval
