"""Approval request bodies (times relative to the real clock: the server checks windows)."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

APPROVALS = "/api/v1/approvals"


def outing(customer, *, start=None, hours=4, **extra):
    start = start or datetime.now(UTC) - timedelta(hours=1)
    return {"kind": "outing", "payload": {
        "customer_id": str(customer.id), "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=hours)).isoformat(), "purpose": "Trade fair",
        **extra}}


def correction(*, tz="Asia/Shanghai", days_ago=1, missing="check_out", **extra):
    day = datetime.now(ZoneInfo(tz)).date() - timedelta(days=days_ago)
    at = datetime(day.year, day.month, day.day, 18, 5, tzinfo=ZoneInfo(tz))
    return {"kind": "attendance_correction", "payload": {
        "date": day.isoformat(), "missing": missing, "at": at.isoformat(),
        "reason": "Phone battery died", **extra}}


def target_change(target, amount="150", **extra):
    return {"kind": "target_change", "payload": {
        "target_id": str(target.id), "amount": amount, "reason": "New territory", **extra}}


def ask(client, body):
    r = client.post(APPROVALS, json=body)
    assert r.status_code == 201, r.json
    return r.json


def decide(client, approval, decision="approved", comment=None):
    return client.post(f"{APPROVALS}/{approval['id']}/decide",
                       json={"decision": decision, "comment": comment})
