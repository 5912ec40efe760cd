"""Demo plans: a week for every demo rep — the three days of demo visits planned (most stops
done by the visit that made them, one missed a day), today and the next three days planned, a
few by the rep's manager — and grades on the demo customers. Ids derive from names, so running
the seed again adds nothing."""
import random
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.plans.models import Plan
from fieldsales.timeutil import local_day_bounds
from fieldsales.visits.models import Visit

GRADES = ("A", "B", "C", None)
PURPOSES = ("Order review", "New catalogue", "Payment follow-up", "Demo", "Price talk")
PAST_DAYS, NEXT_DAYS = 3, 3


def seed_plans(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS (after the visits)."""
    from fieldsales.seeding import sid

    org, customers = context["org"], context["customers"]
    for i, customer in enumerate(customers):
        if customer.grade is None:
            customer.grade = GRADES[i % len(GRADES)]
    users = context["users"].values()
    managers = {u.team_id: u for u in users if u.role == "manager"}
    made, done_by = 0, {}
    for rep in sorted((u for u in users if u.role == "rep"), key=lambda u: u.email):
        tz = rep.timezone or org.timezone
        today = datetime.now(ZoneInfo(tz)).date()
        mine = [c for c in customers if c.owner_id == rep.id]
        for offset in range(-PAST_DAYS, NEXT_DAYS + 1):
            day = today + timedelta(days=offset)
            rng = random.Random(f"plans/{rep.email}/{day.isoformat()}")
            for n, row in enumerate(_day_plans(rep, day, tz, offset, mine, rng)):
                id_ = sid("plan", rep.email, day.isoformat(), str(n))
                if db.session.get(Plan, (org.id, id_)) is not None:
                    continue
                by_manager = n == 1 and rep.team_id in managers
                db.session.add(Plan(
                    org_id=org.id, id=id_, user_id=rep.id, planned_date=day,
                    purpose=rng.choice(PURPOSES), talking_points="", source="manager"
                    if by_manager else "self",
                    created_by=managers[rep.team_id].id if by_manager else rep.id, **row))
                made += 1
                if row.get("visit_id") is not None:
                    done_by[row["visit_id"]] = id_
    db.session.flush()
    # the visits that did the done plans carry them, as a check-in that fulfils one does; the
    # link is evidence (plan_id is sealed), so each linked visit is sealed again
    from fieldsales.visits.service import seal

    for visit_id, plan_id in done_by.items():
        visit = db.session.get(Visit, (org.id, visit_id))
        if visit.plan_id == plan_id:
            continue
        visit.plan_id = plan_id
        seal(visit, action="visit.plan_linked", actor_id=None, data={"plan_id": plan_id})
    return f"seed: {made} demo plans"


def _day_plans(rep, day, tz, offset, mine, rng):
    """The plans of one rep's day: past days from its visits (done) plus one missed stop."""
    if offset >= 0:
        stops = rng.sample(mine, min(3, len(mine)))
        return [{"kind": "visit", "customer_id": c.id, "status": "planned"} for c in stops] + [
            {"kind": "call", "customer_id": rng.choice(mine).id, "status": "planned"}]
    start, end = local_day_bounds(day, tz)
    visits = db.session.execute(select(Visit.id, Visit.customer_id).where(
        Visit.org_id == rep.org_id, Visit.user_id == rep.id, Visit.in_at >= start,
        Visit.in_at < end).order_by(Visit.in_at)).all()
    rows = [{"kind": "visit", "customer_id": customer_id, "status": "done", "visit_id": visit_id}
            for visit_id, customer_id in visits[:3]]
    visited = {customer_id for _, customer_id in visits}
    missed = [c for c in mine if c.id not in visited]
    if missed:
        rows.append({"kind": "visit", "customer_id": rng.choice(missed).id, "status": "missed"})
    return rows
