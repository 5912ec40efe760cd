"""GET /alerts: each kind firing and not firing, scope, filters, order, and the workday rules
on a fixed clock (a Monday after a weekend)."""
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import text

from tests import factories
from tests.factories import leads as lf
from tests.factories import reports as rf
from tests.factories import visits as fv
from tests.visits.helpers import SHANGHAI

TZ = "Asia/Shanghai"
LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)


def _alerts(api, who, query=""):
    r = api.as_(who).get(f"/api/v1/alerts?page_size=100{query}")
    assert r.status_code == 200, r.json
    return r.json


def _of(alerts, kind):
    return {a["subject_id"]: a for a in alerts if a["type"] == kind}


def _z(at):
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def every_day(world, db):
    """Workdays Monday to Sunday, so that 'the previous workday' is yesterday whatever day the
    suite runs on; the people have existed for long."""
    db.execute(text("UPDATE orgs SET workdays = '{1,2,3,4,5,6,7}' WHERE id = :id"),
               {"id": world.org.id})
    db.execute(text("UPDATE users SET created_at = :at WHERE org_id = :org"),
               {"at": LONG_AGO, "org": world.org.id})
    db.commit()
    return world


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


# --- leads -----------------------------------------------------------------------------------

def test_stale_and_soon_to_be_recycled_leads(api, world):
    # Recycled after 8 days without a follow-up, warned 2 days before: stale after 4 days
    # (half the window), recycle_soon from day 6 on, overdue after day 8.
    pool = lf.pool(world.org, world.east, recycle_after_days=8, warn_before_days=2)
    now = datetime.now(UTC)
    claimed = {
        "fresh": now - timedelta(days=1),
        "almost_stale": now - timedelta(days=3, hours=23),
        "stale": now - timedelta(days=4, hours=1),
        "soon": now - timedelta(days=6, hours=1),
        "overdue": now - timedelta(days=9),
    }
    leads = {name: lf.lead(world.org, pool, world.rep_east, claimed_at=at, name=name)
             for name, at in claimed.items()}
    revived = lf.lead(world.org, pool, world.rep_east, claimed_at=now - timedelta(days=7),
                      last_follow_up_at=now - timedelta(days=1), name="revived")
    stale_followed = lf.lead(world.org, pool, world.rep_north,
                             claimed_at=now - timedelta(days=7),
                             last_follow_up_at=now - timedelta(days=5), name="north")
    lf.lead(world.org, pool, name="pooled")
    west_pool = lf.pool(world.org, world.west, recycle_after_days=8, warn_before_days=2)
    west = lf.lead(world.org, west_pool, world.rep_west, claimed_at=now - timedelta(days=5))

    alerts = _alerts(api, world.mgr_east)
    stale, soon = _of(alerts, "stale_lead"), _of(alerts, "recycle_soon")
    assert set(stale) == {str(leads["stale"].id), str(stale_followed.id)}
    assert set(soon) == {str(leads["soon"].id), str(leads["overdue"].id)}
    assert str(revived.id) not in stale | soon

    a = stale[str(leads["stale"].id)]
    assert a["user_id"] == str(world.rep_east.id) and a["user_name"] == world.rep_east.name
    assert a["since"] == _z(claimed["stale"])  # no follow-up since the claim
    assert "'stale'" in a["detail"] and "returns to the pool at" in a["detail"]
    assert stale[str(stale_followed.id)]["since"] == _z(now - timedelta(days=5))
    assert "unless followed up" in soon[str(leads["soon"].id)]["detail"]
    assert "was due back" in soon[str(leads["overdue"].id)]["detail"]

    # recycle_soon is exactly the lead's own recycle_warning
    for lead in (*leads.values(), revived, stale_followed):
        warning = api.as_(world.mgr_east).get(f"/api/v1/leads/{lead.id}").json[
            "recycle_warning"]
        assert warning == (str(lead.id) in soon), lead.name

    # another team's leads: for its manager and the admin only
    assert str(west.id) not in stale
    assert str(west.id) in _of(_alerts(api, world.mgr_west), "stale_lead")
    assert str(west.id) in _of(_alerts(api, world.admin), "stale_lead")


# --- risky visits ----------------------------------------------------------------------------

def test_risky_visits_of_the_last_week(api, world, shop):
    now = datetime.now(UTC)
    risky = fv.visit(world.rep_east, shop, in_at=now - timedelta(days=1),
                     out_at=now - timedelta(days=1) + timedelta(minutes=20),
                     flags=["mock_location", "outside_geofence"], risk_score=65)
    borderline = fv.visit(world.rep_east, shop, in_at=now - timedelta(days=2),
                          out_at=now - timedelta(days=2) + timedelta(minutes=20),
                          flags=["mock_location", "low_accuracy"], risk_score=50)
    fv.visit(world.rep_east, shop, in_at=now - timedelta(days=3),
             out_at=now - timedelta(days=3) + timedelta(minutes=20),
             flags=["outside_geofence", "photo_time_mismatch"], risk_score=49)
    old = fv.visit(world.rep_east, shop, in_at=now - timedelta(days=8),
                   out_at=now - timedelta(days=8) + timedelta(minutes=20),
                   flags=["mock_location", "photo_reused"], risk_score=80)
    west_shop = factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    west = fv.visit(world.rep_west, west_shop, in_at=now - timedelta(hours=3),
                    out_at=now - timedelta(hours=2), flags=["impossible_speed",
                                                            "mock_location"], risk_score=80)
    found = _of(_alerts(api, world.mgr_east), "risky_visit")
    assert set(found) == {str(risky.id), str(borderline.id)}
    a = found[str(risky.id)]
    assert a["since"] == _z(risky.in_at) and a["user_id"] == str(world.rep_east.id)
    assert "Risk 65" in a["detail"] and "mock_location, outside_geofence" in a["detail"]
    assert shop.name in a["detail"]
    assert str(old.id) not in found and str(west.id) not in found
    assert str(west.id) in _of(_alerts(api, world.admin), "risky_visit")


# --- idle reps -------------------------------------------------------------------------------

def test_idle_reps(api, every_day, db, shop):
    w = every_day
    today = rf.today()
    # workdays every day: the last two workdays before today are yesterday and the day before
    window_start = today - timedelta(days=2)
    fv.visit(w.rep_east, shop, in_at=rf.local(window_start, 0, 30),
             out_at=rf.local(window_start, 1))                       # just inside: not idle
    quiet = fv.visit(w.rep_east2, shop, in_at=rf.local(window_start - timedelta(days=1), 23, 30),
                     out_at=rf.local(window_start - timedelta(days=1), 23, 50))  # idle
    fv.visit(w.rep_west, shop, in_at=datetime.now(UTC) - timedelta(minutes=5))  # today: busy
    # rep_north never checked in, and has existed for long: idle since its account was made
    newcomer = factories.user(w.org, "rep", w.east)  # created just now: not idle yet
    gone = factories.user(w.org, "rep", w.east, active=False)
    db.execute(text("UPDATE users SET created_at = :at WHERE id = :id"),
               {"at": LONG_AGO, "id": gone.id})
    db.commit()

    idle = _of(_alerts(api, w.admin), "idle_rep")
    assert set(idle) == {str(w.rep_east2.id), str(w.rep_north.id)}
    assert idle[str(w.rep_east2.id)]["since"] == _z(quiet.in_at)
    assert "the last one was at" in idle[str(w.rep_east2.id)]["detail"]
    assert idle[str(w.rep_north.id)]["since"] == _z(LONG_AGO)
    assert "nor ever before" in idle[str(w.rep_north.id)]["detail"]
    assert all(a["user_id"] == a["subject_id"] for a in idle.values())
    assert str(newcomer.id) not in idle and str(gone.id) not in idle
    # managers, admins and hr are not reps: never idle
    assert {str(u.id) for u in (w.mgr_east, w.mgr_west, w.admin, w.hr)}.isdisjoint(idle)
    # a manager sees its own people only
    assert set(_of(_alerts(api, w.mgr_east), "idle_rep")) == idle.keys()
    assert _of(_alerts(api, w.mgr_west), "idle_rep") == {}


# --- missing daily reports -------------------------------------------------------------------

def test_missing_daily_reports(api, every_day, db):
    w = every_day
    yesterday = rf.today() - timedelta(days=1)
    rf.report(w.rep_east, yesterday, status="submitted")
    rf.report(w.rep_west, yesterday, status="approved", reviewer=w.mgr_west)
    draft = rf.report(w.rep_east2, yesterday, status="draft")
    returned = rf.report(w.rep_north, yesterday, status="returned", reviewer=w.mgr_east)
    lazy = factories.user(w.org, "rep", w.west)
    rf.report(lazy, yesterday - timedelta(days=1), status="submitted")  # the wrong day
    db.execute(text("UPDATE users SET created_at = :at WHERE id = :id"),
               {"at": LONG_AGO, "id": lazy.id})
    db.commit()
    newcomer = factories.user(w.org, "rep", w.west)  # joined today: nothing was due

    missing = {a["user_id"]: a for a in _alerts(api, w.admin)
               if a["type"] == "missing_daily_report"}
    assert set(missing) == {str(w.rep_east2.id), str(w.rep_north.id), str(lazy.id)}
    assert missing[str(w.rep_east2.id)]["subject_id"] == str(draft.id)
    assert missing[str(w.rep_north.id)]["subject_id"] == str(returned.id)
    assert missing[str(lazy.id)]["subject_id"] is None
    due = rf.local(rf.today(), 0)  # the end of yesterday, Shanghai
    assert {a["since"] for a in missing.values()} == {_z(due)}
    assert yesterday.isoformat() in missing[str(lazy.id)]["detail"]
    assert "draft" in missing[str(w.rep_east2.id)]["detail"]
    assert "returned" in missing[str(w.rep_north.id)]["detail"]
    assert str(newcomer.id) not in missing
    # submitting clears it
    api.as_(w.rep_east2).put(f"/api/v1/daily-reports/{yesterday}", json={"submit": True})
    assert str(w.rep_east2.id) not in {a["user_id"] for a in _alerts(api, w.mgr_east)
                                       if a["type"] == "missing_daily_report"}


def test_a_rep_in_another_zone_is_judged_by_its_own_day(api, every_day, db):
    w = every_day
    rep = factories.user(w.org, "rep", w.east, timezone="Pacific/Kiritimati")
    db.execute(text("UPDATE users SET created_at = :at WHERE id = :id"),
               {"at": LONG_AGO, "id": rep.id})
    db.commit()
    theirs = rf.today("Pacific/Kiritimati") - timedelta(days=1)
    missing = [a for a in _alerts(api, w.mgr_east, "&type=missing_daily_report")
               if a["user_id"] == str(rep.id)]
    assert len(missing) == 1 and theirs.isoformat() in missing[0]["detail"]
    assert missing[0]["since"] == _z(rf.local(theirs + timedelta(days=1), 0, 0,
                                              "Pacific/Kiritimati"))
    rf.report(rep, theirs, status="submitted")
    assert [a for a in _alerts(api, w.mgr_east, "&type=missing_daily_report")
            if a["user_id"] == str(rep.id)] == []


# --- workdays on a fixed clock ---------------------------------------------------------------

MONDAY = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # 10:00 Monday in Shanghai


def _service_alerts(user, now, **filters):
    from flask_smorest.pagination import PaginationParameters

    from fieldsales.alerts.service import list_alerts
    from fieldsales.scope import Principal

    with factories.APP.test_request_context():
        principal = Principal.for_user(user, org_timezone=TZ)
        page = PaginationParameters(page=1, page_size=100)
        return list_alerts(principal=principal, filters=filters, page=page, now=now)


def test_after_a_weekend_the_previous_workday_is_friday(world, db, shop):
    """Workdays Monday to Friday: on Monday the due report is Friday's, and a rep is idle
    only without a check-in since Thursday."""
    db.execute(text("UPDATE users SET created_at = :at WHERE org_id = :org"),
               {"at": LONG_AGO, "org": world.org.id})
    db.commit()
    thursday, friday = date(2026, 2, 26), date(2026, 2, 27)
    fv.visit(world.rep_east, shop, in_at=rf.local(thursday, 9), out_at=rf.local(thursday, 10))
    fv.visit(world.rep_east2, shop, in_at=rf.local(thursday - timedelta(days=1), 17),
             out_at=rf.local(thursday - timedelta(days=1), 18))
    rf.report(world.rep_east, friday, status="submitted")
    rf.report(world.rep_east2, date(2026, 3, 1), status="submitted")  # Sunday's: not the one

    alerts = _service_alerts(world.mgr_east, MONDAY)
    idle = {a.user_id for a in alerts if a.type == "idle_rep"}
    assert idle == {world.rep_east2.id, world.rep_north.id}
    missing = {a.user_id: a for a in alerts if a.type == "missing_daily_report"}
    assert set(missing) == {world.rep_east2.id, world.rep_north.id}
    assert all("2026-02-27" in a.detail for a in missing.values())
    assert {a.since for a in missing.values()} == {rf.local(date(2026, 2, 28), 0)}
    # Tuesday: Monday is the previous workday; Friday's visit keeps nobody from being idle
    tuesday = _service_alerts(world.mgr_east, MONDAY + timedelta(days=1))
    assert {a.user_id for a in tuesday if a.type == "idle_rep"} == {
        world.rep_east.id, world.rep_east2.id, world.rep_north.id}
    assert all("2026-03-02" in a.detail for a in tuesday if a.type == "missing_daily_report")


# --- filters, order, pages -------------------------------------------------------------------

def test_filters_order_and_pages(api, every_day, shop):
    w = every_day
    now = datetime.now(UTC)
    north_shop = factories.customer(w.org, w.rep_north, lat=SHANGHAI[0], lng=SHANGHAI[1])
    for hours, rep, where in ((30, w.rep_east, shop), (20, w.rep_north, north_shop),
                              (10, w.rep_east, shop)):
        fv.visit(rep, where, in_at=now - timedelta(hours=hours),
                 out_at=now - timedelta(hours=hours - 1), flags=["mock_location",
                                                                "photo_reused"],
                 risk_score=80)
    everything = _alerts(api, w.mgr_east)
    assert [a["since"] for a in everything] == sorted(a["since"] for a in everything)
    kinds = {a["type"] for a in everything}
    assert {"risky_visit", "missing_daily_report"} <= kinds
    only = _alerts(api, w.mgr_east, "&type=risky_visit")
    assert [a["type"] for a in only] == ["risky_visit"] * 3
    north = _alerts(api, w.mgr_east, f"&team_id={w.north.id}")
    assert {a["user_id"] for a in north} == {str(w.rep_north.id)}
    assert _alerts(api, w.mgr_east, f"&team_id={w.west.id}") == []  # not its team
    r = api.as_(w.mgr_east).get("/api/v1/alerts?type=risky_visit&page_size=2&page=2")
    assert len(r.json) == 1 and '"total": 3' in r.headers["X-Pagination"]
    for bad in ("type=boring", "team_id=nope", "page_size=500"):
        assert api.as_(w.mgr_east).get(f"/api/v1/alerts?{bad}").status_code == 422
