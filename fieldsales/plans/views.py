from flask import current_app

from fieldsales.auth.guard import current
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe, replayed, responds
from fieldsales.plans import agenda, service
from fieldsales.plans.schemas import (AgendaPlanSchema, AgendaQuerySchema, AgendaSchema,
                                      PlanCancelSchema, PlanCreateSchema, PlanPatchSchema,
                                      PlanQuerySchema, PlanSchema)

_AGENDA_PLANS = AgendaPlanSchema(many=True)

blp = Blueprint("plans", __name__, url_prefix="/api/v1",
                description="Plans (拜访计划): what a rep should do on a local date")

describe("""
### Plans

A plan says what a rep should do on a local date (its time zone): visit a customer, call or
follow up a customer or a lead. Reps plan for themselves; managers and admins for the users in
their scope (`source: manager`). A plan's customer or lead must be visible to the caller (404)
and to the planned user (422); days already over in the user's time zone are 422. Its user or
whoever made it may edit or cancel it while it is `planned` (else 409 `plan_closed`); a rep
cancelling a plan its manager made must give a `reason`.

`GET /agenda` is a user's day: its plans for that local date, the customers and held leads
whose latest follow-up set a `next_follow_up_at` due by the end of the day (nothing logged
since), and its own graded customers not visited within their grade's `visit_cadence_days`.
With `near`, each list is nearest first (else by time); each list holds at most
{limit} items.
""".replace("{limit}", str(agenda.LIMIT)))


@blp.get("/plans")
@blp.arguments(PlanQuerySchema, location="query")
@blp.response(200, PlanSchema(many=True))
@blp.paginate()
def list_plans(filters, pagination_parameters):
    """List plans (a rep: its own; others: their scope)."""
    return service.list_plans(principal=current(), filters=filters, page=pagination_parameters)


@blp.post("/plans")
@blp.arguments(PlanCreateSchema)
@blp.response(201, PlanSchema)
@replayed(blp, PlanSchema)
@responds(blp, 403, 404, 409)
def create_plan(data):
    """Plan a visit, call or follow-up."""
    plan, created = service.create_plan(principal=current(), data=data)
    return plan, 201 if created else 200


@blp.get("/plans/<uuid:plan_id>")
@blp.response(200, PlanSchema)
def get_plan(plan_id):
    """Get a plan."""
    return service.get_plan(principal=current(), plan_id=plan_id)


@blp.patch("/plans/<uuid:plan_id>")
@blp.arguments(PlanPatchSchema)
@blp.response(200, PlanSchema)
@responds(blp, 403, "plan_closed")
def update_plan(data, plan_id):
    """Move or reword a plan that is still planned."""
    return service.update_plan(principal=current(), plan_id=plan_id, data=data)


@blp.post("/plans/<uuid:plan_id>/cancel")
@blp.arguments(PlanCancelSchema)
@blp.response(200, PlanSchema)
@responds(blp, 403, "plan_closed")
def cancel_plan(data, plan_id):
    """Cancel a plan that is still planned."""
    return service.cancel_plan(principal=current(), plan_id=plan_id, reason=data.get("reason"))


@blp.get("/agenda")
@blp.arguments(AgendaQuerySchema, location="query")
@blp.response(200, AgendaSchema)
@responds(blp, 404)
def get_agenda(query):
    """A rep's day: plans, due follow-ups, overdue customers."""
    day = agenda.agenda(principal=current(), user_id=query.get("user_id"),
                        day=query.get("date"), near=query.get("near"))
    # The up to 200 flat follow-up and customer items come from the service as JSON already:
    # dumping them through marshmallow took 40% of the request (bench `agenda`). The schema
    # still documents them, and tests/contract validates every answer against it.
    return current_app.json.response({
        "date": day["date"].isoformat(), "plans": _AGENDA_PLANS.dump(day["plans"]),
        "due_follow_ups": day["due_follow_ups"], "overdue_customers": day["overdue_customers"]})
