from fieldsales.approvals import deciding, service
from fieldsales.approvals.schemas import (ApprovalCreateSchema, ApprovalQuerySchema,
                                          ApprovalSchema, DecideSchema)
from fieldsales.auth.guard import current
from fieldsales.extensions import Blueprint
from fieldsales.openapi import describe, replayed, responds

blp = Blueprint("approvals", __name__, url_prefix="/api/v1",
                description="Approvals (审批): outings, attendance corrections, target changes")

describe("""
### Approvals

`POST /approvals` asks for an approval (the caller is the requester): an `outing` (外出) to a
customer in a window, an `attendance_correction` (补卡) of a missing check-in or check-out, or
a `target_change`. It is routed when created: step 1 is the active managers of the
requester's team, else of the nearest team above that has one; each further step the next team
up with managers; then the org's admins — as many steps as the org's `approval_levels[kind]`
(default outing 1, attendance_correction 1, target_change 2). Nobody decides its own request
(a manager asking skips itself; 422 `no_approver` when nobody else could decide). Any approver
of the current step decides it (else 403); a rejection ends the request, the last approval
applies it in the same transaction, sealed in the requester's audit chain: an approved outing
makes the requester's check-ins at that customer inside the window count as `outing` in
attendance; a correction is recorded beside the visits (never changed) and the day reads
`corrected: true`; a target change sets the target's amount. Deciding a step again the same
way answers 200 unchanged; the other way, 409 `already_decided`; a request no longer pending,
409 `approval_closed`. The requester, its approvers, the managers over the requester and
admins may read a request (others 404). Webhooks: `approval.requested` on create,
`approval.decided` on the final decision.
""")


@blp.get("/approvals")
@blp.arguments(ApprovalQuerySchema, location="query")
@blp.response(200, ApprovalSchema(many=True))
@blp.paginate()
def list_approvals(filters, pagination_parameters):
    """List approvals the caller may read, newest first."""
    return service.list_approvals(principal=current(), filters=filters,
                                  page=pagination_parameters)


@blp.post("/approvals")
@blp.arguments(ApprovalCreateSchema)
@blp.response(201, ApprovalSchema)
@replayed(blp, ApprovalSchema)
@responds(blp, 403, 404, 409, "no_approver", "date_in_future")
def create_approval(data):
    """Ask for an approval."""
    approval, created = service.create_approval(principal=current(), data=data)
    return approval, 201 if created else 200


@blp.get("/approvals/<uuid:approval_id>")
@blp.response(200, ApprovalSchema)
def get_approval(approval_id):
    """Get an approval."""
    return service.get_approval(principal=current(), approval_id=approval_id)


@blp.post("/approvals/<uuid:approval_id>/decide")
@blp.arguments(DecideSchema)
@blp.response(200, ApprovalSchema)
@responds(blp, 403, "already_decided", "approval_closed")
def decide(data, approval_id):
    """Approve or reject the current step."""
    return deciding.decide(principal=current(), approval_id=approval_id,
                           decision=data["decision"], comment=data.get("comment"))


@blp.post("/approvals/<uuid:approval_id>/withdraw")
@blp.response(200, ApprovalSchema)
@responds(blp, 403, "approval_closed")
def withdraw(approval_id):
    """Withdraw a pending request (the requester)."""
    return service.withdraw(principal=current(), approval_id=approval_id)
