"""A customer's whole history in one list: visits, follow-ups, projects, contracts and payments,
newest first.

Each source, called with (principal, customer_id), is a SELECT of (type, at, id, user_id,
summary, detail) for one customer; they are combined with UNION ALL and paginated in SQL.
"""
from sqlalchemy import func, literal, select, union_all

from fieldsales.contracts.timeline import contracts, payments
from fieldsales.customers.models import ContactRecord
from fieldsales.db import paginate, rfc3339
from fieldsales.projects.models import Project
from fieldsales.visits.timeline import visits


def contact_records(principal, customer_id):
    r = ContactRecord
    return select(
        literal("contact_record").label("type"), r.created_at.label("at"), r.id,
        r.user_id, r.summary,
        func.jsonb_build_object("method", r.method, "outcome", r.outcome,
                                "contact_id", r.contact_id, "visit_id", r.visit_id,
                                "next_follow_up_at", rfc3339(r.next_follow_up_at)).label("detail"),
    ).where(r.org_id == principal.org_id, r.customer_id == customer_id)


def projects(principal, customer_id):
    p = Project
    return select(
        literal("project").label("type"), p.created_at.label("at"), p.id,
        p.owner_id.label("user_id"), (p.name + " (" + p.stage + ")").label("summary"),
        func.jsonb_build_object("name", p.name, "stage", p.stage, "amount", p.amount,
                                "expected_close_date", p.expected_close_date).label("detail"),
    ).where(p.org_id == principal.org_id, p.customer_id == customer_id)


# Visits join this list when the visits domain is installed (see visits/timeline.py).
SOURCES = [contact_records, projects, visits, contracts, payments]


def timeline(*, principal, customer_id, page):
    """Rows of the union for one customer, newest first."""
    union = union_all(*(source(principal, customer_id) for source in SOURCES)).subquery()
    stmt = select(union).order_by(union.c.at.desc(), union.c.id)
    return [row._asdict() for row in paginate(stmt, page, scalars=False)]
