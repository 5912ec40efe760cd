"""Refresh tokens, the directories that keep login e-mails and token hashes unique across
orgs, and the failed-login throttle."""
import uuid
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, UniqueConstraint, Uuid, delete, event, insert, inspect
from sqlalchemy.orm import Mapped, mapped_column

from fieldsales.db import Base, TenantIdMixin, TimestampMixin


class RefreshToken(TenantIdMixin, TimestampMixin, Base):
    """One row per issued refresh token, stored as a SHA-256 digest (the token is never stored).

    Tokens of one login share a family: presenting a token that was already used revokes the
    family, since one of the two holders is a thief.
    """

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"]),
        UniqueConstraint("org_id", "token_hash"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(index=True)
    family_id: Mapped[uuid.UUID] = mapped_column(index=True)
    token_hash: Mapped[str]
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


class UserEmail(Base):
    """Directory: a login e-mail (lower-cased) -> its user, unique across all orgs. Not tenant
    data (login looks it up before anyone is known), keyed by the e-mail itself, so Citus
    distributes it by that key (DESIGN.md "Scaling out")."""

    __tablename__ = "user_emails"

    email: Mapped[str] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid)


class RefreshTokenHash(Base):
    """Directory: a refresh token's digest -> the org holding it, unique across all orgs (a
    refresh call presents only the token)."""

    __tablename__ = "refresh_token_hashes"

    token_hash: Mapped[str] = mapped_column(primary_key=True)
    org_id: Mapped[uuid.UUID] = mapped_column(Uuid)


# The directories follow the rows they index in the same flush (every writer of users and
# refresh tokens, seeds and test factories included, goes through the ORM).
@event.listens_for(RefreshToken, "after_insert")
def _token_listed(_mapper, connection, token):
    connection.execute(insert(RefreshTokenHash).values(token_hash=token.token_hash,
                                                       org_id=token.org_id))


def _list_email(connection, user, old_email=None):
    if old_email is not None:
        connection.execute(delete(UserEmail).where(UserEmail.email == old_email.lower(),
                                                   UserEmail.user_id == user.id))
    connection.execute(insert(UserEmail).values(email=user.email.strip().lower(),
                                                org_id=user.org_id, user_id=user.id))


def _listen_users():
    from fieldsales.users.models import User

    @event.listens_for(User, "after_insert")
    def _user_listed(_mapper, connection, user):
        _list_email(connection, user)

    @event.listens_for(User, "after_update")
    def _user_moved(_mapper, connection, user):
        history = inspect(user).attrs.email.history
        if history.deleted and history.added and history.deleted[0].lower() != user.email.lower():
            _list_email(connection, user, old_email=history.deleted[0])


_listen_users()
