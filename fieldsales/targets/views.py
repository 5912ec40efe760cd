from flask import render_template

from fieldsales.auth.guard import current
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe, replayed, responds
from fieldsales.targets import allocate, funnel, progress, service
from fieldsales.targets.schemas import (AllocateSchema, FunnelQuerySchema, FunnelSchema,
                                        ProgressQuerySchema, ProgressSchema, TargetCreateSchema,
                                        TargetPatchSchema, TargetQuerySchema, TargetSchema)

blp = Blueprint("targets", __name__, url_prefix="/api/v1",
                description="Sales targets (目标管理) and the funnel")

describe("""
### Targets

A target is an amount of a metric over a period ("2027", "2027-Q1", "2027-03") for the org, a
team or a user; one per (metric, period, subject) (409 `target_exists`). Admins set any; a
manager sets those of the teams and people below it, never its own nor its own team's (403).
`allocate` splits a target in one transaction into its quarters or months (same subject) or
among the subject's direct teams and people (same period). `publish` needs each kind of split
to add up to at least the target (422 `allocation_short`); a published target changes only with
a `reason` (audited), by its creator or those above them.

Progress is computed live: an event counts on its owner's local date, for the team the owner
was in at the time, summed over a team's whole subtree. `expected_to_date` is the linear pace
(amount × days elapsed / days in the period, `as_of` or today); `gap` = expected − achieved.
""")


@blp.get("/targets")
@blp.arguments(TargetQuerySchema, location="query")
@blp.response(200, TargetSchema(many=True))
@blp.paginate()
def list_targets(filters, pagination_parameters):
    """List targets (a rep: its own; a manager: its subtree's; hr, admin: all)."""
    return service.list_targets(principal=current(), filters=filters,
                                page=pagination_parameters)


@blp.post("/targets")
@blp.arguments(TargetCreateSchema)
@blp.response(201, TargetSchema)
@replayed(blp, TargetSchema)
@responds(blp, 403, "target_exists")
def create_target(data):
    """Set a target for the org, a team or a user."""
    target, created = service.create_target(principal=current(), data=data)
    return target, 201 if created else 200


@blp.get("/targets/progress")
@blp.arguments(ProgressQuerySchema, location="query")
@blp.response(200, ProgressSchema(many=True))
def target_progress(filters):
    """Targets with what was achieved so far, computed live."""
    return progress.progress(principal=current(), filters=filters)


@blp.get("/targets/<uuid:target_id>")
@blp.response(200, TargetSchema)
def get_target(target_id):
    """Get a target."""
    return service.get_target(principal=current(), target_id=target_id)


@blp.patch("/targets/<uuid:target_id>")
@blp.arguments(TargetPatchSchema)
@blp.response(200, TargetSchema)
@responds(blp, 403)
def update_target(data, target_id):
    """Change a target's amount (published: with a reason)."""
    return service.update_target(principal=current(), target_id=target_id, data=data)


@blp.post("/targets/<uuid:target_id>/allocate")
@blp.arguments(AllocateSchema)
@blp.response(200, TargetSchema(many=True))
@responds(blp, 403, "target_exists")
def allocate_target(data, target_id):
    """Split a target into periods or among its subject's teams and people."""
    return allocate.allocate(principal=current(), target_id=target_id,
                             children=data["children"])


@blp.post("/targets/<uuid:target_id>/publish")
@blp.response(200, TargetSchema)
@responds(blp, 403, "allocation_short")
def publish_target(target_id):
    """Publish a target."""
    return service.publish_target(principal=current(), target_id=target_id)


@blp.get("/reports/funnel")
@blp.arguments(FunnelQuerySchema, location="query")
@blp.response(200, FunnelSchema)
@responds(blp, 404)
def get_funnel(query):
    """The sales funnel of the caller's people over a span of local days."""
    return funnel.funnel(principal=current(), filters=query)


# --- this month's progress bars (HTML, no auth: the team map's login carries the token) -----

def targets_page():
    """This month's targets of the caller's teams and people as progress bars."""
    return render_template("targets.html")


# A page route of the app rather than a blueprint of its own: every blueprint of the app is
# an API one (bounded pagination); this one serves a single HTML page.
blp.record_once(lambda state: state.app.add_url_rule("/targets", "targets_page", targets_page,
                                                     methods=["GET"]))
