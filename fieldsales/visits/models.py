"""Visits: a rep's check-in and check-out at a customer, kept as evidence (never deleted)."""
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (Boolean, CheckConstraint, Computed, Float, ForeignKeyConstraint, Index,
                        SmallInteger, String, text)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import (Mapped, deferred, mapped_column, query_expression, relationship,
                            with_expression)

from fieldsales.customers.models import ContactRecord
from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, TimestampMixin

VISIT_STATUSES = ("open", "closed")


def event_point(prefix):
    """WGS-84 point of one event (check-in or check-out), derived from its lat/lng columns."""
    return deferred(mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False),
        Computed(f"ST_SetSRID(ST_MakePoint({prefix}_lng, {prefix}_lat), 4326)", persisted=True),
    ))


class Visit(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "visits"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
        ForeignKeyConstraint(["org_id", "project_id"], ["projects.org_id", "projects.id"]),
        ForeignKeyConstraint(["org_id", "plan_id"], ["plans.org_id", "plans.id"]),
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("(status = 'open') = (closed_at IS NULL)", name="closed_when_closed"),
        CheckConstraint("closed_by IS NULL OR closed_by IN ('rep', 'auto')", name="closed_by"),
        CheckConstraint("(closed_by = 'rep') = (out_at IS NOT NULL)", name="check_out_by_rep"),
        CheckConstraint("risk_score BETWEEN 0 AND 100", name="risk_score"),
        CheckConstraint("closed_at IS NULL OR closed_at >= in_at", name="closed_after_check_in"),
        # One open visit per rep, whatever the application does.
        Index("uq_visits_open_user", "org_id", "user_id", unique=True,
              postgresql_where=text("status = 'open'")),
        # The rep's previous event (impossible_speed) and per-rep listings.
        Index("ix_visits_user_in_at", "user_id", "in_at"),
        Index("ix_visits_user_out_at", "user_id", "out_at",
              postgresql_where=text("out_at IS NOT NULL")),
        Index("ix_visits_org_in_at", "org_id", "in_at"),
        Index("ix_visits_customer_in_at", "customer_id", "in_at"),
        Index("ix_visits_project_id", "project_id",
              postgresql_where=text("project_id IS NOT NULL")),
        Index("ix_visits_in_geom", "in_geom", postgresql_using="gist"),
        # A plan is done by one visit (plans.visit_id is unique the other way round).
        Index("uq_visits_org_plan", "org_id", "plan_id", unique=True,
              postgresql_where=text("plan_id IS NOT NULL")),
    )

    user_id: Mapped[uuid.UUID]
    customer_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID | None]
    plan_id: Mapped[uuid.UUID | None]  # the plan this check-in fulfilled
    purpose: Mapped[str | None]
    note: Mapped[str | None]
    status: Mapped[str] = mapped_column(default="open", server_default="open")

    # check-in: `at` is the event time (device time when plausible, else received_at)
    in_at: Mapped[datetime]
    in_device_time: Mapped[datetime]
    in_received_at: Mapped[datetime]
    in_lat: Mapped[float] = mapped_column(Float)
    in_lng: Mapped[float] = mapped_column(Float)
    in_accuracy_m: Mapped[float | None] = mapped_column(Float)
    in_altitude_m: Mapped[float | None] = mapped_column(Float)
    in_provider: Mapped[str | None]
    in_mock: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    in_distance_m: Mapped[float | None] = mapped_column(Float)
    in_within_geofence: Mapped[bool | None]
    in_geom = event_point("in")

    # check-out by the rep (all NULL when the visit is open or was closed automatically)
    out_at: Mapped[datetime | None]
    out_device_time: Mapped[datetime | None]
    out_received_at: Mapped[datetime | None]
    out_lat: Mapped[float | None] = mapped_column(Float)
    out_lng: Mapped[float | None] = mapped_column(Float)
    out_accuracy_m: Mapped[float | None] = mapped_column(Float)
    out_altitude_m: Mapped[float | None] = mapped_column(Float)
    out_provider: Mapped[str | None]
    out_mock: Mapped[bool | None] = mapped_column(Boolean)
    out_distance_m: Mapped[float | None] = mapped_column(Float)
    out_within_geofence: Mapped[bool | None]
    out_geom = event_point("out")
    out_request_hash: Mapped[str | None]  # tells a repeated check-out from a different one
    summary: Mapped[str | None]
    outcome: Mapped[str | None]
    next_follow_up_at: Mapped[datetime | None]

    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None]  # rep | auto
    flags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list,
                                             server_default=text("'{}'"))
    risk_score: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")

    photos = relationship("Photo", order_by="[Photo.created_at, Photo.id]", lazy="select",
                          viewonly=True)

    @property
    def duration_s(self):
        if self.closed_at is None:
            return None
        return int((self.closed_at - self.in_at).total_seconds())

    @property
    def check_in(self):
        return _event(self, "in")

    @property
    def check_out(self):
        return _event(self, "out") if self.out_at is not None else None


def _event(visit, prefix):
    get = lambda name: getattr(visit, f"{prefix}_{name}")  # noqa: E731
    return {
        "at": get("at"), "device_time": get("device_time"), "received_at": get("received_at"),
        "location": {"lat": get("lat"), "lng": get("lng"), "accuracy_m": get("accuracy_m"),
                     "provider": get("provider")},
        "distance_m": get("distance_m"), "within_geofence": get("within_geofence"),
    }


# A contact record written at check-out points at its visit, inside the same org.
ContactRecord.__table__.append_constraint(ForeignKeyConstraint(
    ["org_id", "visit_id"], ["visits.org_id", "visits.id"],
    name="fk_contact_records_org_id_visit_id_visits"))


def _outing_id(org_id):
    from fieldsales.approvals.facts import outing_of

    return outing_of(org_id, Visit.user_id, Visit.customer_id, Visit.in_at)


# Read with every visit (one index probe: ix_approvals_outings), so an outing approved after
# the check-in is named too; the visit row itself is evidence and never rewritten.
Visit.outing_id = query_expression(default_expr=_outing_id(Visit.org_id))


def with_outing(stmt, org_id):
    """`stmt` (a SELECT of visits) reading outing_id with the caller's org as a parameter:
    correlated on the row's org_id, the subquery keeps Citus from routing a statement by
    org_id, which one with the team scope's recursive CTE needs."""
    return stmt.options(with_expression(Visit.outing_id, _outing_id(org_id)))
