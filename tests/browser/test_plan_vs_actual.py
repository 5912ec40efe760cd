"""The manager map shows a rep's day as plan vs actual, in a real headless Chromium: the
planned stops done and missed told apart, and the check-ins nobody planned ringed; the counts
come from the database here."""
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.browser.server import live_server
from tests.browser.test_map_page import MANAGER, PASSWORD, REP, TZ, browser_context  # noqa: F401
from tests.conftest import DB_URL
from tests.test_cli import run

pytestmark = pytest.mark.slow


def _expected(session, day):
    from fieldsales.plans.models import Plan
    from fieldsales.timeutil import local_day_bounds
    from fieldsales.users.models import User
    from fieldsales.visits.models import Visit

    rep = session.scalar(select(User).where(User.email == REP))
    by_status = dict(session.execute(select(Plan.status, func.count()).where(
        Plan.org_id == rep.org_id, Plan.user_id == rep.id, Plan.planned_date == day)
        .group_by(Plan.status)).all())
    start, end = local_day_bounds(day, "Asia/Shanghai")
    unplanned = session.scalar(select(func.count()).select_from(Visit).where(
        Visit.user_id == rep.id, Visit.in_at >= start, Visit.in_at < end,
        Visit.plan_id.is_(None)))
    session.rollback()
    return rep, by_status, unplanned


def test_plan_vs_actual_on_the_map(committed, tmp_path, browser_context):  # noqa: F811
    run("seed", "demo")
    day = datetime.now(TZ).date() - timedelta(days=1)
    rep, by_status, unplanned = _expected(committed, day)
    assert by_status.get("done", 0) >= 1 and by_status.get("missed", 0) >= 1  # the demo's
    with live_server(DB_URL, tmp_path) as base:
        page = browser_context.new_page()
        problems = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("response", lambda res: problems.append(f"{res.status} {res.url}")
                if res.status >= 400 else None)
        page.goto(base + "/map")
        page.fill("#login-email", MANAGER)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#map[data-state=ready]")
        page.select_option("#rep", str(rep.id))
        page.fill("#route-date", day.isoformat())
        page.click("#route-show")
        page.wait_for_selector("#plan-info[data-state=ready]")
        info = {k: page.get_attribute("#plan-info", f"data-{k}")
                for k in ("done", "missed", "planned", "unplanned")}
        assert info == {"done": str(by_status.get("done", 0)),
                        "missed": str(by_status.get("missed", 0)),
                        "planned": str(by_status.get("planned", 0)),
                        "unplanned": str(unplanned)}
        assert page.locator(".plan-stop-icon.plan-done").count() == by_status["done"]
        assert page.locator(".plan-stop-icon.plan-missed").count() == by_status["missed"]
        assert page.locator(".route-stop-icon.unplanned").count() == unplanned
        assert f"{by_status['missed']} missed" in page.inner_text("#plan-info")
        page.click("#route-clear")
        assert page.locator(".plan-stop-icon").count() == 0
        assert problems == []
