"""Users: one role each, optionally in a team."""
import uuid

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, IdMixin, OrgMixin, UpdatedMixin

ROLES = ("admin", "manager", "hr", "rep")


class User(IdMixin, OrgMixin, UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        UniqueConstraint("org_id", "id"),
        CheckConstraint("role IN ('admin', 'manager', 'hr', 'rep')", name="role"),
        ForeignKeyConstraint(["org_id", "team_id"], ["teams.org_id", "teams.id"]),
    )

    email: Mapped[str]
    name: Mapped[str]
    role: Mapped[str]
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    timezone: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default="true")
    password_hash: Mapped[str]


# Logins are by email alone, so an email is unique across all orgs (case-insensitively).
Index("uq_users_email_lower", func.lower(User.email), unique=True)
