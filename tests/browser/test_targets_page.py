"""This month's targets as progress bars, in a real headless Chromium: the East manager logs
in on the team map, opens /targets and sees its team's and each of its reps' month bars, with
the visits counted here from the database (each rep's Shanghai month)."""
from collections import Counter
from datetime import datetime

import pytest
from sqlalchemy import select

from tests.browser.server import live_server
from tests.browser.test_map_page import MANAGER, PASSWORD, TZ, browser_context  # noqa: F401
from tests.conftest import DB_URL
from tests.test_cli import run

pytestmark = pytest.mark.slow


def _expected(session):
    """{user id: visits this local month} of the East team's people, and the team's id."""
    from fieldsales.users.models import User
    from fieldsales.visits.models import Visit

    manager = session.scalar(select(User).where(User.email == MANAGER))
    month = datetime.now(TZ).strftime("%Y-%m")
    people = session.scalars(select(User.id).where(User.org_id == manager.org_id,
                                                   User.team_id == manager.team_id)).all()
    counts = Counter(user for user, at in session.execute(
        select(Visit.user_id, Visit.in_at).where(Visit.user_id.in_(people)))
        if at.astimezone(TZ).strftime("%Y-%m") == month)
    reps = session.scalars(select(User.id).where(User.team_id == manager.team_id,
                                                 User.role == "rep")).all()
    session.rollback()
    return manager.team_id, {str(r): counts[r] for r in reps}, sum(counts.values())


def test_team_progress_bars_this_month(committed, tmp_path, browser_context):  # noqa: F811
    run("seed", "demo")
    team_id, per_rep, team_total = _expected(committed)
    assert team_total > 0  # the demo visits of the last days
    with live_server(DB_URL, tmp_path) as base:
        page = browser_context.new_page()
        problems = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("response", lambda res: problems.append(f"{res.status} {res.url}")
                if res.status >= 400 else None)
        page.goto(base + "/targets")
        page.wait_for_selector("#targets[data-state=login]")
        page.goto(base + "/map")
        page.fill("#login-email", MANAGER)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#map[data-state=ready]")
        page.goto(base + "/targets")
        page.wait_for_selector("#targets[data-state=ready]")
        bars = {li.get_attribute("data-subject"): li for li in
                page.locator("#target-list > li.target[data-metric=visits]").all()}
        assert set(bars) == {str(team_id), *per_rep}
        assert float(bars[str(team_id)].get_attribute("data-achieved")) == team_total
        for rep, n in per_rep.items():
            assert float(bars[rep].get_attribute("data-achieved")) == n
            assert float(bars[rep].get_attribute("data-amount")) == 20  # the demo's month
            width = bars[rep].locator(".fill").evaluate("e => parseFloat(e.style.width)")
            assert width == pytest.approx(min(100, 100 * n / 20), abs=0.1)
        assert "East team · visits" in page.inner_text("#target-list")
        assert problems == []
