"""The limits under contention: real threads, each request on its own connection, committed
data, every scenario repeated several times in a row to give a race the chance to show."""
import threading
import time
from collections import Counter

from sqlalchemy import func, select, text

from fieldsales.extensions import db

from fieldsales.leads.models import Lead, LeadDailyClaims, LeadEvent, LeadHolding
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import leads as lf

ROUNDS = 6


def _org(n_reps):
    org = factories.org()
    team = factories.team(org)
    reps = [factories.user(org, "rep", team) for _ in range(n_reps)]
    return org, team, reps


def _claimed_by(session, pool, user=None):
    stmt = select(func.count()).select_from(Lead).where(Lead.pool_id == pool.id,
                                                        Lead.status == "claimed")
    if user is not None:
        stmt = stmt.where(Lead.owner_id == user.id)
    session.expire_all()
    return session.scalar(stmt)


def _holding_row(session, pool, user):
    return session.scalar(select(LeadHolding.holding).where(LeadHolding.pool_id == pool.id,
                                                            LeadHolding.user_id == user.id))


def test_two_reps_tapping_claim_on_one_lead_make_one_owner(app, committed):
    org, team, reps = _org(8)
    clients = [ApiClient(app, rep) for rep in reps]
    for _ in range(ROUNDS):
        pool = lf.pool(org, team)
        lead = lf.lead(org, pool)
        results = run_threads(len(clients), lambda i, lead=lead: clients[i].post(
            f"/api/v1/leads/{lead.id}/claim"))
        codes = Counter(r.status_code for r in results)
        assert codes == {200: 1, 409: len(clients) - 1}, codes
        assert {r.json["error"] for r in results if r.status_code == 409} == {"already_claimed"}
        winner = next(i for i, r in enumerate(results) if r.status_code == 200)
        committed.expire_all()
        stored = committed.get(Lead, (lead.org_id, lead.id))
        assert stored.owner_id == reps[winner].id
        claims = committed.scalar(select(func.count()).select_from(LeadEvent).where(
            LeadEvent.lead_id == lead.id, LeadEvent.action == "claimed"))
        assert claims == 1
        assert _holding_row(committed, pool, reps[winner]) == 1


def test_one_rep_firing_30_claim_next_ends_with_exactly_the_holding_limit(app, committed):
    org, team, (rep,) = _org(1)
    client = ApiClient(app, rep)
    for _ in range(ROUNDS):
        pool = lf.pool(org, team, holding_limit=5, daily_claim_limit=1000)
        lf.leads(org, pool, 40)
        results = run_threads(30, lambda i, pool=pool: client.post(
            f"/api/v1/lead-pools/{pool.id}/claim-next", json={}))
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert codes == {(200, None): 5, (422, "holding_limit_reached"): 25}, codes
        assert len({r.json["id"] for r in results if r.status_code == 200}) == 5
        assert _claimed_by(committed, pool, rep) == 5
        assert _holding_row(committed, pool, rep) == 5


def test_daily_limit_holds_under_30_concurrent_claims(app, committed):
    org, team, (rep,) = _org(1)
    client = ApiClient(app, rep)
    for _ in range(ROUNDS):
        pool = lf.pool(org, team, holding_limit=100, daily_claim_limit=4)
        leads = lf.leads(org, pool, 30)
        # Half by claim-next, half by claim of a given lead: both paths share the counter.
        results = run_threads(30, lambda i, pool=pool, leads=leads: client.post(
            f"/api/v1/lead-pools/{pool.id}/claim-next", json={}) if i % 2 else client.post(
            f"/api/v1/leads/{leads[i].id}/claim"))
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert set(codes) <= {(200, None), (422, "daily_claim_limit_reached")}, codes
        # A claim of a lead that a concurrent claim-next just gave this rep answers 200
        # "already yours" without claiming again, so count leads, not 200s.
        assert len({r.json["id"] for r in results if r.status_code == 200}) == 4, codes
        assert _claimed_by(committed, pool, rep) == 4
        assert committed.scalar(select(func.sum(LeadDailyClaims.claims)).where(
            LeadDailyClaims.pool_id == pool.id)) == 4
        assert committed.scalar(select(func.count()).select_from(LeadEvent).join(
            Lead, (Lead.org_id == LeadEvent.org_id) & (Lead.id == LeadEvent.lead_id)).where(
            Lead.pool_id == pool.id, LeadEvent.action == "claimed")) == 4


def test_concurrent_claims_of_different_leads_respect_the_holding_limit(app, committed):
    org, team, (rep,) = _org(1)
    client = ApiClient(app, rep)
    for _ in range(ROUNDS):
        pool = lf.pool(org, team, holding_limit=3, daily_claim_limit=100)
        leads = lf.leads(org, pool, 20)
        results = run_threads(20, lambda i, leads=leads: client.post(
            f"/api/v1/leads/{leads[i].id}/claim"))
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert codes == {(200, None): 3, (422, "holding_limit_reached"): 17}, codes
        assert _claimed_by(committed, pool, rep) == 3


def test_many_reps_draining_a_pool_never_share_a_lead(app, committed):
    org, team, reps = _org(8)
    clients = [ApiClient(app, rep) for rep in reps]
    for _ in range(3):
        pool = lf.pool(org, team, holding_limit=4, daily_claim_limit=100)
        for n in range(25):  # a few without a location: `near` falls back to the oldest
            located = n % 5 != 0
            lf.lead(org, pool, lat=31.2 + n * 0.001 if located else None,
                    lng=121.4 + n * 0.001 if located else None)

        def drain(i, pool=pool):
            got = []
            # Half the reps claim the nearest lead to a spot, half the oldest.
            body = {"near": {"lat": 31.21, "lng": 121.41}} if i % 2 else {}
            while True:
                r = clients[i].post(f"/api/v1/lead-pools/{pool.id}/claim-next", json=body)
                if r.status_code != 200:
                    return got, r.json["error"]
                got.append(r.json["id"])

        results = run_threads(len(clients), drain)
        taken = [lead_id for got, _ in results for lead_id in got]
        assert len(taken) == len(set(taken)) == 25  # every lead once, none twice
        assert all(len(got) <= 4 for got, _ in results)
        assert {error for _, error in results} <= {"pool_empty", "holding_limit_reached"}
        committed.expire_all()
        owners = Counter(committed.scalars(select(Lead.owner_id).where(
            Lead.pool_id == pool.id)).all())
        assert max(owners.values()) <= 4 and sum(owners.values()) == 25
        for rep in reps:
            assert (_holding_row(committed, pool, rep) or 0) == owners.get(rep.id, 0)


def test_manager_assigning_while_rep_claims_never_exceeds_the_holding_limit(app, committed):
    org, team, (rep,) = _org(1)
    manager = factories.user(org, "manager", team)
    rep_client, mgr_client = ApiClient(app, rep), ApiClient(app, manager)
    for _ in range(ROUNDS):
        pool = lf.pool(org, team, holding_limit=3, daily_claim_limit=100)
        leads = lf.leads(org, pool, 30)

        def act(i, pool=pool, leads=leads):
            if i % 2:
                return mgr_client.post(f"/api/v1/leads/{leads[i].id}/assign",
                                       json={"user_id": str(rep.id)})
            return rep_client.post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})

        results = run_threads(20, act)
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert set(codes) <= {(200, None), (422, "holding_limit_reached")}, codes
        # Assigning the lead a concurrent claim-next just gave the rep is a 200 no-op.
        assert len({r.json["id"] for r in results if r.status_code == 200}) == 3, codes
        assert _claimed_by(committed, pool, rep) == 3
        assert _holding_row(committed, pool, rep) == 3


def test_swapping_leads_between_two_reps_does_not_deadlock(app, committed):
    """Opposite reassignments lock the two reps' holding rows in the same order."""
    org, team, (a, b) = _org(2)
    manager = factories.user(org, "manager", team)
    client = ApiClient(app, manager)
    pool = lf.pool(org, team, holding_limit=50)
    from_a = lf.leads(org, pool, 10, owner=a)
    from_b = lf.leads(org, pool, 10, owner=b)
    results = run_threads(20, lambda i: client.post(
        f"/api/v1/leads/{(from_a if i % 2 else from_b)[i // 2].id}/assign",
        json={"user_id": str(b.id if i % 2 else a.id)}))
    assert [r.status_code for r in results] == [200] * 20
    assert _holding_row(committed, pool, a) == _holding_row(committed, pool, b) == 10


def test_two_recycle_runs_at_once_recycle_each_lead_once(app, committed, monkeypatch):
    """Each run recycles many reps' leads in one transaction: they take the reps' rows in
    one order, so two runs neither deadlock nor recycle a lead twice."""
    from datetime import UTC, datetime, timedelta

    from fieldsales.leads import recycle
    from fieldsales.leads.recycle import recycle_overdue
    monkeypatch.setattr(recycle, "RECYCLE_BATCH", 9)  # many batches, so the runs interleave
    org, team, reps = _org(5)
    old = datetime.now(UTC) - timedelta(days=8)

    def run(i):
        with app.app_context():
            return recycle_overdue()["recycled"]

    for _ in range(4):
        pool = lf.pool(org, team, recycle_after_days=7, holding_limit=50)
        overdue = [lf.lead(org, pool, reps[i % 5], claimed_at=old) for i in range(60)]
        results = run_threads(2, run)
        assert sum(results) == 60
        committed.expire_all()
        recycled = committed.scalar(select(func.count()).select_from(LeadEvent).where(
            LeadEvent.lead_id.in_([lead.id for lead in overdue]),
            LeadEvent.action == "recycled"))
        assert recycled == 60
        assert all((_holding_row(committed, pool, rep) or 0) == 0 for rep in reps)


def test_a_create_retried_in_parallel_makes_one_row(app, committed):
    """A phone retrying one create from several threads at once (same id, same body): one 201,
    the rest 200 with the same resource — for a lead (its phone pre-check sees its own id),
    a pool and a follow-up — and one row each, with one ledger event."""
    import uuid

    from fieldsales.leads.models import LeadFollowUp, LeadPool

    org, team, (rep,) = _org(1)
    admin = ApiClient(app, factories.user(org, "admin"))
    client = ApiClient(app, rep)
    for _ in range(3):
        pool = lf.pool(org, team)
        body = {"id": str(uuid.uuid4()), "pool_id": str(pool.id), "name": "Retry",
                "phone": lf.phone()}
        results = run_threads(8, lambda i, body=body: admin.post("/api/v1/leads", json=body))
        assert sorted(r.status_code for r in results) == [200] * 7 + [201], \
            [(r.status_code, r.json.get("error")) for r in results]
        assert {r.json["id"] for r in results} == {body["id"]}
        assert committed.scalar(select(func.count()).select_from(LeadEvent).where(
            LeadEvent.lead_id == body["id"])) == 1

        pool_body = {"id": str(uuid.uuid4()), "name": f"Pool {body['id'][:8]}"}
        results = run_threads(8, lambda i, b=pool_body: admin.post("/api/v1/lead-pools", json=b))
        assert sorted(r.status_code for r in results) == [200] * 7 + [201]
        assert committed.scalar(select(func.count()).select_from(LeadPool).where(
            LeadPool.id == pool_body["id"])) == 1

        lead = lf.lead(org, pool, owner=rep)
        follow_up = {"id": str(uuid.uuid4()), "method": "call", "note": "Called back"}
        results = run_threads(8, lambda i, lead=lead, b=follow_up: client.post(
            f"/api/v1/leads/{lead.id}/follow-ups", json=b))
        assert sorted(r.status_code for r in results) == [200] * 7 + [201]
        committed.expire_all()
        assert committed.scalar(select(func.count()).select_from(LeadFollowUp).where(
            LeadFollowUp.lead_id == lead.id)) == 1
        assert committed.scalar(select(Lead.follow_up_count).where(Lead.id == lead.id)) == 1


def test_sixteen_identical_claim_next_keep_both_limits_and_a_valid_audit_chain(app, committed):
    """The same claim-next fired from 16 threads at once, twice per pool: first the holding
    limit stops it, then (after releasing some) the daily limit. No limit is exceeded, no lead
    is handed out twice, and the rep's audit chain verifies with one entry per claim."""
    from fieldsales.audit.models import AuditEntry
    from fieldsales.audit.service import verify_chain

    org, team, (rep,) = _org(1)
    client = ApiClient(app, rep)
    claimed_total = 0
    for _ in range(3):
        pool = lf.pool(org, team, holding_limit=4, daily_claim_limit=6, cooldown_days=3)
        lf.leads(org, pool, 40)

        def fire(i, pool=pool):
            return client.post(f"/api/v1/lead-pools/{pool.id}/claim-next", json={})

        first = run_threads(16, fire)
        codes = Counter((r.status_code, r.json.get("error")) for r in first)
        assert codes == {(200, None): 4, (422, "holding_limit_reached"): 12}, codes
        got = [r.json["id"] for r in first if r.status_code == 200]
        for lead_id in got[:3]:
            assert client.post(f"/api/v1/leads/{lead_id}/release", json={}).status_code == 200

        second = run_threads(16, fire)
        codes = Counter((r.status_code, r.json.get("error")) for r in second)
        assert codes == {(200, None): 2, (422, "daily_claim_limit_reached"): 14}, codes
        got += [r.json["id"] for r in second if r.status_code == 200]
        claimed_total += len(got)

        assert len(got) == len(set(got)) == 6  # released leads are in the rep's cooldown
        assert _claimed_by(committed, pool, rep) == 3 == _holding_row(committed, pool, rep)
        assert committed.scalar(select(LeadDailyClaims.claims).where(
            LeadDailyClaims.pool_id == pool.id, LeadDailyClaims.user_id == rep.id)) == 6
        per_lead = Counter(committed.scalars(select(LeadEvent.lead_id).join(
            Lead, (Lead.org_id == LeadEvent.org_id) & (Lead.id == LeadEvent.lead_id)).where(
            Lead.pool_id == pool.id, LeadEvent.action == "claimed")).all())
        assert sorted(map(str, per_lead)) == sorted(got) and set(per_lead.values()) == {1}

    committed.expire_all()
    claims = committed.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.user_id == rep.id, AuditEntry.action == "lead.claimed"))
    assert claims == claimed_total == 18
    with app.app_context():
        result = verify_chain(org_id=org.id, user_id=rep.id)
    assert result["ok"] is True, result["problems"]


def _claims_alongside(app, org, team, claimer, other):
    """Each round, 8 claim-next by `claimer` and 8 `other(pool, i)` requests at once, on a fresh
    pool: every one answers 200 (a deadlock would be a 503)."""
    client = ApiClient(app, claimer)
    for n in range(ROUNDS):
        pool = lf.pool(org, team, holding_limit=100, daily_claim_limit=100)
        lf.leads(org, pool, 10)
        results = run_threads(16, lambda i, pool=pool, n=n: other(pool, f"{n}.{i}") if i % 2
                              else client.post(f"/api/v1/lead-pools/{pool.id}/claim-next",
                                               json={}))
        assert [r.status_code for r in results] == [200] * 16, [
            (r.status_code, r.json.get("error")) for r in results]


def test_claims_while_an_admin_edits_the_rep_neither_deadlock(app, committed):
    """An edit of the rep locks the rep's user row, then the rep's audit chain; a claim takes
    the chain head inside its statement and the user row's key-share lock (its foreign keys)
    only when the statement ends. Taken in opposite orders they would deadlock."""
    org, team, (rep,) = _org(1)
    admin = ApiClient(app, factories.user(org, "admin"))
    _claims_alongside(app, org, team, rep, lambda pool, tag: admin.patch(
        f"/api/v1/users/{rep.id}", json={"name": f"Rep {tag}"}))


def test_a_manager_claiming_while_changing_the_pool_does_not_deadlock(app, committed):
    """A pool change locks the pool, then the manager's audit chain; the manager's first claim
    of the day from that pool creates its counter rows, whose foreign keys lock the pool
    (key share) when the claim statement ends, after its head CTE."""
    org, team, _ = _org(0)
    manager = factories.user(org, "manager", team)
    client = ApiClient(app, manager)
    _claims_alongside(app, org, team, manager, lambda pool, tag: client.patch(
        f"/api/v1/lead-pools/{pool.id}", json={"name": f"Pool {pool.id} {tag}"}))



def _claim_next_behind_a_lock(app, rep, pool, lead, body):
    """claim-next while another connection holds the lead's row lock, released unclaimed."""
    results = []
    blocker = db.engine.connect()
    try:
        blocker.execute(text("SELECT 1 FROM leads WHERE org_id = :org_id AND id = :id FOR UPDATE"),
                        {"org_id": lead.org_id, "id": lead.id})
        client = ApiClient(app, rep)
        worker = threading.Thread(target=lambda: results.append(client.post(
            f"/api/v1/lead-pools/{pool.id}/claim-next", json=body)))
        worker.start()
        time.sleep(0.5)  # the claim is now waiting on the blocker's lock (or has answered)
    finally:
        blocker.rollback()  # the blocker lets the lead go without claiming it
        blocker.close()
    worker.join(timeout=30)
    return results


def test_claim_next_waits_for_a_lead_another_claimer_let_go_instead_of_saying_pool_empty(
        app, committed):
    """The last lead is locked by a claim that then fails (another rep's holding limit, an
    aborted request): claim-next waits for the lock and takes the lead. SKIP LOCKED alone skips
    it and answers pool_empty for a pool that still has a lead."""
    org, team, (rep,) = _org(1)
    for body in ({}, {"near": {"lat": 31.2, "lng": 121.4}}):
        pool = lf.pool(org, team, holding_limit=4, daily_claim_limit=100)
        lead = lf.lead(org, pool, lat=31.2, lng=121.4)
        results = _claim_next_behind_a_lock(app, rep, pool, lead, body)
        assert [(r.status_code, r.json.get("id")) for r in results] == [(200, str(lead.id))]
