"""Sales projects (opportunities) on a customer, moving through stages."""
import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, Numeric, Text,
                        func)
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, UpdatedMixin

STAGES = ("prospecting", "needs_analysis", "demo", "quote", "negotiation", "won", "lost")
OPEN_STAGES = STAGES[:5]  # in their forward order


class Project(TenantIdMixin, UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"]),
        ForeignKeyConstraint(["org_id", "owner_id"], ["users.org_id", "users.id"]),
        CheckConstraint("stage IN ('prospecting', 'needs_analysis', 'demo', 'quote', "
                        "'negotiation', 'won', 'lost')", name="stage"),
        CheckConstraint("amount IS NULL OR amount >= 0", name="amount"),
    )

    customer_id: Mapped[uuid.UUID] = mapped_column(index=True)
    name: Mapped[str]
    stage: Mapped[str] = mapped_column(default="prospecting", server_default="prospecting")
    amount: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    owner_id: Mapped[uuid.UUID] = mapped_column(index=True)
    expected_close_date: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    stage_changed_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    won_at: Mapped[datetime | None]
    lost_at: Mapped[datetime | None]
    lost_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def etag(self):
        return f'"{self.id.hex[:12]}-{self.version}"'


class ProjectStageEvent(Base):
    """One stage move of a project (the first one: the stage it was opened in)."""

    __tablename__ = "project_stage_events"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "project_id"], ["projects.org_id", "projects.id"]),
        ForeignKeyConstraint(["org_id", "actor_id"], ["users.org_id", "users.id"]),
        CheckConstraint("to_stage IN ('prospecting', 'needs_analysis', 'demo', 'quote', "
                        "'negotiation', 'won', 'lost')", name="to_stage"),
        Index("ix_project_stage_events_project", "org_id", "project_id", "at"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    project_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    from_stage: Mapped[str | None]
    to_stage: Mapped[str]
    actor_id: Mapped[uuid.UUID | None]
    reason: Mapped[str | None] = mapped_column(Text)
