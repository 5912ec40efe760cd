"""The periodic jobs on the real queue: two `fieldsales worker` processes, every job on a
2-second schedule; each job's effect shows in the database, and no tick runs twice."""
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, select

from fieldsales.contracts.models import Contract
from fieldsales.leads.models import Lead
from fieldsales.plans.models import Plan
from fieldsales.visits.models import Visit
from fieldsales.webhooks.models import Webhook, WebhookDelivery
from tests import factories
from tests.factories import deals as df
from tests.factories import leads as lf
from tests.factories import visits as vf
from tests.factories import webhooks as wf
from tests.jobs.workers import wait_until, workers
from tests.plans.helpers import plan_row

pytestmark = pytest.mark.slow

JOBS = ("close_stale", "close_day", "recycle", "expire", "alerts")
EVERY_2S = "* * * * * */2"


def test_two_workers_run_every_job_once_per_tick(app, committed):
    org = factories.org(timezone="UTC")
    rep = factories.user(org, "rep")
    shop = factories.customer(org, rep, lat=vf.SHANGHAI[0], lng=vf.SHANGHAI[1])
    long_ago = datetime.now(UTC) - timedelta(days=30)
    visit = vf.visit(rep, shop, in_at=long_ago)  # left open: close-stale closes it
    plan = plan_row(rep, shop, long_ago.date())  # its day is over: close-day misses it
    pool = lf.pool(org, recycle_after_days=7)
    lead = lf.lead(org, pool, rep, claimed_at=long_ago)  # overdue: recycle takes it back
    contract = df.contract(org, shop, rep, start_date=date(2019, 1, 1),
                           end_date=date(2020, 1, 1))  # ended: expire marks it
    now = datetime.now(UTC)
    risky = vf.visit(rep, shop, in_at=now - timedelta(hours=1), out_at=now, risk_score=60)
    with app.app_context():  # the alert job raises the risky visit (nothing listens there)
        hook = wf.webhook(org, "http://127.0.0.1:9/", events=["alert.raised"])

    def effects():
        committed.expire_all()
        return (committed.scalar(select(Visit.status).where(Visit.id == visit.id)),
                committed.scalar(select(Plan.status).where(Plan.id == plan.id)),
                committed.scalar(select(Lead.status).where(Lead.id == lead.id)),
                committed.scalar(select(Contract.status).where(Contract.id == contract.id)),
                str(risky.id) in committed.scalars(
                    select(WebhookDelivery.payload["subject_id"].as_string())
                    .where(WebhookDelivery.org_id == org.id,
                           WebhookDelivery.event == "alert.raised")).all())

    assert effects() == ("open", "planned", "claimed", "active", False)
    try:
        with workers(2, {name: EVERY_2S for name in JOBS}) as done:
            def ran_enough():
                ticks = Counter(line["job"] for line in done())
                return all(ticks[name] >= 3 for name in JOBS)

            assert wait_until(ran_enough), Counter(line["job"] for line in done())
            assert effects() == ("closed", "missed", "pooled", "expired", True)
            lines = done()
    finally:  # no later test's sender finds the alert deliveries due
        committed.execute(delete(Webhook).where(Webhook.org_id == org.id, Webhook.id == hook.id))
        # never sealed (a factory row): `audit verify` in later tests checks every org
        committed.execute(delete(Visit).where(Visit.org_id == org.id, Visit.id == risky.id))
        committed.commit()

    runs = Counter((line["job"], line["tick"]) for line in lines)
    assert {job for job, _ in runs} == set(JOBS)
    assert [key for key, n in runs.items() if n > 1] == []  # no tick ran twice
    assert all(tick % 2 == 0 for _, tick in runs)  # the ticks of the schedule
    # the runs report what they did: this org's rows were among them
    counted = {"close_stale": "closed", "close_day": "missed", "recycle": "recycled",
               "expire": "expired", "alerts": "raised"}
    for job, key in counted.items():
        assert sum(line["result"][key] for line in lines if line["job"] == job) >= 1, job
