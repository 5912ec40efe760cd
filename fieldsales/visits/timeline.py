"""Visits as a source of the customer timeline (customers/timeline.py).

Only the visits the caller may see (scope.visits: a rep its own, a manager its subtree's), as
API.md's scope rules say; what a teammate agreed with the customer still reaches everyone who
sees the customer as the contact record a check-out with a summary writes.
"""
from sqlalchemy import func, literal, select

from fieldsales.db import rfc3339
from fieldsales.visits.models import Visit


def visits(principal, customer_id):
    v = Visit
    return select(
        literal("visit").label("type"), v.in_at.label("at"), v.id, v.user_id,
        func.coalesce(v.summary, v.purpose, "Visit").label("summary"),
        func.jsonb_build_object("status", v.status, "purpose", v.purpose,
                                "project_id", v.project_id, "closed_at", rfc3339(v.closed_at),
                                "outcome", v.outcome, "flags", v.flags,
                                "risk_score", v.risk_score).label("detail"),
    ).where(v.org_id == principal.org_id, v.customer_id == customer_id,
             principal.scope.visits())
