"""silent_leads: per pool the caller manages, its pooled leads nobody has claimed for the pool's
silent_after_days (counted from when each entered the pool: leads.pooled_at). A part of GET
/alerts' UNION ALL; the alert is about a pool, not a person (user_id null)."""
from sqlalchemy import Uuid, and_, func, literal_column, null, select

from fieldsales.leads.models import Lead, LeadPool
from fieldsales.scope import team_subtree_ids


def silent_part(principal, filters, now, row):
    """[(type, select)]: one silent_leads row per pool with silent leads."""
    scope = principal.scope
    managed = LeadPool.org_id == principal.org_id
    if not principal.is_admin:
        managed = and_(managed, LeadPool.team_id.in_(scope.managed_teams))
    if "team_id" in filters:
        managed = and_(managed, LeadPool.team_id.in_(
            team_subtree_ids(principal.org_id, filters["team_id"])))
    silent_since = LeadPool.silent_after_days * literal_column("interval '1 day'")
    stmt = (select(*row("silent_leads", null().cast(Uuid), LeadPool.id,
                        func.min(Lead.pooled_at + silent_since),
                        func.jsonb_build_object("pool_name", LeadPool.name,
                                                "count", func.count(Lead.id))))
            .join(Lead, and_(Lead.org_id == LeadPool.org_id, Lead.pool_id == LeadPool.id))
            .where(managed, Lead.status == "pooled", Lead.pooled_at + silent_since <= now)
            .group_by(LeadPool.id, LeadPool.name))
    return [("silent_leads", stmt)]
