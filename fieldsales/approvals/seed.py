"""Demo approvals: an outing of rep1 waiting for Manager Sun, and one of rep2 he approved
today. Ids derive from names, so running the seed again adds nothing."""
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fieldsales.approvals.models import Approval
from fieldsales.extensions import db


def seed_approvals(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS (through the services: routed, audited)."""
    from fieldsales.approvals.deciding import decide
    from fieldsales.approvals.service import add_approval
    from fieldsales.plans.service import as_principal
    from fieldsales.seeding import sid

    org, users = context["org"], context["users"]
    today = datetime.now(ZoneInfo(org.timezone)).date()
    made = 0
    for email, approve in (("rep1@demo.fieldsales.dev", False),
                           ("rep2@demo.fieldsales.dev", True)):
        rep = users[email]
        id_ = sid("approval", email, "outing")
        if db.session.get(Approval, (org.id, id_)) is not None:
            continue
        shop = next(c for c in context["customers"] if c.owner_id == rep.id)
        start = datetime.combine(today, time(13), ZoneInfo(org.timezone))
        add_approval(principal=as_principal(rep), data={"id": id_, "kind": "outing", "payload": {
            "customer_id": shop.id, "project_id": None, "starts_at": start,
            "ends_at": start + timedelta(hours=4), "purpose": "Trade fair at the customer's"}})
        made += 1
        if approve:
            db.session.flush()
            decide(principal=as_principal(users["manager.east@demo.fieldsales.dev"]),
                   approval_id=id_, decision="approved", comment="Go ahead")
    return f"seed: {made} demo approvals"
