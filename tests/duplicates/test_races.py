"""The duplicate guard under concurrency: real threads, committed data, the same phone (or
company) typed in at once as a customer and as a lead, by different people."""
from collections import Counter

from sqlalchemy import func, select

from fieldsales.customers.models import Customer
from fieldsales.duplicates.models import PartyKey
from fieldsales.leads.models import Lead
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import leads as lf

ROUNDS = 5


def _count(session, model, org, **where):
    session.expire_all()
    stmt = select(func.count()).select_from(model).where(model.org_id == org.id)
    for key, value in where.items():
        stmt = stmt.where(getattr(model, key) == value)
    return session.scalar(stmt)


def test_one_phone_as_customers_and_leads_at_once_makes_one_holder(app, committed):
    org = factories.org()
    team = factories.team(org)
    reps = [factories.user(org, "rep", team) for _ in range(4)]
    manager = factories.user(org, "manager", team)
    pool = lf.pool(org, team)
    clients = [ApiClient(app, u) for u in (*reps, manager, manager)]
    for n in range(ROUNDS):
        phone = f"1370000{n:04d}"
        spellings = [phone, f"+86 {phone}", f"0086-{phone}", f"{phone[:3]} {phone[3:]}"]

        def create(i, phone=phone, spellings=spellings, n=n):
            if i < 4:  # reps: customer cards
                return clients[i].post("/api/v1/customers", json={
                    "name": f"Card {n}-{i}", "phone": spellings[i]})
            return clients[i].post("/api/v1/leads", json={  # the manager: leads
                "pool_id": str(pool.id), "name": f"Lead {n}-{i}", "phone": phone})

        results = run_threads(len(clients), create)
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert sum(c for (status, _), c in codes.items() if status == 201) == 1, codes
        assert sum(c for (status, _), c in codes.items() if status == 409) == 5, codes
        assert set(codes) - {(201, None)} <= {(409, "duplicate_customer"),
                                              (409, "duplicate_lead")}
        winner = next(r for r in results if r.status_code == 201)
        held = committed.execute(select(PartyKey.customer_id, PartyKey.lead_id).where(
            PartyKey.org_id == org.id, PartyKey.kind == "phone", PartyKey.value == phone)).one()
        assert str(held.customer_id or held.lead_id) == winner.json["id"]
        customers = committed.scalar(select(func.count()).select_from(Customer).where(
            Customer.org_id == org.id, func.fs_phone_key(Customer.phone) == phone))
        leads = _count(committed, Lead, org, phone_normalized=phone)
        assert customers + leads == 1


def test_one_company_name_at_once_makes_one_holder(app, committed):
    org = factories.org()
    team = factories.team(org)
    reps = [factories.user(org, "rep", team) for _ in range(6)]
    clients = [ApiClient(app, u) for u in reps]
    for n in range(ROUNDS):
        results = run_threads(len(clients), lambda i, n=n: clients[i].post(
            "/api/v1/customers", json={"name": f"Same Co {n}" if i % 2 else f"SAME  co {n}"}))
        codes = Counter((r.status_code, r.json.get("error")) for r in results)
        assert codes == {(201, None): 1, (409, "duplicate_customer"): 5}, codes
