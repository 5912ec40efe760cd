"""The alerts about contracts (contract_expiring, payment_overdue): parts of GET /alerts'
UNION ALL, computed from dates on every read (in the owner's time zone), so a job that did not
run never loses a reminder."""
from sqlalchemy import Date, DateTime, String, and_, cast, func, select

from fieldsales.contracts.models import Contract, Payment, PaymentPlan, received_in
from fieldsales.customers.models import Customer
from fieldsales.orgs.models import Org
from fieldsales.users.models import User
from fieldsales.users.timezone import effective_timezone_sql


def _owner_today(now):
    return cast(func.timezone(effective_timezone_sql(), now), Date)


def _local_midnight(day):
    """SQL: the instant a local date begins in the owner's zone."""
    return func.timezone(effective_timezone_sql(), cast(day, DateTime))


def _owned(stmt):
    return (stmt.join(User, and_(User.org_id == Contract.org_id, User.id == Contract.owner_id))
            .join(Org, Org.id == Contract.org_id)
            .join(Customer, and_(Customer.org_id == Contract.org_id,
                                 Customer.id == Contract.customer_id)))


def deal_parts(principal, people, now, row):
    """[(type, select)] of the two kinds; `row` builds the common columns (service._row)."""
    return [("contract_expiring", _expiring(principal, people, now, row)),
            ("payment_overdue", _overdue(principal, people, now, row))]


def _expiring(principal, people, now, row):
    """An active contract once its end_date is no more than one of its remind_days away; since
    the start of the local day the nearest such threshold was crossed."""
    days_left = Contract.end_date - _owner_today(now)
    reminders = func.unnest(Contract.remind_days).table_valued("d").render_derived(name="rd")
    threshold = (select(func.min(reminders.c.d)).where(reminders.c.d >= days_left)
                 .scalar_subquery())
    return _owned(select(*row(
        "contract_expiring", Contract.owner_id, Contract.id,
        _local_midnight(cast(Contract.end_date - threshold, Date)),
        func.jsonb_build_object("number", Contract.number, "customer_name", Customer.name,
                                "end_date", Contract.end_date, "days_left", days_left,
                                "threshold", threshold)))
        .where(principal.scope.contracts(), Contract.owner_id.in_(people),
               Contract.status == "active", Contract.end_date.is_not(None),
               threshold.is_not(None)))


def _overdue(principal, people, now, row):
    """A payment plan past its due date (owner's local date) that the money received does not
    cover, allocated as contracts/allocation.py does: payments naming a plan first (up to its
    amount), the rest over the remaining plans by due date."""
    named = (select(Payment.plan_id, func.sum(Payment.amount).label("n"))
             .where(Payment.org_id == principal.org_id, Payment.plan_id.is_not(None))
             .group_by(Payment.plan_id).subquery("named"))
    capped = func.least(func.coalesce(named.c.n, 0), PaymentPlan.amount)
    order = (PaymentPlan.due_date, cast(PaymentPlan.id, String))
    plans = (select(PaymentPlan.id, PaymentPlan.contract_id, PaymentPlan.due_date,
                    PaymentPlan.amount, capped.label("capped"),
                    func.sum(PaymentPlan.amount - capped).over(
                        partition_by=PaymentPlan.contract_id, order_by=order)
                    .label("remaining_through"),
                    func.sum(capped).over(partition_by=PaymentPlan.contract_id)
                    .label("capped_total"))
             .outerjoin(named, named.c.plan_id == PaymentPlan.id)
             .where(PaymentPlan.org_id == principal.org_id).subquery("plans"))
    loose = received_in(principal.org_id) - plans.c.capped_total
    return _owned(select(*row(
        "payment_overdue", Contract.owner_id, plans.c.id,
        _local_midnight(cast(plans.c.due_date + 1, Date)),
        func.jsonb_build_object("number", Contract.number, "customer_name", Customer.name,
                                "due_date", plans.c.due_date, "amount", plans.c.amount,
                                "contract_id", Contract.id)))
        .select_from(plans)
        .join(Contract, and_(Contract.org_id == principal.org_id,
                             Contract.id == plans.c.contract_id))
        .where(principal.scope.contracts(), Contract.owner_id.in_(people),
               Contract.status != "terminated", plans.c.amount > plans.c.capped,
               loose < plans.c.remaining_through,
               plans.c.due_date < _owner_today(now)))
