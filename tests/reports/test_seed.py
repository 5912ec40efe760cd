"""The demo seed writes daily reports in every state through the service, once."""
import json
import uuid
from collections import Counter

from sqlalchemy import select

from fieldsales.reports.models import DailyReport
from tests.test_cli import run


def test_demo_reports_are_seeded_once(app, committed):
    org_id = uuid.UUID(json.loads(run("seed", "demo").stdout)["org_id"])

    def statuses():
        committed.expire_all()
        return Counter(committed.scalars(select(DailyReport.status)
                                         .where(DailyReport.org_id == org_id)))

    first = statuses()
    assert set(first) == {"draft", "submitted", "approved", "returned"}
    assert first["approved"] == 6  # every rep's oldest day
    reviewed = committed.scalars(select(DailyReport).where(
        DailyReport.org_id == org_id, DailyReport.status == "approved")).all()
    assert all(r.frozen_stats["visits"] >= 1 for r in reviewed)  # the demo visits' days
    run("seed", "demo")
    assert statuses() == first
    assert json.loads(run("audit", "verify").stdout)["ok"] is True
