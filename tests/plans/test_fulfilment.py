"""A check-in (POST /visits or /sync) fulfils the rep's planned visit for that customer on that
local day, or the plan it names, in its own two statements; one visit fulfils one plan, and a
plan is done once, whatever runs at the same time."""
import uuid

import pytest
from sqlalchemy import func, select

from fieldsales.plans.models import Plan
from fieldsales.visits.models import Visit
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.plans.helpers import plan_body
from tests.visits.helpers import SHANGHAI, ago, check_in_body

PLANS, VISITS = "/api/v1/plans", "/api/v1/visits"


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def _plan(client, customer, **extra):
    r = client.post(PLANS, json=plan_body(customer, offset=0, **extra))
    assert r.status_code == 201, r.json
    return r.json


def test_check_in_fulfils_todays_plan_for_that_customer(api, world, shop):
    rep = api.as_(world.rep_east)
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    plan = _plan(rep, shop)
    elsewhere = _plan(rep, other)
    tomorrow = rep.post(PLANS, json=plan_body(shop, offset=1)).json
    call = _plan(rep, shop, kind="call")
    visit = rep.post(VISITS, json=check_in_body(shop)).json
    assert visit["plan_id"] == plan["id"]
    done = rep.get(f"{PLANS}/{plan['id']}").json
    assert (done["status"], done["visit_id"]) == ("done", visit["id"])
    for untouched in (elsewhere, tomorrow, call):
        assert rep.get(f"{PLANS}/{untouched['id']}").json["status"] == "planned"
    assert rep.get(f"{VISITS}/{visit['id']}").json["plan_id"] == plan["id"]
    # the next visit that day at the same shop is unplanned
    again = rep.post(VISITS, json=check_in_body(shop)).json
    assert again["plan_id"] is None


def test_unplanned_check_in_has_no_plan(api, world, shop):
    r = api.as_(world.rep_east).post(VISITS, json=check_in_body(shop))
    assert r.status_code == 201 and r.json["plan_id"] is None


def test_another_reps_plan_is_not_fulfilled(api, world, shop):
    plan = _plan(api.as_(world.rep_east2), shop)
    visit = api.as_(world.rep_east).post(VISITS, json=check_in_body(shop)).json
    assert visit["plan_id"] is None
    assert api.as_(world.rep_east2).get(f"{PLANS}/{plan['id']}").json["status"] == "planned"


def test_two_plans_at_one_customer_take_two_visits(api, world, shop):
    rep = api.as_(world.rep_east)
    late = _plan(rep, shop, planned_start=ago(minutes=-120).isoformat())
    early = _plan(rep, shop, planned_start=ago(minutes=-60).isoformat())
    first = rep.post(VISITS, json=check_in_body(shop, at=ago(minutes=20))).json
    second = rep.post(VISITS, json=check_in_body(shop, at=ago(minutes=10))).json
    assert (first["plan_id"], second["plan_id"]) == (early["id"], late["id"])


def test_named_plan(api, world, shop):
    rep = api.as_(world.rep_east)
    later = rep.post(PLANS, json=plan_body(shop, offset=3)).json  # done early: fine
    r = rep.post(VISITS, json=check_in_body(shop, plan_id=later["id"]))
    assert r.status_code == 201 and r.json["plan_id"] == later["id"]
    assert rep.get(f"{PLANS}/{later['id']}").json["visit_id"] == r.json["id"]


@pytest.mark.parametrize("case,status,error", [
    ("unknown", 404, "not_found"),
    ("someone_elses", 404, "not_found"),
    ("cancelled", 409, "plan_closed"),
    ("done", 409, "plan_closed"),
    ("a_call", 422, "validation_error"),
    ("other_customer", 422, "validation_error"),
])
def test_named_plan_errors(api, world, shop, case, status, error):
    rep = api.as_(world.rep_east)
    other = factories.customer(world.org, world.rep_east)
    plan_id = {
        "unknown": lambda: str(uuid.uuid4()),
        "someone_elses": lambda: _plan(api.as_(world.rep_west), factories.customer(
            world.org, world.rep_west))["id"],
        "cancelled": lambda: rep.post(f"{PLANS}/{_plan(rep, shop)['id']}/cancel",
                                      json={}).json["id"],
        "done": lambda: rep.post(VISITS, json=check_in_body(shop, plan_id=_plan(
            rep, shop)["id"])).json["plan_id"],
        "a_call": lambda: _plan(rep, shop, kind="call")["id"],
        "other_customer": lambda: _plan(rep, other)["id"],
    }[case]()
    before = rep.get(VISITS).json
    r = rep.post(VISITS, json=check_in_body(shop, plan_id=plan_id))
    assert r.status_code == status and r.json["error"] == error, r.json
    assert rep.get(VISITS).json == before  # nothing half-written


def test_fulfilling_check_in_is_still_auth_plus_two_statements(api, world, shop, statements):
    rep = api.as_(world.rep_east)
    plan = _plan(rep, shop)
    named = _plan(rep, factories.customer(world.org, world.rep_east))
    with statements() as sent:
        r = rep.post(VISITS, json=check_in_body(shop))
    assert r.status_code == 201 and r.json["plan_id"] == plan["id"]
    assert len(sent) == 3, sent
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    with statements() as sent:
        r = rep.post(VISITS, json=check_in_body(other, plan_id=None))
    assert r.status_code == 201 and len(sent) == 3
    with statements() as sent:
        r = rep.post(VISITS, json=check_in_body(factories.customer(world.org, world.rep_east),
                                                plan_id=named["id"]))
    assert r.status_code == 422 and len(sent) <= 3  # wrong customer: refused in the read


def test_sync_check_in_fulfils(api, world, shop):
    rep = api.as_(world.rep_east)
    plan = _plan(rep, shop)
    r = rep.post("/api/v1/sync", json={"events": [{"type": "check_in",
                                                   **check_in_body(shop, at=ago(hours=1))}]})
    result = r.json["results"][0]
    assert result["status"] == 201 and result["body"]["plan_id"] == plan["id"]
    assert rep.get(f"{PLANS}/{plan['id']}").json["status"] == "done"


# --- races (committed data, real threads) ---------------------------------------------------

@pytest.fixture
def team_day(app, committed):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return org, rep, shop, ApiClient(app, rep)


def _fulfilled(committed, org):
    committed.expire_all()
    return committed.execute(select(Plan.id, Plan.status, Plan.visit_id).where(
        Plan.org_id == org.id)).all(), committed.execute(select(Visit.id, Visit.plan_id).where(
        Visit.org_id == org.id)).all()


def test_the_same_check_in_at_once_fulfils_the_plan_once(team_day, committed):
    org, rep, shop, client = team_day
    plan = _plan(client, shop)
    body = check_in_body(shop, id=str(uuid.uuid4()))
    statuses = run_threads(8, lambda i: client.post(VISITS, json=body).status_code)
    assert sorted(statuses) == [200] * 7 + [201]
    plans, visits = _fulfilled(committed, org)
    assert [(str(p.id), p.status, str(p.visit_id)) for p in plans] == [
        (plan["id"], "done", body["id"])]
    assert [(str(v.id), str(v.plan_id)) for v in visits] == [(body["id"], plan["id"])]


def test_different_check_ins_at_one_customer_fulfil_one_plan_once(team_day, committed):
    org, rep, shop, client = team_day
    plan = _plan(client, shop)
    results = run_threads(6, lambda i: client.post(
        VISITS, json=check_in_body(shop, at=ago(minutes=30 - i))).json)
    assert all("id" in r for r in results), results
    plans, visits = _fulfilled(committed, org)
    assert len(visits) == 6
    fulfilled = [v for v in visits if v.plan_id is not None]
    assert len(fulfilled) == 1 and str(fulfilled[0].plan_id) == plan["id"]
    assert plans[0].status == "done" and plans[0].visit_id == fulfilled[0].id


def test_check_ins_naming_one_plan_at_once_one_wins(team_day, committed):
    org, rep, shop, client = team_day
    plan = _plan(client, shop)
    statuses = run_threads(6, lambda i: client.post(VISITS, json=check_in_body(
        shop, at=ago(minutes=30 - i), plan_id=plan["id"])).status_code)
    assert sorted(statuses) == [201] + [409] * 5
    plans, visits = _fulfilled(committed, org)
    assert len(visits) == 1 and str(visits[0].plan_id) == plan["id"]


def test_database_refuses_a_second_plan_for_one_visit(team_day, committed):
    """The constraint behind the rule, whatever the code does: one visit, one plan."""
    from sqlalchemy.exc import IntegrityError

    org, rep, shop, client = team_day
    first, second = _plan(client, shop), _plan(client, shop)
    visit = client.post(VISITS, json=check_in_body(shop)).json
    assert visit["plan_id"] == first["id"]
    steal = Plan.__table__.update().where(
        Plan.org_id == org.id, Plan.id == uuid.UUID(second["id"])).values(
        status="done", visit_id=uuid.UUID(visit["id"]))
    with pytest.raises(IntegrityError):
        committed.execute(steal)
    committed.rollback()
    assert committed.scalar(select(func.count()).select_from(Plan).where(
        Plan.org_id == org.id, Plan.status == "done")) == 1


# --- contact records, lead follow-ups, /sync plans -------------------------------------------

def test_contact_record_fulfils_a_call_plan(api, world, shop):
    rep = api.as_(world.rep_east)
    visit_plan = _plan(rep, shop)
    call = _plan(rep, shop, kind="call")
    follow_up = _plan(rep, shop, kind="follow_up")
    r = rep.post(f"/api/v1/customers/{shop.id}/contact-records",
                 json={"method": "call", "summary": "Asked for the price list"})
    assert r.status_code == 201
    done = rep.get(f"{PLANS}/{call['id']}").json
    assert (done["status"], done["contact_record_id"]) == ("done", r.json["id"])
    assert rep.get(f"{PLANS}/{visit_plan['id']}").json["status"] == "planned"
    r2 = rep.post(f"/api/v1/customers/{shop.id}/contact-records",
                  json={"method": "message", "summary": "Sent it"})
    assert rep.get(f"{PLANS}/{follow_up['id']}").json["contact_record_id"] == r2.json["id"]
    rep.post(f"/api/v1/customers/{shop.id}/contact-records",
             json={"method": "message", "summary": "Nothing left to fulfil"})
    assert rep.get(f"{PLANS}/{visit_plan['id']}").json["status"] == "planned"


def test_contact_record_retry_keeps_one_fulfilment(api, world, shop):
    rep = api.as_(world.rep_east)
    call = _plan(rep, shop, kind="call")
    body = {"id": str(uuid.uuid4()), "method": "call", "summary": "x"}
    url = f"/api/v1/customers/{shop.id}/contact-records"
    assert rep.post(url, json=body).status_code == 201
    assert rep.post(url, json=body).status_code == 200
    assert rep.get(f"{PLANS}/{call['id']}").json["contact_record_id"] == body["id"]


def test_lead_follow_up_fulfils_a_follow_up_plan(api, world):
    from tests.factories import leads as lead_factories

    pool = lead_factories.pool(world.org)
    lead = lead_factories.lead(world.org, pool, world.rep_east)
    other = lead_factories.lead(world.org, pool, world.rep_east)
    rep = api.as_(world.rep_east)
    plan = rep.post(PLANS, json=plan_body(kind="follow_up", offset=0,
                                          lead_id=str(lead.id))).json
    untouched = rep.post(PLANS, json=plan_body(kind="call", offset=0,
                                               lead_id=str(other.id))).json
    r = rep.post(f"/api/v1/leads/{lead.id}/follow-ups", json={"method": "call", "note": "ok"})
    assert r.status_code == 201
    assert rep.get(f"{PLANS}/{plan['id']}").json["status"] == "done"
    assert rep.get(f"{PLANS}/{untouched['id']}").json["status"] == "planned"


def test_sync_accepts_plan_events(api, world, shop):
    rep = api.as_(world.rep_east)
    plan_id = str(uuid.uuid4())
    events = [{"type": "plan", "id": plan_id, **plan_body(shop, offset=0)},
              {"type": "check_in", **check_in_body(shop, at=ago(minutes=5))},
              {"type": "plan", **plan_body(shop, offset=-1)}]
    results = rep.post("/api/v1/sync", json={"events": events}).json["results"]
    assert [(x["type"], x["status"]) for x in results] == [("plan", 201), ("check_in", 201),
                                                          ("plan", 422)]
    assert results[0]["body"]["id"] == plan_id and results[1]["body"]["plan_id"] == plan_id
    again = rep.post("/api/v1/sync", json={"events": events[:1]}).json["results"]
    assert again[0]["status"] == 200


def test_the_same_cancel_at_once_cancels_once_and_races_a_check_in_cleanly(team_day, committed):
    """A phone retrying a cancel in parallel: every copy answers 200 with the same plan and one
    plan.cancelled entry is written; a check-in racing the cancel either fulfils the plan (the
    cancels then get 409 plan_closed) or finds it cancelled (the visit carries no plan)."""
    from fieldsales.audit.models import AuditEntry

    org, rep, shop, client = team_day
    plan = _plan(client, shop)
    path = f"/api/v1/plans/{plan['id']}/cancel"
    responses = run_threads(8, lambda i: client.post(path, json={"reason": "shop closed"}))
    assert [r.status_code for r in responses] == [200] * 8
    assert {r.json["status"] for r in responses} == {"cancelled"}
    committed.expire_all()
    assert committed.scalar(select(func.count()).where(
        AuditEntry.org_id == org.id, AuditEntry.action == "plan.cancelled")) == 1

    other = _plan(client, shop)
    body = check_in_body(shop, id=str(uuid.uuid4()))
    raced = run_threads(6, lambda i: client.post(VISITS, json=body) if i == 0 else client.post(
        f"/api/v1/plans/{other['id']}/cancel", json={"reason": "moved"}))
    assert raced[0].status_code == 201
    cancels = sorted(r.status_code for r in raced[1:])
    plans = {str(p.id): p for p in _fulfilled(committed, org)[0]}
    if plans[other["id"]].status == "done":
        assert cancels == [409] * 5 and raced[0].json["plan_id"] == other["id"]
        assert {r.json["error"] for r in raced[1:]} == {"plan_closed"}
    else:
        assert plans[other["id"]].status == "cancelled" and cancels == [200] * 5
        assert raced[0].json["plan_id"] is None
