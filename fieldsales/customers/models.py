"""Customer cards, their contacts and the follow-up log (contact records)."""
import uuid
from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import (CheckConstraint, Computed, Float, ForeignKeyConstraint, Index, Integer,
                        String, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, deferred, mapped_column

from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, TimestampMixin, UpdatedMixin

CUSTOMER_STATUSES = ("prospect", "active", "inactive")
GRADES = ("A", "B", "C", "D")
CONTACT_METHODS = ("visit", "call", "message", "email", "meeting")


def point_column():
    """WGS-84 point derived from lat/lng by the database, so the two can never disagree."""
    return deferred(mapped_column(
        Geometry("POINT", srid=4326, spatial_index=False),
        Computed("ST_SetSRID(ST_MakePoint(lng, lat), 4326)", persisted=True),
    ))


class Customer(TenantIdMixin, UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "customers"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "owner_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "team_id"], ["teams.org_id", "teams.id"]),
        CheckConstraint("(lat IS NULL) = (lng IS NULL)", name="lat_lng_together"),
        CheckConstraint("status IN ('prospect', 'active', 'inactive')", name="status"),
        CheckConstraint("geofence_radius_m IS NULL OR geofence_radius_m > 0", name="radius"),
        CheckConstraint("grade IN ('A', 'B', 'C', 'D')", name="grade"),
        Index("ix_customers_geog", text("geography(geom)"), postgresql_using="gist"),
        # one org's cards near a point (the exact `total` of customers near me), migration 0007
        Index("ix_customers_org_geog", "org_id", text("geography(geom)"), postgresql_using="gist"),
        Index("ix_customers_tags", "tags", postgresql_using="gin"),
        Index("ix_customers_name_trgm", "name", postgresql_using="gin",
              postgresql_ops={"name": "gin_trgm_ops"}),
        Index("ix_customers_org_updated", "org_id", "updated_at"),
    )

    name: Mapped[str]
    address: Mapped[str | None]
    phone: Mapped[str | None]
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    geom = point_column()
    geofence_radius_m: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list,
                                            server_default=text("'{}'"))
    status: Mapped[str] = mapped_column(default="active", server_default="active")
    custom: Mapped[dict] = mapped_column(JSONB, default=dict, server_default=text("'{}'"))
    grade: Mapped[str | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @property
    def location(self):
        return None if self.lat is None else {"lat": self.lat, "lng": self.lng}

    @property
    def etag(self):
        return f'"{self.id.hex[:12]}-{self.version}"'


class Contact(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "contacts"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str]
    title: Mapped[str | None]
    phone: Mapped[str | None]
    email: Mapped[str | None]


class ContactRecord(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    """One follow-up with a customer: a call, a message, a meeting, or a visit's summary."""

    __tablename__ = "contact_records"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "contact_id"], ["contacts.org_id", "contacts.id"]),
        CheckConstraint("method IN ('visit', 'call', 'message', 'email', 'meeting')",
                        name="method"),
        Index("ix_contact_records_customer_created", "customer_id", "created_at"),
    )

    customer_id: Mapped[uuid.UUID]
    user_id: Mapped[uuid.UUID]
    method: Mapped[str]
    contact_id: Mapped[uuid.UUID | None]
    visit_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    summary: Mapped[str]
    outcome: Mapped[str | None]
    next_follow_up_at: Mapped[datetime | None]
