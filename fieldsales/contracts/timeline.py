"""Contracts and payments as sources of the customer timeline (customers/timeline.py); money
as exact strings, like everywhere in the API."""
from sqlalchemy import String, and_, cast, func, literal, select

from fieldsales.contracts.models import Contract, Payment


def _money(column):
    return cast(column, String)


def contracts(principal, customer_id):
    c = Contract
    return select(
        literal("contract").label("type"), c.created_at.label("at"), c.id,
        c.owner_id.label("user_id"),
        ("Contract " + c.number + " (" + c.status + ")").label("summary"),
        func.jsonb_build_object("number", c.number, "title", c.title, "status", c.status,
                                "amount", _money(c.amount), "currency", c.currency,
                                "signed_on", c.signed_on, "start_date", c.start_date,
                                "end_date", c.end_date, "project_id", c.project_id,
                                "renewal_of_id", c.renewal_of_id).label("detail"),
    ).where(c.org_id == principal.org_id, c.customer_id == customer_id)


def payments(principal, customer_id):
    p, c = Payment, Contract
    return select(
        literal("payment").label("type"), p.created_at.label("at"), p.id,
        p.created_by.label("user_id"),
        ("Payment of " + _money(p.amount) + " " + c.currency + " on " + c.number)
        .label("summary"),
        func.jsonb_build_object("contract_id", p.contract_id, "amount", _money(p.amount),
                                "currency", c.currency, "received_on", p.received_on,
                                "method", p.method, "plan_id", p.plan_id).label("detail"),
    ).join(c, and_(c.org_id == p.org_id, c.id == p.contract_id)).where(
        p.org_id == principal.org_id, c.customer_id == customer_id)
