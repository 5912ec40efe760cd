"""Distributing a pool's leads to its reps by the pool's strategy (round robin, load balance, tag
match), never past anyone's holding limit, each move in the ledger.

One transaction: the pool row is locked (two distributions of a pool queue), the recipients'
holding rows are locked before any lead is taken, so their holdings cannot change underneath,
and the leads are taken oldest first with SKIP LOCKED, so a rep claiming at the same moment
gets a different lead and neither waits. The holdings trigger still has the final word."""
import heapq
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from fieldsales.db import transaction
from fieldsales.errors import Conflict, NotFound, Unprocessable
from fieldsales.extensions import db
from fieldsales.leads.guards import flush_holding, holding_limit
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import Lead, LeadHolding
from fieldsales.leads.pools import lock_managed_pool
from fieldsales.scope import Principal, team_subtree_ids
from fieldsales.users.models import User

MAX_COUNT = 1000


def distribute(*, principal: Principal, pool_id, count=None, now=None) -> dict:
    """Hand out up to `count` pooled leads (oldest first) by the pool's strategy."""
    now = now or datetime.now(UTC)
    with transaction():
        pool = lock_managed_pool(principal, pool_id, "distribute its leads")
        strategy = pool.assignment["strategy"]
        if strategy == "claim":
            raise Conflict("This pool's reps claim leads themselves (assignment strategy "
                           "`claim`); choose another strategy to distribute.",
                           error="distribution_off")
        reps = _recipients(pool)
        if not reps:
            raise Unprocessable("No active rep can receive leads from this pool.",
                                error="no_recipients")
        holdings = _lock_holdings(pool, reps)
        leads = db.session.scalars(
            select(Lead).where(Lead.org_id == pool.org_id, Lead.pool_id == pool.id,
                               Lead.status == "pooled")
            .order_by(Lead.created_at, Lead.id).limit(count or MAX_COUNT)
            .with_for_update(skip_locked=True)).all()
        if not leads:
            raise NotFound("No lead in this pool is waiting to be distributed.",
                           error="pool_empty")
        room = {rep.id: pool.holding_limit - holdings[rep.id] for rep in reps}
        if not any(left > 0 for left in room.values()):
            raise holding_limit(pool)
        pairs = _PLANS[strategy](pool, reps, holdings, room, leads)
        for lead, rep_id in pairs:
            lead.status, lead.owner_id, lead.claimed_at = "claimed", rep_id, now
        flush_holding(pool)
        for lead, rep_id in pairs:
            event = add_event(lead, "assigned", at=now, actor_id=principal.id,
                              to_user_id=rep_id, reason=f"distribute:{strategy}")
            seal_event(lead, "assigned", event=event, user_id=rep_id, actor_id=principal.id,
                       reason=f"distribute:{strategy}")
        if strategy == "round_robin" and pairs:
            pool.round_robin_after = pairs[-1][1]
    return {"assigned": [{"lead_id": lead.id, "user_id": rep_id} for lead, rep_id in pairs]}


def _recipients(pool):
    """Active reps the pool is open to (its team's subtree; the whole org), by id."""
    stmt = select(User).where(User.org_id == pool.org_id, User.active, User.role == "rep")
    if pool.team_id is not None:
        stmt = stmt.where(User.team_id.in_(team_subtree_ids(pool.org_id, pool.team_id)))
    return db.session.scalars(stmt.order_by(User.id)).all()


def _lock_holdings(pool, reps) -> dict:
    """Each rep's holding in the pool, its row locked (created empty if need be)."""
    ids = [rep.id for rep in reps]
    db.session.execute(pg_insert(LeadHolding).values(
        [{"org_id": pool.org_id, "pool_id": pool.id, "user_id": i, "holding": 0} for i in ids])
        .on_conflict_do_nothing(index_elements=["org_id", "pool_id", "user_id"]))
    rows = db.session.execute(
        select(LeadHolding.user_id, LeadHolding.holding)
        .where(LeadHolding.org_id == pool.org_id, LeadHolding.pool_id == pool.id,
               LeadHolding.user_id.in_(ids))
        .order_by(LeadHolding.user_id).with_for_update()).all()
    return dict(rows)


def _round_robin(pool, reps, holdings, room, leads):
    """In turn by id, starting after the rep the previous call ended with; a full rep is
    skipped."""
    order = [rep.id for rep in reps]
    start = next((i + 1 for i, rep_id in enumerate(order) if rep_id == pool.round_robin_after),
                 0)
    turn, pairs = start, []
    for lead in leads:
        for _ in range(len(order)):
            rep_id = order[turn % len(order)]
            turn += 1
            if room[rep_id] > 0:
                room[rep_id] -= 1
                pairs.append((lead, rep_id))
                break
        else:
            break  # everyone is full
    return pairs


def _load_balance(pool, reps, holdings, room, leads):
    """Each lead to the rep holding fewest from this pool (ties by id)."""
    heap = [(holdings[rep.id], rep.id) for rep in reps if room[rep.id] > 0]
    heapq.heapify(heap)
    pairs = []
    for lead in leads:
        if not heap:
            break
        held, rep_id = heapq.heappop(heap)
        pairs.append((lead, rep_id))
        room[rep_id] -= 1
        if room[rep_id] > 0:
            heapq.heappush(heap, (held + 1, rep_id))
    return pairs


def _tag_match(pool, reps, holdings, room, leads):
    """Each lead to the rep with room sharing most of its tags (ties: higher level, fewer
    held, id); a lead sharing no tag with anyone stays pooled."""
    held = dict(holdings)
    pairs = []
    for lead in leads:
        tags = set(lead.tags or ())
        best = min(((-len(tags & set(rep.tags or ())), -(rep.level or 0), held[rep.id], rep.id)
                    for rep in reps if room[rep.id] > 0 and tags & set(rep.tags or ())),
                   default=None)
        if best is None:
            continue
        rep_id = best[3]
        pairs.append((lead, rep_id))
        room[rep_id] -= 1
        held[rep_id] += 1
    return pairs


_PLANS = {"round_robin": _round_robin, "load_balance": _load_balance, "tag_match": _tag_match}
