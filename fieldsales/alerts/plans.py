"""The alerts about plans and what is due (missed_plan, overdue_follow_up,
customer_visit_overdue): parts of GET /alerts' UNION ALL, on the rules of plans/due.py."""
from datetime import timedelta

from sqlalchemy import Date, String, and_, cast, func, literal, select

from fieldsales.customers.models import Customer
from fieldsales.leads.models import Lead
from fieldsales.plans.due import cadence_visits, customer_follow_ups, lead_follow_ups
from fieldsales.plans.models import Plan

# missed_plan: plans missed on a day of the last week.
MISSED_PLAN_WINDOW = timedelta(days=7)


def plan_parts(principal, people, now, row):
    """[(type, select)] of the three kinds; `row` builds the common columns (service._row)."""
    in_people = lambda column: column.in_(people)  # noqa: E731
    missed = (select(*row("missed_plan", Plan.user_id, Plan.id, Plan.updated_at,
                          func.jsonb_build_object(
                              "planned_date", Plan.planned_date, "kind", Plan.kind,
                              "name", func.coalesce(Customer.name, Lead.name))))
              .outerjoin(Customer, and_(Customer.org_id == Plan.org_id,
                                        Customer.id == Plan.customer_id))
              .outerjoin(Lead, and_(Lead.org_id == Plan.org_id, Lead.id == Plan.lead_id))
              .where(principal.scope.plans(), Plan.user_id.in_(people),
                     Plan.status == "missed",
                     Plan.planned_date >= cast(literal(now - MISSED_PLAN_WINDOW), Date)))
    due = customer_follow_ups(principal.org_id, in_people)
    customer_due = (select(*row("overdue_follow_up", due.c.user_id, Customer.id,
                                due.c.next_follow_up_at, func.jsonb_build_object(
                                    "name", Customer.name, "from", due.c.source)))
                    .join(Customer, and_(Customer.org_id == principal.org_id,
                                         Customer.id == due.c.customer_id))
                    .where(due.c.next_follow_up_at < now, principal.scope.customers()))
    held = lead_follow_ups(principal.org_id, in_people)
    lead_due = (select(*row("overdue_follow_up", held.c.user_id, Lead.id,
                            held.c.next_follow_up_at, func.jsonb_build_object(
                                "name", Lead.name, "from", literal("lead_follow_up", String))))
                .join(Lead, and_(Lead.org_id == principal.org_id, Lead.id == held.c.lead_id))
                .where(held.c.next_follow_up_at < now))
    graded = cadence_visits(principal.org_id, in_people)
    overdue = (select(*row("customer_visit_overdue", graded.c.owner_id, graded.c.c_id,
                           graded.c.due_since, func.jsonb_build_object(
                               "name", graded.c.c_name, "grade", graded.c.grade,
                               "last_visit_at", graded.c.last_visit_at)))
               .where(graded.c.due_since < now))
    return [("missed_plan", missed), ("overdue_follow_up", customer_due),
            ("overdue_follow_up", lead_due), ("customer_visit_overdue", overdue)]
