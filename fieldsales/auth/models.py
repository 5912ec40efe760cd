"""Refresh tokens and the failed-login throttle."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, IdMixin, OrgMixin, TimestampMixin


class RefreshToken(IdMixin, OrgMixin, TimestampMixin, Base):
    """One row per issued refresh token, stored as a SHA-256 digest (the token is never stored).

    Tokens of one login share a family: presenting a token that was already used revokes the
    family, since one of the two holders is a thief.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str] = mapped_column(unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class LoginThrottle(Base):
    """Failed logins per key ('email|client'), shared by all workers through the database.

    Not tenant data (it exists before anyone is authenticated), so it has no org_id.
    """

    __tablename__ = "login_throttle"

    key: Mapped[str] = mapped_column(primary_key=True)
    failures: Mapped[int]
    window_start: Mapped[datetime]
    locked_until: Mapped[datetime | None]
