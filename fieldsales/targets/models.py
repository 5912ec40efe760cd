"""Sales targets (目标): an amount of a metric over a period for the org, a team or a user,
split into children (smaller periods of the same subject, or the subject's teams and people)."""
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Numeric,
                        UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, UpdatedMixin

MONEY = ("won_amount", "collected_amount")
METRICS = MONEY + ("new_customers", "visits", "converted_leads")
ALL_METRICS = METRICS
SUBJECT_TYPES = ("org", "team", "user")
STATUSES = ("draft", "published")


def _in(values):
    return ", ".join(f"'{v}'" for v in values)


class Target(UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "targets"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "parent_id"], ["targets.org_id", "targets.id"]),
        # One target per metric, period and subject: two managers allocating at once cannot
        # both write one (409 target_exists).
        UniqueConstraint("org_id", "metric", "period", "subject_type", "subject_id"),
        CheckConstraint(f"metric IN ({_in(ALL_METRICS)})", name="metric"),
        CheckConstraint(f"subject_type IN ({_in(SUBJECT_TYPES)})", name="subject_type"),
        CheckConstraint(f"status IN ({_in(STATUSES)})", name="status"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("starts <= ends", name="period"),
        Index("ix_targets_parent", "org_id", "parent_id"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    metric: Mapped[str]
    period: Mapped[str]
    starts: Mapped[date]  # first local day of the period
    ends: Mapped[date]  # last local day (inclusive)
    subject_type: Mapped[str]
    subject_id: Mapped[uuid.UUID]  # the org's id for an org target
    amount: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    parent_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(default="draft", server_default="draft")

    @property
    def subject(self):
        return {"type": self.subject_type, "id": self.subject_id}


class UserTeamSpell(Base):
    """A spell of a user in a team: written by a trigger on users (insert, team change), so
    progress credits a team with what its people did while they were in it."""

    __tablename__ = "user_team_history"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    since: Mapped[datetime] = mapped_column(primary_key=True)  # -infinity: from the start
    until: Mapped[datetime | None]
    team_id: Mapped[uuid.UUID | None]
