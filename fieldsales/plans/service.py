"""Plans: create, list, edit and cancel what a rep should do on a local date."""
from datetime import UTC, datetime

from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.plans.fulfil import require_planned
from fieldsales.plans.models import Plan
from fieldsales.scope import Principal
from fieldsales.timeutil import local_date

EDITABLE = ("planned_date", "planned_start", "planned_end", "purpose", "talking_points")


def list_plans(*, principal: Principal, filters: dict, page):
    """Plans the caller may see, by date then start time."""
    stmt = select(Plan).where(principal.scope.plans())
    for key in ("user_id", "customer_id", "status"):
        if key in filters:
            stmt = stmt.where(getattr(Plan, key) == filters[key])
    if "team_id" in filters:
        stmt = stmt.where(Plan.user_id.in_(principal.scope.member_ids([filters["team_id"]])))
    if "from_" in filters:
        stmt = stmt.where(Plan.planned_date >= filters["from_"])
    if "to" in filters:
        stmt = stmt.where(Plan.planned_date <= filters["to"])
    return paginate(stmt.order_by(Plan.planned_date, Plan.planned_start.asc().nulls_last(),
                                  Plan.created_at, Plan.id), page)


def get_plan(*, principal: Principal, plan_id, for_update=False):
    """One visible plan."""
    return principal.scope.get(Plan, plan_id, principal.scope.plans(), for_update=for_update)


def planner(principal: Principal, user_id) -> Principal:
    """The principal of the user a plan is for: the caller, or (managers, admin) an active
    user in its scope; a rep naming someone else is 403, anyone else a 422 on user_id."""

    user = principal.scope.assignable_owner(user_id, what="plans")
    if not user.active:
        raise field_error("user_id", "This user is deactivated.")
    return as_principal(user)


def as_principal(user) -> Principal:
    """The principal acting as `user` (its effective time zone and scope)."""
    from fieldsales.orgs.models import Org

    org_tz = db.session.scalar(select(Org.timezone).where(Org.id == user.org_id))
    return Principal.for_user(user, org_timezone=org_tz)


def _not_past(day, tz: str):
    if day < local_date(datetime.now(UTC), tz):
        raise field_error("planned_date", "This day is over in the user's time zone.")


def _subject(principal: Principal, who: Principal, model, id_, field: str):
    """The customer or lead a plan names: visible to the caller (else 404) and to the planned
    user (else 422)."""
    rule = model.__tablename__
    row = principal.scope.get(model, id_, getattr(principal.scope, rule)())
    if who.id != principal.id and db.session.scalar(
            select(model.id).where(model.id == id_, getattr(who.scope, rule)())) is None:
        raise field_error(field, "The planned user cannot see it.")
    return row


def add_plan(*, principal: Principal, data: dict) -> Plan:
    """Write a new plan and its audit entry in the caller's transaction (POST /plans, /sync);
    not committed."""
    from fieldsales.customers.models import Customer
    from fieldsales.leads.models import Lead
    from fieldsales.projects.models import Project

    principal.scope.require_writer()
    who = planner(principal, data.get("user_id", principal.id))
    _not_past(data["planned_date"], who.timezone)
    if data.get("customer_id") is not None:
        _subject(principal, who, Customer, data["customer_id"], "customer_id")
    if data.get("lead_id") is not None:
        _subject(principal, who, Lead, data["lead_id"], "lead_id")
    if data.get("project_id") is not None and db.session.scalar(select(Project.id).where(
            Project.org_id == principal.org_id, Project.id == data["project_id"],
            Project.customer_id == data.get("customer_id"))) is None:
        raise field_error("project_id", "No such project of this customer.")
    plan = idempotency.stamp(Plan(
        org_id=principal.org_id, user_id=who.id, kind=data["kind"],
        customer_id=data.get("customer_id"), lead_id=data.get("lead_id"),
        project_id=data.get("project_id"), planned_date=data["planned_date"],
        planned_start=data.get("planned_start"), planned_end=data.get("planned_end"),
        purpose=data.get("purpose", ""), talking_points=data.get("talking_points", ""),
        status="planned", source="self" if who.id == principal.id else "manager",
    ), principal=principal, data=data)
    db.session.add(plan)
    audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                 action="plan.created", entity_type="plan", entity_id=plan.id,
                 data={"user_id": who.id, "kind": plan.kind, "customer_id": plan.customer_id,
                       "lead_id": plan.lead_id, "planned_date": plan.planned_date.isoformat()})
    return plan


def create_plan(*, principal: Principal, data: dict):
    """Plan a visit, call or follow-up for the caller or one of its people. Returns (plan,
    created)."""
    principal.scope.require_writer()
    return idempotency.create(Plan, principal=principal, data=data,
                              write=lambda: add_plan(principal=principal, data=data))


def _editable(principal: Principal, plan_id) -> Plan:
    """The plan locked for a change by its user or its creator (others 403)."""
    principal.scope.require_writer()
    plan = get_plan(principal=principal, plan_id=plan_id, for_update=True)
    if principal.id not in (plan.user_id, plan.created_by):
        raise Forbidden("Only the plan's user or whoever made it may change it.")
    return plan


def update_plan(*, principal: Principal, plan_id, data: dict):
    """Move or reword a plan while it is still planned."""
    with transaction():
        plan = _editable(principal, plan_id)
        require_planned(plan.status)
        start = data.get("planned_start", plan.planned_start)
        end = data.get("planned_end", plan.planned_end)
        if start is not None and end is not None and end < start:
            raise field_error("planned_end", "Must not be before planned_start.")
        if "planned_date" in data and data["planned_date"] != plan.planned_date:
            _not_past(data["planned_date"], planner(principal, plan.user_id).timezone)
        changed = apply_changes(plan, data, EDITABLE)
        if changed:
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="plan.updated", entity_type="plan", entity_id=plan.id,
                         data=changed)
    return plan


def cancel_plan(*, principal: Principal, plan_id, reason: str | None):
    """Cancel a planned plan; a rep cancelling its manager's plan says why. A repeat of the
    same cancel answers the plan unchanged."""
    with transaction():
        plan = _editable(principal, plan_id)
        if plan.status == "cancelled" and plan.cancel_reason == reason:
            return plan
        require_planned(plan.status)
        if principal.is_rep and plan.created_by != principal.id and not reason:
            raise field_error("reason", "Say why you cancel a plan your manager made.")
        plan.status, plan.cancel_reason = "cancelled", reason
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="plan.cancelled", entity_type="plan", entity_id=plan.id,
                     data={"reason": reason})
    return plan
