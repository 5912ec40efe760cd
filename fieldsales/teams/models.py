"""Teams form a tree inside an org."""
import uuid

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint
from sqlalchemy.orm import Mapped

from fieldsales.db import Base, ClientIdMixin, IdMixin, OrgMixin, TimestampMixin


class Team(IdMixin, OrgMixin, TimestampMixin, ClientIdMixin, Base):
    __tablename__ = "teams"
    __table_args__ = (
        # (org_id, id) is the target of same-org foreign keys from other tables.
        UniqueConstraint("org_id", "id"),
        ForeignKeyConstraint(["org_id", "parent_id"], ["teams.org_id", "teams.id"]),
    )

    name: Mapped[str]
    parent_id: Mapped[uuid.UUID | None]
