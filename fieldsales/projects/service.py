"""Projects (opportunities) on customers."""
from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.customers import service as customers
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import Forbidden, field_error
from fieldsales.extensions import db
from fieldsales.projects import stages
from fieldsales.projects.models import Project
from fieldsales.scope import Principal
from fieldsales.web import check_if_match


def list_projects(*, principal: Principal, filters: dict, page):
    """Projects of visible customers."""
    stmt = select(Project).where(principal.scope.projects())
    for key in ("customer_id", "owner_id", "stage"):
        if key in filters:
            stmt = stmt.where(getattr(Project, key) == filters[key])
    return paginate(stmt.order_by(Project.updated_at.desc(), Project.id), page)


def get_project(*, principal: Principal, project_id, for_update=False):
    """One visible project."""
    return principal.scope.get(Project, project_id, principal.scope.projects(),
                               for_update=for_update)


def _customer_or_422(principal, customer_id):
    from fieldsales.errors import NotFound

    try:
        return customers.get_customer(principal=principal, customer_id=customer_id)
    except NotFound:
        raise field_error("customer_id", "No such customer.") from None


def create_project(*, principal: Principal, data: dict):
    """Open a project on a visible customer. Returns (project, created)."""
    principal.scope.require_writer()

    def write():
        customer = _customer_or_422(principal, data["customer_id"])
        owner_id = data.get("owner_id", principal.id)
        principal.scope.assignable_owner(owner_id, what="projects")
        stage = data.get("stage", "prospecting")
        stages.check_target(stage, amount=data.get("amount"), lost_reason=data.get("lost_reason"))
        project = idempotency.stamp(Project(
            org_id=principal.org_id, customer_id=customer.id, name=data["name"],
            stage=stage, amount=data.get("amount"),
            owner_id=owner_id, expected_close_date=data.get("expected_close_date"), version=1,
        ), principal=principal, data=data)
        db.session.add(project)
        db.session.flush()  # the stage event refers to the project
        stages.enter(project, stage, actor_id=principal.id, lost_reason=data.get("lost_reason"),
                     first=True)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="project.created", entity_type="project", entity_id=project.id,
                     data={"customer_id": customer.id, "name": project.name,
                           "stage": project.stage})
        return project

    return idempotency.create(Project, principal=principal, data=data, write=write)


def update_project(*, principal: Principal, project_id, data: dict, if_match: str | None):
    """Edit a project (owner, its managers, admin); a stale If-Match is 412."""
    with transaction():
        project = get_project(principal=principal, project_id=project_id, for_update=True)
        if not principal.scope.manages_user(project.owner_id):
            raise Forbidden("Only the owner, the owner's managers or an admin may edit this "
                            "project.")
        check_if_match(project, if_match)
        if "owner_id" in data and data["owner_id"] != project.owner_id:
            principal.scope.assignable_owner(data["owner_id"], what="projects")
        changed = apply_changes(project, data,
                                ("name", "amount", "owner_id", "expected_close_date"))
        if "stage" in data and data["stage"] != project.stage:
            stages.move(principal, project, data["stage"], amount=project.amount,
                        lost_reason=data.get("lost_reason"), reason=data.get("reason"))
            changed["stage"] = data["stage"]
            for key in ("lost_reason", "reason"):
                if data.get(key):
                    changed[key] = data[key]
        if changed:
            project.version += 1
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="project.updated", entity_type="project", entity_id=project.id,
                         data=changed)
    return project


def list_stages(*, principal: Principal, project_id):
    """The stage history of a visible project, oldest first."""
    return stages.history(get_project(principal=principal, project_id=project_id))


def list_project_visits(*, principal: Principal, project_id, page):
    """Visits on a visible project that the caller may see, newest first."""
    from fieldsales.visits.service import list_visits

    project = get_project(principal=principal, project_id=project_id)
    return list_visits(principal=principal, filters={"project_id": project.id}, page=page)
