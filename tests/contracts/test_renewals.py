"""Renewing (idempotent, once, raced from threads), GET /renewals and `fieldsales contracts
expire` on a fixed clock."""
import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldsales.contracts.models import Contract
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import deals
from tests.test_cli import run

RENEW = {"start_date": "2027-01-01", "end_date": "2027-12-31"}


def test_renew_once(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, number="HT-7", amount="5000.00",
                       remind_days=[60])
    rep = api.as_(world.rep_east)
    body = {**RENEW, "id": str(uuid.uuid4())}
    r = rep.post(f"/api/v1/contracts/{k.id}/renew", json=body)
    assert r.status_code == 201, r.json
    new = r.json
    assert (new["renewal_of_id"], new["number"], new["amount"], new["status"]) == \
        (str(k.id), "HT-7-R1", "5000.00", "active")
    assert (new["start_date"], new["end_date"], new["remind_days"]) == \
        ("2027-01-01", "2027-12-31", [60])
    assert rep.get(f"/api/v1/contracts/{k.id}").json["status"] == "renewed"
    again = rep.post(f"/api/v1/contracts/{k.id}/renew", json=body)
    assert again.status_code == 200 and again.json == new
    r = rep.post(f"/api/v1/contracts/{k.id}/renew", json={**RENEW, "amount": "6000.00"})
    assert r.status_code == 409 and r.json["error"] == "already_renewed"
    # the renewal renews in its turn: HT-7-R2
    r = rep.post(f"/api/v1/contracts/{new['id']}/renew",
                 json={"start_date": "2028-01-01", "end_date": "2028-12-31",
                       "amount": "6000.00"})
    assert r.status_code == 201 and r.json["number"] == "HT-7-R2"


def test_renewing_terminated_expired_and_bad_dates(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    gone = deals.contract(world.org, c, world.rep_east, status="terminated")
    r = rep.post(f"/api/v1/contracts/{gone.id}/renew", json=RENEW)
    assert r.status_code == 409 and r.json["error"] == "contract_terminated"
    old = deals.contract(world.org, c, world.rep_east, status="expired")
    r = rep.post(f"/api/v1/contracts/{old.id}/renew",
                 json={"start_date": "2027-01-01", "end_date": "2026-12-31"})
    assert r.status_code == 422 and "end_date" in r.json["errors"]["json"]
    assert rep.get(f"/api/v1/contracts/{old.id}").json["status"] == "expired"
    assert rep.post(f"/api/v1/contracts/{old.id}/renew", json=RENEW).status_code == 201
    assert api.as_(world.rep_east2).post(f"/api/v1/contracts/{old.id}/renew",
                                         json=RENEW).status_code == 403


def _committed(app):
    org = factories.org()
    rep = factories.user(org, "rep", factories.team(org))
    k = deals.contract(org, factories.customer(org, rep), rep)
    return ApiClient(app, rep), k.id


def test_different_renewals_race_one_wins(app, committed):
    api, kid = _committed(app)
    answers = run_threads(10, lambda i: api.post(f"/api/v1/contracts/{kid}/renew", json={
        **RENEW, "amount": f"{1000 + i}.00"}))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 9
    assert {a.json.get("error") for a in answers if a.status_code == 409} == {"already_renewed"}
    renewals = committed.scalars(select(Contract.id).where(Contract.renewal_of_id == kid)).all()
    assert [str(x) for x in renewals] == [a.json["id"] for a in answers if a.status_code == 201]


def test_the_same_renewal_from_ten_threads_is_one_contract(app, committed):
    api, kid = _committed(app)
    body = {**RENEW, "id": str(uuid.uuid4())}
    answers = run_threads(10, lambda i: api.post(f"/api/v1/contracts/{kid}/renew", json=body))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert {a.json["id"] for a in answers} == {body["id"]}


def test_renewals_list(api, world):
    today = datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the org's calendar
    ce = factories.customer(world.org, world.rep_east, name="East shop")
    cn = factories.customer(world.org, world.rep_north, name="North shop")
    cw = factories.customer(world.org, world.rep_west, name="West shop")
    k = lambda c, owner, days, **kw: str(deals.contract(  # noqa: E731
        world.org, c, owner, end_date=today + timedelta(days=days), **kw).id)
    e10 = k(ce, world.rep_east, 10)
    n40 = k(cn, world.rep_north, 40)
    k(ce, world.rep_east, 91)
    k(ce, world.rep_east, 5, status="renewed")
    k(ce, world.rep_east, 5, status="terminated")
    w3 = k(cw, world.rep_west, 3)
    mgr = api.as_(world.mgr_east)
    r = mgr.get("/api/v1/renewals")
    assert r.status_code == 200
    assert [x["id"] for x in r.json] == [e10, n40]
    first = r.json[0]
    assert first["customer"] == {"id": str(ce.id), "name": "East shop"}
    assert first["owner"]["id"] == str(world.rep_east.id) and first["days_left"] == 10
    assert [x["id"] for x in mgr.get("/api/v1/renewals?within_days=30").json] == [e10]
    assert [x["id"] for x in mgr.get(
        f"/api/v1/renewals?owner_id={world.rep_north.id}").json] == [n40]
    assert [x["id"] for x in mgr.get(f"/api/v1/renewals?team_id={world.north.id}").json] == \
        [n40]
    assert [x["id"] for x in api.as_(world.admin).get("/api/v1/renewals").json] == \
        [w3, e10, n40]
    assert mgr.get("/api/v1/renewals?within_days=-1").status_code == 422


def test_contracts_expire_on_a_fixed_clock(app, committed):
    org = factories.org(timezone="Asia/Shanghai")
    rep = factories.user(org, "rep", factories.team(org))
    c = factories.customer(org, rep)
    k = lambda end, **kw: deals.contract(org, c, rep, start_date=date(2019, 1, 1),  # noqa: E731
                                         end_date=end, **kw).id
    ended = k(date(2020, 6, 30))
    renewed = k(date(2020, 6, 30), status="renewed")
    stopped = k(date(2020, 6, 30), status="terminated")
    later = k(date(2020, 7, 1))
    open_ended = k(None)

    def expire(now):
        proc = run("contracts", "expire", "--now", now)
        return json.loads(proc.stdout)["expired"], proc.stderr

    def statuses():
        committed.expire_all()
        return [committed.scalar(select(Contract.status).where(Contract.org_id == org.id,
                                                               Contract.id == i))
                for i in (ended, renewed, stopped, later, open_ended)]

    assert expire("2020-06-30T15:59:59Z")[0] == 0  # 23:59:59 on its last day in Shanghai
    expired, progress = expire("2020-06-30T16:00:00Z")
    assert expired == 1 and "1 expired" in progress
    assert statuses() == ["expired", "renewed", "terminated", "active", "active"]
    assert expire("2020-06-30T16:00:00Z")[0] == 0  # nothing twice
    assert expire("2020-07-01T16:00:00Z")[0] == 1  # a skipped day loses nothing
    assert statuses()[3] == "expired"
    assert json.loads(run("audit", "verify").stdout)["ok"] is True
    assert run("contracts", "expire", "--now", "yesterday", check=False).returncode == 2
