"""Visit plans: what a rep should do on a local date (visit a customer, call, follow up)."""
import uuid
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Text,
                        UniqueConstraint, Uuid, text)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, UpdatedMixin

KINDS = ("visit", "call", "follow_up")
STATUSES = ("planned", "done", "missed", "cancelled")
SOURCES = ("self", "manager", "cadence")


class Plan(UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "plans"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
        ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"]),
        ForeignKeyConstraint(["org_id", "project_id"], ["projects.org_id", "projects.id"]),
        # One visit (one contact record) fulfils at most one plan: the database says so, so two
        # racing check-ins cannot both take a plan nor one check-in take two.
        UniqueConstraint("org_id", "visit_id"),
        UniqueConstraint("org_id", "contact_record_id"),
        CheckConstraint("kind IN ('visit', 'call', 'follow_up')", name="kind"),
        CheckConstraint("status IN ('planned', 'done', 'missed', 'cancelled')", name="status"),
        CheckConstraint("source IN ('self', 'manager', 'cadence')", name="source"),
        CheckConstraint("CASE WHEN kind = 'visit' THEN customer_id IS NOT NULL AND lead_id IS NULL"
                        " ELSE (customer_id IS NULL) <> (lead_id IS NULL) END", name="subject"),
        CheckConstraint("planned_end IS NULL OR planned_start IS NULL "
                        "OR planned_end >= planned_start", name="window"),
        Index("ix_plans_user_date", "org_id", "user_id", "planned_date"),
        # The check-in's lookup: the rep's open plan for this customer on this day.
        Index("ix_plans_open_customer", "org_id", "user_id", "customer_id", "planned_date",
              postgresql_where=text("status = 'planned'")),
    )

    # Tenant table: org_id leads the primary key (DESIGN.md, Citus-ready).
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID]
    kind: Mapped[str]
    customer_id: Mapped[uuid.UUID | None]
    lead_id: Mapped[uuid.UUID | None]
    project_id: Mapped[uuid.UUID | None]
    planned_date: Mapped[date]
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    purpose: Mapped[str] = mapped_column(Text, default="", server_default="")
    talking_points: Mapped[str] = mapped_column(Text, default="", server_default="")
    status: Mapped[str] = mapped_column(default="planned", server_default="planned")
    visit_id: Mapped[uuid.UUID | None]
    contact_record_id: Mapped[uuid.UUID | None]
    source: Mapped[str] = mapped_column(default="self", server_default="self")
    cancel_reason: Mapped[str | None]
