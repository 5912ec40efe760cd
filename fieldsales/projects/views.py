from flask import request
from fieldsales.extensions import Blueprint

from fieldsales.openapi import replayed, responds
from fieldsales.projects import service
from fieldsales.projects.schemas import (ProjectCreateSchema, ProjectPatchSchema,
                                         ProjectQuerySchema, ProjectSchema, StageEventSchema)
from fieldsales.auth.guard import current
from fieldsales.visits.schemas import VisitSchema
from fieldsales.web import with_etag

blp = Blueprint("projects", __name__, url_prefix="/api/v1",
                description="Projects (opportunities) on customers")


@blp.get("/projects")
@blp.arguments(ProjectQuerySchema, location="query")
@blp.response(200, ProjectSchema(many=True))
@blp.paginate()
def list_projects(filters, pagination_parameters):
    """List projects of customers the caller can see."""
    return service.list_projects(principal=current(), filters=filters,
                                 page=pagination_parameters)


@blp.post("/projects")
@blp.arguments(ProjectCreateSchema)
@blp.response(201, ProjectSchema)
@replayed(blp, ProjectSchema)
@responds(blp, 403, 409)
def create_project(data):
    """Open a project on a customer."""
    project, created = service.create_project(principal=current(), data=data)
    return with_etag(project, 201 if created else 200)


@blp.get("/projects/<uuid:project_id>")
@blp.response(200, ProjectSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.alt_response(304, description="Not modified (If-None-Match matched the ETag)")
def get_project(project_id):
    """Get a project (with ETag)."""
    return with_etag(service.get_project(principal=current(), project_id=project_id))


@blp.patch("/projects/<uuid:project_id>")
@blp.arguments(ProjectPatchSchema)
@blp.response(200, ProjectSchema, headers={"ETag": {"schema": {"type": "string"}}})
@blp.doc(parameters=[{"in": "header", "name": "If-Match", "required": False,
                      "schema": {"type": "string"},
                      "description": "ETag from a GET; a stale one → 412"}])
@responds(blp, 403, 412, "stage_backwards")
def update_project(data, project_id):
    """Edit a project: stage, amount, owner (owner, its managers, admin)."""
    project = service.update_project(principal=current(), project_id=project_id, data=data,
                                     if_match=request.headers.get("If-Match"))
    return with_etag(project)


@blp.get("/projects/<uuid:project_id>/visits")
@blp.response(200, VisitSchema(many=True))
@blp.paginate()
def list_project_visits(project_id, pagination_parameters):
    """Visits on this project (those the caller may see), newest first."""
    return service.list_project_visits(principal=current(), project_id=project_id,
                                       page=pagination_parameters)


@blp.get("/projects/<uuid:project_id>/stages")
@blp.response(200, StageEventSchema(many=True))
def list_project_stages(project_id):
    """The project's stage history, oldest first."""
    return service.list_stages(principal=current(), project_id=project_id)
