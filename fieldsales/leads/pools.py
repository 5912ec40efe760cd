"""Lead pools: list, read, create and change them (admins; managers for their teams)."""
from sqlalchemy import select

from fieldsales import audit, idempotency
from fieldsales.db import apply_changes, paginate, transaction
from fieldsales.errors import Forbidden, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.models import LeadPool
from fieldsales.scope import Principal
from fieldsales.teams.models import Team


def list_pools(*, principal: Principal, page):
    """Pools the caller can see."""
    stmt = select(LeadPool).where(principal.scope.lead_pools())
    return paginate(stmt.order_by(LeadPool.name, LeadPool.id), page)


def get_pool(*, principal: Principal, pool_id):
    """One visible pool."""
    return principal.scope.get(LeadPool, pool_id, principal.scope.lead_pools())


def managed_pool(principal, pool_id, *, missing):
    """A pool the caller may add leads to: invisible → `missing`, visible but not theirs → 403."""
    pool = db.session.scalar(select(LeadPool).where(LeadPool.id == pool_id,
                                                    principal.scope.lead_pools()))
    if pool is None:
        raise missing
    if not principal.scope.can_manage_pool(pool):
        raise Forbidden("Only admins and the managers of the pool's team may add leads to it.")
    return pool


def lock_managed_pool(principal, pool_id, what):
    """A visible pool the caller manages, locked for the unit of work (invisible → 404, hr or
    not its manager → 403)."""
    scope = principal.scope
    # FOR NO KEY UPDATE, not FOR UPDATE: a claim's counter rows reference the pool, and their
    # foreign-key checks (key share) must not wait for this change, which then appends to the
    # caller's audit chain (a claim by the same caller holds its head).
    pool = db.session.scalar(select(LeadPool).where(LeadPool.id == pool_id, scope.lead_pools())
                             .with_for_update(key_share=True))
    if pool is None:
        raise NotFound("LeadPool not found.")
    scope.require_writer()
    if not scope.can_manage_pool(pool):
        raise Forbidden(f"Only admins and the managers of the pool's team may {what}.")
    return pool


def _check_pool_team(principal, team_id):
    """Admins may open a pool to the org or any team; managers only to a team of theirs."""
    if team_id is None:
        if not principal.is_admin:
            raise Forbidden("Only admins may open a pool to the whole organisation.")
        return
    if principal.is_manager and team_id not in principal.scope.managed_team_ids:
        raise field_error("team_id", "No such team in your scope.")
    if db.session.scalar(select(Team.id).where(Team.org_id == principal.org_id,
                                               Team.id == team_id)) is None:
        raise field_error("team_id", "No such team in your organisation.")


def _check_settings(settings):
    if problem := rules.pool_settings_problem(settings):
        raise field_error(*problem)


def create_pool(*, principal: Principal, data: dict):
    """Create a pool (admin; managers for their teams). Returns (pool, created)."""
    principal.scope.require_role("admin", "manager")

    def write():
        _check_pool_team(principal, data.get("team_id"))
        settings = {k: data.get(k, v) for k, v in rules.POOL_DEFAULTS.items()}
        _check_settings(settings)
        assignment = data.get("assignment", {"strategy": "claim"})
        pool = idempotency.stamp(LeadPool(org_id=principal.org_id, name=data["name"],
                                          team_id=data.get("team_id"), assignment=assignment,
                                          **settings),
                                 principal=principal, data=data)
        db.session.add(pool)
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="lead_pool.created", entity_type="lead_pool", entity_id=pool.id,
                     data={"name": pool.name, "team_id": pool.team_id, "assignment": assignment,
                           **settings})
        return pool

    return idempotency.create(LeadPool, principal=principal, data=data, write=write)


def update_pool(*, principal: Principal, pool_id, data: dict):
    """Rename a pool or change its rules (admin; managers of its team)."""
    with transaction():
        pool = lock_managed_pool(principal, pool_id, "change it")
        if "team_id" in data and data["team_id"] != pool.team_id:
            _check_pool_team(principal, data["team_id"])
        _check_settings({k: data.get(k, getattr(pool, k)) for k in rules.POOL_DEFAULTS})
        changed = apply_changes(pool, data, data.keys())
        if changed:
            audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                         action="lead_pool.updated", entity_type="lead_pool", entity_id=pool.id,
                         data=changed)
    return pool
