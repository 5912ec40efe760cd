"""Handing a user's work over (POST /users/{id}/handover) and releasing a deactivated user's
leads: counts, the ledger, the audit chains, the refusals, and identical handovers at once."""
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from fieldsales.audit.verify import verify
from fieldsales.contracts.models import Contract
from fieldsales.customers.models import Customer
from fieldsales.leads.models import Lead, LeadEvent, LeadHolding
from fieldsales.plans.models import Plan
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import leads as lf
from tests.factories.reports import today


def _team_of_two(pool_limit=20):
    org = factories.org()
    team = factories.team(org)
    manager = factories.user(org, "manager", team)
    leaving, staying = (factories.user(org, "rep", team) for _ in range(2))
    pool = lf.pool(org, team, holding_limit=pool_limit)
    return org, team, manager, leaving, staying, pool


def _work_of(org, leaving, pool, manager, app, *, customers=3, leads=4):
    cards = [factories.customer(org, owner=leaving) for _ in range(customers)]
    held = [lf.lead(org, pool, owner=leaving, status="claimed") for _ in range(leads)]
    client = ApiClient(app, manager)
    plans = []
    for day, customer in ((today(), cards[0]), (today() + timedelta(days=2), cards[1])):
        r = client.post("/api/v1/plans", json={"user_id": str(leaving.id), "kind": "visit",
                                               "customer_id": str(customer.id),
                                               "planned_date": day.isoformat()})
        assert r.status_code == 201, r.json
        plans.append(r.json["id"])
    for n, status in enumerate(("active", "active", "terminated")):
        r = client.post("/api/v1/contracts", json={
            "customer_id": str(cards[n].id), "owner_id": str(leaving.id),
            "number": f"HO-{leaving.id.hex[:8]}-{n}", "amount": "1000.00",
            "signed_on": today().isoformat(), "start_date": today().isoformat()})
        assert r.status_code == 201, r.json
        if status == "terminated":
            assert client.post(f"/api/v1/contracts/{r.json['id']}/terminate",
                               json={"reason": "x"}).status_code == 200
    return cards, held, plans


def _verified(app, org, *users):
    """audit verify passes for the org and for each user's chain on its own."""
    with app.app_context():
        for report in [verify(org_id=org.id)] + [verify(user_id=u.id) for u in users]:
            assert report["ok"] is True, report["problems"]
    return True


def _owned(session, org, user):
    session.expire_all()
    count = lambda model, col, *more: session.scalar(  # noqa: E731
        select(func.count()).select_from(model).where(model.org_id == org.id, col == user.id,
                                                      *more))
    return {"customers": count(Customer, Customer.owner_id),
            "leads": count(Lead, Lead.owner_id, Lead.status == "claimed"),
            "plans": count(Plan, Plan.user_id, Plan.status == "planned"),
            "contracts": count(Contract, Contract.owner_id, Contract.status == "active")}


def test_handover_moves_customers_leads_and_plans_in_one_go(app, committed):
    org, team, manager, leaving, staying, pool = _team_of_two()
    _work_of(org, leaving, pool, manager, app)
    r = ApiClient(app, manager).post(f"/api/v1/users/{leaving.id}/handover",
                                     json={"to_user_id": str(staying.id)})
    assert r.status_code == 200, r.json
    assert r.json == {"customers": 3, "leads": 4, "plans": 2, "contracts": 2}
    assert _owned(committed, org, leaving) == {"customers": 0, "leads": 0, "plans": 0,
                                               "contracts": 0}
    assert _owned(committed, org, staying) == {"customers": 3, "leads": 4, "plans": 2,
                                               "contracts": 2}
    events = committed.scalars(select(LeadEvent).where(LeadEvent.org_id == org.id,
                                                       LeadEvent.reason == "handover")).all()
    assert len(events) == 4 and {(e.action, e.from_user_id, e.to_user_id) for e in events} == {
        ("assigned", leaving.id, staying.id)}
    holdings = dict(committed.execute(select(LeadHolding.user_id, LeadHolding.holding).where(
        LeadHolding.pool_id == pool.id)).all())
    assert holdings.get(leaving.id, 0) == 0 and holdings[staying.id] == 4
    assert _verified(app, org, leaving, staying)
    # A repeat finds nothing left to move.
    again = ApiClient(app, manager).post(f"/api/v1/users/{leaving.id}/handover",
                                         json={"to_user_id": str(staying.id)})
    assert again.json == {"customers": 0, "leads": 0, "plans": 0, "contracts": 0}


def test_the_same_handover_fired_from_8_threads_moves_everything_once(app, committed):
    org, team, manager, leaving, staying, pool = _team_of_two()
    _work_of(org, leaving, pool, manager, app, customers=5, leads=6)
    client = ApiClient(app, manager)
    results = run_threads(8, lambda i: client.post(f"/api/v1/users/{leaving.id}/handover",
                                                   json={"to_user_id": str(staying.id)}))
    assert [r.status_code for r in results] == [200] * 8
    totals = Counter()
    for r in results:
        totals.update(r.json)
    assert dict(totals) == {"customers": 5, "leads": 6, "plans": 2, "contracts": 2}
    assert max(r.json["leads"] for r in results) == 6  # one transaction moved them all
    assert committed.scalar(select(func.count()).select_from(LeadEvent).where(
        LeadEvent.org_id == org.id, LeadEvent.reason == "handover")) == 6
    assert _verified(app, org)


def test_handover_past_the_recipients_holding_limit_moves_nothing(app, committed):
    org, team, manager, leaving, staying, pool = _team_of_two(pool_limit=5)
    _work_of(org, leaving, pool, manager, app, leads=3)
    for _ in range(3):
        lf.lead(org, pool, owner=staying, status="claimed")
    r = ApiClient(app, manager).post(f"/api/v1/users/{leaving.id}/handover",
                                     json={"to_user_id": str(staying.id)})
    assert r.status_code == 422 and r.json["error"] == "holding_limit_reached"
    assert _owned(committed, org, leaving) == {"customers": 3, "leads": 3, "plans": 2,
                                               "contracts": 2}


def test_handover_refusals(api, world):
    url = f"/api/v1/users/{world.rep_east.id}/handover"
    cases = [
        (world.mgr_east, {"to_user_id": str(world.rep_east.id)}, 422),  # to itself
        (world.mgr_east, {"to_user_id": str(world.rep_west.id)}, 422),  # outside the scope
        (world.admin, {"to_user_id": str(world.hr.id)}, 422),  # not a rep or manager
        (world.mgr_east, {}, 422),
        (world.rep_east, {"to_user_id": str(world.rep_east2.id)}, 403),  # a rep, its own
        (world.rep_east2, {"to_user_id": str(world.rep_east2.id)}, 404),  # a rep, another
        (world.hr, {"to_user_id": str(world.rep_east2.id)}, 403),
        (world.mgr_west, {"to_user_id": str(world.rep_west.id)}, 404),  # invisible user
        (world.admin_b, {"to_user_id": str(world.rep_b.id)}, 404),  # another org
    ]
    for who, body, status in cases:
        r = api.as_(who).post(url, json=body)
        assert r.status_code == status, (who.email, body, r.json)
        assert "error" in r.json


def test_handover_to_an_inactive_user_is_422(api, world):
    api.as_(world.admin).patch(f"/api/v1/users/{world.rep_east2.id}", json={"active": False})
    r = api.as_(world.admin).post(f"/api/v1/users/{world.rep_east.id}/handover",
                                  json={"to_user_id": str(world.rep_east2.id)})
    assert r.status_code == 422 and "to_user_id" in r.json["errors"]["json"]


def test_deactivating_a_user_returns_its_leads_to_their_pools(app, committed):
    org, team, manager, leaving, staying, pool = _team_of_two()
    held = [lf.lead(org, pool, owner=leaving, status="claimed") for _ in range(3)]
    admin = factories.user(org, "admin")
    r = ApiClient(app, admin).patch(f"/api/v1/users/{leaving.id}", json={"active": False})
    assert r.status_code == 200
    committed.expire_all()
    leads = committed.scalars(select(Lead).where(Lead.id.in_([x.id for x in held]))).all()
    assert {(x.status, x.owner_id) for x in leads} == {("pooled", None)}
    released = committed.scalars(select(LeadEvent).where(
        LeadEvent.org_id == org.id, LeadEvent.action == "released")).all()
    assert len(released) == 3 and {e.from_user_id for e in released} == {leaving.id}
    assert _verified(app, org)
