"""Teams: a tree per org; only admins change it."""
from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import field_error
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal, team_ancestor_ids
from fieldsales.teams.models import Team


def list_teams(*, principal: Principal, page):
    """Teams the caller may see."""
    return paginate(select(Team).where(principal.scope.teams()).order_by(Team.name, Team.id), page)


def get_team(*, principal: Principal, team_id):
    """One visible team."""
    return principal.scope.get(Team, team_id, principal.scope.teams())


def _lock_tree(org_id):
    # Tree edits are serialised per org, so two concurrent moves cannot build a cycle together.
    db.session.execute(select(Org.id).where(Org.id == org_id).with_for_update(key_share=True))


def _check_parent(principal, parent_id, team_id=None):
    if parent_id is None:
        return
    principal.scope.require_team_in_org(parent_id, field="parent_id")
    if team_id is not None and team_id in team_ancestor_ids(principal.org_id, parent_id):
        raise field_error("parent_id", "A team cannot be placed under itself or one of its "
                          "own sub-teams.", error="team_cycle")


def create_team(*, principal: Principal, data: dict):
    """Create a team (admin). Returns (team, created)."""
    principal.scope.require_role("admin")

    def write():
        _lock_tree(principal.org_id)
        _check_parent(principal, data.get("parent_id"))
        team = idempotency.stamp(Team(org_id=principal.org_id, name=data["name"],
                                      parent_id=data.get("parent_id")),
                                 principal=principal, data=data)
        db.session.add(team)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="team.created", entity_type="team", entity_id=team.id,
                     data={"name": team.name, "parent_id": team.parent_id})
        return team

    return idempotency.create(Team, principal=principal, data=data, write=write)


def update_team(*, principal: Principal, team_id, data: dict):
    """Rename or move a team (admin)."""
    with transaction():
        team = principal.scope.get(Team, team_id, principal.scope.teams())
        principal.scope.require_role("admin")
        _lock_tree(principal.org_id)
        if "parent_id" in data:
            _check_parent(principal, data["parent_id"], team.id)
        changed = apply_changes(team, data, ("name", "parent_id"))
        if changed:
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="team.updated", entity_type="team", entity_id=team.id, data=changed)
    return team
