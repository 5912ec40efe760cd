"""The statements of a check-in and a check-out (issue 12 §3): one locks and reads everything
the rules need, one writes the visit, its contact record and the audit entries; COMMIT
follows. The rules themselves stay in Python (flags.py, service.py).

Lock order, as wherever a visit is written: the rep's user row (it queues the rep's visit
writes), the visit row, then the rep's audit chain head (each CTE reads the one before, so the
order does not depend on the plan). Every change to a
rep's visits is sealed in the rep's chain, so the head is also the rep's version: the head
lock returns the latest committed head, and when that is newer than the head in the
statement's snapshot, someone committed a visit write while we waited, the snapshot's reads
(open visit, previous event, client id) may be stale, and the statement runs again with the
locks already held. That is what keeps one open visit and ordered events
(uq_visits_open_user stays as the backstop).
"""
from types import SimpleNamespace

from sqlalchemy import Integer, String, column, exists, func, literal, select, text, true

from fieldsales import audit
from fieldsales.audit.models import AuditHead
from fieldsales.db import insert_cte, update_cte
from fieldsales.extensions import db
from fieldsales.geo import geog, make_point
from fieldsales.customers.models import Customer
from fieldsales.orgs.models import Org
from fieldsales.photos.models import Photo
from fieldsales.projects.models import Project
from fieldsales.users.models import User
from fieldsales.visits import flags as rules
from fieldsales.visits.models import Visit

VISIT_COLUMNS = [c for c in Visit.__table__.columns if c.computed is None]

# The rep's latest check-in or check-out before the new event (by event time), measured from
# the new event's point: what impossible_speed is judged on.
_PREVIOUS_EVENT = """
    WITH candidates AS (
        (SELECT in_at AS at, in_geom AS geom FROM visits
          WHERE user_id = :prev_user AND in_at < :prev_at ORDER BY in_at DESC LIMIT 1)
        UNION ALL
        (SELECT out_at, out_geom FROM visits
          WHERE user_id = :prev_user AND out_at IS NOT NULL AND out_at < :prev_at
          ORDER BY out_at DESC LIMIT 1)
    )
    SELECT at AS prev_at,
           ST_Distance(geography(geom), geography(ST_SetSRID(ST_MakePoint(:prev_lng, :prev_lat),
                                                             4326))) AS prev_distance_m,
           NOT ST_DWithin(geography(geom),
                          geography(ST_SetSRID(ST_MakePoint(:prev_lng, :prev_lat), 4326)), 1000)
               AS prev_beyond_1km
    FROM candidates ORDER BY at DESC LIMIT 1
"""


def _previous(principal, *, at, lat, lng):
    return (text(_PREVIOUS_EVENT)
            .bindparams(prev_user=principal.id, prev_at=at, prev_lat=lat, prev_lng=lng)
            .columns(column("prev_at"), column("prev_distance_m"), column("prev_beyond_1km"))
            .subquery("previous").lateral())


def _locks(principal, visit_where):
    """CTEs rep → visit → audit_head, each lock taken after the one before."""
    rep = (select(User.id).where(User.id == principal.id, User.org_id == principal.org_id)
           .with_for_update(of=User, key_share=True)  # NO KEY UPDATE: FK checks pass
           .cte("rep").prefix_with("MATERIALIZED"))
    after_rep = select(func.count()).select_from(rep).scalar_subquery() >= 0
    visit = (select(*VISIT_COLUMNS).where(*visit_where, after_rep)
             .with_for_update(of=Visit)
             .cte("visit").prefix_with("MATERIALIZED"))
    head = (text(audit.head_lock_sql(
                "SELECT CAST(:head_user AS uuid), CAST(:head_org AS uuid) "
                "WHERE (SELECT count(*) FROM visit) >= 0"))
            .bindparams(head_user=principal.id, head_org=principal.org_id, **audit.HEAD_PARAMS)
            .columns(column("seq", Integer), column("hash", String)).cte("audit_head"))
    return rep, visit, head


def _geofence(point, where):
    customer_geog = func.geography(Customer.geom)  # the expression index ix_customers_geog
    radius = func.coalesce(Customer.geofence_radius_m, Org.geofence_radius_m)
    return (select(Customer.id.label("customer_id"), Customer.lat.label("customer_lat"),
                   func.ST_Distance(customer_geog, point).label("distance_m"),
                   func.ST_DWithin(customer_geog, point, radius).label("within"))
            .where(*where).lateral("customer"))


def _read(principal, locks, *extra, joins=()):
    _, visit, head = locks
    seen = (select(AuditHead.seq).where(AuditHead.user_id == principal.id)
            .scalar_subquery())
    stmt = (select(Org.low_accuracy_m, Org.max_speed_kmh, Org.min_visit_minutes,
                   head.c.seq.label("audit_seq"), head.c.hash.label("audit_hash"),
                   func.coalesce(seen, 0).label("seen_seq"),
                   func.statement_timestamp().label("now"), *extra,
                   *[visit.c[c.name].label(f"v_{c.name}") for c in VISIT_COLUMNS])
            .select_from(head).join(Org, Org.id == principal.org_id).outerjoin(visit, true()))
    for lateral in joins:
        stmt = stmt.outerjoin(lateral, true())
    stmt = stmt.add_cte(*locks)
    connection = db.session.connection()
    row = connection.execute(stmt).one()
    if row.seen_seq != row.audit_seq:  # stale snapshot: see the module's docstring
        row = connection.execute(stmt).one()
    audit.adopt(user_id=principal.id, org_id=principal.org_id, seq=row.audit_seq,
                hash_=row.audit_hash)
    return row


def _state(row, *, previous=True):
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
                  if previous and row.prev_at is not None else None),
        customer=(SimpleNamespace(id=row.customer_id, lat=row.customer_lat)
                  if row.customer_id is not None else None),
        distance_m=round(row.distance_m, 2) if row.distance_m is not None else None,
        within=row.within)


def read_for_check_in(principal, *, data, at):
    """Lock the rep, its open visit and its chain; read the org's thresholds, whether the
    client id is taken, the customer's geofence (under the caller's scope), the project check
    and the previous event."""
    loc = data["location"]
    locks = _locks(principal, (Visit.user_id == principal.id, Visit.status == "open"))
    customer = _geofence(geog(make_point(loc["lat"], loc["lng"])),
                         (Customer.id == data["customer_id"], principal.scope.customers()))
    taken = (exists().where(Visit.id == data["id"]) if data.get("id") else literal(False))
    project_ok = (exists().where(Project.org_id == principal.org_id,
                                 Project.id == data["project_id"],
                                 Project.customer_id == customer.c.customer_id)
                  if data.get("project_id") else literal(True))
    previous = _previous(principal, at=at, lat=loc["lat"], lng=loc["lng"])
    row = _read(principal, locks, taken.label("taken"), project_ok.label("project_ok"),
                customer.c.customer_id, customer.c.customer_lat, customer.c.distance_m,
                customer.c.within, *previous.c, joins=(customer, previous))
    return row, _state(row)


def read_for_check_out(principal, *, visit_id, data, at):
    """Lock the rep, the visit (under the caller's scope) and the chain; read the org's
    thresholds, the visit's customer geofence and the previous event."""
    loc = data["location"]
    locks = _locks(principal, (Visit.id == visit_id, principal.scope.visits()))
    visit = locks[1]
    customer = _geofence(geog(make_point(loc["lat"], loc["lng"])),
                         (Customer.org_id == visit.c.org_id, Customer.id == visit.c.customer_id))
    previous = _previous(principal, at=at, lat=loc["lat"], lng=loc["lng"])
    row = _read(principal, locks, customer.c.customer_id, customer.c.customer_lat,
                customer.c.distance_m, customer.c.within, *previous.c,
                joins=(customer, previous))
    return _state(row)


def _columns(visit, names=None):
    return {c.name: getattr(visit, c.key) for c in VISIT_COLUMNS
            if names is None or c.name in names}


def _run(ctes, binds, *, tail="SELECT 1"):
    audit_ctes, audit_params = audit.pending_sql()
    stmt = text(f"WITH {', '.join(ctes + audit_ctes)} {tail}").bindparams(*binds)
    return stmt, audit_params


_CLOSED_FIELDS = ("status", "closed_at", "closed_by", "flags", "risk_score")


def write_check_in(visit, closed=None):
    """Insert the new visit (closing `closed` first, when the rep left one open) and the
    pending audit entries, in one statement."""
    ctes, binds, tail = [], [], ""
    if closed is not None:
        sql, more = update_cte("closed", Visit.__table__, closed.id,
                               _columns(closed, _CLOSED_FIELDS))
        ctes.append(sql)
        binds += more
        # The scalar subquery runs the UPDATE to completion before the first row is inserted:
        # the open visit leaves uq_visits_open_user before the new one enters it.
        tail = "WHERE (SELECT count(*) FROM closed) >= 0"
    sql, more = insert_cte("new_visit", Visit.__table__, _columns(visit), tail=tail)
    stmt, params = _run(ctes + [sql], binds + more)
    db.session.connection().execute(stmt, params)


_CHECK_OUT_FIELDS = tuple(c.name for c in VISIT_COLUMNS if c.name.startswith("out_")) + (
    "summary", "outcome", "next_follow_up_at") + _CLOSED_FIELDS


def write_check_out(visit, record=None) -> list:
    """Store the check-out, its contact record and the pending audit entries in one
    statement; returns the visit's photos (read by the same statement)."""
    sql, binds = update_cte("checked_out", Visit.__table__, visit.id,
                            _columns(visit, _CHECK_OUT_FIELDS))
    ctes = [sql]
    if record is not None:
        table = record.__table__
        sql, more = insert_cte("record", table, {c.name: getattr(record, c.key)
                                                 for c in table.columns if c.name != "created_at"})
        ctes.append(sql)
        binds += more
    stmt, params = _run(ctes, binds, tail=(
        "SELECT photos.* FROM photos WHERE photos.visit_id = :photos_visit "
        "ORDER BY photos.created_at, photos.id"))
    photos = select(Photo).from_statement(stmt.columns(*Photo.__table__.columns))
    return db.session.scalars(photos, {**params, "photos_visit": visit.id}).all()
