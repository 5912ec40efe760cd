from fieldsales.extensions import Blueprint

from fieldsales.openapi import replayed, responds
from fieldsales.auth.guard import current
from fieldsales.teams import service
from fieldsales.teams.schemas import TeamCreateSchema, TeamPatchSchema, TeamSchema

blp = Blueprint("teams", __name__, url_prefix="/api/v1", description="Teams (a tree)")


@blp.get("/teams")
@blp.response(200, TeamSchema(many=True))
@blp.paginate()
def list_teams(pagination_parameters):
    """List teams (admin, hr: all; managers: their subtree; reps: their own team)."""
    return service.list_teams(principal=current(), page=pagination_parameters)


@blp.post("/teams")
@blp.arguments(TeamCreateSchema)
@blp.response(201, TeamSchema)
@replayed(blp, TeamSchema)
@responds(blp, 403, 409)
def create_team(data):
    """Create a team (admin)."""
    team, created = service.create_team(principal=current(), data=data)
    return team, 201 if created else 200


@blp.get("/teams/<uuid:team_id>")
@blp.response(200, TeamSchema)
def get_team(team_id):
    """Get a team."""
    return service.get_team(principal=current(), team_id=team_id)


@blp.patch("/teams/<uuid:team_id>")
@blp.arguments(TeamPatchSchema)
@blp.response(200, TeamSchema)
@responds(blp, 403, "team_cycle")
def update_team(data, team_id):
    """Rename or move a team (admin). A cycle in parent_id → 422 team_cycle."""
    return service.update_team(principal=current(), team_id=team_id, data=data)
