"""The demo seed plans a week for every demo rep: some done by their visits, some missed, the
coming days planned; running it again adds nothing."""
import json
import uuid

from sqlalchemy import func, select

from fieldsales.plans.models import Plan
from fieldsales.visits.models import Visit
from tests.test_cli import run


def test_demo_plans(app, committed):
    org_id = uuid.UUID(json.loads(run("seed", "demo").stdout)["org_id"])

    def by_status():
        committed.expire_all()
        return dict(committed.execute(select(Plan.status, func.count()).where(
            Plan.org_id == org_id).group_by(Plan.status)).all())

    first = by_status()
    assert first.get("done", 0) >= 6 * 3 and first.get("missed", 0) >= 6
    assert first.get("planned", 0) >= 6 * 4 * 3
    reps = committed.scalar(select(func.count(func.distinct(Plan.user_id))).where(
        Plan.org_id == org_id))
    assert reps == 6
    # a done plan names the visit that did it: same rep, same customer
    mismatched = committed.scalar(select(func.count()).select_from(Plan).join(
        Visit, (Visit.org_id == Plan.org_id) & (Visit.id == Plan.visit_id)).where(
        Plan.org_id == org_id,
        (Visit.user_id != Plan.user_id) | (Visit.customer_id != Plan.customer_id)))
    assert mismatched == 0
    run("seed", "demo")
    assert by_status() == first
