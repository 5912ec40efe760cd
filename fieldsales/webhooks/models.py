"""Webhook subscriptions and their outbox of deliveries."""
import uuid
from datetime import datetime

from sqlalchemy import (CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, Text,
                        Uuid, func, text)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, TimestampMixin

# API.md "Leads: ownership protection and distribution" (Webhooks).
EVENTS = ("alert.raised", "visit.flagged", "lead.recycled", "approval.requested",
          "approval.decided", "report.submitted")
STATUSES = ("pending", "delivered", "failed")
_EVENT_LIST = ", ".join(f"'{e}'" for e in EVENTS)


class Webhook(TimestampMixin, Base):
    __tablename__ = "webhooks"
    __table_args__ = (
        CheckConstraint("url ~* '^https?://'", name="url"),
        CheckConstraint(f"cardinality(events) > 0 AND events <@ ARRAY[{_EVENT_LIST}]::varchar[]",
                        name="events"),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[str]] = mapped_column(ARRAY(String))
    # Kept readable: the worker signs every body with it. Never returned after creation.
    secret: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)


class WebhookDelivery(TimestampMixin, Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "webhook_id"], ["webhooks.org_id", "webhooks.id"],
                             ondelete="CASCADE"),
        CheckConstraint("status IN ('pending', 'delivered', 'failed')", name="status"),
        Index("ix_webhook_deliveries_webhook", "org_id", "webhook_id", "created_at"),
        # The worker's scan: the orgs with due pending rows, then an org's oldest due first.
        Index("ix_webhook_deliveries_due", "org_id", "next_attempt_at",
              postgresql_where=text("status = 'pending'")),
    )

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    webhook_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    event: Mapped[str] = mapped_column(String)
    payload: Mapped[dict] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String, default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(server_default=func.statement_timestamp())
    last_error: Mapped[str | None] = mapped_column(Text)
    response_status: Mapped[int | None]
    delivered_at: Mapped[datetime | None]
