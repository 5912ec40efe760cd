"""What a final approval changes, in the deciding transaction, sealed in the requester's chain;
and the webhook events."""
import csv
import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from fieldsales.visits.service import EVIDENCE
from tests import factories
from tests.attendance.helpers import local
from tests.factories import webhooks as wf
from tests.factories.approvals import APPROVALS, ask, correction, decide, outing, target_change
from tests.factories.targets import target
from tests.factories.visits import SHANGHAI, visit
from tests.visits.helpers import ago, check_in_body, check_out_body

TZ = "Asia/Shanghai"


def _yesterday():
    return datetime.now(ZoneInfo(TZ)).date() - timedelta(days=1)


def _row(client, user, day):
    r = client.get(f"/api/v1/attendance?from={day}&to={day}&user_id={user.id}")
    assert r.status_code == 200, r.json
    [row] = r.json
    return row


def _hr_cell(client, user, day, header):
    """One cell of the user's row in the HR export (`attendance.csv?lang=zh`), by its header."""
    r = client.get(f"/api/v1/attendance.csv?from={day}&to={day}&user_id={user.id}&lang=zh")
    assert r.status_code == 200
    head, row = csv.reader(io.StringIO(r.get_data()[3:].decode("utf-8"), newline=""))
    return row[head.index(header)]


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def test_an_approved_outing_counts_the_check_ins_at_its_customer_inside_its_window(
        api, world, shop):
    day = _yesterday()
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit(world.rep_east, shop, in_at=local(day, 11), out_at=local(day, 12))
    visit(world.rep_east, shop, in_at=local(day, 15), out_at=local(day, 16))  # after it
    visit(world.rep_east, other, in_at=local(day, 12, 30), out_at=local(day, 13))
    visit(world.rep_east2, shop, in_at=local(day, 11), out_at=local(day, 12))  # another rep
    hr = api.as_(world.hr)
    assert _row(hr, world.rep_east, day)["outing"] == 0
    approval = ask(api.as_(world.rep_east), outing(shop, start=local(day, 10), hours=4))
    assert _row(hr, world.rep_east, day)["outing"] == 0  # pending: not yet
    assert decide(api.as_(world.mgr_east), approval).status_code == 200
    assert _row(hr, world.rep_east, day)["outing"] == 1
    assert _row(hr, world.rep_east2, day)["outing"] == 0
    assert _hr_cell(hr, world.rep_east, day, "外出拜访次数") == "1"


def test_check_ins_on_an_approved_outing_carry_its_id(api, world, shop):
    rep = api.as_(world.rep_east)
    other = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    approval = ask(rep, outing(shop))  # from an hour ago, for four hours
    pending = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=30)))
    assert pending.status_code == 201 and pending.json["outing_id"] is None  # not approved yet
    assert decide(api.as_(world.mgr_east), approval).status_code == 200
    # approved after that check-in: its reads name the outing now
    assert rep.get(f"/api/v1/visits/{pending.json['id']}").json["outing_id"] == approval["id"]
    inside = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=20)))
    assert inside.status_code == 201 and inside.json["outing_id"] == approval["id"]
    out = rep.post(f"/api/v1/visits/{inside.json['id']}/check-out",
                   json=check_out_body(at=ago(minutes=10)))
    assert out.status_code == 200 and out.json["outing_id"] == approval["id"]
    elsewhere = rep.post("/api/v1/visits", json=check_in_body(other, at=ago(minutes=5)))
    assert elsewhere.status_code == 201 and elsewhere.json["outing_id"] is None
    listed = {v["id"]: v["outing_id"] for v in rep.get("/api/v1/visits").json}
    assert listed[inside.json["id"]] == approval["id"] and listed[elsewhere.json["id"]] is None
    # another rep at the same customer in the same window: not its outing
    mate = api.as_(world.rep_east2).post("/api/v1/visits", json=check_in_body(shop))
    assert mate.status_code == 201 and mate.json["outing_id"] is None


def test_a_rejected_outing_counts_nothing(api, world, shop):
    day = _yesterday()
    visit(world.rep_east, shop, in_at=local(day, 11), out_at=local(day, 12))
    approval = ask(api.as_(world.rep_east), outing(shop, start=local(day, 10), hours=4))
    decide(api.as_(world.mgr_east), approval, "rejected")
    assert _row(api.as_(world.hr), world.rep_east, day)["outing"] == 0


def test_an_approved_correction_marks_the_day_beside_the_evidence(app, api, world, db,
                                                                 shop):
    day = _yesterday()
    v = visit(world.rep_east, shop, in_at=local(day, 9), auto_closed_at=local(day, 23))
    with app.app_context():  # sealed as the API would
        EVIDENCE.seal(v, action="visit.checked_in", actor_id=v.user_id)
        db.commit()
    hr, rep = api.as_(world.hr), api.as_(world.rep_east)
    before = rep.get(f"/api/v1/visits/{v.id}").json
    approval = ask(rep, correction(visit_id=str(v.id)))
    assert _row(hr, world.rep_east, day)["corrected"] is False
    assert decide(api.as_(world.mgr_east), approval).status_code == 200
    assert _row(hr, world.rep_east, day)["corrected"] is True
    assert _hr_cell(hr, world.rep_east, day, "已补卡") == "是"
    assert _row(hr, world.rep_east, day - timedelta(days=1))["corrected"] is False
    assert rep.get(f"/api/v1/visits/{v.id}").json == before  # the visit is never changed
    entries = hr.get(f"/api/v1/audit?user_id={world.rep_east.id}").json
    sealed = {(e["action"], e["actor_id"]) for e in entries}
    assert ("approval.approved", str(world.mgr_east.id)) in sealed
    assert ("attendance.corrected", str(world.mgr_east.id)) in sealed
    ok = hr.get("/api/v1/audit/verify").json
    assert ok["ok"] is True, ok["problems"]
    # the correction is sealed evidence: changing it behind the API's back is caught
    db.execute(text("UPDATE attendance_corrections SET reason = 'forged' "
                    "WHERE approval_id = :a"), {"a": approval["id"]})
    db.commit()
    bad = hr.get("/api/v1/audit/verify").json
    assert bad["ok"] is False
    assert [p["kind"] for p in bad["problems"]] == ["evidence_mismatch"]


def test_an_approved_target_change_is_in_the_requesters_chain(api, world):
    goal = target(world.org, world.rep_east, metric="won_amount", amount="100",
                  created_by=world.mgr_east)
    api.as_(world.admin).patch("/api/v1/org/settings",
                               json={"approval_levels": {"target_change": 1}})
    approval = ask(api.as_(world.rep_east), target_change(goal, amount="80.50"))
    decide(api.as_(world.mgr_east), approval)
    hr = api.as_(world.hr)
    entries = hr.get(f"/api/v1/audit?user_id={world.rep_east.id}&entity_type=target").json
    assert [(e["action"], e["data"]["amount_before"], e["data"]["amount"]) for e in entries] \
        == [("target.changed", "100.00", "80.50")]
    assert hr.get("/api/v1/audit/verify").json["ok"] is True



def test_webhook_events_requested_and_finally_decided(api, world, db):
    hook = wf.webhook(world.org, "https://example.com/h",
                      events=["approval.requested", "approval.decided"])
    goal = target(world.org, world.rep_east, amount="100", created_by=world.mgr_east)
    rep = api.as_(world.rep_east)
    bad = rep.post(APPROVALS, json=target_change(goal, amount="-1"))
    assert bad.status_code == 422 and wf.queued(db, hook) == []
    approval = ask(rep, target_change(goal))
    [(event, payload)] = wf.queued(db, hook)
    assert event == "approval.requested" and payload["approval_id"] == approval["id"]
    assert payload["approver_ids"] == [str(world.mgr_east.id)]
    decide(api.as_(world.mgr_east), approval)  # step 1 of 2: not final
    assert len(wf.queued(db, hook)) == 1
    decide(api.as_(world.admin), approval, "rejected")
    events = wf.queued(db, hook)
    assert [e for e, _ in events] == ["approval.requested", "approval.decided"]
    assert events[1][1]["status"] == "rejected"
    assert events[1][1]["decided_by"] == str(world.admin.id)
