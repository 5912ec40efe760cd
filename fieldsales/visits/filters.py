"""The documented visit filters (API.md: GET /visits and the maps), one definition each: the
visit list and the map reads AND the same clauses to the caller's scope."""
from sqlalchemy import func, select

from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.timeutil import lower_bound, upper_bound
from fieldsales.users.models import User
from fieldsales.visits.models import Visit

EQUALS = ("user_id", "customer_id", "project_id", "status")


def visit_filters(principal: Principal, filters: dict) -> list:
    """Clauses for the filters present in `filters` (the caller's scope is not among them):
    `from`/`to` are a time or a local day of the caller, `team_id` includes the teams below."""
    where = [getattr(Visit, key) == filters[key] for key in EQUALS if key in filters]
    if "team_id" in filters:
        teams = team_subtree_ids(principal.org_id, filters["team_id"])
        where.append(Visit.user_id.in_(
            select(User.id).where(User.org_id == principal.org_id, User.team_id.in_(teams))))
    if "from_" in filters:
        where.append(Visit.in_at >= lower_bound(filters["from_"], principal.timezone))
    if "to" in filters:
        where.append(Visit.in_at < upper_bound(filters["to"], principal.timezone))
    if "flagged" in filters:
        count = func.cardinality(Visit.flags)
        where.append(count > 0 if filters["flagged"] else count == 0)
    if "min_risk" in filters:
        where.append(Visit.risk_score >= filters["min_risk"])
    if "bbox" in filters:
        where.append(func.ST_Intersects(Visit.in_geom,
                                        func.ST_MakeEnvelope(*filters["bbox"], 4326)))
    return where
