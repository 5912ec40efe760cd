"""Contracts and payments in the customer timeline; sealed in the owner's audit chain, so audit
verify passes and catches a contract or payment changed behind the API's back."""
import uuid

from sqlalchemy import text

from tests import factories
from tests.conftest import ApiClient


def _contract(customer, **over):
    return {"customer_id": str(customer.id), "number": f"T-{uuid.uuid4().hex[:8]}",
            "amount": "900.00", "signed_on": "2026-11-01", "start_date": "2026-11-01",
            "end_date": "2027-10-31", **over}


def test_timeline_has_contracts_and_payments(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    k = rep.post("/api/v1/contracts", json=_contract(c, number="T-1")).json
    pay = rep.post(f"/api/v1/contracts/{k['id']}/payments", json={
        "amount": "300.00", "received_on": "2026-11-20", "method": "cash"}).json
    items = rep.get(f"/api/v1/customers/{c.id}/timeline").json
    assert [(i["type"], i["id"]) for i in items[:2]] == [("payment", pay["id"]),
                                                          ("contract", k["id"])]
    payment, contract = items[0], items[1]
    assert payment["detail"]["amount"] == "300.00" and payment["detail"]["method"] == "cash"
    assert payment["summary"] == "Payment of 300.00 CNY on T-1"
    assert contract["detail"]["amount"] == "900.00" and contract["detail"]["number"] == "T-1"
    assert contract["user_id"] == str(world.rep_east.id)


def test_contract_and_payment_changes_are_sealed(app, committed):
    from fieldsales.audit.verify import verify
    from fieldsales.extensions import db

    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    mgr = factories.user(org, "manager", team)
    c = factories.customer(org, rep)
    api = ApiClient(app, rep)
    k = api.post("/api/v1/contracts", json=_contract(c)).json
    pay = api.post(f"/api/v1/contracts/{k['id']}/payments", json={
        "amount": "100.00", "received_on": "2026-11-20", "method": "transfer"}).json
    ApiClient(app, mgr).patch(f"/api/v1/contracts/{k['id']}", json={"title": "Renamed"})
    with app.app_context():
        actions = db.session.execute(text(
            "SELECT action FROM audit_entries WHERE org_id = :o AND user_id = :u "
            "AND entity_type IN ('contract', 'payment') ORDER BY seq"),
            {"o": org.id, "u": rep.id}).scalars().all()
        assert actions == ["contract.signed", "payment.received", "contract.updated"]
        assert verify(org_id=org.id)["ok"] is True
        db.session.execute(text("UPDATE payments SET amount = 1 WHERE id = :i"),
                           {"i": pay["id"]})
        db.session.execute(text("UPDATE contracts SET amount = 1000000 WHERE id = :i"),
                           {"i": k["id"]})
        db.session.commit()
        problems = verify(org_id=org.id)["problems"]
        assert {(p["kind"], p["entity_type"], p["entity_id"]) for p in problems} == {
            ("evidence_mismatch", "payment", pay["id"]),
            ("evidence_mismatch", "contract", k["id"])}
        # put them back: the shared test database stays verifiable
        db.session.execute(text("UPDATE payments SET amount = 100 WHERE id = :i"),
                           {"i": pay["id"]})
        db.session.execute(text("UPDATE contracts SET amount = 900 WHERE id = :i"),
                           {"i": k["id"]})
        db.session.commit()
        assert verify(org_id=org.id)["ok"] is True
