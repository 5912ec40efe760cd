"""Visits as a source of the customer timeline (customers/timeline.py).

Anyone who can see the customer sees that a visit happened, by whom, and its summary (as with
the contact record a check-out writes); locations and photos stay behind the visit's own scope.
"""
from sqlalchemy import func, literal, select

from fieldsales.db import rfc3339
from fieldsales.visits.models import Visit


def visits(org_id, customer_id):
    v = Visit
    return select(
        literal("visit").label("type"), v.in_at.label("at"), v.id, v.user_id,
        func.coalesce(v.summary, v.purpose, "Visit").label("summary"),
        func.jsonb_build_object("status", v.status, "purpose", v.purpose,
                                "project_id", v.project_id, "closed_at", rfc3339(v.closed_at),
                                "outcome", v.outcome, "flags", v.flags,
                                "risk_score", v.risk_score).label("detail"),
    ).where(v.org_id == org_id, v.customer_id == customer_id)
