"""Teams form a tree inside an org."""
import uuid

from sqlalchemy import ForeignKeyConstraint
from sqlalchemy.orm import Mapped

from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, TimestampMixin


class Team(TenantIdMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "parent_id"], ["teams.org_id", "teams.id"]),
    )

    name: Mapped[str]
    parent_id: Mapped[uuid.UUID | None]
