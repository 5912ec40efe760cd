"""POST/GET/PATCH /plans and cancel: who may plan for whom, bad input, closed plans."""
import uuid

import pytest

from tests import factories
from tests.factories import leads as lead_factories
from tests.plans.helpers import day, plan_body

PLANS = "/api/v1/plans"


def test_rep_plans_its_own_visit(api, world):
    c = factories.customer(world.org, world.rep_east, name="Acme")
    rep = api.as_(world.rep_east)
    body = plan_body(c, purpose="Renewal", talking_points="Price list 2027",
                     planned_start="2030-01-01T09:00:00+08:00",
                     planned_end="2030-01-01T10:00:00+08:00")
    r = rep.post(PLANS, json=body)
    assert r.status_code == 201, r.json
    plan = r.json
    assert plan["user_id"] == str(world.rep_east.id) and plan["customer_id"] == str(c.id)
    assert (plan["kind"], plan["status"], plan["source"]) == ("visit", "planned", "self")
    assert plan["created_by"] == str(world.rep_east.id) and plan["planned_date"] == day(1)
    assert plan["planned_start"] == "2030-01-01T01:00:00Z"
    assert plan["visit_id"] is None and plan["cancel_reason"] is None and plan["lead_id"] is None
    assert (plan["purpose"], plan["talking_points"]) == ("Renewal", "Price list 2027")
    assert [p["id"] for p in rep.get(PLANS).json] == [plan["id"]]
    assert rep.get(f"{PLANS}/{plan['id']}").json == plan


def test_create_is_idempotent_by_id(api, world):
    c = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    body = plan_body(c, id=str(uuid.uuid4()))
    first = rep.post(PLANS, json=body)
    again = rep.post(PLANS, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    other = rep.post(PLANS, json={**body, "purpose": "something else"})
    assert other.status_code == 409 and other.json["error"] == "idempotency_conflict"
    assert len(rep.get(PLANS).json) == 1


def test_manager_plans_for_its_people(api, world):
    c = factories.customer(world.org, world.rep_north)
    r = api.as_(world.mgr_east).post(PLANS, json=plan_body(c, user_id=str(world.rep_north.id)))
    assert r.status_code == 201, r.json
    assert r.json["source"] == "manager" and r.json["user_id"] == str(world.rep_north.id)
    assert r.json["created_by"] == str(world.mgr_east.id)
    # the rep sees it among its own plans
    assert [p["id"] for p in api.as_(world.rep_north).get(PLANS).json] == [r.json["id"]]


@pytest.mark.parametrize("caller,target,status", [
    ("rep_east", "rep_east2", 403),     # reps plan only for themselves
    ("hr", "rep_east", 403),            # hr is read-only
    ("mgr_west", "rep_east", 422),      # not one of its people
    ("admin", "rep_west", 201),         # admin: the whole org
    ("admin_b", "rep_east", 422),       # another org's user does not exist for it
])
def test_who_may_plan_for_whom(api, world, caller, target, status):
    c = factories.customer(world.org)  # unowned: visible to everyone in org A
    who = getattr(world, caller)
    if who.org_id != world.org.id:
        c = factories.customer(world.org_b)
    r = api.as_(who).post(PLANS, json=plan_body(c, user_id=str(getattr(world, target).id)))
    assert r.status_code == status, r.json


def test_customer_visibility(api, world):
    west_card = factories.customer(world.org, world.rep_west)
    r = api.as_(world.rep_east).post(PLANS, json=plan_body(west_card))
    assert r.status_code == 404
    # the manager sees rep_north's card; rep_east (team East, not North) does not
    north_card = factories.customer(world.org, world.rep_north)
    r = api.as_(world.mgr_east).post(PLANS, json=plan_body(north_card,
                                                           user_id=str(world.rep_east.id)))
    assert r.status_code == 422 and "customer_id" in r.json["errors"]["json"]


def test_lead_plans(api, world):
    pool = lead_factories.pool(world.org)
    mine = lead_factories.lead(world.org, pool, world.rep_east)
    theirs = lead_factories.lead(world.org, pool, world.rep_west)
    rep = api.as_(world.rep_east)
    r = rep.post(PLANS, json=plan_body(kind="follow_up", lead_id=str(mine.id)))
    assert r.status_code == 201 and r.json["lead_id"] == str(mine.id)
    assert r.json["customer_id"] is None
    assert rep.post(PLANS, json=plan_body(kind="call", lead_id=str(theirs.id))).status_code == 404


@pytest.mark.parametrize("change,field", [
    ({"planned_date": day(-1)}, "planned_date"),  # yesterday, in the rep's zone
    ({"planned_start": "2030-01-01T10:00:00+08:00", "planned_end": "2030-01-01T09:00:00+08:00"},
     "planned_end"),
    ({"kind": "visit", "lead_id": "LEAD"}, "lead_id"),
    ({"kind": "visit", "customer_id": None}, "customer_id"),
    ({"kind": "call", "lead_id": "LEAD"}, "customer_id"),  # a customer and a lead
    ({"kind": "errand"}, "kind"),
    ({"planned_date": "2200-01-01"}, "planned_date"),
    ({"user_id": "INACTIVE"}, "user_id"),
    ({"project_id": "OTHER_PROJECT"}, "project_id"),
    ({"owner_id": "x"}, "owner_id"),
])
def test_bad_input_is_422(api, world, change, field):
    c = factories.customer(world.org, world.rep_east)
    pool = lead_factories.pool(world.org)
    lead = lead_factories.lead(world.org, pool, world.rep_east)
    inactive = factories.user(world.org, "rep", world.east, active=False)
    other = factories.project(world.org, factories.customer(world.org, world.rep_east),
                              world.rep_east)
    names = {"LEAD": str(lead.id), "INACTIVE": str(inactive.id), "OTHER_PROJECT": str(other.id)}
    body = {**plan_body(c), **{k: names.get(v, v) for k, v in change.items()}}
    caller = world.mgr_east if field == "user_id" else world.rep_east
    r = api.as_(caller).post(PLANS, json=body)
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["json"], r.json


def test_past_means_over_in_the_users_own_zone(api, world):
    """Kiritimati (UTC+14) is always at least a day ahead of Pago Pago (UTC-11): Pago Pago's
    today is over for a Kiritimati rep and still open for a Pago Pago rep."""
    ahead = factories.user(world.org, "rep", world.east, timezone="Pacific/Kiritimati")
    behind = factories.user(world.org, "rep", world.east, timezone="Pacific/Pago_Pago")
    c = factories.customer(world.org)
    body = {"kind": "visit", "customer_id": str(c.id), "planned_date": day(0, "Pacific/Pago_Pago")}
    assert api.as_(ahead).post(PLANS, json=body).status_code == 422
    assert api.as_(behind).post(PLANS, json=body).status_code == 201


def test_scope_of_reading(api, world):
    c = factories.customer(world.org, world.rep_east)
    plan = api.as_(world.rep_east).post(PLANS, json=plan_body(c)).json
    url = f"{PLANS}/{plan['id']}"
    for who in ("rep_east", "mgr_east", "admin", "hr"):
        assert api.as_(getattr(world, who)).get(url).status_code == 200, who
        assert [p["id"] for p in api.as_(getattr(world, who)).get(PLANS).json] == [plan["id"]]
    for who in ("rep_east2", "mgr_west", "rep_north", "admin_b"):
        assert api.as_(getattr(world, who)).get(url).status_code == 404, who
        assert api.as_(getattr(world, who)).get(PLANS).json == [], who


def test_list_filters(api, world):
    c1 = factories.customer(world.org, world.rep_east)
    c2 = factories.customer(world.org, world.rep_east)
    rep = api.as_(world.rep_east)
    a = rep.post(PLANS, json=plan_body(c1, offset=1)).json
    b = rep.post(PLANS, json=plan_body(c2, offset=3)).json
    n = api.as_(world.mgr_east).post(PLANS, json=plan_body(
        factories.customer(world.org, world.rep_north), user_id=str(world.rep_north.id))).json
    mgr = api.as_(world.mgr_east)

    def ids(query):
        return [p["id"] for p in mgr.get(f"{PLANS}?{query}").json]

    assert ids(f"user_id={world.rep_east.id}") == [a["id"], b["id"]]
    assert ids(f"team_id={world.north.id}") == [n["id"]]
    assert ids(f"customer_id={c2.id}") == [b["id"]]
    assert ids(f"from={day(2)}&user_id={world.rep_east.id}") == [b["id"]]
    assert ids(f"to={day(2)}&user_id={world.rep_east.id}") == [a["id"]]
    assert ids("status=done") == []


def test_patch(api, world):
    c = factories.customer(world.org, world.rep_east)
    plan = api.as_(world.rep_east).post(PLANS, json=plan_body(c)).json
    url = f"{PLANS}/{plan['id']}"
    r = api.as_(world.rep_east).patch(url, json={"planned_date": day(2), "purpose": "Demo"})
    assert r.status_code == 200 and (r.json["planned_date"], r.json["purpose"]) == (day(2), "Demo")
    # the rep's manager did not make this plan: it may see it but not change it
    assert api.as_(world.mgr_east).patch(url, json={"purpose": "x"}).status_code == 403
    assert api.as_(world.rep_east2).patch(url, json={"purpose": "x"}).status_code == 404
    assert api.as_(world.rep_east).patch(url, json={"planned_date": day(-1)}).status_code == 422
    r = api.as_(world.rep_east).patch(url, json={"planned_start": "2030-01-01T10:00:00Z"})
    assert r.status_code == 200
    r = api.as_(world.rep_east).patch(url, json={"planned_end": "2030-01-01T09:00:00Z"})
    assert r.status_code == 422 and "planned_end" in r.json["errors"]["json"]
    assert api.as_(world.rep_east).patch(url, json={"status": "done"}).status_code == 422


def test_cancel_and_closed_plans(api, world):
    c = factories.customer(world.org, world.rep_east)
    plan = api.as_(world.mgr_east).post(PLANS, json=plan_body(
        c, user_id=str(world.rep_east.id))).json
    url = f"{PLANS}/{plan['id']}"
    rep = api.as_(world.rep_east)
    r = rep.post(f"{url}/cancel", json={})
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    r = rep.post(f"{url}/cancel", json={"reason": "Customer closed this week"})
    assert r.status_code == 200
    assert (r.json["status"], r.json["cancel_reason"]) == ("cancelled",
                                                           "Customer closed this week")
    again = rep.post(f"{url}/cancel", json={"reason": "Customer closed this week"})
    assert again.status_code == 200 and again.json == r.json
    other = rep.post(f"{url}/cancel", json={"reason": "another"})
    assert other.status_code == 409 and other.json["error"] == "plan_closed"
    r = api.as_(world.mgr_east).patch(url, json={"purpose": "x"})
    assert r.status_code == 409 and r.json["error"] == "plan_closed"


def test_rep_cancels_its_own_plan_without_reason(api, world):
    c = factories.customer(world.org, world.rep_east)
    plan = api.as_(world.rep_east).post(PLANS, json=plan_body(c)).json
    r = api.as_(world.rep_east).post(f"{PLANS}/{plan['id']}/cancel", json={})
    assert r.status_code == 200 and r.json["status"] == "cancelled"
    r = api.as_(world.rep_east2).post(f"{PLANS}/{plan['id']}/cancel", json={})
    assert r.status_code == 404


def test_customer_grade_and_org_cadence(api, world):
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/customers", json={"name": "Graded", "grade": "A"})
    assert r.status_code == 201 and r.json["grade"] == "A"
    r = rep.patch(f"/api/v1/customers/{r.json['id']}", json={"grade": None})
    assert r.status_code == 200 and r.json["grade"] is None
    assert rep.post("/api/v1/customers", json={"name": "x", "grade": "E"}).status_code == 422
    admin = api.as_(world.admin)
    assert admin.get("/api/v1/org/settings").json["visit_cadence_days"] == {"A": 7, "B": 14,
                                                                            "C": 30}
    r = admin.patch("/api/v1/org/settings", json={"visit_cadence_days": {"A": 5, "D": 60}})
    assert r.status_code == 200 and r.json["visit_cadence_days"] == {"A": 5, "D": 60}
    for bad in ({"E": 5}, {"A": 0}, {"A": "weekly"}):
        assert admin.patch("/api/v1/org/settings",
                           json={"visit_cadence_days": bad}).status_code == 422, bad
