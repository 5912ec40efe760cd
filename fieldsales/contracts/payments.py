"""Payment plans and payments of a contract. What was received never exceeds the contract's
amount, however many payments arrive at once: each payment locks the contract row, then sums
its payments afresh, in one transaction."""
from datetime import UTC, datetime

from sqlalchemy import func, select

from fieldsales import idempotency
from fieldsales.contracts.allocation import allocate
from fieldsales.contracts.evidence import seal_payment
from fieldsales.contracts.models import Payment, PaymentPlan
from fieldsales.contracts.service import (editable, get_contract, planned_total, received_now,
                                          require_not_terminated)
from fieldsales.db import paginate
from fieldsales.errors import field_error
from fieldsales.extensions import db
from fieldsales.scope import Principal
from fieldsales.timeutil import local_date

MAX_PLANS = 120  # instalments per contract (ten years of monthly ones)


def _exists(model, principal: Principal, id_) -> bool:
    return id_ is not None and db.session.scalar(
        select(model.id).where(model.org_id == principal.org_id, model.id == id_)) is not None


def plans_of(contract, today):
    """The contract's plans by due date, each with `paid` and `status` set (not persisted)."""
    plans = list(db.session.scalars(
        select(PaymentPlan).where(PaymentPlan.org_id == contract.org_id,
                                  PaymentPlan.contract_id == contract.id)
        .order_by(PaymentPlan.due_date, PaymentPlan.id)))
    payments = db.session.execute(
        select(Payment.plan_id, Payment.amount).where(Payment.org_id == contract.org_id,
                                                      Payment.contract_id == contract.id)).all()
    coverage = allocate(plans, payments, today)
    for plan in plans:
        plan.paid, plan.status = coverage[plan.id].paid, coverage[plan.id].status
    return plans


def list_plans(*, principal: Principal, contract_id, page):
    """A visible contract's payment plans by due date, with what covers them."""
    contract = get_contract(principal=principal, contract_id=contract_id)
    plans = plans_of(contract, local_date(datetime.now(UTC), principal.timezone))
    page.item_count = len(plans)
    return plans[page.first_item:page.first_item + page.page_size]


def create_plan(*, principal: Principal, contract_id, data: dict):
    """Add an instalment; all plans together may not exceed the contract amount. Returns
    (plan, created)."""
    def write():
        contract = editable(principal, contract_id)
        if _exists(PaymentPlan, principal, data.get("id")):
            raise idempotency.DuplicateId()
        require_not_terminated(contract)
        count = db.session.scalar(select(func.count()).where(
            PaymentPlan.org_id == contract.org_id, PaymentPlan.contract_id == contract.id))
        if count >= MAX_PLANS:
            raise field_error("due_date", f"A contract has at most {MAX_PLANS} payment plans.")
        if planned_total(contract) + data["amount"] > contract.amount:
            raise field_error("amount", "The payment plans would add up to more than the "
                              "contract amount.", error="plans_exceed_contract")
        plan = idempotency.stamp(PaymentPlan(
            org_id=contract.org_id, contract_id=contract.id, due_date=data["due_date"],
            amount=data["amount"]), principal=principal, data=data)
        db.session.add(plan)
        return plan

    plan, created = idempotency.create(PaymentPlan, principal=principal, data=data, write=write)
    contract = get_contract(principal=principal, contract_id=plan.contract_id)
    today = local_date(datetime.now(UTC), principal.timezone)
    return next(p for p in plans_of(contract, today) if p.id == plan.id), created


def list_payments(*, principal: Principal, contract_id, page):
    """A visible contract's payments, latest received first."""
    contract = get_contract(principal=principal, contract_id=contract_id)
    stmt = (select(Payment).where(Payment.org_id == contract.org_id,
                                  Payment.contract_id == contract.id)
            .order_by(Payment.received_on.desc(), Payment.created_at.desc(), Payment.id))
    return paginate(stmt, page)


def record_payment(*, principal: Principal, contract_id, data: dict):
    """Record money received (owner, its managers, admin): 422 overpaid past the contract
    amount, 409 on a terminated contract. Returns (payment, created)."""
    def write():
        contract = editable(principal, contract_id)  # the lock every payment queues on
        if _exists(Payment, principal, data.get("id")):
            raise idempotency.DuplicateId()  # a retry that committed while we waited
        require_not_terminated(contract)
        plan_id = data.get("plan_id")
        if plan_id is not None and db.session.scalar(select(PaymentPlan.id).where(
                PaymentPlan.org_id == contract.org_id, PaymentPlan.id == plan_id,
                PaymentPlan.contract_id == contract.id)) is None:
            raise field_error("plan_id", "No such payment plan of this contract.")
        received = received_now(contract)
        if received + data["amount"] > contract.amount:
            raise field_error("amount", f"Only {contract.amount - received:.2f} is outstanding "
                              "on this contract.", error="overpaid")
        payment = idempotency.stamp(Payment(
            org_id=contract.org_id, contract_id=contract.id, plan_id=plan_id,
            amount=data["amount"], received_on=data["received_on"], method=data["method"],
            note=data.get("note")), principal=principal, data=data)
        db.session.add(payment)
        db.session.flush()
        seal_payment(payment, owner_id=contract.owner_id, actor_id=principal.id)
        return payment

    return idempotency.create(Payment, principal=principal, data=data, write=write)
