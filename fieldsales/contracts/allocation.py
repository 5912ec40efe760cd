"""Which payment plans the money received covers, pure (no database): payments naming a plan
pay it first; the rest (and any excess over a plan) fills the remaining plans by due date.
A plan is `paid` when covered, else `overdue` after its due date, else `partial` or `due`."""
from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Coverage:
    paid: Decimal
    status: str


def status(amount: Decimal, paid: Decimal, due_date: date, today: date) -> str:
    if paid >= amount:
        return "paid"
    if due_date < today:
        return "overdue"
    return "partial" if paid > 0 else "due"


def allocate(plans, payments, today: date) -> dict:
    """{plan id: Coverage} for `plans` (id, due_date, amount; any order) and `payments`
    (plan_id, amount)."""
    paid = {p.id: Decimal(0) for p in plans}
    loose = Decimal(0)
    for payment in payments:
        if payment.plan_id in paid:
            paid[payment.plan_id] += payment.amount
        else:
            loose += payment.amount
    ordered = sorted(plans, key=lambda p: (p.due_date, str(p.id)))
    for plan in ordered:
        if paid[plan.id] > plan.amount:
            loose += paid[plan.id] - plan.amount
            paid[plan.id] = plan.amount
    for plan in ordered:
        take = min(loose, plan.amount - paid[plan.id])
        paid[plan.id] += take
        loose -= take
    return {p.id: Coverage(paid[p.id], status(p.amount, paid[p.id], p.due_date, today))
            for p in plans}
