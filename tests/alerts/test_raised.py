"""Webhook alert.raised: the evaluation job (alerts/raised.py) raises each alert of GET /alerts
once — on repeated runs and with four evaluators at once — with the alert as its data."""
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from fieldsales.alerts.models import RaisedAlert
from fieldsales.visits.models import Visit
from fieldsales.webhooks.models import Webhook, WebhookDelivery
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories import visits as fv
from tests.factories import webhooks as wf

LONG_AGO = datetime(2025, 1, 1, tzinfo=UTC)
NOWHERE = "http://127.0.0.1:9/"  # nothing listens: deliveries stay pending, as written


def _org_with_alerts(app, subscribed=True):
    """A committed org whose admins see alerts of several kinds: two reps without a report for
    yesterday (no report saved, so no subject_id) and idle, and a risky visit."""
    from fieldsales.extensions import db

    org = factories.org(timezone="Asia/Shanghai")
    admin = factories.user(org, "admin")
    reps = [factories.user(org, "rep") for _ in range(2)]
    shop = factories.customer(org, reps[0], lat=fv.SHANGHAI[0], lng=fv.SHANGHAI[1])
    with app.app_context():
        db.session.execute(text("UPDATE orgs SET workdays = '{1,2,3,4,5,6,7}' WHERE id = :id"),
                           {"id": org.id})
        db.session.execute(text("UPDATE users SET created_at = :at WHERE org_id = :org"),
                           {"at": LONG_AGO, "org": org.id})
        db.session.commit()
        if subscribed:
            wf.webhook(org, NOWHERE, events=["alert.raised"])
    now = datetime.now(UTC)
    risky = fv.visit(reps[1], shop, in_at=now - timedelta(hours=2),
                     out_at=now - timedelta(hours=1), risk_score=60, flags=["mock_location"])
    return org, admin, reps, shop, risky


@pytest.fixture
def cleanup(app, committed):
    orgs = []
    yield orgs
    with app.app_context():
        from fieldsales.extensions import db

        for org in orgs:  # no later test's sender finds these deliveries due
            db.session.execute(delete(Webhook).where(Webhook.org_id == org.id))
            # the factories' visits were never sealed: `audit verify` of later tests checks all
            db.session.execute(delete(Visit).where(Visit.org_id == org.id))
        db.session.commit()


def _alerts(app, admin):
    r = ApiClient(app).as_(admin).get("/api/v1/alerts?page_size=100")
    assert r.status_code == 200, r.json
    return r.json


def _raised(app, org):
    from fieldsales.extensions import db

    with app.app_context():
        return db.session.scalars(
            select(WebhookDelivery.payload).where(WebhookDelivery.org_id == org.id,
                                                  WebhookDelivery.event == "alert.raised")
            .order_by(WebhookDelivery.created_at)).all()


def _raise(app, org):
    from fieldsales.alerts.raised import raise_new

    with app.app_context():
        return raise_new(org.id)


def _key(alert):
    return alert["type"], alert["subject_id"] or alert["user_id"], alert["since"]


def test_each_alert_is_raised_once_as_get_alerts_lists_it(app, committed, cleanup):
    org, admin, reps, shop, risky = _org_with_alerts(app)
    cleanup.append(org)
    listed = _alerts(app, admin)
    kinds = sorted(a["type"] for a in listed)
    assert kinds.count("missing_daily_report") == 2 and "risky_visit" in kinds
    assert _raised(app, org) == []

    assert _raise(app, org) == len(listed)
    raised = _raised(app, org)
    assert sorted(raised, key=_key) == sorted(listed, key=_key)  # the data is the alert
    assert _raise(app, org) == 0  # nothing twice
    assert len(_raised(app, org)) == len(listed)

    now = datetime.now(UTC)
    another = fv.visit(reps[0], shop, in_at=now - timedelta(minutes=30), risk_score=70)
    assert _raise(app, org) == 1
    [new] = _raised(app, org)[len(listed):]
    assert (new["type"], new["subject_id"]) == ("risky_visit", str(another.id))


def test_an_alert_that_ended_and_came_back_is_raised_again(app, committed, cleanup):
    from fieldsales.extensions import db

    org, admin, reps, shop, risky = _org_with_alerts(app)
    cleanup.append(org)
    first = _raise(app, org)
    assert first >= 3
    with app.app_context():
        db.session.execute(update(Visit).where(Visit.org_id == org.id, Visit.id == risky.id)
                           .values(risk_score=0))
        db.session.commit()
    assert _raise(app, org) == 0
    with app.app_context():  # the ended alert's key is gone: the table holds alerts of now
        assert db.session.scalar(select(func.count()).select_from(RaisedAlert).where(
            RaisedAlert.org_id == org.id, RaisedAlert.subject_id == risky.id)) == 0
        db.session.execute(update(Visit).where(Visit.org_id == org.id, Visit.id == risky.id)
                           .values(risk_score=60))
        db.session.commit()
    assert _raise(app, org) == 1
    assert [a["subject_id"] for a in _raised(app, org)].count(str(risky.id)) == 2


def test_four_evaluators_at_once_raise_each_alert_once(app, committed, cleanup):
    org, admin, *_ = _org_with_alerts(app)
    cleanup.append(org)
    listed = _alerts(app, admin)
    counts = run_threads(4, lambda i: _raise(app, org))
    assert sum(counts) == len(listed)
    raised = _raised(app, org)
    assert sorted(map(_key, raised)) == sorted(map(_key, listed))  # each once


def test_only_subscribed_orgs_are_evaluated(app, committed, cleanup):
    from fieldsales.alerts.raised import evaluate
    from fieldsales.extensions import db

    quiet, *_ = _org_with_alerts(app, subscribed=False)
    org, admin, *_ = _org_with_alerts(app)
    cleanup.extend([quiet, org])
    with app.app_context():
        result = evaluate()
        counts = dict(db.session.execute(
            select(RaisedAlert.org_id, func.count()).where(RaisedAlert.org_id.in_(
                [quiet.id, org.id])).group_by(RaisedAlert.org_id)).all())
    assert result["raised"] >= len(_alerts(app, admin))
    assert counts == {org.id: len(_alerts(app, admin))}
