"""Contracts, payment plans and payments (committed; written through the models, not sealed)."""
import itertools
import uuid
from datetime import date
from decimal import Decimal

from tests.factories.core import _save

_n = itertools.count(1)


def contract(org, customer, owner, *, amount="100000.00", number=None, project=None,
             start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), **fields):
    from fieldsales.contracts.models import Contract

    return _save(Contract(
        id=uuid.uuid4(), org_id=org.id, customer_id=customer.id, owner_id=owner.id,
        project_id=project.id if project else None,
        number=number or f"HT-{next(_n)}-{uuid.uuid4().hex[:6]}", title=fields.pop("title", ""),
        amount=Decimal(amount), currency="CNY", signed_on=fields.pop("signed_on", start_date),
        start_date=start_date, end_date=end_date, status=fields.pop("status", "active"),
        remind_days=fields.pop("remind_days", [90, 30, 7]), **fields))


def payment_plan(contract, due_date, amount):
    from fieldsales.contracts.models import PaymentPlan

    return _save(PaymentPlan(id=uuid.uuid4(), org_id=contract.org_id, contract_id=contract.id,
                             due_date=due_date, amount=Decimal(amount)))


def payment(contract, amount, received_on=date(2026, 2, 1), plan=None, method="transfer"):
    from fieldsales.contracts.models import Payment

    return _save(Payment(id=uuid.uuid4(), org_id=contract.org_id, contract_id=contract.id,
                         plan_id=plan.id if plan else None, amount=Decimal(amount),
                         received_on=received_on, method=method))
