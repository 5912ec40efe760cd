"""Daily report stats and attendance rows count the day's plans (cancelled ones left out)."""
import csv
import io

from tests import factories
from tests.factories.reports import days_ago
from tests.plans.helpers import plan_row


def test_report_and_attendance_count_the_days_plans(api, world):
    rep = world.rep_east
    shop = factories.customer(world.org, rep)
    day = days_ago(2)
    for status in ("done", "done", "missed", "planned", "cancelled"):
        plan_row(rep, shop, day, status=status)
    plan_row(rep, shop, days_ago(1), status="done")  # another day
    plan_row(world.rep_east2, shop, day, status="done")  # another rep
    stats = api.as_(rep).get(f"/api/v1/daily-reports/{day}").json["stats"]
    assert (stats["plans"], stats["plans_done"], stats["plans_missed"]) == (4, 2, 1)
    rows = api.as_(world.mgr_east).get("/api/v1/attendance", query_string={
        "from": day, "to": day, "user_id": rep.id}).json
    assert [(r["plans"], r["plans_done"]) for r in rows] == [(4, 2)]
    body = api.as_(world.hr).get("/api/v1/attendance.csv", query_string={
        "from": day, "to": day, "user_id": rep.id}).get_data().decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body)))
    at = table[0].index("plans")
    assert table[0][at:at + 2] == ["plans", "plans_done"] and table[1][at:at + 2] == ["4", "2"]


def test_submitted_report_freezes_plan_stats(api, world):
    rep = world.rep_east
    shop = factories.customer(world.org, rep)
    day = days_ago(1)
    plan = plan_row(rep, shop, day, status="missed")
    r = api.as_(rep).put(f"/api/v1/daily-reports/{day}", json={
        "summary": "x", "plan": "y", "problems": "", "submit": True})
    assert r.status_code == 200 and r.json["stats"]["plans_missed"] == 1
    plan.status = "done"
    factories._save(plan)
    stats = api.as_(rep).get(f"/api/v1/daily-reports/{day}").json["stats"]
    assert (stats["plans_done"], stats["plans_missed"]) == (0, 1)
