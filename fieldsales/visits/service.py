"""Check-in, check-out, automatic closing, and reading visits.

Every write is evidence: it is computed once (distances in PostGIS, flags by flags.py), stored,
and sealed in the rep's audit chain in the same transaction with a digest of the evidence
fields; `evidence()` rebuilds that dict from the live row, so an edit behind the API's back is
caught by audit verification. Visits are never deleted or edited through the API.
"""
from datetime import UTC, datetime
from types import SimpleNamespace

from sqlalchemy import func, literal, select, text
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from fieldsales import audit, idempotency
from fieldsales.customers.models import Customer
from fieldsales.customers.service import add_contact_record
from fieldsales.db import paginate, transaction
from fieldsales.errors import Conflict, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.geo import geog, make_point
from fieldsales.openapi import describe
from fieldsales.orgs.models import Org
from fieldsales.projects.models import Project
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc
from fieldsales.users.models import User
from fieldsales.visits import flags as rules
from fieldsales.visits.filters import visit_filters
from fieldsales.visits.models import Visit
from fieldsales.users.timezone import effective_timezone_sql

describe(rules.describe_weights())


def now():
    return datetime.now(UTC)


# --- evidence --------------------------------------------------------------------------------


def _event_evidence(v, prefix):
    get = lambda name: getattr(v, f"{prefix}_{name}")  # noqa: E731
    time = lambda name: iso_utc(get(name), zulu=False)  # noqa: E731
    return {"at": time("at"), "device_time": time("device_time"),
            "received_at": time("received_at"), "lat": get("lat"), "lng": get("lng"),
            "accuracy_m": get("accuracy_m"), "altitude_m": get("altitude_m"),
            "provider": get("provider"), "mock": get("mock"), "distance_m": get("distance_m"),
            "within_geofence": get("within_geofence")}


def evidence(v: Visit, version=audit.EVIDENCE_VERSION) -> dict:
    """The visit's evidence fields, as sealed in the audit chain (in `version`'s form)."""
    fields = {
        "visit_id": str(v.id), "org_id": str(v.org_id), "user_id": str(v.user_id),
        "customer_id": str(v.customer_id),
        "project_id": str(v.project_id) if v.project_id else None,
        "purpose": v.purpose, "note": v.note, "status": v.status,
        "check_in": _event_evidence(v, "in"),
        "check_out": _event_evidence(v, "out") if v.out_at is not None else None,
        "closed_at": iso_utc(v.closed_at, zulu=False), "closed_by": v.closed_by,
        "summary": v.summary, "outcome": v.outcome,
        "next_follow_up_at": iso_utc(v.next_follow_up_at, zulu=False),
        "flags": list(v.flags), "risk_score": v.risk_score,
    }
    if version >= 2:
        fields["created_at"] = iso_utc(v.created_at, zulu=False)
    return fields


EVIDENCE = audit.Evidence("visit", Visit.__table__, evidence)


def seal(visit: Visit, *, action: str, actor_id, data=None):
    """Append the visit's current evidence to its rep's chain (caller's transaction)."""
    if visit.created_at is None:  # a new visit: set now what the column default would write
        with db.session.no_autoflush:
            visit.created_at = db.session.scalar(select(func.statement_timestamp()))
    EVIDENCE.seal(visit, action=action, actor_id=actor_id,
                  data={"customer_id": visit.customer_id, "flags": list(visit.flags),
                        **(data or {})})


# --- shared steps ----------------------------------------------------------------------------

def _lock_rep(principal: Principal, visit_id=None) -> tuple[Org, bool]:
    """Serialise this rep's visit writes (one open visit, ordered events) on the rep's row;
    returns the org's thresholds and whether a visit with `visit_id` exists already (checked
    under the lock, in the same statement). FOR NO KEY UPDATE leaves foreign-key checks
    unblocked."""
    exists = (select(Visit.id).where(Visit.id == visit_id).exists() if visit_id
              else literal(False))
    org, taken = db.session.execute(
        select(Org, exists).join(User, User.org_id == Org.id)
        .where(User.id == principal.id, User.org_id == principal.org_id)
        .with_for_update(of=User, key_share=True)
    ).one()
    return org, taken


def _thresholds(org: Org) -> rules.Thresholds:
    return rules.Thresholds(low_accuracy_m=org.low_accuracy_m, max_speed_kmh=org.max_speed_kmh,
                            min_visit_minutes=org.min_visit_minutes)


def _geofence(customer_clause, *, lat, lng, org: Org):
    """(customer row {id, lat}, distance_m, within) for the customer matching
    `customer_clause`, measured on the spheroid; distance and within are None when the customer
    has no location, the row is None when no customer matches."""
    point = geog(make_point(lat, lng))
    customer_geog = func.geography(Customer.geom)  # the expression index ix_customers_geog
    radius = func.coalesce(Customer.geofence_radius_m, org.geofence_radius_m)
    row = db.session.execute(
        select(Customer.id, Customer.lat, func.ST_Distance(customer_geog, point),
               func.ST_DWithin(customer_geog, point, radius))
        .where(customer_clause)
    ).first()
    if row is None:
        return None, None, None
    customer_id, customer_lat, distance, within = row
    customer = SimpleNamespace(id=customer_id, lat=customer_lat)
    return customer, (round(distance, 2) if distance is not None else None), within


_PREVIOUS_EVENT = text("""
    WITH candidates AS (
        (SELECT in_at AS at, in_geom AS geom FROM visits
          WHERE user_id = :user_id AND in_at < :at ORDER BY in_at DESC LIMIT 1)
        UNION ALL
        (SELECT out_at, out_geom FROM visits
          WHERE user_id = :user_id AND out_at IS NOT NULL AND out_at < :at
          ORDER BY out_at DESC LIMIT 1)
    )
    SELECT at, ST_Distance(geography(geom), geography(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326))),
           NOT ST_DWithin(geography(geom),
                          geography(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326)), 1000)
    FROM candidates ORDER BY at DESC LIMIT 1
""")


def _previous_event(user_id, *, at, lat, lng) -> rules.Previous | None:
    """The rep's latest check-in or check-out before `at` (by event time), measured from here."""
    row = db.session.execute(_PREVIOUS_EVENT, {"user_id": user_id, "at": at, "lat": lat,
                                               "lng": lng}).first()
    return rules.Previous(at=row[0], distance_m=row[1], beyond_1km=row[2]) if row else None


def _event_flags(*, data, received_at, within, has_location, previous, org, check_out=False):
    loc = data["location"]
    return rules.event_flags(
        device_time=data["device_time"], received_at=received_at,
        accuracy_m=loc.get("accuracy_m"), mock_location=data.get("mock_location", False),
        within_geofence=within, has_customer_location=has_location, previous=previous,
        thresholds=_thresholds(org), check_out=check_out,
    )


def add_flags(visit: Visit, *more) -> bool:
    """Merge flags into the visit and recompute its risk score; whether the flags changed (the
    caller then seals the visit)."""
    before = list(visit.flags or [])
    visit.flags = rules.merge(before, *more)
    visit.risk_score = rules.risk_score(visit.flags)
    return visit.flags != before


def close_automatically(visit: Visit, *, at: datetime, actor_id, reason: str):
    """Close an open visit without a check-out (flag missing_check_out), sealed in the rep's
    chain. The caller holds the visit's row lock and commits."""
    visit.status = "closed"
    visit.closed_at = max(at, visit.in_at)  # an out-of-order sync must not make it negative
    visit.closed_by = "auto"
    add_flags(visit, ["missing_check_out"])
    seal(visit, action="visit.auto_closed", actor_id=actor_id, data={"reason": reason})


# --- check-in --------------------------------------------------------------------------------

def check_in(*, principal: Principal, data: dict, received_at: datetime | None = None):
    """Check in at a visible customer; closes the rep's open visit. Returns (visit, created)."""
    principal.scope.require_writer()
    received_at = received_at or now()

    def write():
        org, taken = _lock_rep(principal, data.get("id"))
        if taken:
            # A retry (or a concurrent one that committed while we waited for the lock):
            # idempotency.create answers it from the stored row.
            raise idempotency.DuplicateId()
        loc = data["location"]
        customer, distance, within = _geofence(
            (Customer.id == data["customer_id"]) & principal.scope.customers(),
            lat=loc["lat"], lng=loc["lng"], org=org)
        if customer is None:
            raise NotFound("Customer not found.")
        if data.get("project_id") and db.session.scalar(
            select(Project.id).where(Project.org_id == principal.org_id,
                                     Project.id == data["project_id"],
                                     Project.customer_id == customer.id)
        ) is None:
            raise field_error("project_id", "No such project on this customer.")
        at = rules.event_time(data["device_time"], received_at)
        previous = _previous_event(principal.id, at=at, lat=loc["lat"], lng=loc["lng"])
        event_flags = _event_flags(data=data, received_at=received_at, within=within,
                                   has_location=customer.lat is not None, previous=previous,
                                   org=org)
        still_open = db.session.scalar(
            select(Visit).where(Visit.user_id == principal.id, Visit.status == "open")
            .with_for_update()
        )
        if still_open is not None:
            close_automatically(still_open, at=at, actor_id=principal.id,
                                reason="new_check_in")
            db.session.flush()  # frees the one-open-visit slot before the insert
        visit = idempotency.stamp(Visit(
            org_id=principal.org_id, user_id=principal.id, customer_id=customer.id,
            project_id=data.get("project_id"), purpose=data.get("purpose"),
            note=data.get("note"), status="open",
            in_at=at, in_device_time=data["device_time"], in_received_at=received_at,
            in_lat=loc["lat"], in_lng=loc["lng"], in_accuracy_m=loc.get("accuracy_m"),
            in_altitude_m=loc.get("altitude_m"), in_provider=loc.get("provider"),
            in_mock=data.get("mock_location", False), in_distance_m=distance,
            in_within_geofence=within, flags=[], risk_score=0,
        ), principal=principal, data=data)
        add_flags(visit, event_flags)
        db.session.add(visit)
        set_committed_value(visit, "photos", [])
        seal(visit, action="visit.checked_in", actor_id=principal.id,
             data={"closed_visit_id": still_open.id if still_open else None})
        return visit

    return idempotency.create(Visit, principal=principal, data=data, write=write,
                              look_first=False)


# --- check-out -------------------------------------------------------------------------------

def check_out(*, principal: Principal, visit_id, data: dict, received_at: datetime | None = None):
    """The visit's rep checks out (once; an identical repeat answers the stored visit)."""
    with transaction():
        visit = principal.scope.get(Visit, visit_id, principal.scope.visits())
        principal.scope.require_visit_rep(visit)
        received_at = received_at or now()
        org, _ = _lock_rep(principal)
        visit = db.session.scalar(select(Visit).where(Visit.id == visit.id).with_for_update()
                                  .execution_options(populate_existing=True))
        digest = idempotency.request_hash(data)
        if visit.status == "closed":
            if visit.out_request_hash == digest:
                return visit
            raise Conflict("This visit is already checked out.", error="already_checked_out")
        at = rules.event_time(data["device_time"], received_at)
        if at < visit.in_at:
            raise field_error("device_time", "The check-out is earlier than the check-in.")
        loc = data["location"]
        customer, distance, within = _geofence(
            (Customer.org_id == visit.org_id) & (Customer.id == visit.customer_id),
            lat=loc["lat"], lng=loc["lng"], org=org)
        previous = _previous_event(principal.id, at=at, lat=loc["lat"], lng=loc["lng"])
        event_flags = _event_flags(data=data, received_at=received_at, within=within,
                                   has_location=customer.lat is not None, previous=previous,
                                   org=org, check_out=True)
        if rules.is_short(at - visit.in_at, _thresholds(org)):
            event_flags.append("short_visit")
        visit.out_at, visit.out_device_time, visit.out_received_at = (
            at, data["device_time"], received_at)
        visit.out_lat, visit.out_lng = loc["lat"], loc["lng"]
        visit.out_accuracy_m, visit.out_altitude_m = loc.get("accuracy_m"), loc.get("altitude_m")
        visit.out_provider, visit.out_mock = loc.get("provider"), data.get("mock_location", False)
        visit.out_distance_m, visit.out_within_geofence = distance, within
        visit.out_request_hash = digest
        visit.summary, visit.outcome = data.get("summary"), data.get("outcome")
        visit.next_follow_up_at = data.get("next_follow_up_at")
        visit.status, visit.closed_at, visit.closed_by = "closed", at, "rep"
        add_flags(visit, event_flags)
        record = None
        if data.get("summary"):
            record = add_contact_record(principal=principal, customer=customer, visit_id=visit.id,
                                        data={"method": "visit", "summary": data["summary"],
                                              "outcome": data.get("outcome"),
                                              "next_follow_up_at": data.get("next_follow_up_at")})
        seal(visit, action="visit.checked_out", actor_id=principal.id,
             data={"contact_record_id": record.id if record else None})
    return visit


# --- automatic closing (CLI) -----------------------------------------------------------------

def _local_day_end():
    """End of the local day of the check-in, in the rep's zone (user → org → UTC)."""
    tz = effective_timezone_sql()
    local_midnight = func.date_trunc("day", func.timezone(tz, Visit.in_at))
    return func.timezone(tz, local_midnight + text("interval '1 day'"))


def close_stale(*, at: datetime | None = None) -> int:
    """Close visits left open past the end of their rep's local day; one transaction each."""
    at = at or now()
    day_end = _local_day_end().label("day_end")
    with transaction():
        stale = db.session.execute(
            select(Visit.id, day_end)
            .join(User, (User.org_id == Visit.org_id) & (User.id == Visit.user_id))
            .join(Org, Org.id == Visit.org_id)
            .where(Visit.status == "open", day_end <= at)
            .order_by(Visit.in_at)
        ).all()
    closed = 0
    for visit_id, end in stale:
        with transaction():
            # SKIP LOCKED: a visit being checked out (or closed by a check-in) right now is
            # theirs.
            visit = db.session.scalar(select(Visit).where(Visit.id == visit_id,
                                                          Visit.status == "open")
                                      .with_for_update(skip_locked=True)
                                      .execution_options(populate_existing=True))
            if visit is None:
                continue
            close_automatically(visit, at=end, actor_id=None, reason="end_of_day")
            closed += 1
    return closed


# --- reading ---------------------------------------------------------------------------------

def get_visit(*, principal: Principal, visit_id):
    """One visible visit, with its photos."""
    return principal.scope.get(Visit, visit_id, principal.scope.visits())


def visits_query(*, principal: Principal, filters: dict):
    """SELECT of the visible visits matching the documented filters (newest first)."""
    stmt = select(Visit).where(principal.scope.visits(), *visit_filters(principal, filters))
    return stmt.order_by(Visit.in_at.desc(), Visit.id)


def list_visits(*, principal: Principal, filters: dict, page):
    """Visible visits, filtered, newest check-in first, with their photos."""
    stmt = visits_query(principal=principal, filters=filters)
    return paginate(stmt.options(selectinload(Visit.photos)), page)
