"""Races with real threads on committed data: one decision, effects applied once."""
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select

from fieldsales.approvals.models import Approval, AttendanceCorrection
from fieldsales.audit.models import AuditEntry
from fieldsales.webhooks.models import Webhook, WebhookDelivery
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import webhooks as wf
from tests.factories.approvals import APPROVALS, ask, correction, outing


@pytest.fixture
def team(app, committed):
    org = factories.org()
    t = factories.team(org)
    people = {"org": org, "rep": factories.user(org, "rep", t),
              "mgr": factories.user(org, "manager", t),
              "mgr2": factories.user(org, "manager", t)}
    people["shop"] = factories.customer(org, people["rep"])
    people["client"] = {k: ApiClient(app, people[k]) for k in ("rep", "mgr", "mgr2")}
    yield people
    # Committed deliveries to a URL nobody serves must not wait for the delivery tests' sender.
    committed.rollback()
    committed.execute(delete(Webhook).where(Webhook.org_id == org.id))
    committed.commit()


def _count(committed, model, *where):
    committed.expire_all()
    return committed.scalar(select(func.count()).select_from(model).where(*where))


def _entries(committed, org, action):
    return _count(committed, AuditEntry, AuditEntry.org_id == org.id, AuditEntry.action == action)


def test_the_same_approval_fired_8_times_by_2_approvers_is_decided_once(team, committed):
    hook = wf.webhook(team["org"], "https://example.com/h", events=["approval.decided"])
    approval = ask(team["client"]["rep"], correction())
    url = f"{APPROVALS}/{approval['id']}/decide"
    clients = [team["client"]["mgr"], team["client"]["mgr2"]]
    answers = run_threads(8, lambda i: clients[i % 2].post(
        url, json={"decision": "approved", "comment": "ok"}))
    assert [r.status_code for r in answers] == [200] * 8
    assert {r.json["status"] for r in answers} == {"approved"}
    assert len({r.json["steps"][0]["decided_by"] for r in answers}) == 1
    assert _count(committed, AttendanceCorrection,
                  AttendanceCorrection.approval_id == approval["id"]) == 1
    assert _entries(committed, team["org"], "approval.approved") == 1
    assert _entries(committed, team["org"], "attendance.corrected") == 1
    assert _count(committed, WebhookDelivery, WebhookDelivery.webhook_id == hook.id) == 1


def test_approve_and_reject_at_once_one_decision_wins(team, committed):
    approval = ask(team["client"]["rep"], outing(team["shop"]))
    url = f"{APPROVALS}/{approval['id']}/decide"
    answers = run_threads(2, lambda i: (team["client"]["mgr"], team["client"]["mgr2"])[i].post(
        url, json={"decision": ("approved", "rejected")[i]}))
    codes = sorted(r.status_code for r in answers)
    assert codes == [200, 409], [r.json for r in answers]
    loser = next(r for r in answers if r.status_code == 409)
    assert loser.json["error"] == "already_decided"
    winner = next(r for r in answers if r.status_code == 200)
    committed.expire_all()
    assert committed.scalar(select(Approval.status).where(Approval.id == approval["id"])) == \
        winner.json["status"]


@pytest.mark.parametrize("round_", range(4))
def test_decide_racing_withdraw_exactly_one_wins(team, committed, round_):
    approval = ask(team["client"]["rep"], correction(days_ago=1 + round_))
    base = f"{APPROVALS}/{approval['id']}"
    answers = run_threads(2, lambda i: team["client"]["mgr"].post(
        f"{base}/decide", json={"decision": "approved"}) if i == 0
        else team["client"]["rep"].post(f"{base}/withdraw"))
    assert sorted(r.status_code for r in answers) == [200, 409], [r.json for r in answers]
    assert {r.json.get("error") for r in answers if r.status_code == 409} == {"approval_closed"}
    committed.expire_all()
    status = committed.scalar(select(Approval.status).where(Approval.id == approval["id"]))
    corrections = _count(committed, AttendanceCorrection,
                         AttendanceCorrection.approval_id == approval["id"])
    assert (status, corrections) in {("approved", 1), ("withdrawn", 0)}


def test_8_identical_creates_with_one_client_id_make_one_request(team, committed):
    hook = wf.webhook(team["org"], "https://example.com/h", events=["approval.requested"])
    body = {**outing(team["shop"]), "id": str(uuid.uuid4())}
    answers = run_threads(8, lambda i: team["client"]["rep"].post(APPROVALS, json=body))
    assert sorted(r.status_code for r in answers) == [200] * 7 + [201], \
        [r.json for r in answers]
    assert {r.json["id"] for r in answers} == {body["id"]}
    assert _count(committed, Approval, Approval.org_id == team["org"].id) == 1
    assert _entries(committed, team["org"], "approval.requested") == 1
    assert _count(committed, WebhookDelivery, WebhookDelivery.webhook_id == hook.id) == 1


def test_today_is_the_requesters_today(team):
    """A correction for the requester's local tomorrow is refused (date_in_future)."""
    tomorrow = datetime.now(ZoneInfo("Asia/Shanghai")).date() + timedelta(days=1)
    body = correction()
    body["payload"]["date"] = tomorrow.isoformat()
    r = team["client"]["rep"].post(APPROVALS, json=body)
    assert r.status_code == 422 and r.json["error"] == "date_in_future"
