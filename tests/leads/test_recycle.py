"""The recycle job: `fieldsales leads recycle [--now] [--dry-run]` and the service behind it."""
import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from fieldsales.leads.models import LEAD_POOL, Lead, LeadCooldown, LeadEvent, LeadHolding
from tests import factories
from tests.factories import leads as lf
from tests.test_cli import run

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
# Before any lead other tests commit (they claim around T0 or now): exact counts hold at T1.
T1 = datetime(2025, 6, 2, 2, 0, tzinfo=UTC)


def _recycle(app, **kw):
    from fieldsales.leads.recycle import recycle_overdue

    with app.app_context():
        return recycle_overdue(**kw)


def test_overdue_leads_go_back_with_cooldown_ledger_and_audit(app, world, db):
    pool = lf.pool(world.org, world.east, recycle_after_days=7, warn_before_days=2,
                   cooldown_days=3)
    overdue = lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - timedelta(days=8))
    followed = lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - timedelta(days=10),
                       last_follow_up_at=T1 - timedelta(days=3))
    warned = lf.lead(world.org, pool, world.rep_east2,
                     claimed_at=T1 - timedelta(days=6))  # due in 1 day, warning window 2
    exactly_due = lf.lead(world.org, pool, world.rep_east2, claimed_at=T1 - timedelta(days=7))
    assert _recycle(app, now=T1, dry_run=True) == {"recycled": 2, "warned": 1}
    db.expire_all()
    assert db.get(Lead, (overdue.org_id, overdue.id)).status == "claimed"  # a dry run changes nothing

    assert _recycle(app, now=T1) == {"recycled": 2, "warned": 1}
    db.expire_all()
    for lead in (overdue, exactly_due):
        stored = db.get(Lead, (lead.org_id, lead.id))
        assert (stored.status, stored.owner_id, stored.claimed_at) == ("pooled", None, None)
    assert db.get(Lead, (followed.org_id, followed.id)).status == "claimed"
    assert db.get(Lead, (warned.org_id, warned.id)).status == "claimed"
    event = db.scalars(select(LeadEvent).where(LeadEvent.lead_id == overdue.id)).one()
    assert (event.action, event.actor_id, event.from_user_id) == (
        "recycled", None, world.rep_east.id)
    assert "7 day" in event.reason and event.at == T1
    cooldown = db.get(LeadCooldown, (overdue.org_id, overdue.id, world.rep_east.id))
    assert cooldown.until == T1 + timedelta(days=3)
    assert db.scalar(select(LeadHolding.holding).where(
        LeadHolding.pool_id == pool.id, LeadHolding.user_id == world.rep_east.id)) == 1
    from fieldsales.audit.models import AuditEntry
    entry = db.scalars(select(AuditEntry).where(AuditEntry.entity_id == overdue.id)).one()
    assert (entry.action, entry.user_id, entry.actor_id) == (
        "lead.recycled", world.rep_east.id, None)
    assert _recycle(app, now=T1) == {"recycled": 0, "warned": 1}


def test_previous_owner_cannot_claim_a_recycled_lead_back_during_cooldown(api, app, world):
    pool = lf.pool(world.org, world.east, recycle_after_days=7, cooldown_days=3)
    lead = lf.lead(world.org, pool, world.rep_east,
                   claimed_at=datetime.now(UTC) - timedelta(days=8))
    assert _recycle(app)["recycled"] >= 1
    r = api.as_(world.rep_east).post(f"/api/v1/leads/{lead.id}/claim")
    assert r.status_code == 422 and r.json["error"] == "cooldown_active"
    assert api.as_(world.rep_east2).post(f"/api/v1/leads/{lead.id}/claim").status_code == 200


def test_a_shorter_recycle_period_applies_to_leads_already_claimed(api, app, world):
    """recycle_at is computed from the pool's current rule, never stored stale."""
    pool = lf.pool(world.org, world.east, recycle_after_days=30, warn_before_days=1)
    claimed_at = datetime.now(UTC) - timedelta(days=5)
    lead = lf.lead(world.org, pool, world.rep_east, claimed_at=claimed_at)
    r = api.as_(world.mgr_east).patch(f"/api/v1/lead-pools/{pool.id}",
                                      json={"recycle_after_days": 3})
    assert r.status_code == 200
    body = api.as_(world.rep_east).get(f"/api/v1/leads/{lead.id}").json
    assert datetime.fromisoformat(body["recycle_at"]) == claimed_at + timedelta(days=3)
    assert body["recycle_warning"] is True
    _recycle(app)
    assert api.as_(world.rep_east2).get(f"/api/v1/leads/{lead.id}").json["status"] == "pooled"


def test_cli_recycle_prints_summary_and_works_across_orgs(app, committed):
    org_a, org_b = factories.org(), factories.org()
    reps = []
    for org in (org_a, org_b):
        team = factories.team(org)
        rep = factories.user(org, "rep", team)
        pool = lf.pool(org, team, recycle_after_days=7, warn_before_days=1)
        lf.lead(org, pool, rep, claimed_at=T0 - timedelta(days=9))
        lf.lead(org, pool, rep, claimed_at=T0 - timedelta(days=6, hours=12))  # warned
        reps.append(rep)
    now = "2026-03-02T10:00:00+08:00"  # == T0
    dry = run("leads", "recycle", "--now", now, "--dry-run")
    summary = json.loads(dry.stdout)
    # Other tests' committed leads may be overdue too; ours are at least these.
    assert summary["recycled"] >= 2 and summary["warned"] >= 2
    done = run("leads", "recycle", "--now", now)
    assert json.loads(done.stdout)["recycled"] == summary["recycled"]
    assert "recycled" in done.stderr  # progress on stderr, JSON alone on stdout
    committed.expire_all()
    for rep in reps:
        assert committed.scalar(select(func.count()).select_from(Lead).where(
            Lead.owner_id == rep.id, Lead.status == "claimed")) == 1
    assert json.loads(run("leads", "recycle", "--now", now).stdout)["recycled"] == 0


def test_cli_recycle_rejects_bad_now(app):
    for bad in ("yesterday", "2026-03-02T10:00:00"):
        proc = run("leads", "recycle", "--now", bad, check=False)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_the_sql_clock_agrees_with_the_leads_recycle_fields(world, db):
    """recycle.clock (the job's and the alerts' SQL) and rules.recycle_at/recycle_warning (the
    API's recycle_at and recycle_warning) are one rule: same answers on the edges."""
    from fieldsales.leads import rules
    from fieldsales.leads.models import LeadPool
    from fieldsales.leads.recycle import clock

    pool = lf.pool(world.org, world.east, recycle_after_days=7, warn_before_days=2)
    day = timedelta(days=1)
    leads = [
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 8 * day),
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 7 * day),  # due exactly now
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 5 * day),  # warned exactly now
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 5 * day + timedelta(seconds=1)),
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 10 * day,
                last_follow_up_at=T1 - 3 * day),
        # Re-claimed after another rep's follow-up: the claim restarts the clock.
        lf.lead(world.org, pool, world.rep_east, claimed_at=T1 - 1 * day,
                last_follow_up_at=T1 - 9 * day),
        lf.lead(world.org, pool),
    ]
    c = clock(T1)
    rows = db.execute(select(Lead.id, c.due, c.warning, c.overdue)
                      .join(LeadPool, LEAD_POOL)
                      .where(Lead.id.in_([lead.id for lead in leads]))).all()
    sql = {row.id: tuple(row[1:]) for row in rows}
    seen = set()
    for lead in leads:
        due = rules.recycle_at(status=lead.status, claimed_at=lead.claimed_at,
                               last_follow_up_at=lead.last_follow_up_at,
                               recycle_after_days=pool.recycle_after_days)
        warning = rules.recycle_warning(recycle_at=due, warn_before_days=pool.warn_before_days,
                                        now=T1)
        overdue = due is not None and due <= T1
        expected_due = due if lead.status == "claimed" else None
        assert sql[lead.id] == (expected_due, warning, overdue), lead.claimed_at
        seen.add((warning, overdue))
    assert seen == {(True, True), (True, False), (False, False)}  # every case was exercised
