"""The caller travels as an argument (DESIGN.md "Habits"): every lead use case runs from a
plain app context (a job, a seed, the CLI), with no request and nothing in flask.g, and derives
its scope from the principal it is given."""
import uuid

import pytest
from flask import g
from sqlalchemy import func, select

from fieldsales.errors import NotFound
from fieldsales.leads.models import Lead, LeadEvent
from tests.leads.test_claims import principal_of


@pytest.fixture
def no_request(app):
    """An app context as a job has it: no request, no g.principal, no g.scope."""
    with app.app_context():
        assert "principal" not in g and "scope" not in g
        yield


def test_lead_use_cases_take_the_caller_as_an_argument(no_request, world, db):
    from fieldsales.leads import claims, creating, moves, pools, reading

    manager, rep = principal_of(world.mgr_east), principal_of(world.rep_east)
    pool, created = pools.create_pool(principal=manager, data={
        "name": "No-request pool", "team_id": world.east.id})
    assert created and pool.team_id == world.east.id
    pools.update_pool(principal=manager, pool_id=pool.id, data={"holding_limit": 5})
    first, _ = creating.create_lead(principal=manager, data={
        "pool_id": pool.id, "name": "First", "phone": "138 0000 0001"})
    second, _ = creating.create_lead(principal=manager, data={
        "pool_id": pool.id, "name": "Second", "phone": "138 0000 0002"})

    claimed = claims.claim_lead(principal=rep, lead_id=first.id)
    assert (claimed.status, claimed.owner_id, claimed.reveal) == ("claimed", rep.id, True)
    follow_up, created = moves.add_follow_up(principal=rep, lead_id=first.id, data={
        "id": uuid.uuid4(), "method": "call", "note": "called"})
    assert created and follow_up.user_id == rep.id
    released = moves.release_lead(principal=rep, lead_id=first.id, reason="not now")
    assert (released.status, released.owner_id) == ("pooled", None)
    nxt = claims.claim_next(principal=rep, pool_id=pool.id)
    assert (nxt.id, nxt.owner_id) == (second.id, rep.id)  # `first` is in rep's cooldown
    assigned = moves.assign_lead(principal=manager, lead_id=first.id,
                                 user_id=world.rep_east2.id)
    assert assigned.owner_id == world.rep_east2.id
    dead = moves.mark_dead(principal=manager, lead_id=second.id, reason="closed shop")
    assert dead.status == "dead"

    # Reads are scoped by the principal given, not by any request.
    page = _Page()
    listed = reading.list_leads(principal=manager, filters={"pool_id": pool.id}, page=page)
    assert {lead.id for lead in listed} == {first.id, second.id} and page.item_count == 2
    west = principal_of(world.rep_west)
    assert reading.list_leads(principal=west, filters={"pool_id": pool.id}, page=_Page()) == []
    with pytest.raises(NotFound):
        reading.get_lead(principal=west, lead_id=first.id)
    assert len(reading.list_follow_ups(principal=manager, lead_id=first.id, page=_Page())) == 1
    events = db.scalar(select(func.count()).select_from(LeadEvent).where(
        LeadEvent.lead_id.in_([first.id, second.id])))
    assert events == 8  # created ×2, claimed, followed_up, released, claimed, assigned, dead
    assert db.get(Lead, (first.org_id, first.id)).follow_up_count == 1


class _Page:
    """flask-smorest's pagination parameters, as a view would pass them."""

    page_size, first_item, item_count = 50, 0, None
