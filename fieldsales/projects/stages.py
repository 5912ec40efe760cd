"""Stage moves of a project (API.md "Deals"): forward only, `lost` with a reason, `won` with
an amount, reopening a won or lost project only by the owner's managers and admins, each
move written as a project_stage_events row in the caller's transaction."""
from datetime import UTC, datetime

from sqlalchemy import select

from fieldsales.errors import Conflict, Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.projects.models import OPEN_STAGES, Project, ProjectStageEvent
from fieldsales.scope import Principal


def may_reopen(principal: Principal, owner_id) -> bool:
    """The owner's managers (not the owner itself) and admins."""
    if principal.is_admin:
        return True
    return (principal.is_manager and owner_id != principal.id
            and principal.scope.manages_user(owner_id))


def check_move(principal: Principal, project: Project, to: str, *, amount, lost_reason,
               reason) -> None:
    """Raise the error a move from the project's stage to `to` earns, if any."""
    current = project.stage
    if current not in OPEN_STAGES:
        if not may_reopen(principal, project.owner_id):
            raise Forbidden("Only the owner's managers or an admin may reopen a won or lost "
                            "project.")
        if not reason:
            raise field_error("reason", "Say why this won or lost project is reopened.")
    elif to in OPEN_STAGES and OPEN_STAGES.index(to) < OPEN_STAGES.index(current):
        raise Conflict(f"A project moves forward only: {current} cannot go back to {to}.",
                       error="stage_backwards")
    check_target(to, amount=amount, lost_reason=lost_reason)


def check_target(to: str, *, amount, lost_reason) -> None:
    """What entering a stage needs: `won` an amount, `lost` a reason."""
    if to == "won" and amount is None:
        raise field_error("amount", "A won project needs an amount.")
    if to == "lost" and not lost_reason:
        raise field_error("lost_reason", "Say why the project was lost.")


def enter(project: Project, to: str, *, actor_id, reason=None, lost_reason=None, first=False):
    """Put the project in stage `to` and write the event (`first`: the stage it opens in;
    not committed; rules checked before)."""
    at = datetime.now(UTC)
    event = ProjectStageEvent(org_id=project.org_id, project_id=project.id, at=at,
                              from_stage=None if first else project.stage,
                              to_stage=to, actor_id=actor_id,
                              reason=lost_reason if to == "lost" else reason)
    project.stage, project.stage_changed_at = to, at
    project.won_at = at if to == "won" else None
    project.lost_at = at if to == "lost" else None
    project.lost_reason = lost_reason if to == "lost" else None
    db.session.add(event)
    return event


def move(principal: Principal, project: Project, to: str, *, amount, lost_reason=None,
         reason=None):
    """Check and make one stage move of a locked project by the caller."""
    check_move(principal, project, to, amount=amount, lost_reason=lost_reason, reason=reason)
    return enter(project, to, actor_id=principal.id, reason=reason, lost_reason=lost_reason)


def history(project: Project) -> list[ProjectStageEvent]:
    """The project's stage events, oldest first."""
    return list(db.session.scalars(
        select(ProjectStageEvent)
        .where(ProjectStageEvent.org_id == project.org_id,
               ProjectStageEvent.project_id == project.id)
        .order_by(ProjectStageEvent.at, ProjectStageEvent.id)))
