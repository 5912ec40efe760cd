"""What approvals tell attendance about a user's local day, as SQL expressions attendance
joins into its own statements: outings are resolved when attendance is read (the visit rows,
being evidence, are never rewritten, and an outing approved after the check-in still counts)."""
from sqlalchemy import Date, DateTime, and_, case, cast, exists, func, select
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.dialects.postgresql import UUID as PG_UUID

from fieldsales.approvals.models import Approval, AttendanceCorrection


def _day_start(zone, day):
    return func.timezone(zone, cast(day, DateTime(timezone=False)))


def _covering(org_id, user_id, customer_id, at):
    """Where-clause of the approved outings of a rep covering a check-in at that customer."""
    def bound(key):
        return cast(Approval.payload[key].astext, TIMESTAMP(timezone=True))

    return (Approval.org_id == org_id, Approval.requester_id == user_id,
            Approval.kind == "outing", Approval.status == "approved",
            cast(Approval.payload["customer_id"].astext, PG_UUID) == customer_id,
            bound("starts_at") <= at, at <= bound("ends_at"))


def outing_ids(visit):
    """Subquery: ids of the approved outings covering `visit` (its rep, its customer, its
    check-in inside the window)."""
    return select(Approval.id).where(*_covering(visit.org_id, visit.user_id, visit.customer_id,
                                                visit.in_at))


def outing_of(org_id, user_id, customer_id, at):
    """SQL: the visit's `outing_id`: the approved outing covering a check-in (the earliest
    requested when several do), or null."""
    return (select(Approval.id).where(*_covering(org_id, user_id, customer_id, at))
            .order_by(Approval.created_at, Approval.id).limit(1).scalar_subquery())


def outing_visits(org_id, user_id, zone, day, visits):
    """SQL: how many of the user's `visits` checked in that local date were on an approved
    outing (counted only for a user with approved outings: most rows cost one index probe)."""
    has_outings = exists().where(Approval.org_id == org_id, Approval.requester_id == user_id,
                                 Approval.kind == "outing", Approval.status == "approved")
    return case((and_(visits > 0, has_outings), _count(org_id, user_id, zone, day)), else_=0)


def _count(org_id, user_id, zone, day):
    from fieldsales.visits.models import Visit

    return (select(func.count())
            .where(Visit.org_id == org_id, Visit.user_id == user_id,
                   Visit.in_at >= _day_start(zone, day),
                   Visit.in_at < _day_start(zone, cast(day, Date) + 1),
                   exists(outing_ids(Visit)))
            .scalar_subquery())


def corrected(org_id, user_id, day):
    """SQL: an approved attendance correction exists for the user's local date."""
    return exists().where(and_(AttendanceCorrection.org_id == org_id,
                               AttendanceCorrection.user_id == user_id,
                               AttendanceCorrection.date == day))
