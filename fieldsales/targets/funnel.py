"""GET /reports/funnel: from the lead ledger, how many leads the people claimed (or were
assigned) and converted in a span of local days, and the conversion rate.

The stage part (stage counts, stage-to-stage conversion, median days per stage, won, lost,
win rate) comes from the deals issue's project stage events; until those exist here it is
reported empty (`stages: []`, won/lost/win_rate null), never estimated."""
from sqlalchemy import select, text

from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.teams.models import Team
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone_sql

_LEADS = text("""
SELECT count(DISTINCT e.lead_id) FILTER (WHERE e.action IN ('claimed', 'assigned')) AS claimed,
       count(DISTINCT e.lead_id) FILTER (WHERE e.action = 'converted') AS converted
  FROM lead_events e
  JOIN unnest(CAST(:ids AS uuid[]), CAST(:zones AS text[])) AS p(id, tz)
    ON p.id = CASE WHEN e.action = 'converted' THEN e.from_user_id ELSE e.to_user_id END
 WHERE e.org_id = :org_id AND e.action IN ('claimed', 'assigned', 'converted')
   AND (CAST(:first AS date) IS NULL OR (e.at AT TIME ZONE p.tz)::date >= :first)
   AND (CAST(:last AS date) IS NULL OR (e.at AT TIME ZONE p.tz)::date <= :last)
""")


def people(principal: Principal, filters: dict):
    """(id, effective zone) of the visible people the filters name; a team or user the
    caller cannot see is 404."""
    scope = principal.scope
    stmt = (select(User.id, effective_timezone_sql()).join(Org, Org.id == User.org_id)
            .where(scope.users()))
    if "team_id" in filters:
        scope.get(Team, filters["team_id"], scope.teams())
        stmt = stmt.where(User.team_id.in_(team_subtree_ids(principal.org_id,
                                                            filters["team_id"])))
    if "user_id" in filters:
        scope.get(User, filters["user_id"], scope.users())
        stmt = stmt.where(User.id == filters["user_id"])
    return db.session.execute(stmt).all()


def funnel(*, principal: Principal, filters: dict) -> dict:
    """The funnel of the caller's people over a span of local days."""
    who = people(principal, filters)
    row = db.session.execute(_LEADS, {
        "org_id": principal.org_id, "ids": [w[0] for w in who], "zones": [w[1] for w in who],
        "first": filters.get("from_"), "last": filters.get("to")}).one()
    rate = round(row.converted / row.claimed, 4) if row.claimed else None
    return {"stages": [], "won": None, "lost": None, "win_rate": None,
            "leads": {"claimed": row.claimed, "converted": row.converted,
                      "conversion_rate": rate}}
