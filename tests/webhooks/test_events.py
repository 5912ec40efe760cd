"""Where events happen: visit.flagged (risk reaching 50 at check-in or check-out), lead.recycled
(the recycling job), report.submitted; each in the event's own transaction."""
from datetime import UTC, datetime, timedelta

import pytest

from tests import factories
from tests.factories import leads as lf
from tests.factories import reports as rf
from tests.factories import webhooks as wf
from tests.visits.helpers import check_in_body, check_out_body, offset
from tests.factories.visits import SHANGHAI

T1 = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def test_a_risky_check_in_is_flagged_once(api, world, db, shop):
    hook = wf.webhook(world.org, "https://example.com/h", events=["visit.flagged"])
    rep = api.as_(world.rep_east)
    far = offset(SHANGHAI, north_m=3000)
    r = rep.post("/api/v1/visits",
                 json=check_in_body(shop, point=far, mock_location=True))
    assert r.status_code == 201, r.json
    assert r.json["risk_score"] >= 50
    [(event, payload)] = wf.queued(db, hook)
    assert event == "visit.flagged"
    assert payload["visit_id"] == r.json["id"] and payload["risk_score"] == r.json["risk_score"]
    assert "mock_location" in payload["flags"]
    # already over the threshold: checking out does not flag it again
    out = rep.post(f"/api/v1/visits/{r.json['id']}/check-out", json=check_out_body(point=far))
    assert out.status_code == 200, out.json
    assert len(wf.queued(db, hook)) == 1


def test_a_check_out_that_brings_the_risk_to_50_flags_it(api, world, db, shop):
    hook = wf.webhook(world.org, "https://example.com/h", events=["visit.flagged"])
    rep = api.as_(world.rep_east)
    r = rep.post("/api/v1/visits", json=check_in_body(shop, mock_location=True))
    assert r.status_code == 201 and r.json["risk_score"] < 50, r.json
    assert wf.queued(db, hook) == []
    out = rep.post(f"/api/v1/visits/{r.json['id']}/check-out",
                   json=check_out_body(mock_location=True))
    assert out.status_code == 200, out.json
    assert out.json["risk_score"] >= 50, out.json
    [(event, payload)] = wf.queued(db, hook)
    assert (event, payload["visit_id"], payload["risk_score"]) == (
        "visit.flagged", r.json["id"], out.json["risk_score"])


def test_a_low_risk_visit_queues_nothing(api, world, db, shop):
    hook = wf.webhook(world.org, "https://example.com/h", events=["visit.flagged"])
    r = api.as_(world.rep_east).post("/api/v1/visits", json=check_in_body(shop))
    assert r.status_code == 201 and r.json["risk_score"] < 50
    assert wf.queued(db, hook) == []


def test_recycled_leads_are_events(app, world, db):
    from fieldsales.leads.recycle import recycle_overdue

    hook = wf.webhook(world.org, "https://example.com/h", events=["lead.recycled"])
    other = wf.webhook(world.org, "https://example.com/o", events=["report.submitted"])
    pool = lf.pool(world.org, world.east, recycle_after_days=7)
    lead = lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - timedelta(days=8))
    with app.app_context():
        assert recycle_overdue(now=T1)["recycled"] >= 1
    [(event, payload)] = wf.queued(db, hook)
    assert event == "lead.recycled"
    assert (payload["lead_id"], payload["pool_id"], payload["previous_owner_id"]) == (
        str(lead.id), str(pool.id), str(world.rep_east.id))
    assert payload["at"] == T1.isoformat()
    assert wf.queued(db, other) == []


def test_submitting_a_report_is_an_event_saving_is_not(api, world, db):
    hook = wf.webhook(world.org, "https://example.com/h", events=["report.submitted"])
    rep = api.as_(world.rep_east)
    day = rf.days_ago(1)
    url = f"/api/v1/daily-reports/{day.isoformat()}"
    assert rep.put(url, json={"summary": "draft"}).status_code == 200
    assert wf.queued(db, hook) == []
    r = rep.put(url, json={"submit": True})
    assert r.status_code == 200 and r.json["status"] == "submitted", r.json
    [(event, payload)] = wf.queued(db, hook)
    assert event == "report.submitted"
    assert (payload["report_id"], payload["user_id"], payload["day"]) == (
        r.json["id"], str(world.rep_east.id), day.isoformat())
    assert payload["stats"] == r.json["stats"]


def test_a_refused_write_queues_nothing(api, world, db):
    """The outbox row is in the event's transaction: a write that fails leaves none."""
    hook = wf.webhook(world.org, "https://example.com/h", events=["report.submitted"])
    rep = api.as_(world.rep_east)
    url = f"/api/v1/daily-reports/{rf.days_ago(1).isoformat()}"
    assert rep.put(url, json={"submit": True}).status_code == 200
    assert rep.put(url, json={"summary": "changed", "submit": True}).status_code == 409
    assert len(wf.queued(db, hook)) == 1
