"""The recycle clock in SQL and the recycle job (`fieldsales leads recycle`).

A claimed lead's clock starts at its claim or its last follow-up, whichever is later; it is due
back in the pool recycle_after_days later and warned about warn_before_days before that.
rules.recycle_at/recycle_warning say the same for one loaded lead (the API's recycle_at and
recycle_warning); clock() is the one SQL form, used by the job and by alerts."""
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, literal_column, select, true
from sqlalchemy.sql.elements import ColumnElement

from fieldsales.db import on_citus, transaction
from fieldsales.extensions import db
from fieldsales.leads import rules
from fieldsales.leads.claims import start_cooldown
from fieldsales.leads.ledger import add_event, seal_event
from fieldsales.leads.models import LEAD_POOL, Lead, LeadPool
from fieldsales.webhooks import events as webhook_events

RECYCLE_BATCH = 200


@dataclass(frozen=True)
class Clock:
    """SQL over leads joined with their pool (LeadPool.id == Lead.pool_id)."""

    started: ColumnElement  # when the clock of a claimed lead started
    due: ColumnElement      # when it goes back to the pool
    warning: ColumnElement  # claimed and inside the warning window (or overdue)
    overdue: ColumnElement  # claimed and due: the next recycle run takes it


def _days(column):
    """An integer column as an interval of that many days."""
    return column * literal_column("interval '1 day'")


def clock(now) -> Clock:
    """The recycle clock as of `now`."""
    started = func.greatest(Lead.claimed_at,
                            func.coalesce(Lead.last_follow_up_at, Lead.claimed_at))
    due = started + _days(LeadPool.recycle_after_days)
    claimed = Lead.status == "claimed"
    return Clock(started=started, due=due,
                 warning=and_(claimed, due - _days(LeadPool.warn_before_days) <= now),
                 overdue=and_(claimed, due <= now))


def _count(clause):
    return db.session.scalar(select(func.count()).select_from(Lead)
                             .join(LeadPool, LEAD_POOL).where(clause))


def _warned(now):
    """Claimed leads inside their warning window, not yet overdue."""
    c = clock(now)
    return and_(c.warning, c.due > now)


def recycle_overdue(*, now=None, dry_run=False, progress=None):
    """Return every overdue claimed lead (all orgs) to its pool, starting the previous owner's
    cooldown; returns {"recycled", "warned"} (warned: claimed leads inside their warning
    window). Each batch is its own unit of work; leads locked by a concurrent claim or
    follow-up are skipped and left for the next run."""
    now = now or datetime.now(UTC)
    c = clock(now)
    if dry_run:
        return {"recycled": _count(c.overdue), "warned": _count(_warned(now))}
    total = _count(c.overdue)
    recycled = 0
    for org in _orgs(c.overdue):
        while True:
            with transaction():
                batch = db.session.execute(
                    select(Lead, LeadPool, c.started).join(LeadPool, LEAD_POOL)
                    .where(c.overdue, org).order_by(Lead.claimed_at, Lead.id)
                    .limit(RECYCLE_BATCH).with_for_update(of=Lead, skip_locked=True)).all()
                _recycle(batch, now)
            if not batch:
                break
            recycled += len(batch)
            if progress:
                progress(f"recycled {recycled}/{total}")
    return {"recycled": recycled, "warned": _count(_warned(now))}


def _orgs(clause):
    """The batches' org filters: none on plain PostgreSQL (all orgs at once); on Citus, which
    locks rows of one org per statement only, each org with leads matching `clause`."""
    if not on_citus(db.engine):
        return [true()]
    return [Lead.org_id == org for org in db.session.scalars(
        select(Lead.org_id).distinct().join(LeadPool, LEAD_POOL).where(clause))]


def _recycle(batch, now):
    # One batch touches many reps' holding rows and audit chains: take them in one global
    # order (rep, pool), flushing lead by lead, so two runs (or a run and a rep's own
    # release) can never wait on each other in a circle.
    batch = sorted(batch, key=lambda row: (str(row[0].owner_id), str(row[0].pool_id),
                                           str(row[0].id)))
    for lead, pool, started in batch:
        previous = lead.owner_id
        reason = rules.recycle_reason(recycle_after_days=pool.recycle_after_days,
                                      last_activity=started)
        lead.status, lead.owner_id, lead.claimed_at = "pooled", None, None
        db.session.flush()  # the holdings trigger runs now, in this order
        start_cooldown(lead, pool, previous, now)
        event = add_event(lead, "recycled", at=now, actor_id=None, from_user_id=previous,
                          reason=reason)
        seal_event(lead, "recycled", event=event, user_id=previous, actor_id=None,
                   reason=reason)
        webhook_events.lead_recycled(lead, previous_owner_id=previous, reason=reason, at=now)
