"""Plan bodies and days for the plans tests."""
from datetime import date, timedelta

from tests.factories.reports import today


def day(offset: int = 0, tz: str = "Asia/Shanghai") -> str:
    """A local date `offset` days from today in `tz`, as the API writes it."""
    return (today(tz) + timedelta(days=offset)).isoformat()


def plan_body(customer=None, *, kind="visit", offset=1, **extra):
    body = {"kind": kind, "planned_date": day(offset), **extra}
    if customer is not None:
        body["customer_id"] = str(customer.id)
    return body


def as_date(text: str) -> date:
    return date.fromisoformat(text)


def plan_row(user, customer, planned_date: date, *, status="planned", kind="visit", **fields):
    """A plan written straight to the database (any date, any status), committed."""
    import uuid

    from fieldsales.plans.models import Plan
    from tests import factories

    return factories._save(Plan(
        org_id=user.org_id, id=uuid.uuid4(), user_id=user.id, kind=kind,
        customer_id=customer.id, planned_date=planned_date, status=status, source="self",
        created_by=user.id, purpose="", talking_points="", **fields))
