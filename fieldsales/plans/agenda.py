"""GET /agenda: a rep's day — its plans, the follow-ups due, the customers overdue for a visit
by their grade's cadence — each list nearest first when the phone says where it is (PostGIS
KNN `<->` on the geography indexes), else by time. Each list is one statement, built once per
role shape (fieldsales/scope_sql.py) with the user, day and place as bind parameters: building
these statements anew cost more than running them."""
import functools
from datetime import UTC, datetime

from sqlalchemy import (Date, DateTime, Float, String, and_, bindparam, cast, func, literal,
                        null, select, union_all)

from fieldsales import scope_sql

from fieldsales.customers.models import Customer
from fieldsales.customers.search import geog_point
from fieldsales.extensions import db
from fieldsales.leads.models import Lead
from fieldsales.plans.due import cadence_visits, customer_follow_ups, lead_follow_ups
from fieldsales.plans.models import Plan
from fieldsales.plans.service import as_principal
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc, local_date, local_day_bounds
from fieldsales.users.models import User

LIMIT = 100  # per list: the nearest (or most urgent) first


def _distance(geom, point):
    """(distance in metres or NULL, KNN ordering key) of a geometry column from `point`."""
    if point is None:
        return null(), None
    geog = func.geography(geom)  # the expression indexes ix_customers_geog, ix_leads_geog
    return func.ST_Distance(geog, point), geog.op("<->")(point)


def agenda(*, principal: Principal, user_id=None, day=None, near=None) -> dict:
    """The day of a user the caller may see (a rep: itself): plans as Plan rows, the two
    other lists already as JSON (see plans/views.py)."""
    if user_id is None or user_id == principal.id:
        who = principal
    else:
        who = as_principal(principal.scope.get(User, user_id, principal.scope.users()))
    day = day or local_date(datetime.now(UTC), who.timezone)
    params = {**scope_sql.params(who), "day": day,
              "day_end": local_day_bounds(day, who.timezone)[1]}
    if near:
        params.update(lat=near[0], lng=near[1])
    plans, due, overdue = _statements(scope_sql.shape(who), bool(near))
    return {"date": day, "plans": _plans(db.session.execute(plans, params)),
            "due_follow_ups": _due_follow_ups(db.session.execute(due, params)),
            "overdue_customers": _overdue_customers(db.session.execute(overdue, params))}


@functools.cache
def _statements(shape: tuple, near: bool):
    who = scope_sql.template(shape)
    point = geog_point(bindparam("lat", type_=Float), bindparam("lng", type_=Float)) if near \
        else None
    day, day_end = bindparam("day", type_=Date), bindparam("day_end", type_=DateTime(True))
    return (_plans_stmt(who, day, point), _due_stmt(who, day_end, point),
            _overdue_stmt(who, day_end, point))


def _text_id(column):
    """Ids the JSON needs as text, as text (not text → UUID → text for 200 rows)."""
    return cast(column, String).label(column.name) if column.name in ("id", "c_id") \
        else column


def _metres(distance):
    return None if distance is None else round(distance, 1)


def _customer(row, prefix="c_"):
    """AgendaCustomerSchema's shape, as JSON."""
    if row[f"{prefix}id"] is None:
        return None
    lat, lng = row[f"{prefix}lat"], row[f"{prefix}lng"]
    return {"id": row[f"{prefix}id"], "name": row[f"{prefix}name"],
            "location": None if lat is None else {"lat": lat, "lng": lng},
            "distance_m": _metres(row["distance_m"])}


def _plans_stmt(who, day, point):
    distance, knn = _distance(Customer.geom, point)
    stmt = (select(Plan, Customer.id.label("c_id"), Customer.name.label("c_name"),
                   Customer.lat.label("c_lat"), Customer.lng.label("c_lng"),
                   distance.label("distance_m"))
            .outerjoin(Customer, and_(Customer.org_id == Plan.org_id,
                                      Customer.id == Plan.customer_id))
            .where(Plan.org_id == who.org_id, Plan.user_id == who.id, Plan.planned_date == day))
    order = [Plan.planned_start.asc().nulls_last(), Plan.created_at, Plan.id]
    if knn is not None:
        order = [knn.asc().nulls_last(), *order]
    return stmt.order_by(*order).limit(LIMIT)


def _plans(result):
    items = []
    for row in result.mappings():
        plan = row["Plan"]
        plan.customer = _customer(row)
        items.append(plan)
    return items


def _due_stmt(who, day_end, point):
    """Customers (visible to the user) and held leads whose follow-up is due by the end of the
    day (plans/due.py)."""
    mine = lambda column: column == who.id  # noqa: E731
    due = customer_follow_ups(who.org_id, mine)
    c_distance, c_knn = _distance(Customer.geom, point)
    customers = (select(literal("customer", String).label("type"), Customer.id, Customer.name,
                        due.c.next_follow_up_at, due.c.source.label("from"),
                        c_distance.label("distance_m"),
                        (c_knn if c_knn is not None else null()).label("knn"))
                 .join(Customer, and_(Customer.org_id == who.org_id,
                                      Customer.id == due.c.customer_id))
                 .where(due.c.next_follow_up_at < day_end, who.scope.customers()))
    held = lead_follow_ups(who.org_id, mine)
    l_distance, l_knn = _distance(Lead.geom, point)
    leads = (select(literal("lead", String), Lead.id, Lead.name, held.c.next_follow_up_at,
                    literal("lead_follow_up", String), l_distance,
                    l_knn if l_knn is not None else null())
             .join(Lead, and_(Lead.org_id == who.org_id, Lead.id == held.c.lead_id))
             .where(held.c.next_follow_up_at < day_end))
    both = union_all(customers, leads).subquery("due")
    order = [both.c.next_follow_up_at, both.c.id]
    if point is not None:
        order = [both.c.knn.asc().nulls_last(), *order]
    return select(*[_text_id(c) for c in both.c]).order_by(*order).limit(LIMIT)


def _due_follow_ups(result):
    """DueFollowUpSchema's shape, as JSON."""
    return [{"type": r["type"], "id": r["id"], "name": r["name"],
             "next_follow_up_at": iso_utc(r["next_follow_up_at"]), "from": r["from"],
             "distance_m": _metres(r["distance_m"])} for r in result.mappings()]


def _overdue_stmt(who, day_end, point):
    """The user's own graded customers whose visit is due by the end of the day
    (plans/due.py)."""
    base = cadence_visits(who.org_id, lambda column: column == who.id)
    distance, knn = _distance(base.c.geom, point)
    order = [base.c.due_since, base.c.c_id] if knn is None else [knn.asc().nulls_last(),
                                                                  base.c.c_id]
    columns = [_text_id(c) for c in base.c if c.name != "geom"]
    return (select(*columns, distance.label("distance_m")).where(base.c.due_since < day_end)
            .order_by(*order).limit(LIMIT))


def _overdue_customers(result):
    """OverdueCustomerSchema's shape, as JSON."""
    return [{"customer": _customer(r), "grade": r["grade"],
             "last_visit_at": iso_utc(r["last_visit_at"]), "due_since": iso_utc(r["due_since"])}
            for r in result.mappings()]

