"""Who decides an approval: the managers of the requester's team, else of the nearest team
above with a manager, then the next team up with managers, …, then the org's admins; the org's
`approval_levels[kind]` of those levels, the requester never among them."""
from sqlalchemy import Integer, literal, select

from fieldsales.approvals.models import DEFAULT_LEVELS
from fieldsales.errors import Unprocessable
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.teams.models import Team
from fieldsales.users.models import User

# How far up a team chain routing climbs (the team tree is acyclic; this bounds a bad row).
MAX_DEPTH = 100


def _levels(org_id, kind) -> int:
    levels = db.session.scalar(select(Org.approval_levels).where(Org.id == org_id)) or {}
    return int(levels.get(kind, DEFAULT_LEVELS[kind]))


def _candidates(requester):
    """(depth, user_id) of the active managers of the requester's team and the teams above it
    (depth 0 = its own team), then the active admins (after every team), in one statement."""
    groups = []
    if requester.team_id is not None:
        chain = (select(Team.id, Team.parent_id, literal(0, Integer).label("depth"))
                 .where(Team.org_id == requester.org_id, Team.id == requester.team_id)
                 .cte("chain", recursive=True))
        chain = chain.union_all(
            select(Team.id, Team.parent_id, (chain.c.depth + 1).label("depth"))
            .join(chain, Team.id == chain.c.parent_id)
            .where(Team.org_id == requester.org_id, chain.c.depth < MAX_DEPTH))
        groups.append(select(chain.c.depth, User.id)
                      .join(chain, User.team_id == chain.c.id)
                      .where(User.org_id == requester.org_id, User.role == "manager",
                             User.active))
    groups.append(select(literal(MAX_DEPTH + 1, Integer), User.id)
                  .where(User.org_id == requester.org_id, User.role == "admin", User.active))
    union = groups[0].union_all(*groups[1:]).subquery()
    depth, user_id = union.c[0], union.c[1]
    return db.session.execute(select(depth, user_id).order_by(depth, user_id)).all()


def steps_for(requester, kind) -> list[dict]:
    """The approval's steps, lowest level first: [{approver_ids, decided_by, decision,
    comment, at}]; 422 no_approver when nobody but the requester could decide."""
    levels, seen, by_depth = _levels(requester.org_id, kind), {requester.id}, {}
    for depth, user_id in _candidates(requester):
        if user_id not in seen:
            seen.add(user_id)
            by_depth.setdefault(depth, []).append(str(user_id))
    groups = [by_depth[d] for d in sorted(by_depth)][:levels]
    if not groups:
        raise Unprocessable("Nobody but you could decide this request (no manager above you, "
                            "no other admin).", error="no_approver")
    return [{"approver_ids": ids, "decided_by": None, "decision": None, "comment": None,
             "at": None} for ids in groups]


