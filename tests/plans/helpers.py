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
