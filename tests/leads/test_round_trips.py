"""The claim hot paths in few round trips: the whole API request (auth included) sends at most
three statements on success — the auth row, the use case's data-modifying statement, and the
one writing its audit entry — then COMMIT."""
from sqlalchemy import select

from fieldsales.audit.models import AuditEntry
from fieldsales.leads.models import Lead, LeadDailyClaims, LeadEvent
from tests.citus import single_node
from tests.factories import leads as lf
from tests.factories.visits import SHANGHAI

# These count the one claim statement plain PostgreSQL runs; Citus cannot route it as one, and
# there the claim is a locking read and routed steps (leads/claims_citus.py, ~10 statements).
counts_the_single_statement = single_node("the claim as one statement (plain PostgreSQL)")

REQUEST = 3  # auth row + use case (one statement) + audit entries and head (one statement)


def _claimed(db, lead_id, user):
    """The claim left every trace it should: owner, ledger event, daily count, audit entry."""
    db.expire_all()
    lead = db.get(Lead, (user.org_id, lead_id))
    assert (lead.status, lead.owner_id) == ("claimed", user.id)
    assert db.scalar(select(LeadEvent.action).where(LeadEvent.lead_id == lead_id)) == "claimed"
    assert db.scalar(select(LeadDailyClaims.claims).where(
        LeadDailyClaims.pool_id == lead.pool_id, LeadDailyClaims.user_id == user.id)) >= 1
    entry = db.scalar(select(AuditEntry).where(AuditEntry.entity_id == lead_id))
    assert (entry.action, entry.user_id) == ("lead.claimed", user.id)


@counts_the_single_statement
def test_claim_next_oldest_is_three_statements(api, world, db, statements):
    pool = lf.pool(world.org, world.east)
    lf.leads(world.org, pool, 2)
    rep = api.as_(world.rep_east)
    with statements() as sent:
        r = rep.post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})
    assert r.status_code == 200, r.json
    assert len(sent) <= REQUEST, "\n---\n".join(sent)
    _claimed(db, r.json["id"], world.rep_east)


@counts_the_single_statement
def test_claim_next_nearest_is_three_statements(api, world, db, statements):
    pool = lf.pool(world.org, world.east)
    lf.lead(world.org, pool, lat=31.30, lng=121.50)
    near = lf.lead(world.org, pool, lat=SHANGHAI[0], lng=SHANGHAI[1])
    rep = api.as_(world.rep_east)
    with statements() as sent:
        r = rep.post(f"/api/v1/lead-pools/{pool.id}/claim-next",
                     json={"near": {"lat": SHANGHAI[0], "lng": SHANGHAI[1]}})
    assert r.status_code == 200 and r.json["id"] == str(near.id), r.json
    assert len(sent) <= REQUEST, "\n---\n".join(sent)
    _claimed(db, near.id, world.rep_east)


@counts_the_single_statement
def test_claim_next_by_a_manager_is_three_statements(api, world, db, statements):
    """A manager's scope (pools of the team subtree) is folded into the same statement."""
    pool = lf.pool(world.org, world.north)
    lf.lead(world.org, pool)
    with statements() as sent:
        r = api.as_(world.mgr_east).post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})
    assert r.status_code == 200, r.json
    assert len(sent) <= REQUEST, "\n---\n".join(sent)
    _claimed(db, r.json["id"], world.mgr_east)


@counts_the_single_statement
def test_claim_by_id_is_three_statements(api, world, db, statements):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool)
    rep = api.as_(world.rep_east)
    with statements() as sent:
        r = rep.post(f"/api/v1/leads/{lead.id}/claim")
    assert r.status_code == 200, r.json
    assert len(sent) <= REQUEST, "\n---\n".join(sent)
    _claimed(db, lead.id, world.rep_east)


def test_claim_of_a_lead_already_mine_writes_nothing(api, world, db, statements):
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east)
    with statements() as sent:
        r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/claim")
    assert r.status_code == 200 and r.json["owner_id"] == str(world.rep_east.id)
    assert len(sent) <= REQUEST, "\n---\n".join(sent)
    assert db.scalar(select(AuditEntry).where(AuditEntry.entity_id == lead.id)) is None
