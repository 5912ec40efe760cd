"""Demo deals: stage history for the demo projects, and contracts in every state — active ones
ending within 90 days (and within 30 and 7), one with an overdue payment plan, one expired, one
terminated, one renewed with its renewal — written through the services, so they are sealed.
Ids derive from names; a second run adds nothing."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from fieldsales.contracts import payments, renewals, service
from fieldsales.contracts.expire import expire
from fieldsales.contracts.models import Contract
from fieldsales.extensions import db
from fieldsales.plans.service import as_principal
from fieldsales.projects import stages
from fieldsales.projects.models import Project, ProjectStageEvent
from fieldsales.seeding import sid
from fieldsales.timeutil import local_date

# name, days from today to end_date (None: open-ended), amount, fate
DEALS = [
    ("ending-7", 5, "36000.00", "active"),
    ("ending-30", 25, "88000.00", "active"),
    ("ending-90", 80, "150000.00", "active"),
    ("long", 400, "240000.00", "active"),
    ("expired", -12, "42000.00", "expired"),
    ("terminated", 200, "60000.00", "terminated"),
    ("renewed", 15, "75000.00", "renewed"),
]


def _history(org):
    """The seeded projects' first stage event (lost ones with a reason)."""
    for project in db.session.scalars(select(Project).where(Project.org_id == org.id)):
        if db.session.scalar(select(ProjectStageEvent.id).where(
                ProjectStageEvent.org_id == org.id,
                ProjectStageEvent.project_id == project.id).limit(1)) is None:
            stages.enter(project, project.stage, actor_id=project.owner_id, first=True,
                         lost_reason="Chose a cheaper supplier" if project.stage == "lost"
                         else None)
    db.session.commit()


def seed_deals(context) -> str:
    """Seeder for fieldsales.seed.SEEDERS."""
    org, users = context["org"], context["users"]
    _history(org)
    owners = {c.owner_id for c in context["customers"] if c.owner_id}
    reps = sorted((u for u in users.values() if u.id in owners and u.role == "rep"),
                  key=lambda u: u.email)
    made = 0
    for n, (name, days, amount, fate) in enumerate(DEALS):
        rep = reps[n % len(reps)]
        if db.session.get(Contract, (org.id, sid("contract", name))) is not None:
            continue
        who = as_principal(rep)
        today = local_date(datetime.now(UTC), who.timezone)
        customer = next(c for c in context["customers"] if c.owner_id == rep.id)
        start = today + timedelta(days=days) - timedelta(days=365)
        won = db.session.scalar(select(Project.id).where(
            Project.org_id == org.id, Project.customer_id == customer.id,
            Project.stage != "lost").limit(1))
        contract, _ = service.create_contract(principal=who, data={
            "id": sid("contract", name), "customer_id": customer.id, "project_id": won,
            "number": f"DEMO-{2026}-{n + 1:03d}", "title": f"Supply agreement ({name})",
            "amount": Decimal(amount), "signed_on": start, "start_date": start,
            "end_date": today + timedelta(days=days)})
        _collect(who, contract, start, today)
        if fate == "terminated":
            service.terminate_contract(principal=who, contract_id=contract.id,
                                       reason="Customer moved to another city")
        elif fate == "renewed":
            renewals.renew(principal=who, contract_id=contract.id, data={
                "id": sid("contract", name, "renewal"),
                "start_date": today + timedelta(days=days + 1),
                "end_date": today + timedelta(days=days + 366)})
        made += 1
    expired = expire(org_id=org.id)
    return f"seed: {made} demo contracts ({expired} expired)"


def _collect(who, contract, start, today):
    """Four quarterly instalments; the ones before today paid except the latest (overdue)."""
    quarter = (contract.amount / 4).quantize(Decimal("0.01"))
    for q in range(4):
        due = start + timedelta(days=91 * q + 30)
        plan, _ = payments.create_plan(principal=who, contract_id=contract.id, data={
            "id": sid("plan", str(contract.id), str(q)), "due_date": due,
            "amount": quarter if q < 3 else contract.amount - 3 * quarter})
        if due < today - timedelta(days=91):
            payments.record_payment(principal=who, contract_id=contract.id, data={
                "id": sid("payment", str(contract.id), str(q)), "amount": plan.amount,
                "received_on": due, "method": "transfer", "plan_id": plan.id})
