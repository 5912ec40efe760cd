"""`fieldsales plans close-day --now`: planned plans become missed when their user's local day
is over — at local midnight, on DST days too (23 and 25 hours), in each user's own zone."""
import json
from datetime import date

from sqlalchemy import select

from fieldsales.audit.models import AuditEntry
from fieldsales.plans.models import Plan
from tests import factories
from tests.plans.helpers import plan_row
from tests.test_cli import run

SPRING = date(2026, 3, 8)  # New York: 23 hours, 05:00Z → 04:00Z next day
AUTUMN = date(2026, 11, 1)  # New York: 25 hours, 04:00Z → 05:00Z next day


def close(now):
    proc = run("plans", "close-day", "--now", now)
    return json.loads(proc.stdout)["missed"], proc.stderr


def statuses(session, plans):
    session.expire_all()
    return [session.scalar(select(Plan.status).where(Plan.org_id == p.org_id, Plan.id == p.id))
            for p in plans]


def test_close_day_across_zones_and_dst(app, committed):
    org = factories.org(timezone="Asia/Shanghai")
    team = factories.team(org)
    shanghai = factories.user(org, "rep", team)  # the org's zone
    new_york = factories.user(org, "rep", team, timezone="America/New_York")
    shop = factories.customer(org, shanghai)
    sh = plan_row(shanghai, shop, SPRING)
    ny = plan_row(new_york, shop, SPRING)
    done = plan_row(new_york, shop, SPRING, status="done")
    cancelled = plan_row(shanghai, shop, SPRING, status="cancelled")
    later = plan_row(new_york, shop, date(2026, 3, 9))

    assert close("2026-03-08T15:59:59Z")[0] == 0  # 23:59:59 in Shanghai
    assert statuses(committed, [sh, ny]) == ["planned", "planned"]
    missed, progress = close("2026-03-08T16:00:00Z")  # Shanghai midnight
    assert missed == 1 and "1 missed" in progress
    assert statuses(committed, [sh, ny]) == ["missed", "planned"]
    # New York's spring-forward day ends after 23 hours (not at 05:00Z, not at 00:00Z)
    assert close("2026-03-09T03:59:59Z")[0] == 0
    assert close("2026-03-09T04:00:00Z")[0] == 1
    assert statuses(committed, [ny, done, cancelled, later]) == ["missed", "done", "cancelled",
                                                                 "planned"]
    assert close("2026-03-09T04:00:00Z")[0] == 0  # nothing twice
    assert close("2026-03-10T04:00:00Z")[0] == 1  # the next day's, in its turn
    entries = committed.scalars(select(AuditEntry.entity_id).where(
        AuditEntry.action == "plan.missed", AuditEntry.entity_id.in_([sh.id, ny.id]))).all()
    assert sorted(entries) == sorted([sh.id, ny.id])
    assert json.loads(run("audit", "verify").stdout)["ok"] is True


def test_close_day_on_a_25_hour_day(app, committed):
    org = factories.org(timezone="UTC")
    new_york = factories.user(org, "rep", factories.team(org), timezone="America/New_York")
    plan = plan_row(new_york, factories.customer(org, new_york), AUTUMN)
    assert close("2026-11-02T04:59:59Z")[0] == 0  # a 24-hour day would be over here
    assert statuses(committed, [plan]) == ["planned"]
    assert close("2026-11-02T05:00:00Z")[0] == 1
    assert statuses(committed, [plan]) == ["missed"]


def test_bad_now_is_a_usage_error(app):
    proc = run("plans", "close-day", "--now", "yesterday", check=False)
    assert proc.returncode == 2 and "RFC 3339" in proc.stderr
