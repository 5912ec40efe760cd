"""Check-in, check-out, automatic closing, and reading visits.

Every write is evidence: it is computed once (distances in PostGIS, flags by flags.py), stored,
and sealed in the rep's audit chain in the same transaction with a digest of the evidence
fields; `evidence()` rebuilds that dict from the live row, so an edit behind the API's back is
caught by audit verification. Visits are never deleted or edited through the API.
"""
from datetime import UTC, datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import set_committed_value

from fieldsales import audit, idempotency
from fieldsales.customers.service import new_contact_record
from fieldsales.db import paginate, transaction
from fieldsales.errors import Conflict, NotFound, field_error
from fieldsales.extensions import db
from fieldsales.openapi import describe
from fieldsales.orgs.models import Org
from fieldsales.plans.fulfil import plan_for_check_in
from fieldsales.scope import Principal
from fieldsales.timeutil import iso_utc
from fieldsales.users.models import User
from fieldsales.visits import flags as rules
from fieldsales.visits import writes
from fieldsales.visits.filters import visit_filters
from fieldsales.visits.models import Visit, with_outing
from fieldsales.webhooks import events as webhook_events
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
    if version >= 3:  # the plan it fulfilled: plan stats (and pay) are read from it
        fields["plan_id"] = str(v.plan_id) if v.plan_id else None
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

def _event_flags(*, data, received_at, state, check_out=False):
    loc = data["location"]
    return rules.event_flags(
        device_time=data["device_time"], received_at=received_at,
        accuracy_m=loc.get("accuracy_m"), mock_location=data.get("mock_location", False),
        within_geofence=state.within, has_customer_location=state.customer.lat is not None,
        previous=state.previous, thresholds=state.thresholds, check_out=check_out,
    )


def add_flags(visit: Visit, *more) -> bool:
    """Merge flags into the visit and recompute its risk score; whether the flags changed (the
    caller then seals the visit)."""
    before, risk_before = list(visit.flags or []), visit.risk_score
    visit.flags = rules.merge(before, *more)
    visit.risk_score = rules.risk_score(visit.flags)
    webhook_events.visit_risk_changed(visit, risk_before)
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
# Each write is two statements and the commit (writes.py): lock and read, then write.

def check_in(*, principal: Principal, data: dict, received_at: datetime | None = None):
    """Check in at a visible customer; closes the rep's open visit. Returns (visit, created)."""
    principal.scope.require_writer()
    received_at = received_at or now()
    at = rules.event_time(data["device_time"], received_at)

    def write():
        row, state = writes.read_for_check_in(principal, data=data, at=at)
        if row.taken:
            # A retry (or a concurrent one that committed while we waited for the lock):
            # idempotency.create answers it from the stored row.
            raise idempotency.DuplicateId()
        if state.customer is None:
            raise NotFound("Customer not found.")
        if not row.project_ok:
            raise field_error("project_id", "No such project on this customer.")
        plan_id = plan_for_check_in(row, principal=principal, data=data,
                                    customer_id=state.customer.id)
        event_flags = _event_flags(data=data, received_at=received_at, state=state)
        still_open = state.visit
        if still_open is not None:
            close_automatically(still_open, at=at, actor_id=principal.id,
                                reason="new_check_in")
        loc = data["location"]
        visit = idempotency.stamp(Visit(
            org_id=principal.org_id, user_id=principal.id, customer_id=state.customer.id,
            project_id=data.get("project_id"), plan_id=plan_id, purpose=data.get("purpose"),
            note=data.get("note"), status="open", created_at=state.now,
            in_at=at, in_device_time=data["device_time"], in_received_at=received_at,
            in_lat=loc["lat"], in_lng=loc["lng"], in_accuracy_m=loc.get("accuracy_m"),
            in_altitude_m=loc.get("altitude_m"), in_provider=loc.get("provider"),
            in_mock=data.get("mock_location", False), in_distance_m=state.distance_m,
            in_within_geofence=state.within, flags=[], risk_score=0,
        ), principal=principal, data=data)
        add_flags(visit, event_flags)
        seal(visit, action="visit.checked_in", actor_id=principal.id,
             data={"closed_visit_id": still_open.id if still_open else None,
                   **({"plan_id": plan_id} if plan_id else {})})
        writes.write_check_in(visit, still_open)
        set_committed_value(visit, "photos", [])
        set_committed_value(visit, "outing_id", state.outing_id)
        return visit

    return idempotency.create(Visit, principal=principal, data=data, write=write,
                              look_first=False)


# --- check-out -------------------------------------------------------------------------------

def check_out(*, principal: Principal, visit_id, data: dict, received_at: datetime | None = None):
    """The visit's rep checks out (once; an identical repeat answers the stored visit)."""
    received_at = received_at or now()
    at = rules.event_time(data["device_time"], received_at)
    with transaction():
        state = writes.read_for_check_out(principal, visit_id=visit_id, data=data, at=at)
        visit = state.visit
        if visit is None:
            raise NotFound("Visit not found.")
        principal.scope.require_visit_rep(visit)
        digest = idempotency.request_hash(data)
        if visit.status == "closed":
            if visit.out_request_hash == digest:
                return get_visit(principal=principal, visit_id=visit.id)
            raise Conflict("This visit is already checked out.", error="already_checked_out")
        if at < visit.in_at:
            raise field_error("device_time", "The check-out is earlier than the check-in.")
        event_flags = _event_flags(data=data, received_at=received_at, state=state,
                                   check_out=True)
        if rules.is_short(at - visit.in_at, state.thresholds):
            event_flags.append("short_visit")
        loc = data["location"]
        visit.out_at, visit.out_device_time, visit.out_received_at = (
            at, data["device_time"], received_at)
        visit.out_lat, visit.out_lng = loc["lat"], loc["lng"]
        visit.out_accuracy_m, visit.out_altitude_m = loc.get("accuracy_m"), loc.get("altitude_m")
        visit.out_provider, visit.out_mock = loc.get("provider"), data.get("mock_location", False)
        visit.out_distance_m, visit.out_within_geofence = state.distance_m, state.within
        visit.out_request_hash = digest
        visit.summary, visit.outcome = data.get("summary"), data.get("outcome")
        visit.next_follow_up_at = data.get("next_follow_up_at")
        visit.status, visit.closed_at, visit.closed_by = "closed", at, "rep"
        add_flags(visit, event_flags)
        record = None
        if data.get("summary"):
            record = new_contact_record(principal=principal, customer=state.customer,
                                        visit_id=visit.id,
                                        data={"method": "visit", "summary": data["summary"],
                                              "outcome": data.get("outcome"),
                                              "next_follow_up_at": data.get("next_follow_up_at")})
        seal(visit, action="visit.checked_out", actor_id=principal.id,
             data={"contact_record_id": record.id if record else None})
        set_committed_value(visit, "photos", writes.write_check_out(visit, record))
        set_committed_value(visit, "outing_id", state.outing_id)
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
            select(Visit.org_id, Visit.id, day_end)
            .join(User, (User.org_id == Visit.org_id) & (User.id == Visit.user_id))
            .join(Org, Org.id == Visit.org_id)
            .where(Visit.status == "open", day_end <= at)
            .order_by(Visit.in_at)
        ).all()
    closed = 0
    for org_id, visit_id, end in stale:
        with transaction():
            # SKIP LOCKED: a visit being checked out (or closed by a check-in) right now is
            # theirs.
            visit = db.session.scalar(with_outing(select(Visit).where(Visit.org_id == org_id,
                                                                      Visit.id == visit_id,
                                                                      Visit.status == "open"),
                                                  org_id)
                                      .with_for_update(skip_locked=True)
                                      .execution_options(populate_existing=True))
            if visit is None:
                continue
            close_automatically(visit, at=end, actor_id=None, reason="end_of_day")
            closed += 1
    return closed


# --- reading ---------------------------------------------------------------------------------

def get_visit(*, principal: Principal, visit_id):
    """One visible visit, with its photos (404 when not visible)."""
    visit = db.session.scalar(with_outing(
        select(Visit).where(Visit.id == visit_id, principal.scope.visits()), principal.org_id))
    if visit is None:
        raise NotFound("Visit not found.")
    return visit


def visits_query(*, principal: Principal, filters: dict):
    """SELECT of the visible visits matching the documented filters (newest first)."""
    stmt = select(Visit).where(principal.scope.visits(), *visit_filters(principal, filters))
    return with_outing(stmt, principal.org_id).order_by(Visit.in_at.desc(), Visit.id)


def list_visits(*, principal: Principal, filters: dict, page):
    """Visible visits, filtered, newest check-in first, with their photos."""
    stmt = visits_query(principal=principal, filters=filters)
    return paginate(stmt.options(selectinload(Visit.photos)), page)
