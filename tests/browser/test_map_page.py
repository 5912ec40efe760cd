"""The manager map in a real headless Chromium (Debian's `chromium`, driven by Playwright):
log in through the form, see the team's visits (clusters, then points), open a flagged visit
with its photo and flags, draw a rep's route for a day. The page is served by a real gunicorn
against the test database holding the committed demo data.

FIELDSALES_SCREENSHOT=1 also writes the final screenshot to docs/map.png (the README image).
"""
import os
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from fieldsales import geo
from bench.harness import ROOT
from tests.browser.server import live_server
from tests.conftest import DB_URL
from tests.factories.photos import fixture
from tests.test_cli import run

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
MANAGER = "manager.east@demo.fieldsales.dev"
REP = "rep1@demo.fieldsales.dev"
PASSWORD = "fieldsales-demo"  # the demo default (FIELDSALES_DEMO_PASSWORD)
TZ = ZoneInfo("Asia/Shanghai")

pytestmark = pytest.mark.slow


def _login(base, email):
    r = requests.post(f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD},
                      timeout=30)
    r.raise_for_status()
    return r.json()


def _flagged_visit_with_photo(base):
    """rep1 checks in now with a mock location and attaches a camera photo (its EXIF GPS and
    time are far from the visit: two more flags)."""
    rep = _login(base, REP)
    headers = {"Authorization": "Bearer " + rep["access_token"]}
    customers = requests.get(f"{base}/api/v1/customers", headers=headers, timeout=30,
                             params={"owner_id": rep["user"]["id"], "page_size": 100}).json()
    shop = next(c for c in customers if c["location"])
    lat, lng = shop["location"]["lat"] + 0.0002, shop["location"]["lng"]
    r = requests.post(f"{base}/api/v1/visits", headers=headers, timeout=30, json={
        "id": str(uuid.uuid4()), "customer_id": shop["id"], "mock_location": True,
        "location": {"lat": lat, "lng": lng, "accuracy_m": 8},
        "device_time": (datetime.now(UTC) - timedelta(seconds=5)).isoformat()})
    assert r.status_code == 201, r.text
    visit = r.json()
    r = requests.post(f"{base}/api/v1/visits/{visit['id']}/photos", headers=headers, timeout=60,
                      files={"file": ("shop.jpg", fixture("jpg_gps_DSCN0010.jpg"))})
    assert r.status_code == 201, r.text
    return visit, shop, (lat, lng)


def _expected(session, today):
    """What East's manager may see in the last 7 local days, counted here in SQL, and rep1's
    check-ins of yesterday in time order."""
    from fieldsales.timeutil import local_day_bounds
    from fieldsales.users.models import User
    from fieldsales.visits.models import Visit

    manager = session.scalar(select(User).where(User.email == MANAGER))
    team = select(User.id).where(User.org_id == manager.org_id, User.team_id == manager.team_id)
    start = local_day_bounds(today - timedelta(days=6), "Asia/Shanghai")[0]
    end = local_day_bounds(today, "Asia/Shanghai")[1]
    count = len(session.scalars(select(Visit.id).where(
        Visit.org_id == manager.org_id, Visit.user_id.in_(team), Visit.in_at >= start,
        Visit.in_at < end)).all())
    rep = session.scalar(select(User).where(User.email == REP))
    y_start, y_end = local_day_bounds(today - timedelta(days=1), "Asia/Shanghai")
    stops = session.execute(select(Visit.in_lat, Visit.in_lng).where(
        Visit.user_id == rep.id, Visit.in_at >= y_start, Visit.in_at < y_end)
        .order_by(Visit.in_at, Visit.id)).all()
    session.rollback()
    return count, rep, stops


@pytest.fixture
def browser_context(tmp_path):
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does this "
                    "as root)")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, headless=True,
            args=ARGS, viewport={"width": 1360, "height": 1000}, locale="en-GB",
            timezone_id="Asia/Shanghai")
        try:
            yield context
        finally:
            context.close()


def test_manager_map_in_a_real_browser(committed, tmp_path, browser_context):
    run("seed", "demo")
    today = datetime.now(TZ).date()
    with live_server(DB_URL, tmp_path) as base:
        visit, shop, point = _flagged_visit_with_photo(base)
        expected, rep, stops = _expected(committed, today)
        assert len(stops) >= 2  # the demo seed gives every rep four visits a day

        page = browser_context.new_page()
        problems = []
        page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        page.on("console", lambda msg: problems.append(f"console: {msg.text}")
                if msg.type == "error" else None)
        page.on("response", lambda res: problems.append(f"{res.status} {res.url}")
                if res.status >= 400 and "/auth/login" not in res.url else None)

        page.goto(base + "/map")
        # a rep is turned away at the door
        page.fill("#login-email", REP)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#login-error:has-text('managers')")
        assert page.is_hidden("#app")

        # the manager logs in; the map fits the team's visits of the last 7 days (clusters)
        page.fill("#login-email", MANAGER)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("#app:not([hidden])")
        page.wait_for_selector("#map[data-state=ready][data-mode=clusters]")
        assert page.input_value("#to") == today.isoformat()
        assert page.input_value("#from") == (today - timedelta(days=6)).isoformat()
        # every visible visit of East (and none of West's) is on the map, in clusters
        assert page.get_attribute("#map", "data-count") == str(expected)
        counts = page.locator(".cluster-count").all_inner_texts()
        assert counts and sum(int(c) for c in counts) == expected
        assert page.locator(".cluster-flagged").count() >= 1  # the demo has flagged visits

        # zoom in on the new visit: single points, the flagged one highlighted
        page.evaluate("([lat, lng]) => window.fieldsalesMap.setView([lat, lng], 17)",
                      list(point))
        page.wait_for_selector("#map[data-state=ready][data-mode=points]")
        marker = page.locator(f"path.visit-marker[data-visit-id='{visit['id']}']")
        assert marker.count() == 1
        assert "flagged" in marker.get_attribute("class")

        # open it: flags with their meanings, and the photo fetched with the bearer token
        marker.click(force=True)
        page.wait_for_selector(f"#visit-panel[data-state=ready][data-visit-id='{visit['id']}']")
        assert page.inner_text("#visit-title") == shop["name"]
        flags = page.locator("#visit-flags li").evaluate_all(
            "items => items.map(li => li.dataset.flag)")
        assert {"mock_location", "photo_location_mismatch"} <= set(flags)
        assert "mock (fake) location" in page.inner_text("#visit-flags")
        image = page.locator("#visit-photos img")
        assert image.count() == 1
        assert image.get_attribute("src").startswith("blob:")
        assert image.evaluate("img => img.complete && img.naturalWidth") > 0

        # draw rep1's route of yesterday
        page.select_option("#rep", str(rep.id))
        page.fill("#route-date", (today - timedelta(days=1)).isoformat())
        page.click("#route-show")
        page.wait_for_selector("#route-info[data-state=ready]")
        assert page.locator("path.route-line").count() == 1
        assert page.locator(".route-stop-icon").all_inner_texts() == [
            str(i) for i in range(1, len(stops) + 1)]
        distance = float(page.get_attribute("#route-info", "data-distance"))
        along = sum(geo.haversine_m(a[0], a[1], b[0], b[1])
                    for a, b in zip(stops, stops[1:], strict=False))
        assert distance == pytest.approx(along, rel=0.01)
        assert f"{len(stops)} check-ins" in page.inner_text("#route-info")
        # the team's visits stay on the map (the Rep list picks the route; the filters change
        # only with "Show visits"). The map reloads for the route's bounds: wait for that load
        # rather than read the count of the zoomed-in view it replaces.
        page.wait_for_function(
            "n => { const m = document.querySelector('#map');"
            " return m.dataset.state === 'ready' && +m.dataset.count >= n; }",
            arg=len(stops), timeout=15_000)

        shot = tmp_path / "map.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        if os.environ.get("FIELDSALES_SCREENSHOT") == "1":
            (ROOT / "docs").mkdir(exist_ok=True)
            Path(ROOT / "docs" / "map.png").write_bytes(shot.read_bytes())
        assert problems == []
