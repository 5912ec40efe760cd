"""Races (real threads, committed data), the audit chain over visits, and close-stale."""
import json
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text

from fieldsales.audit.models import AuditEntry
from fieldsales.audit.service import verify_chain
from fieldsales.customers.models import ContactRecord
from fieldsales.visits.models import Visit
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.test_cli import run as run_cli
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body, iso


def _committed_rep(timezone=None):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team, timezone=timezone)
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return org, rep, shop


# --- races -----------------------------------------------------------------------------------

@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_duplicates_make_one_visit(app, committed, attempt):
    org, rep, shop = _committed_rep()
    client = ApiClient(app, rep)
    body = check_in_body(shop, id=str(uuid.uuid4()))
    responses = run_threads(12, lambda i: client.post("/api/v1/visits", json=body))
    assert sorted(r.status_code for r in responses) == [200] * 11 + [201]
    assert len({json.dumps(r.json, sort_keys=True) for r in responses}) == 1
    assert committed.scalar(select(func.count()).where(Visit.org_id == org.id)) == 1
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_check_ins_leave_exactly_one_open_visit(app, committed, attempt):
    org, rep, shop = _committed_rep()
    client = ApiClient(app, rep)
    codes = run_threads(10, lambda i: client.post(
        "/api/v1/visits", json=check_in_body(shop, note=f"#{i}")).status_code)
    assert codes == [201] * 10
    rows = committed.execute(select(Visit.status, Visit.closed_by, Visit.flags)
                             .where(Visit.org_id == org.id)).all()
    assert len(rows) == 10
    assert sum(1 for r in rows if r.status == "open") == 1
    closed = [r for r in rows if r.status == "closed"]
    assert all(r.closed_by == "auto" and "missing_check_out" in r.flags for r in closed)
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True


def test_concurrent_identical_check_outs_close_once(app, committed):
    org, rep, shop = _committed_rep()
    client = ApiClient(app, rep)
    v = client.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=20))).json
    body = check_out_body(summary="Signed")
    responses = run_threads(8, lambda i: client.post(f"/api/v1/visits/{v['id']}/check-out",
                                                     json=body))
    assert [r.status_code for r in responses] == [200] * 8
    assert len({json.dumps(r.json, sort_keys=True) for r in responses}) == 1
    assert committed.scalar(select(func.count()).where(
        ContactRecord.visit_id == uuid.UUID(v["id"]))) == 1


# --- audit -----------------------------------------------------------------------------------

def _entries(db, user):
    return db.scalars(select(AuditEntry).where(AuditEntry.user_id == user.id)
                      .order_by(AuditEntry.seq)).all()


def _verify(world):
    with factories.APP.app_context():
        return verify_chain(org_id=world.org.id, user_id=world.rep_east.id)


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


def test_every_visit_event_is_sealed_on_the_reps_chain(api, world, db, shop):
    rep = api.as_(world.rep_east)
    first = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=30))).json
    second = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=20))).json
    rep.post(f"/api/v1/visits/{second['id']}/check-out", json=check_out_body(summary="ok"))
    entries = _entries(db, world.rep_east)
    visit_entries = [(e.action, str(e.entity_id)) for e in entries if e.entity_type == "visit"]
    assert visit_entries == [("visit.checked_in", first["id"]),
                             ("visit.auto_closed", first["id"]),
                             ("visit.checked_in", second["id"]),
                             ("visit.checked_out", second["id"])]
    assert all("evidence_sha256" in e.data for e in entries if e.entity_type == "visit")
    assert _verify(world)["ok"] is True


@pytest.mark.parametrize("tamper", [
    "UPDATE visits SET in_lat = in_lat + 0.01 WHERE id = :id",
    # A subquery shifts the time: Citus refuses `col - interval` (STABLE) in an UPDATE's SET.
    "UPDATE visits SET in_device_time = (SELECT in_device_time - interval '1 hour' FROM visits "
    "WHERE org_id = :org AND id = :id) WHERE org_id = :org AND id = :id",
    "UPDATE visits SET flags = '{}', risk_score = 0 WHERE id = :id",
    "UPDATE visits SET out_accuracy_m = 3 WHERE id = :id",
    "UPDATE visits SET customer_id = customer_id WHERE false",  # a no-op: must still verify
    "DELETE FROM contact_records WHERE visit_id = :id; DELETE FROM visits WHERE id = :id",
])
def test_editing_a_visit_in_sql_breaks_verification(api, world, db, shop, tamper):
    rep = api.as_(world.rep_east)
    v = rep.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=30),
                                                      mock_location=True)).json
    rep.post(f"/api/v1/visits/{v['id']}/check-out", json=check_out_body(summary="x"))
    assert _verify(world)["ok"] is True
    for statement in tamper.split("; "):
        db.execute(text(statement), {"id": v["id"], "org": world.org.id})
    result = _verify(world)
    if "WHERE false" in tamper:
        assert result["ok"] is True
    else:
        assert result["ok"] is False and result["first_bad_seq"] is not None


# --- close-stale -----------------------------------------------------------------------------

def _local(day, hour, tz):
    return datetime.combine(day, time(hour), ZoneInfo(tz))


def test_close_stale_closes_after_the_reps_local_day(api, world, db, shop):
    from fieldsales.visits.service import close_stale

    tz = "Asia/Shanghai"  # the org's zone (the rep has none of its own)
    day = datetime.now(ZoneInfo(tz)).date() - timedelta(days=2)
    v = api.as_(world.rep_east).post(
        "/api/v1/visits", json=check_in_body(shop, at=_local(day, 10, tz))).json
    end_of_day = _local(day + timedelta(days=1), 0, tz)

    def status():
        return api.as_(world.rep_east).get(f"/api/v1/visits/{v['id']}").json["status"]

    # (close_stale covers every org; other tests' committed visits may be closed too)
    with factories.APP.app_context():
        close_stale(at=end_of_day - timedelta(seconds=1))
    assert status() == "open"
    with factories.APP.app_context():
        assert close_stale(at=end_of_day) >= 1
    assert status() == "closed"
    got = api.as_(world.rep_east).get(f"/api/v1/visits/{v['id']}").json
    assert got["status"] == "closed" and got["closed_by"] == "auto"
    assert got["check_out"] is None and "missing_check_out" in got["flags"]
    assert datetime.fromisoformat(got["closed_at"].replace("Z", "+00:00")) == end_of_day
    assert [e.action for e in _entries(db, world.rep_east)][-1] == "visit.auto_closed"
    assert _verify(world)["ok"] is True


def test_close_stale_uses_the_users_own_zone_first(api, world, db):
    from fieldsales.visits.service import close_stale

    rep = factories.user(world.org, "rep", world.east, timezone="America/New_York")
    shop = factories.customer(world.org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    tz = "America/New_York"
    day = datetime.now(ZoneInfo(tz)).date() - timedelta(days=2)
    api.as_(rep).post("/api/v1/visits", json=check_in_body(shop, at=_local(day, 10, tz)))
    shanghai_midnight = datetime.combine(day + timedelta(days=1), time(0),
                                         ZoneInfo("Asia/Shanghai"))
    def status():
        return api.as_(rep).get("/api/v1/visits").json[0]["status"]

    with factories.APP.app_context():
        close_stale(at=shanghai_midnight)
    assert status() == "open"  # still the rep's own day in New York
    with factories.APP.app_context():
        close_stale(at=_local(day + timedelta(days=1), 0, tz))
    assert status() == "closed"


def test_close_stale_cli(app, committed):
    org, rep, shop = _committed_rep()
    day = datetime.now(ZoneInfo("Asia/Shanghai")).date() - timedelta(days=3)
    r = ApiClient(app, rep).post("/api/v1/visits", json=check_in_body(
        shop, at=_local(day, 15, "Asia/Shanghai")))
    assert r.status_code == 201
    midnight = _local(day + timedelta(days=1), 0, "Asia/Shanghai").astimezone(UTC)
    early = run_cli("visits", "close-stale", "--now", iso(midnight - timedelta(minutes=1)))
    assert json.loads(early.stdout) == {"closed": 0}
    out = run_cli("visits", "close-stale", "--now", iso(midnight).replace("+00:00", "Z"))
    assert json.loads(out.stdout) == {"closed": 1}
    committed.expire_all()
    assert committed.scalar(select(Visit.status).where(Visit.org_id == org.id)) == "closed"
    bad = run_cli("visits", "close-stale", "--now", "tomorrow", check=False)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("attempt", range(2))
def test_check_ins_while_the_rep_edits_that_customer_do_not_deadlock(app, committed, attempt):
    """A check-in holds the rep's chain head when its insert takes the customer's key-share
    lock; an edit of the customer locks the card, then the same chain. The edit's lock must not
    block key-share locks (FOR NO KEY UPDATE), or the two deadlock (503)."""
    org, rep, shop = _committed_rep()
    client = ApiClient(app, rep)

    def act(i):
        if i % 2:
            return client.patch(f"/api/v1/customers/{shop.id}", json={"name": f"Shop {i}"})
        return client.post("/api/v1/visits", json=check_in_body(shop, note=f"#{i}"))

    codes = [r.status_code for r in run_threads(12, act)]
    assert codes.count(201) == 6 and codes.count(200) == 6, codes
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True
