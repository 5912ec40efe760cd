"""Sales projects (opportunities) on a customer, moving through stages."""
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Numeric, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, IdMixin, OrgMixin, UpdatedMixin

STAGES = ("prospecting", "needs_analysis", "demo", "quote", "negotiation", "won", "lost")


class Project(IdMixin, OrgMixin, UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
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

    @property
    def etag(self):
        return f'"{self.id.hex[:12]}-{self.version}"'
