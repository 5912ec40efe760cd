"""Contracts through HTTP (API.md "Deals"): sign, list, edit, terminate, numbers unique per
org, a contract winning its project, money as exact strings."""
import uuid

import pytest

from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import deals


def _body(customer, **over):
    return {"customer_id": str(customer.id), "number": f"HT-{uuid.uuid4().hex[:8]}",
            "title": "Annual supply", "amount": "120000.50", "signed_on": "2026-11-01",
            "start_date": "2026-11-01", "end_date": "2027-10-31", **over}


def test_sign_read_and_list(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/contracts", json=_body(c))
    assert r.status_code == 201, r.json
    body = r.json
    assert body["amount"] == "120000.50" and body["received"] == "0.00"
    assert body["outstanding"] == "120000.50" and body["currency"] == "CNY"
    assert body["status"] == "active" and body["remind_days"] == [90, 30, 7]
    assert body["owner_id"] == str(world.rep_east.id) and body["renewal_of_id"] is None
    assert rep.get(f"/api/v1/contracts/{body['id']}").json == body
    assert [x["id"] for x in rep.get(f"/api/v1/contracts?customer_id={c.id}").json] == \
        [body["id"]]
    assert rep.get("/api/v1/contracts?status=terminated").json == []
    assert [x["id"] for x in rep.get("/api/v1/contracts?ending_before=2027-10-31").json] == \
        [body["id"]]
    assert rep.get("/api/v1/contracts?ending_before=2027-10-30").json == []


def test_visibility_and_who_may_sign(api, world):
    c = factories.customer(world.org, world.rep_east)
    # another team's rep does not see the customer; a team mate sees it but may not edit it
    r = api.as_(world.rep_west).post("/api/v1/contracts", json=_body(c))
    assert r.status_code == 422 and "customer_id" in r.json["errors"]["json"]
    assert api.as_(world.rep_east2).post("/api/v1/contracts", json=_body(c)).status_code == 403
    assert api.as_(world.hr).post("/api/v1/contracts", json=_body(c)).status_code == 403
    r = api.as_(world.mgr_east).post("/api/v1/contracts",
                                     json=_body(c, owner_id=str(world.rep_east.id)))
    assert r.status_code == 201
    cid = r.json["id"]
    assert api.as_(world.rep_west).get(f"/api/v1/contracts/{cid}").status_code == 404
    assert api.as_(world.admin_b).get(f"/api/v1/contracts/{cid}").status_code == 404
    assert api.as_(world.rep_east2).patch(f"/api/v1/contracts/{cid}",
                                          json={"title": "x"}).status_code == 403


@pytest.mark.parametrize("over, field", [
    ({"amount": "0"}, "amount"), ({"amount": "-5.00"}, "amount"),
    ({"amount": "10.001"}, "amount"), ({"amount": "1000000000000"}, "amount"),
    ({"amount": "1e400"}, "amount"), ({"amount": "NaN"}, "amount"), ({"amount": True}, "amount"),
    ({"end_date": "2026-10-31"}, "end_date"), ({"currency": "yuan"}, "currency"),
    ({"remind_days": [-1]}, "remind_days"), ({"number": ""}, "number")])
def test_bad_input_is_422_and_writes_nothing(api, world, over, field):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/contracts", json=_body(c, **over))
    assert r.status_code == 422 and field in r.json["errors"]["json"], r.json
    assert rep.get(f"/api/v1/contracts?customer_id={c.id}").json == []


def test_amounts_accept_json_numbers_exactly(api, world):
    c = factories.customer(world.org, world.rep_east)
    r = api.as_(world.rep_east).post("/api/v1/contracts", json=_body(c, amount=0.1))
    assert r.status_code == 201 and r.json["amount"] == "0.10"


def test_number_is_unique_in_the_org_only(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    assert rep.post("/api/v1/contracts", json=_body(c, number="HT-1")).status_code == 201
    r = rep.post("/api/v1/contracts", json=_body(c, number="HT-1"))
    assert r.status_code == 409 and r.json["error"] == "contract_number_taken"
    other = rep.post("/api/v1/contracts", json=_body(c, number="HT-2")).json
    r = rep.patch(f"/api/v1/contracts/{other['id']}", json={"number": "HT-1"})
    assert r.status_code == 409 and r.json["error"] == "contract_number_taken"
    cb = factories.customer(world.org_b, world.rep_b)
    assert api.as_(world.rep_b).post("/api/v1/contracts",
                                     json=_body(cb, number="HT-1")).status_code == 201


def test_same_number_from_many_threads_makes_one_contract(app, committed):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    c = factories.customer(org, rep)
    api = ApiClient(app, rep)
    codes = run_threads(12, lambda i: api.post("/api/v1/contracts", json=_body(
        c, number="RACE-1", title=f"t{i}")).status_code)
    assert sorted(codes) == [201] + [409] * 11
    # and the same create (same id and body) from many threads: one row, every answer the same
    body = _body(c, id=str(uuid.uuid4()), number="RACE-2")
    answers = run_threads(10, lambda i: api.post("/api/v1/contracts", json=body))
    assert sorted(a.status_code for a in answers) == [200] * 9 + [201]
    assert {a.json["id"] for a in answers} == {body["id"]}
    listed = api.get(f"/api/v1/contracts?customer_id={c.id}&page_size=100").json
    assert sorted(x["number"] for x in listed) == ["RACE-1", "RACE-2"]


def test_a_contract_wins_its_project_in_the_same_transaction(api, world):
    c = factories.customer(world.org, world.rep_east)
    p = factories.project(world.org, c, world.rep_east, stage="quote")
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/contracts", json=_body(c, project_id=str(p.id)))
    assert r.status_code == 201
    r_first_id = r.json["id"]
    project = rep.get(f"/api/v1/projects/{p.id}").json
    assert project["stage"] == "won" and project["won_at"]
    assert project["amount"] == 120000.5  # it had none: the contract's
    last = rep.get(f"/api/v1/projects/{p.id}/stages").json[-1]
    assert (last["from"], last["to"], last["by"]) == ("quote", "won", str(world.rep_east.id))
    # a project of another customer is refused and nothing is written
    other = factories.project(world.org, factories.customer(world.org, world.rep_east),
                              world.rep_east).id
    r = rep.post("/api/v1/contracts", json=_body(c, project_id=str(other), number="X-9"))
    assert r.status_code == 422 and "project_id" in r.json["errors"]["json"]
    assert [x["id"] for x in rep.get(f"/api/v1/contracts?customer_id={c.id}").json] == \
        [r_first_id]
    assert rep.get(f"/api/v1/projects/{other}").json["stage"] == "prospecting"


def test_edit_and_terminate(api, world):
    c = factories.customer(world.org, world.rep_east)
    k = deals.contract(world.org, c, world.rep_east, amount="1000.00")
    deals.payment(k, "400.00")
    rep = api.as_(world.rep_east)
    r = rep.patch(f"/api/v1/contracts/{k.id}", json={"amount": "399.99"})
    assert r.status_code == 422 and "amount" in r.json["errors"]["json"]
    r = rep.patch(f"/api/v1/contracts/{k.id}", json={"end_date": "2025-12-31"})
    assert r.status_code == 422 and "end_date" in r.json["errors"]["json"]
    r = rep.patch(f"/api/v1/contracts/{k.id}", json={"amount": "800.00", "remind_days": [7, 60]})
    assert r.status_code == 200
    assert (r.json["amount"], r.json["received"], r.json["outstanding"]) == \
        ("800.00", "400.00", "400.00")
    assert r.json["remind_days"] == [60, 7]
    assert rep.post(f"/api/v1/contracts/{k.id}/terminate", json={}).status_code == 422
    r = rep.post(f"/api/v1/contracts/{k.id}/terminate", json={"reason": "Customer closed"})
    assert r.status_code == 200 and r.json["status"] == "terminated"
    again = rep.post(f"/api/v1/contracts/{k.id}/terminate", json={"reason": "Customer closed"})
    assert again.status_code == 200 and again.json == r.json
    r = rep.patch(f"/api/v1/contracts/{k.id}", json={"title": "x"})
    assert r.status_code == 409 and r.json["error"] == "contract_terminated"
    assert rep.request("DELETE", f"/api/v1/contracts/{k.id}").status_code == 405
