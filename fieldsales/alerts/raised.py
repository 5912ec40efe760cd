"""The alert evaluation job: webhook `alert.raised` for every alert not raised before.

Each org whose admins subscribed a webhook to alert.raised is evaluated as the org's system
principal (what GET /alerts shows its admins: service.current_alerts, the one owner of the
rules). In one transaction per org, the alerts' keys go into raised_alerts with ON CONFLICT DO
NOTHING; only the rows this transaction inserted are emitted. A concurrent evaluation of the
same org waits on those keys and inserts nothing once this one commits, so each alert is raised
once however many workers evaluate at once. Keys of alerts that have ended are dropped, so the
table holds the alerts of now, not every alert ever."""
import logging
from datetime import UTC, datetime

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from fieldsales.alerts.models import RaisedAlert
from fieldsales.alerts.schemas import AlertSchema
from fieldsales.alerts.service import Alert, current_alerts
from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal
from fieldsales.webhooks.models import Webhook
from fieldsales.webhooks.outbox import emit

log = logging.getLogger(__name__)
EVENT = "alert.raised"


def key(alert: Alert) -> tuple:
    """kind + subject + since (the subject: subject_id, else the person it is about)."""
    return alert.type, alert.subject_id or alert.user_id, alert.since


def payload(alert: Alert) -> dict:
    """The event's data: the alert as GET /alerts lists it (its schema)."""
    return AlertSchema().dump(alert)


def raise_new(org_id, *, now: datetime | None = None) -> int:
    """Record and emit the org's alerts not raised before (one transaction); how many."""
    now = now or datetime.now(UTC)
    with transaction():
        tz = db.session.scalar(select(Org.timezone).where(Org.id == org_id))
        alerts = current_alerts(principal=Principal.system(org_id, org_timezone=tz), now=now)
        # One order for every evaluator: two inserting the same keys wait, never deadlock.
        by_key = dict(sorted(((key(a), a) for a in alerts), key=lambda kv: (
            kv[0][0], str(kv[0][1]), kv[0][2])))
        new = []
        if by_key:
            new = db.session.execute(
                insert(RaisedAlert)
                .values([{"org_id": org_id, "kind": kind, "subject_id": subject, "since": since}
                         for kind, subject, since in by_key])
                .on_conflict_do_nothing()
                .returning(RaisedAlert.kind, RaisedAlert.subject_id, RaisedAlert.since)).all()
        # Ended alerts; a key first seen after `now` is a concurrent evaluation's newer one.
        ended = delete(RaisedAlert).where(RaisedAlert.org_id == org_id,
                                          RaisedAlert.first_seen_at < now)
        if by_key:
            ended = ended.where(tuple_(RaisedAlert.kind, RaisedAlert.subject_id,
                                       RaisedAlert.since).not_in(list(by_key)))
        db.session.execute(ended.execution_options(synchronize_session=False))
        for row in new:
            emit(org_id, EVENT, payload(by_key[tuple(row)]))
    return len(new)


def evaluate(*, now: datetime | None = None) -> dict:
    """Raise the new alerts of every org subscribed to alert.raised (the periodic job);
    {"orgs", "raised"}."""
    with transaction():
        orgs = db.session.scalars(select(Webhook.org_id).where(Webhook.events.any_() == EVENT)
                                  .distinct().order_by(Webhook.org_id)).all()
    raised = failed = 0
    for org_id in orgs:
        try:
            raised += raise_new(org_id, now=now)
        except Exception:  # one org's failure (rolled back) does not hold up the others
            failed += 1
            log.exception("alert evaluation failed", extra={"org_id": str(org_id)})
    return {"orgs": len(orgs), "raised": raised, "failed": failed}
