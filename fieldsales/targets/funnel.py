"""GET /reports/funnel over a span of the people's local days:
- stages, from the projects' stage events (projects/stages.py writes them): for each open stage
  how many of the people's projects entered it in the span, how many of those have moved on
  since (to a later stage, won or lost) and the median days they spent in it; won and lost in
  the span and the win rate, won / (won + lost);
- leads, from the lead ledger: how many leads the people claimed (or were assigned) and
  converted in the span, and the conversion rate."""
from sqlalchemy import select, text

from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.projects.models import OPEN_STAGES
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

# Each event with when its project left that stage again (the project's next event), on the
# project owner's local day.
_STAGES = text("""
WITH p AS (SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:zones AS text[])) AS p(id, tz)),
ev AS (
    SELECT e.project_id, e.to_stage, e.at, p.tz,
           lead(e.at) OVER (PARTITION BY e.project_id ORDER BY e.at, e.id) AS left_at
      FROM project_stage_events e
      JOIN projects pr ON pr.org_id = e.org_id AND pr.id = e.project_id
      JOIN p ON p.id = pr.owner_id
     WHERE e.org_id = :org_id
)
SELECT to_stage AS stage, count(DISTINCT project_id) AS entered,
       count(DISTINCT project_id) FILTER (WHERE left_at IS NOT NULL) AS moved_on,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM left_at - at) / 86400)
           FILTER (WHERE left_at IS NOT NULL) AS median_days
  FROM ev
 WHERE (CAST(:first AS date) IS NULL OR (at AT TIME ZONE tz)::date >= :first)
   AND (CAST(:last AS date) IS NULL OR (at AT TIME ZONE tz)::date <= :last)
 GROUP BY to_stage
""")


def _ratio(part, whole):
    return round(part / whole, 4) if whole else None


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
    params = {"org_id": principal.org_id, "ids": [w[0] for w in who],
              "zones": [w[1] for w in who], "first": filters.get("from_"),
              "last": filters.get("to")}
    leads = db.session.execute(_LEADS, params).one()
    stages = {row.stage: row for row in db.session.execute(_STAGES, params)}
    won, lost = (stages[s].entered if s in stages else 0 for s in ("won", "lost"))
    return {
        "stages": [{"stage": s, "entered": stages[s].entered if s in stages else 0,
                    "moved_on": stages[s].moved_on if s in stages else 0,
                    "median_days": _days(stages[s].median_days if s in stages else None)}
                   for s in OPEN_STAGES],
        "won": won, "lost": lost, "win_rate": _ratio(won, won + lost),
        "leads": {"claimed": leads.claimed, "converted": leads.converted,
                  "conversion_rate": _ratio(leads.converted, leads.claimed)}}


def _days(value):
    return None if value is None else round(float(value), 2)
