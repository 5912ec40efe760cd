"""Payment plans and payments through HTTP: never more received than the contract amount, even
from many threads at once; a retried payment is one row; plan status computed."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import deals


def _pay(amount="100.00", **over):
    return {"amount": amount, "received_on": "2026-11-20", "method": "transfer", **over}


def test_record_and_list_payments(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    rep = api.as_(world.rep_east)
    r = rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("250.50", note="first"))
    assert r.status_code == 201, r.json
    assert r.json["amount"] == "250.50" and r.json["created_by"] == str(world.rep_east.id)
    r2 = rep.post(f"/api/v1/contracts/{k.id}/payments",
                  json=_pay("100.00", received_on="2026-11-25", method="cash"))
    listed = rep.get(f"/api/v1/contracts/{k.id}/payments").json
    assert [p["id"] for p in listed] == [r2.json["id"], r.json["id"]]
    got = rep.get(f"/api/v1/contracts/{k.id}").json
    assert (got["received"], got["outstanding"]) == ("350.50", "649.50")


@pytest.mark.parametrize("over, field", [
    ({"amount": "0.00"}, "amount"), ({"amount": "-1"}, "amount"), ({"amount": "1.234"}, "amount"),
    ({"amount": "99999999999999"}, "amount"), ({"method": "bitcoin"}, "method"),
    ({"received_on": "1800-01-01"}, "received_on"), ({"plan_id": str(uuid.uuid4())}, "plan_id")])
def test_bad_payments_are_422_and_write_nothing(api, world, over, field):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    rep = api.as_(world.rep_east)
    r = rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay(**over))
    assert r.status_code == 422 and field in r.json["errors"]["json"], r.json
    assert rep.get(f"/api/v1/contracts/{k.id}/payments").json == []


def test_overpaying_and_paying_a_terminated_contract(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    rep = api.as_(world.rep_east)
    assert rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("999.99")).status_code == 201
    r = rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("0.02"))
    assert r.status_code == 422 and r.json["error"] == "overpaid"
    assert rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("0.01")).status_code == 201
    k2 = deals.contract(world.org, c, world.rep_east, status="terminated")
    r = rep.post(f"/api/v1/contracts/{k2.id}/payments", json=_pay())
    assert r.status_code == 409 and r.json["error"] == "contract_terminated"
    # who may record: not a team mate, not hr; the owner's manager yes
    assert api.as_(world.rep_east2).post(f"/api/v1/contracts/{k.id}/payments",
                                         json=_pay()).status_code == 403
    assert api.as_(world.hr).post(f"/api/v1/contracts/{k.id}/payments",
                                  json=_pay()).status_code == 403
    assert api.as_(world.rep_west).post(f"/api/v1/contracts/{k.id}/payments",
                                        json=_pay()).status_code == 404


def _committed_contract(app, amount):
    org = factories.org()
    rep = factories.user(org, "rep", factories.team(org))
    k = deals.contract(org, factories.customer(org, rep), rep, amount=amount)
    return ApiClient(app, rep), k.id


def test_many_payments_at_once_never_exceed_the_amount(app, committed):
    api, kid = _committed_contract(app, "1000.00")
    codes = run_threads(25, lambda i: api.post(f"/api/v1/contracts/{kid}/payments",
                                               json=_pay("100.00", note=str(i))).status_code)
    assert sorted(codes) == [201] * 10 + [422] * 15
    got = api.get(f"/api/v1/contracts/{kid}").json
    assert (got["received"], got["outstanding"]) == ("1000.00", "0.00")
    assert len(api.get(f"/api/v1/contracts/{kid}/payments?page_size=100").json) == 10


def test_the_same_payment_from_ten_threads_is_one_row(app, committed):
    api, kid = _committed_contract(app, "500.00")
    body = _pay("500.00", id=str(uuid.uuid4()))
    answers = run_threads(10, lambda i: api.post(f"/api/v1/contracts/{kid}/payments", json=body))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert {a.json["id"] for a in answers} == {body["id"]}
    assert [p["id"] for p in api.get(f"/api/v1/contracts/{kid}/payments").json] == [body["id"]]
    r = api.post(f"/api/v1/contracts/{kid}/payments", json={**body, "note": "other"})
    assert r.status_code == 409 and r.json["error"] == "idempotency_conflict"


def test_plans_never_exceed_the_amount_and_show_what_covers_them(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    rep = api.as_(world.rep_east)
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the org's calendar
    days = [today - timedelta(days=60), today - timedelta(days=30), today + timedelta(days=1),
            today + timedelta(days=30)]
    ids = []
    for day, amount in zip(days, ("300.00", "300.00", "200.00", "200.00"), strict=True):
        r = rep.post(f"/api/v1/contracts/{k.id}/payment-plans",
                     json={"due_date": day.isoformat(), "amount": amount})
        assert r.status_code == 201, r.json
        ids.append(r.json["id"])
    r = rep.post(f"/api/v1/contracts/{k.id}/payment-plans",
                 json={"due_date": today.isoformat(), "amount": "0.01"})
    assert r.status_code == 422 and r.json["error"] == "plans_exceed_contract"
    # 300 on the first plan, 100 loose: the first is paid, the second partly covered and late
    rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("300.00", plan_id=ids[0]))
    rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("100.00"))
    # and 50 named for the third plan
    rep.post(f"/api/v1/contracts/{k.id}/payments", json=_pay("50.00", plan_id=ids[2]))
    plans = rep.get(f"/api/v1/contracts/{k.id}/payment-plans").json
    assert [(p["id"], p["paid"], p["status"]) for p in plans] == [
        (ids[0], "300.00", "paid"), (ids[1], "100.00", "overdue"),
        (ids[2], "50.00", "partial"), (ids[3], "0.00", "due")]
