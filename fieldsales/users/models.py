"""Users: one role each, optionally in a team."""
import uuid

from sqlalchemy import (CheckConstraint, ForeignKeyConstraint, Index, String, func)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, ClientIdMixin, TenantIdMixin, UpdatedMixin

ROLES = ("admin", "manager", "hr", "rep")


class User(TenantIdMixin, UpdatedMixin, ClientIdMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'hr', 'rep')", name="role"),
        ForeignKeyConstraint(["org_id", "team_id"], ["teams.org_id", "teams.id"]),
        CheckConstraint("level BETWEEN 1 AND 10", name="level"),
    )

    email: Mapped[str]
    name: Mapped[str]
    role: Mapped[str]
    team_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    timezone: Mapped[str | None]
    active: Mapped[bool] = mapped_column(server_default="true")
    password_hash: Mapped[str]
    # What a lead pool's `tag_match` distribution matches leads' tags against, and seniority
    # (1-10) that breaks its ties.
    tags: Mapped[list[str]] = mapped_column(ARRAY(String), default=list, server_default="{}")
    level: Mapped[int | None]


# Logins are by email alone, so an email is unique across all orgs (case-insensitively): the
# directory (auth.models.UserEmail) holds that; this key keeps each org's rows consistent.
Index("uq_users_email_lower", User.org_id, func.lower(User.email), unique=True)
