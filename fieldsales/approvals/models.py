"""Approvals (审批): a request that climbs the requester's managers, then admins, and on its
final approval takes effect; attendance corrections recorded beside the evidence."""
import uuid
from datetime import date, datetime

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Integer,
                        UniqueConstraint, Uuid, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, TimestampMixin, UpdatedMixin

KINDS = ("outing", "attendance_correction", "target_change")
STATUSES = ("pending", "approved", "rejected", "withdrawn")
DECISIONS = ("approved", "rejected")
MISSING = ("check_in", "check_out")
DEFAULT_LEVELS = {"outing": 1, "attendance_correction": 1, "target_change": 2}


def _in(values):
    return ", ".join(f"'{v}'" for v in values)


class Approval(UpdatedMixin, ClientIdMixin, Base):
    """Steps are JSONB on the row, not rows of their own: they are fixed when the request is
    routed, always read and written with it, and every change to them happens under the
    approval's row lock (decide, withdraw), so one lock covers the whole request.
    `current_approvers` copies the current step's approvers for the `todo` box's index."""

    __tablename__ = "approvals"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "requester_id"], ["users.org_id", "users.id"]),
        CheckConstraint(f"kind IN ({_in(KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint("current_step >= 0 AND current_step < jsonb_array_length(steps)",
                        name="current_step"),
        Index("ix_approvals_requester", "org_id", "requester_id", "created_at"),
        Index("ix_approvals_todo", "current_approvers", postgresql_using="gin",
              postgresql_where=text("status = 'pending'")),
        # Attendance reads a user's approved outings for each row.
        Index("ix_approvals_outings", "org_id", "requester_id",
              postgresql_where=text("kind = 'outing' AND status = 'approved'")),
    )

    # Tenant table: org_id leads the primary key (DESIGN.md, Citus-ready).
    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    kind: Mapped[str]
    requester_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(default="pending", server_default="pending")
    payload: Mapped[dict] = mapped_column(JSONB)
    steps: Mapped[list] = mapped_column(JSONB)
    current_step: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    current_approvers: Mapped[list[uuid.UUID]] = mapped_column(ARRAY(Uuid))
    decided_at: Mapped[datetime | None]


class AttendanceCorrection(TimestampMixin, Base):
    """An approved correction of a user's local day, kept beside the visits (which never
    change): the attendance row reads it as `corrected`."""

    __tablename__ = "attendance_corrections"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        ForeignKeyConstraint(["org_id", "approval_id"], ["approvals.org_id", "approvals.id"]),
        ForeignKeyConstraint(["org_id", "visit_id"], ["visits.org_id", "visits.id"]),
        # One correction per approval: a decision applied twice cannot write two.
        UniqueConstraint("org_id", "approval_id"),
        CheckConstraint(f"missing IN ({_in(MISSING)})", name="missing"),
        Index("ix_attendance_corrections_day", "org_id", "user_id", "date"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID]
    date: Mapped[date]
    missing: Mapped[str]
    at: Mapped[datetime]
    visit_id: Mapped[uuid.UUID | None]
    approval_id: Mapped[uuid.UUID]
    reason: Mapped[str]
