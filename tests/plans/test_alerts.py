"""GET /alerts gains missed_plan, overdue_follow_up and customer_visit_overdue: each fires on
the situation and not next to it, for the manager of the rep only."""
from datetime import UTC, datetime, timedelta

from tests import factories
from tests.factories.reports import days_ago
from tests.factories.visits import visit as visit_row
from tests.plans.helpers import plan_row


def _alerts(api, who, kind):
    r = api.as_(who).get("/api/v1/alerts", query_string={"type": kind, "page_size": 100})
    assert r.status_code == 200, r.json
    return [(a["user_id"], a["subject_id"]) for a in r.json]


def test_missed_plan(api, world):
    shop = factories.customer(world.org, world.rep_east, name="Acme")
    missed = plan_row(world.rep_east, shop, days_ago(2), status="missed")
    plan_row(world.rep_east, shop, days_ago(2), status="done")
    plan_row(world.rep_east, shop, days_ago(30), status="missed")  # long ago
    west = plan_row(world.rep_west, factories.customer(world.org, world.rep_west),
                    days_ago(1), status="missed")
    assert _alerts(api, world.mgr_east, "missed_plan") == [(str(world.rep_east.id),
                                                            str(missed.id))]
    assert _alerts(api, world.mgr_west, "missed_plan") == [(str(world.rep_west.id),
                                                            str(west.id))]
    r = api.as_(world.mgr_east).get("/api/v1/alerts", query_string={"type": "missed_plan"})
    assert "Acme" in r.json[0]["detail"] and str(days_ago(2)) in r.json[0]["detail"]


def test_overdue_follow_up(api, world):
    now = datetime.now(UTC)
    rep = api.as_(world.rep_east)
    late, soon, settled = (factories.customer(world.org, world.rep_east) for _ in range(3))
    url = "/api/v1/customers/{}/contact-records"
    rep.post(url.format(late.id), json={"method": "call", "summary": "x",
                                        "next_follow_up_at": (now - timedelta(hours=2))
                                        .isoformat()})
    rep.post(url.format(soon.id), json={"method": "call", "summary": "x",
                                        "next_follow_up_at": (now + timedelta(hours=2))
                                        .isoformat()})
    rep.post(url.format(settled.id), json={"method": "call", "summary": "x",
                                           "next_follow_up_at": (now - timedelta(days=1))
                                           .isoformat()})
    rep.post(url.format(settled.id), json={"method": "call", "summary": "done"})
    from tests.factories import leads as lead_factories

    lead = lead_factories.lead(world.org, lead_factories.pool(world.org), world.rep_east)
    rep.post(f"/api/v1/leads/{lead.id}/follow-ups", json={
        "method": "call", "note": "x", "next_follow_up_at": (now - timedelta(hours=1))
        .isoformat()})
    assert sorted(_alerts(api, world.mgr_east, "overdue_follow_up")) == sorted([
        (str(world.rep_east.id), str(late.id)), (str(world.rep_east.id), str(lead.id))])
    assert _alerts(api, world.mgr_west, "overdue_follow_up") == []


def test_customer_visit_overdue(api, world):
    now = datetime.now(UTC)
    a, b = (factories.customer(world.org, world.rep_east, grade=g, lat=31.23, lng=121.47)
            for g in ("A", "B"))
    factories.customer(world.org, world.rep_east, grade="A")  # new card: due in 7 days
    for customer in (a, b):
        visit_row(world.rep_east, customer, in_at=now - timedelta(days=10),
                  out_at=now - timedelta(days=10, minutes=-30))
    assert _alerts(api, world.mgr_east, "customer_visit_overdue") == [
        (str(world.rep_east.id), str(a.id))]
    assert _alerts(api, world.mgr_west, "customer_visit_overdue") == []
