"""What is due, in SQL, for the agenda (one user) and the alerts (a manager's people): the one
owner of these rules.

- A follow-up is due when the user's latest follow-up of a customer (a visit, or a contact
  record of its own; a check-out's record is its visit) or of a lead it holds set a
  next_follow_up_at: nothing was logged since.
- A customer's visit is due when its grade has a cadence in the org's visit_cadence_days and
  its last visit (by anyone; never visited: since the card was made) is older than that.
`users` is a function of a user id column giving the clause that picks whose work counts.
"""
from sqlalchemy import (Integer, Interval, String, and_, cast, func, literal, literal_column,
                        select, true, union_all)
from sqlalchemy.dialects.postgresql import distinct_on

from fieldsales.customers.models import ContactRecord, Customer
from fieldsales.leads.models import Lead, LeadFollowUp
from fieldsales.orgs.models import Org
from fieldsales.visits.models import Visit


def customer_follow_ups(org_id, users):
    """Subquery (user_id, customer_id, next_follow_up_at, source) of each user's latest
    follow-up per customer, when it set a next_follow_up_at."""
    events = union_all(
        select(Visit.user_id, Visit.customer_id.label("subject_id"), Visit.in_at.label("at"),
               Visit.next_follow_up_at, literal("visit", String).label("source"))
        .where(Visit.org_id == org_id, users(Visit.user_id)),
        select(ContactRecord.user_id, ContactRecord.customer_id, ContactRecord.created_at,
               ContactRecord.next_follow_up_at, literal("contact_record", String))
        .where(ContactRecord.org_id == org_id, users(ContactRecord.user_id),
               ContactRecord.visit_id.is_(None)),
    ).subquery("events")
    latest = (select(events).ext(distinct_on(events.c.user_id, events.c.subject_id))
              .order_by(events.c.user_id, events.c.subject_id, events.c.at.desc())
              .subquery("latest"))
    return (select(latest.c.user_id, latest.c.subject_id.label("customer_id"),
                   latest.c.next_follow_up_at, latest.c.source)
            .where(latest.c.next_follow_up_at.is_not(None)).subquery("customer_follow_ups"))


def lead_follow_ups(org_id, users):
    """Subquery (user_id, lead_id, next_follow_up_at) of each user's latest follow-up per lead
    it still holds, when it set a next_follow_up_at."""
    last = (select(LeadFollowUp.user_id, LeadFollowUp.lead_id, LeadFollowUp.next_follow_up_at)
            .ext(distinct_on(LeadFollowUp.user_id, LeadFollowUp.lead_id))
            .where(LeadFollowUp.org_id == org_id, users(LeadFollowUp.user_id))
            .order_by(LeadFollowUp.user_id, LeadFollowUp.lead_id,
                      LeadFollowUp.created_at.desc()).subquery("last_lead"))
    return (select(last).join(Lead, and_(Lead.org_id == org_id, Lead.id == last.c.lead_id,
                                         Lead.owner_id == last.c.user_id))
            .where(Lead.status == "claimed", last.c.next_follow_up_at.is_not(None))
            .subquery("lead_follow_ups"))


def cadence_visits(org_id, owners):
    """Subquery of the graded customers owned by `owners` with a cadence: (owner_id, c_id,
    c_name, c_lat, c_lng, grade, geom, last_visit_at, due_since)."""
    # LATERAL: the last visit is looked up once per customer, not once per use of it.
    # The org's id as a value, not the correlated column: Citus routes only a statement whose
    # every table is filtered on one org_id value.
    last = (select(func.max(Visit.in_at).label("at"))
            .where(Visit.org_id == org_id, Visit.customer_id == Customer.id)
            .lateral("last_visit"))
    cadence = Org.visit_cadence_days[Customer.grade].astext.cast(Integer)
    return (select(Customer.owner_id, Customer.id.label("c_id"), Customer.name.label("c_name"),
                   Customer.lat.label("c_lat"), Customer.lng.label("c_lng"),
                   Customer.grade, Customer.geom, last.c.at.label("last_visit_at"),
                   (func.coalesce(last.c.at, Customer.created_at)
                    + cadence * cast(literal_column("interval '1 day'"), Interval))
                   .label("due_since"))
            .select_from(Customer).join(Org, Org.id == Customer.org_id)
            .outerjoin(last, true())
            .where(Customer.org_id == org_id, owners(Customer.owner_id),
                   Customer.grade.is_not(None), Org.visit_cadence_days.has_key(Customer.grade))
            .subquery("graded"))
