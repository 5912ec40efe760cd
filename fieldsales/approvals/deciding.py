"""Deciding an approval, and what a final approval changes: in one transaction, under the
approval's row lock, sealed in the requester's audit chain."""
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from fieldsales import audit
from fieldsales.approvals.models import Approval, AttendanceCorrection
from fieldsales.approvals.service import closed, get_approval
from fieldsales.db import transaction
from fieldsales.errors import Conflict, Forbidden
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc
from fieldsales.webhooks.outbox import emit


def correction_fields(c, version=None) -> dict:
    return {"id": str(c.id), "org_id": str(c.org_id), "user_id": str(c.user_id),
            "date": c.date.isoformat(), "missing": c.missing, "at": iso_utc(c.at, zulu=False),
            "visit_id": str(c.visit_id) if c.visit_id else None,
            "approval_id": str(c.approval_id), "reason": c.reason}


# Corrections are sealed evidence: `audit verify` recomputes them from the live rows.
CORRECTION = audit.Evidence("attendance_correction", AttendanceCorrection.__table__,
                            correction_fields)


def _seal(approval: Approval, principal: Principal, action: str, **data):
    """An entry in the requester's chain (the decider is its actor)."""
    return audit.record(org_id=approval.org_id, user_id=approval.requester_id,
                        actor_id=principal.id, action=action, entity_type="approval",
                        entity_id=approval.id, data={"kind": approval.kind, **data})


def _correct_attendance(approval: Approval, principal: Principal):
    p = approval.payload
    row = AttendanceCorrection(
        org_id=approval.org_id, id=uuid.uuid4(), user_id=approval.requester_id,
        date=datetime.fromisoformat(p["date"]).date(), missing=p["missing"],
        at=datetime.fromisoformat(p["at"].replace("Z", "+00:00")),
        visit_id=uuid.UUID(p["visit_id"]) if p.get("visit_id") else None,
        approval_id=approval.id, reason=p["reason"])
    db.session.add(row)
    db.session.flush()
    CORRECTION.seal(row, action="attendance.corrected", actor_id=principal.id,
                    data={"approval_id": str(approval.id)})


def _change_target(approval: Approval, principal: Principal):
    from fieldsales.targets.models import Target

    target = db.session.scalar(
        select(Target).where(Target.org_id == approval.org_id,
                             Target.id == approval.payload["target_id"])
        .with_for_update(key_share=True))
    before, target.amount = target.amount, Decimal(approval.payload["amount"])
    audit.record(org_id=approval.org_id, user_id=approval.requester_id, actor_id=principal.id,
                 action="target.changed", entity_type="target", entity_id=target.id,
                 data={"status": target.status, "amount_before": str(before),
                       "amount": str(target.amount), "reason": approval.payload["reason"],
                       "approval_id": str(approval.id)})


# An approved outing writes nothing: attendance and visits read approved outings (facts.py).
EFFECTS = {"outing": None, "attendance_correction": _correct_attendance,
           "target_change": _change_target}


def _already(approval: Approval, me: str, decision: str):
    """A step the caller could decide that is decided already: the same decision again is a
    repeat (True), another one 409 already_decided; None when there is no such step."""
    for step in approval.steps:
        if me in step["approver_ids"] and step["decision"] is not None:
            if step["decision"] != decision:
                raise Conflict(f"This step was already {step['decision']}.",
                               error="already_decided")
            return True
    return None


def decide(*, principal: Principal, approval_id, decision: str, comment: str | None):
    """Approve or reject the current step (one of its approvers); the final approval applies
    the request's effect."""
    principal.scope.require_writer()
    me = str(principal.id)
    with transaction():
        approval = get_approval(principal=principal, approval_id=approval_id, for_update=True)
        if _already(approval, me, decision):
            return approval
        if approval.status != "pending":
            raise closed(approval)
        current = approval.steps[approval.current_step]
        if me not in current["approver_ids"]:
            raise Forbidden("Only an approver of the current step may decide it.")
        now = datetime.now(UTC)
        steps = [dict(s) for s in approval.steps]
        steps[approval.current_step].update(decided_by=me, decision=decision,
                                            comment=comment, at=iso_utc(now))
        approval.steps = steps
        last = approval.current_step == len(steps) - 1
        if decision == "approved" and not last:
            approval.current_step += 1
            approval.current_approvers = [uuid.UUID(i) for i in
                                          steps[approval.current_step]["approver_ids"]]
            _seal(approval, principal, "approval.step_approved", step=approval.current_step - 1,
                  comment=comment)
            return approval
        approval.status, approval.decided_at, approval.current_approvers = decision, now, []
        # The effect first: it locks what it changes (a target) before the chain head, in the
        # order every target change takes them.
        if decision == "approved" and EFFECTS[approval.kind] is not None:
            EFFECTS[approval.kind](approval, principal)
        _seal(approval, principal, f"approval.{decision}", step=approval.current_step,
              comment=comment)
        emit(approval.org_id, "approval.decided", {
            "approval_id": approval.id, "kind": approval.kind,
            "requester_id": approval.requester_id, "status": approval.status,
            "decided_by": principal.id, "decided_at": iso_utc(now), "comment": comment})
    return approval
