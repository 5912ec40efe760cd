"""Whom a target is for (the org, a team or a user) and who may set or split it.

Like Salesforce quotas, a manager sets the targets of the teams and people below it, never its
own nor its own team's; an admin sets any. Splitting (allocate) follows the same rule for the
target being split, except that a manager also splits the target its own team was given."""
from sqlalchemy import select

from fieldsales.errors import Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.teams.models import Team
from fieldsales.users.models import User


def check_exists(principal: Principal, subject: dict, field: str = "subject"):
    """A subject named in a body exists in the caller's org, else a 422 on `field`."""
    kind, id_ = subject["type"], subject["id"]
    org = principal.org_id
    if kind == "org":
        found = id_ == org
    else:
        model = Team if kind == "team" else User
        found = db.session.scalar(select(model.id).where(model.org_id == org,
                                                         model.id == id_)) is not None
    if not found:
        raise field_error(field, f"No such {kind} in your organisation.")


def _below(principal: Principal, kind: str, id_, *, own_team_too: bool) -> bool:
    scope = principal.scope
    if principal.is_admin:
        return True
    if not principal.is_manager:
        return False
    if kind == "team":
        return id_ in scope.managed_team_ids and (own_team_too or id_ != principal.team_id)
    if kind == "user":
        return id_ != principal.id and scope.manages_user(id_)
    return False


def require_may_set(principal: Principal, kind: str, id_):
    """POST /targets: admin any subject, a manager the teams and people below it (403)."""
    if not _below(principal, kind, id_, own_team_too=False):
        raise Forbidden("Targets are set for the teams and people below you, never your own.")


def require_may_split(principal: Principal, target):
    """allocate: the caller may set this target, or it is a manager's own team's target."""
    if not _below(principal, target.subject_type, target.subject_id, own_team_too=True):
        raise Forbidden("Only an admin or a manager above this target may split it.")


def is_direct_part(principal: Principal, parent, kind: str, id_) -> bool:
    """Whether a subject is one of the parent subject's direct teams or people (org: the top
    teams and the people in no team; team: its sub-teams and members; user: none)."""
    org = principal.org_id
    if parent.subject_type == "user":
        return False
    parent_team = None if parent.subject_type == "org" else parent.subject_id
    if kind == "team":
        column = Team.parent_id
        stmt = select(Team.id).where(Team.org_id == org, Team.id == id_)
    elif kind == "user":
        column = User.team_id
        stmt = select(User.id).where(User.org_id == org, User.id == id_)
    else:
        return False
    stmt = stmt.where(column.is_(None) if parent_team is None else column == parent_team)
    return db.session.scalar(stmt) is not None
