"""The statements of a check-in and a check-out (issue 12 §3): one locks and reads everything
the rules need, one writes the visit, its contact record and the audit entries; COMMIT
follows. The rules themselves stay in Python (flags.py, service.py).

Lock order, as wherever a visit is written: the rep's user row (it queues the rep's visit
writes), the visit row, on a check-in the plan it fulfils, then the rep's audit chain head
(each CTE reads the one before, so the order does not depend on the query plan; a plan is
always locked before an audit head, as PATCH and cancel do). Every change to a
rep's visits is sealed in the rep's chain, so the head is also the rep's version: the head
lock returns the latest committed head, and when that is newer than the head in the
statement's snapshot, someone committed a visit write while we waited, the snapshot's reads
(open visit, previous event, client id) may be stale, and the statement runs again with the
locks already held. That is what keeps one open visit and ordered events
(uq_visits_open_user stays as the backstop).
"""
import functools
from types import SimpleNamespace

from sqlalchemy import (Date, DateTime, Integer, String, Uuid, and_, bindparam, cast, column,
                        exists, func, literal, select, text, true)

from fieldsales import audit, scope_sql
from fieldsales.approvals.facts import outing_of
from fieldsales.audit.models import AuditHead
from fieldsales.db import on_citus
from fieldsales.extensions import db
from fieldsales.geo import geog, make_point
from fieldsales.customers.models import ContactRecord, Customer
from fieldsales.orgs.models import Org
from fieldsales.photos.models import Photo
from fieldsales.plans.models import Plan
from fieldsales.projects.models import Project
from fieldsales.users.models import User
from fieldsales.visits import flags as rules
from fieldsales.visits.models import Visit

VISIT_COLUMNS = [c for c in Visit.__table__.columns if c.computed is None]
# The locked visit's columns, read by joining its id back (built once: constructing a
# 45-column CTE per request cost more CPU than the rest of the statement). The join reads the
# statement's snapshot; a visit changed since then also moved the chain head, and the
# statement then runs again (see above).
_LOCKED = Visit.__table__.alias("locked_visit")
_LOCKED_COLUMNS = [_LOCKED.c[c.name].label(f"v_{c.name}") for c in VISIT_COLUMNS]

# The rep's latest check-in or check-out before the new event (by event time), measured from
# the new event's point: what impossible_speed is judged on.
_PREVIOUS_EVENT = """
    WITH candidates AS (
        (SELECT in_at AS at, in_geom AS geom FROM visits
          WHERE org_id = :org_id AND user_id = :user_id AND in_at < :at ORDER BY in_at DESC LIMIT 1)
        UNION ALL
        (SELECT out_at, out_geom FROM visits
          WHERE org_id = :org_id AND user_id = :user_id AND out_at IS NOT NULL AND out_at < :at
          ORDER BY out_at DESC LIMIT 1)
    )
    SELECT at AS prev_at,
           ST_Distance(geography(geom), geography(ST_SetSRID(ST_MakePoint(:lng, :lat),
                                                             4326))) AS prev_distance_m,
           NOT ST_DWithin(geography(geom),
                          geography(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)), 1000)
               AS prev_beyond_1km
    FROM candidates ORDER BY at DESC LIMIT 1
"""

# The statements are built once per shape (kind of write, role, …) with the caller's values as
# named parameters: building and cache-keying a statement this size per request cost more CPU
# than running it. scope_sql's template principal gives the scope rules parameters.
_USER, _ORG = bindparam("user_id", type_=Uuid), bindparam("org_id", type_=Uuid)
_POINT = geog(make_point(bindparam("lat"), bindparam("lng")))


def _locks(visit_where, plan_where=None, *, update_head=False):
    """CTEs rep → visit [→ plan] → audit_head, each lock taken after the one before
    (`update_head`: by audit.head_update_sql, see _read)."""
    rep = (select(User.id).where(User.id == _USER, User.org_id == _ORG)
           .with_for_update(of=User, key_share=True)  # NO KEY UPDATE: FK checks pass
           .cte("rep").prefix_with("MATERIALIZED"))
    after_rep = select(func.count()).select_from(rep).scalar_subquery() >= 0
    visit = (select(Visit.id).where(*visit_where, after_rep)
             .with_for_update(of=Visit)
             .cte("visit").prefix_with("MATERIALIZED"))
    ctes, after = [rep, visit], "(SELECT count(*) FROM visit) >= 0"
    if plan_where is not None:
        after_visit = select(func.count()).select_from(visit).scalar_subquery() >= 0
        ctes.append(select(Plan.id, Plan.user_id, Plan.kind, Plan.customer_id, Plan.status)
                    .where(*plan_where, after_visit)
                    .order_by(Plan.planned_start.asc().nulls_last(), Plan.created_at, Plan.id)
                    .limit(1).with_for_update(of=Plan)
                    .cte("plan").prefix_with("MATERIALIZED"))
        after = "(SELECT count(*) FROM plan) >= 0"
    head_sql = (audit.head_update_sql(after) if update_head else audit.head_lock_sql(
        "SELECT CAST(:user_id AS uuid), CAST(:org_id AS uuid) WHERE " + after))
    head = (text(head_sql)
            .columns(column("seq", Integer), column("hash", String)).cte("audit_head"))
    return (*ctes, head)


def _geofence(*where):
    customer_geog = func.geography(Customer.geom)  # the expression index ix_customers_geog
    radius = func.coalesce(Customer.geofence_radius_m, Org.geofence_radius_m)
    return (select(Customer.id.label("customer_id"), Customer.lat.label("customer_lat"),
                   func.ST_Distance(customer_geog, _POINT).label("distance_m"),
                   func.ST_DWithin(customer_geog, _POINT, radius).label("within"))
            .where(*where).lateral("customer"))


def _read_statement(locks, customer, *extra):
    visit, head = locks[1], locks[-1]
    previous = (text(_PREVIOUS_EVENT)
                .columns(column("prev_at"), column("prev_distance_m"), column("prev_beyond_1km"))
                .subquery("previous").lateral())
    seen = (select(AuditHead.seq).where(AuditHead.org_id == _ORG, AuditHead.user_id == _USER)
            .scalar_subquery())
    return (select(Org.low_accuracy_m, Org.max_speed_kmh, Org.min_visit_minutes,
                   head.c.seq.label("audit_seq"), head.c.hash.label("audit_hash"),
                   func.coalesce(seen, 0).label("seen_seq"),
                   func.statement_timestamp().label("now"), *extra,
                   customer.c.customer_id, customer.c.customer_lat, customer.c.distance_m,
                   customer.c.within, *previous.c, *_LOCKED_COLUMNS)
            .select_from(head).join(Org, Org.id == _ORG)
            .outerjoin(visit, true()).outerjoin(_LOCKED, and_(_LOCKED.c.org_id == _ORG,
                                                             _LOCKED.c.id == visit.c.id))
            .outerjoin(customer, true()).outerjoin(previous, true())
            .add_cte(*locks))


def _plan_where(scope, has_plan_id):
    """The plan a check-in fulfils: the one named (visible to the caller), else the rep's
    planned visit to this customer on the check-in's local date, earliest start first."""
    if has_plan_id:
        return (Plan.id == bindparam("plan_id", type_=Uuid), scope.plans())
    local_day = cast(func.timezone(bindparam("tz", type_=String),
                                   bindparam("at", type_=DateTime(timezone=True))), Date)
    return (Plan.org_id == _ORG, Plan.user_id == _USER,
            Plan.customer_id == bindparam("customer_id", type_=Uuid), Plan.kind == "visit",
            Plan.status == "planned", Plan.planned_date == local_day)


def _update_head(role, has_team) -> bool:
    # Citus routes a statement with a manager's recursive team CTE only when it holds no
    # INSERT: there the head is locked by an UPDATE (see _read).
    return role == "manager" and has_team and on_citus()


@functools.cache
def _check_in_statement(role, has_team, has_id, has_project, has_plan_id, update_head):
    scope = scope_sql.template((role, has_team)).scope
    locks = _locks((Visit.org_id == _ORG, Visit.user_id == _USER, Visit.status == "open"),
                   _plan_where(scope, has_plan_id), update_head=update_head)
    plan = locks[2]
    customer = _geofence(Customer.id == bindparam("customer_id", type_=Uuid), scope.customers())
    # Within the org: ids are keyed (org_id, id), and Citus routes the statement by org_id.
    taken = (exists().where(Visit.org_id == _ORG, Visit.id == bindparam("visit_id", type_=Uuid))
             if has_id
             else literal(False))
    project_ok = (exists().where(Project.org_id == _ORG,
                                 Project.id == bindparam("project_id", type_=Uuid),
                                 Project.customer_id == customer.c.customer_id)
                  if has_project else literal(True))
    # The outing this check-in is made on (API.md Approvals): read here, no extra round trip.
    outing = outing_of(_ORG, _USER, customer.c.customer_id, bindparam("at", type_=DateTime(
        timezone=True))).label("outing_id")
    return (_read_statement(locks, customer, taken.label("taken"), project_ok.label("project_ok"),
                            outing,
                            plan.c.id.label("plan_id"), plan.c.user_id.label("plan_user_id"),
                            plan.c.kind.label("plan_kind"),
                            plan.c.customer_id.label("plan_customer_id"),
                            plan.c.status.label("plan_status"))
            .outerjoin(plan, true()))


@functools.cache
def _check_out_statement(role, has_team, update_head):
    scope = scope_sql.template((role, has_team)).scope
    locks = _locks((Visit.id == bindparam("visit_id", type_=Uuid), scope.visits()),
                   update_head=update_head)
    # The caller's org as a parameter, not the locked row's column: Citus routes the whole
    # statement by it (every table filtered on one org_id value).
    customer = _geofence(Customer.org_id == _ORG, Customer.id == _LOCKED.c.customer_id)
    outing = outing_of(_ORG, _LOCKED.c.user_id, _LOCKED.c.customer_id,
                       _LOCKED.c.in_at).label("outing_id")
    return _read_statement(locks, customer, outing)


def _read(principal, stmt, params, *, at, location):
    params = {**params, **scope_sql.params(principal), "at": at, "lat": location["lat"],
              "lng": location["lng"], **audit.HEAD_PARAMS}
    connection = db.session.connection()
    row = connection.execute(stmt, params).one_or_none()
    if row is None:  # head_update_sql (Citus) found no head: the chain's first entry
        audit.create_head(user_id=principal.id, org_id=principal.org_id)
        row = connection.execute(stmt, params).one()
    elif row.seen_seq != row.audit_seq:  # stale snapshot: see the module's docstring
        row = connection.execute(stmt, params).one()
    audit.adopt(user_id=principal.id, org_id=principal.org_id, seq=row.audit_seq,
                hash_=row.audit_hash)
    return row


def _state(row):
    """What the rules read from the first statement's row."""
    visit = None
    if row.v_id is not None:
        visit = Visit(**{c.key: row._mapping[f"v_{c.name}"] for c in VISIT_COLUMNS})
    return SimpleNamespace(
        thresholds=rules.Thresholds(low_accuracy_m=row.low_accuracy_m,
                                    max_speed_kmh=row.max_speed_kmh,
                                    min_visit_minutes=row.min_visit_minutes),
        now=row.now, visit=visit,
        previous=(rules.Previous(at=row.prev_at, distance_m=row.prev_distance_m,
                                 beyond_1km=row.prev_beyond_1km)
                  if row.prev_at is not None else None),
        outing_id=row.outing_id,
        customer=(SimpleNamespace(id=row.customer_id, lat=row.customer_lat)
                  if row.customer_id is not None else None),
        distance_m=round(row.distance_m, 2) if row.distance_m is not None else None,
        within=row.within)


def read_for_check_in(principal, *, data, at):
    """Lock the rep, its open visit and its chain; read the org's thresholds, whether the
    client id is taken, the customer's geofence (under the caller's scope), the project check
    and the previous event."""
    role, has_team = scope_sql.shape(principal)
    stmt = _check_in_statement(role, has_team,
                               data.get("id") is not None, data.get("project_id") is not None,
                               data.get("plan_id") is not None, _update_head(role, has_team))
    row = _read(principal, stmt, {"customer_id": data["customer_id"], "visit_id": data.get("id"),
                                  "project_id": data.get("project_id"),
                                  "plan_id": data.get("plan_id"), "tz": principal.timezone},
                at=at, location=data["location"])
    return row, _state(row)


def read_for_check_out(principal, *, visit_id, data, at):
    """Lock the rep, the visit (under the caller's scope) and the chain; read the org's
    thresholds, the visit's customer geofence and the previous event."""
    role, has_team = scope_sql.shape(principal)
    stmt = _check_out_statement(role, has_team, _update_head(role, has_team))
    return _state(_read(principal, stmt, {"visit_id": visit_id}, at=at,
                        location=data["location"]))


# --- the write statement ---------------------------------------------------------------------
# Plain values for the driver (it adapts UUIDs, datetimes, lists as arrays); the SQL of each
# shape is fixed, so its text() is parsed once.

@functools.cache
def _text(sql: str):
    return text(sql)


def _insert(name, table, columns, tail=""):
    names = ", ".join(c.name for c in columns)
    values = ", ".join(f":{name}_{c.name}" for c in columns)
    # Only the table's own column names and placeholders are formatted in; values are bound.
    return f"{name} AS (INSERT INTO {table.name} ({names}) SELECT {values} {tail})"  # noqa: S608


def _update(name, table, columns):
    sets = ", ".join(f"{c.name} = :{name}_{c.name}" for c in columns)
    return (f"{name} AS (UPDATE {table.name} SET {sets} "  # noqa: S608
            f"WHERE org_id = :{name}_org_id AND id = :{name}_id)")


def _values(name, row, columns):
    return {f"{name}_{c.name}": getattr(row, c.key) for c in columns}


def _execute(ctes, params, tail="SELECT 1"):
    audit_ctes, audit_params = audit.pending_sql()
    sql = f"WITH {', '.join(ctes + audit_ctes)} {tail}"
    return db.session.connection().execute(_text(sql), {**params, **audit_params})


_CLOSED = [Visit.__table__.c[name] for name in
           ("status", "closed_at", "closed_by", "flags", "risk_score")]
_CLOSE = _update("closed", Visit.__table__, _CLOSED)[:-1] + " RETURNING id)"
# The scalar subquery runs the UPDATE to completion before the first row is inserted: the open
# visit leaves uq_visits_open_user before the new one enters it.
_INSERT_AFTER_CLOSE = _insert("new_visit", Visit.__table__, VISIT_COLUMNS,
                              tail="WHERE (SELECT count(*) FROM closed) >= 0")
_INSERT = _insert("new_visit", Visit.__table__, VISIT_COLUMNS)


# The plan the visit fulfils (locked by the read statement); plans.visit_id is unique, so one
# visit never fulfils two plans.
_FULFIL = ("fulfilled AS (UPDATE plans SET status = 'done', visit_id = :new_visit_id, "
           "updated_at = statement_timestamp() "
           "WHERE org_id = :new_visit_org_id AND id = :new_visit_plan_id)")


def write_check_in(visit, closed=None):
    """Insert the new visit (closing `closed` first, when the rep left one open), mark the plan
    it fulfils done, and write the pending audit entries, in one statement."""
    params = _values("new_visit", visit, VISIT_COLUMNS)
    fulfil = [_FULFIL] if visit.plan_id is not None else []
    if closed is None:
        _execute([_INSERT, *fulfil], params)
        return
    params.update(_values("closed", closed, _CLOSED), closed_id=closed.id,
                  closed_org_id=closed.org_id)
    _execute([_CLOSE, _INSERT_AFTER_CLOSE, *fulfil], params)


_CHECKED_OUT = [c for c in VISIT_COLUMNS if c.name.startswith("out_")] + [
    Visit.__table__.c[name] for name in ("summary", "outcome", "next_follow_up_at")] + _CLOSED
_CHECK_OUT = _update("checked_out", Visit.__table__, _CHECKED_OUT)
_RECORD_COLUMNS = [c for c in ContactRecord.__table__.columns if c.name != "created_at"]
_RECORD = _insert("record", ContactRecord.__table__, _RECORD_COLUMNS)
_PHOTOS = ("SELECT photos.* FROM photos WHERE photos.org_id = :checked_out_org_id "
           "AND photos.visit_id = :checked_out_id "
           "ORDER BY photos.created_at, photos.id")


def write_check_out(visit, record=None) -> list:
    """Store the check-out, its contact record and the pending audit entries in one
    statement; returns the visit's photos (read by the same statement)."""
    params = {**_values("checked_out", visit, _CHECKED_OUT), "checked_out_id": visit.id,
              "checked_out_org_id": visit.org_id}
    ctes = [_CHECK_OUT]
    if record is not None:
        ctes.append(_RECORD)
        params.update(_values("record", record, _RECORD_COLUMNS))
    rows = _execute(ctes, params, tail=_PHOTOS).mappings().all()
    return [Photo(**{c.key: row[c.name] for c in Photo.__table__.columns if c.name in row})
            for row in rows]
