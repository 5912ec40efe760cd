"""The demo seed adds a few days of visits, some flagged, and running it again adds none."""
import json
import uuid

from sqlalchemy import func, select

from fieldsales.visits.models import Visit
from tests.test_cli import run


def test_demo_visits_are_seeded_once(app, committed):
    org_id = uuid.UUID(json.loads(run("seed", "demo").stdout)["org_id"])

    def count():
        committed.expire_all()
        return committed.scalar(select(func.count()).where(Visit.org_id == org_id))

    first = count()
    assert first >= 6 * 3 * 4  # six reps, three days, four slots
    flagged = committed.scalar(select(func.count()).where(Visit.org_id == org_id,
                                                          func.cardinality(Visit.flags) > 0))
    assert 0 < flagged < first
    run("seed", "demo")
    assert count() == first
    verified = json.loads(run("audit", "verify").stdout)
    assert verified["ok"] is True
