"""The audit log: one HMAC hash chain per user."""
import uuid
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, OrgMixin, TenantIdMixin


class AuditEntry(TenantIdMixin, Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        UniqueConstraint("org_id", "user_id", "seq"),
        Index("ix_audit_entries_org_at", "org_id", "at"),
        Index("ix_audit_entries_entity", "entity_type", "entity_id"),
    )

    user_id: Mapped[uuid.UUID]  # whose chain
    seq: Mapped[int] = mapped_column(BigInteger)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]  # None: the system (scheduled jobs)
    action: Mapped[str]
    entity_type: Mapped[str]
    entity_id: Mapped[uuid.UUID | None]
    data: Mapped[dict] = mapped_column(JSONB)
    prev_hash: Mapped[str]
    hash: Mapped[str]


class AuditHead(OrgMixin, Base):
    """The last seq and hash of each chain. Its row lock serialises appends per user, so reps
    never wait on each other, and it tells a truncated chain from a complete one."""

    __tablename__ = "audit_heads"

    org_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orgs.id"), primary_key=True, index=True)
    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str]
