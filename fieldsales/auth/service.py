"""Login, token refresh with rotation, logout, and authenticating a request."""
import math
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from flask import current_app
from sqlalchemy import bindparam, delete, func, select, text, update

from fieldsales.auth import passwords, tokens
from fieldsales.auth.models import LoginThrottle, RefreshToken, RefreshTokenHash, UserEmail
from fieldsales.errors import TooManyRequests, Unauthorized
from fieldsales.db import transaction
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.scope import Principal
from fieldsales.users.models import User

# One statement: count this attempt (before the password is checked, so parallel guesses are
# counted too) and restart the window when the previous one has passed.
_COUNT_ATTEMPT = text("""
    INSERT INTO login_throttle AS t (key, failures, window_start)
    VALUES (:key, 1, now())
    ON CONFLICT (key) DO UPDATE SET
      failures = CASE WHEN t.window_start < now() - make_interval(secs => :window)
                      THEN 1 ELSE t.failures + 1 END,
      window_start = CASE WHEN t.window_start < now() - make_interval(secs => :window)
                          THEN now() ELSE t.window_start END
    RETURNING failures,
              extract(epoch FROM window_start + make_interval(secs => :window) - now())
""")


def _count_attempt(key):
    cfg = current_app.config
    # Its own unit of work: the attempt stays counted whatever the password check says.
    with transaction():
        failures, remaining_s = db.session.execute(
            _COUNT_ATTEMPT, {"key": key, "window": cfg["LOGIN_WINDOW_S"]}
        ).one()
    if failures > cfg["LOGIN_MAX_FAILURES"]:
        retry = max(1, math.ceil(remaining_s))
        raise TooManyRequests(
            "Too many failed logins; try again later.", error="too_many_attempts",
            headers={"Retry-After": str(retry)}, retry_after_s=retry,
        )


def _issue_pair(user: User, family_id: uuid.UUID):
    access, ttl = tokens.issue_access_token(user.id, user.org_id)
    refresh, refresh_digest = tokens.new_refresh_token()
    db.session.add(RefreshToken(
        org_id=user.org_id, user_id=user.id, family_id=family_id, token_hash=refresh_digest,
        expires_at=datetime.now(UTC) + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL_S"]),
    ))
    return {"access_token": access, "refresh_token": refresh, "token_type": "Bearer",
            "expires_in": ttl, "user": user}


def user_by_email(email: str) -> User | None:
    """The user holding a login e-mail (any org, case-insensitive): the directory first, then
    the row in its org."""
    listed = db.session.execute(select(UserEmail.org_id, UserEmail.user_id)
                                .where(UserEmail.email == email.strip().lower())).first()
    return None if listed is None else db.session.get(User, tuple(listed))


def _token_org(digest: str):
    """The org holding a refresh token's digest (the directory), or None."""
    return db.session.scalar(select(RefreshTokenHash.org_id)
                             .where(RefreshTokenHash.token_hash == digest))


def login(*, email: str, password: str, client: str):
    """Check credentials (rate limited per email and client) and issue a token pair."""
    key = f"{email.strip().lower()}|{client}"
    _count_attempt(key)
    with transaction():
        user = user_by_email(email)
        if user is None:
            passwords.dummy_verify(password)
            raise Unauthorized("Wrong email or password.", error="invalid_credentials")
        if not passwords.verify_password(user.password_hash, password):
            raise Unauthorized("Wrong email or password.", error="invalid_credentials")
        # The right password clears the throttle, also for a deactivated account.
        db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
        pair = _issue_pair(user, uuid.uuid4()) if user.active else None
    if pair is None:
        raise Unauthorized("This account is deactivated.", error="user_inactive")
    return pair


def refresh(*, refresh_token: str):
    """Rotate: the presented refresh token is spent and a new pair is issued."""
    digest = tokens.digest(refresh_token)
    pair = reused = None
    with transaction():
        org_id = _token_org(digest)
        # Spending the token is one conditional UPDATE, so two concurrent refreshes with the
        # same token cannot both succeed.
        spent = db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.org_id == org_id, RefreshToken.token_hash == digest,
                   RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None),
                   RefreshToken.expires_at > func.now())
            .values(used_at=func.now())
            .returning(RefreshToken.user_id, RefreshToken.family_id)
        ).first()
        if spent is None:
            known = db.session.scalar(select(RefreshToken)
                                      .where(RefreshToken.org_id == org_id,
                                             RefreshToken.token_hash == digest))
            reused = known is not None and known.used_at is not None
            if reused:
                # A spent token came back: someone holds a copy. Kill the whole login.
                db.session.execute(
                    update(RefreshToken).where(RefreshToken.org_id == org_id,
                                               RefreshToken.family_id == known.family_id,
                                               RefreshToken.revoked_at.is_(None))
                    .values(revoked_at=func.now())
                )
        else:
            user = db.session.get(User, (org_id, spent.user_id))
            if not user.active:
                raise Unauthorized("This account is deactivated.", error="user_inactive")
            pair = _issue_pair(user, spent.family_id)
    if reused:
        raise Unauthorized("This refresh token was already used; log in again.",
                           error="refresh_token_reused")
    if pair is None:
        raise Unauthorized("Invalid or expired refresh token.", error="invalid_refresh_token")
    return pair


def logout(*, principal: Principal, refresh_token: str | None):
    """Revoke the given refresh token's login, or every login of the caller."""
    with transaction():
        stmt = update(RefreshToken).where(
            RefreshToken.org_id == principal.org_id, RefreshToken.user_id == principal.id,
            RefreshToken.revoked_at.is_(None)
        )
        if refresh_token:
            family = select(RefreshToken.family_id).where(
                RefreshToken.org_id == principal.org_id,
                RefreshToken.token_hash == tokens.digest(refresh_token),
                RefreshToken.user_id == principal.id,
            ).scalar_subquery()
            stmt = stmt.where(RefreshToken.family_id == family)
        db.session.execute(stmt.values(revoked_at=func.now()))


def revoke_all(*, user_id):
    """Revoke every refresh token of a user (in the caller's transaction)."""
    db.session.execute(
        update(RefreshToken).where(RefreshToken.user_id == user_id,
                                   RefreshToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


# Built once, run as a plain Core statement on the session's connection: every request pays
# for it, and the ORM's per-execution work cost more than the query.
_users, _orgs = User.__table__, Org.__table__
_AUTH_ROW = (
    select(_users.c.id, _users.c.org_id, _users.c.role, _users.c.team_id, _users.c.name,
           _users.c.email, _users.c.timezone, _users.c.active,
           _orgs.c.timezone.label("org_timezone"))
    .join(_orgs, _orgs.c.id == _users.c.org_id)
    .where(_users.c.id == bindparam("user_id"), _users.c.org_id == bindparam("org_id"))
)


def authenticate(authorization: str | None) -> Principal:
    """The caller behind an `Authorization: Bearer` header, checked against the database."""
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized("Missing bearer token.", error="missing_token",
                           headers={"WWW-Authenticate": "Bearer"})
    try:
        claims = tokens.decode_access_token(authorization[7:].strip())
        user_id, org_id = uuid.UUID(claims["sub"]), uuid.UUID(claims["org"])
    except jwt.ExpiredSignatureError:
        raise Unauthorized("The access token has expired; refresh it.", error="token_expired",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    except (jwt.InvalidTokenError, ValueError):
        raise Unauthorized("Invalid access token.", error="invalid_token",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    row = db.session.connection().execute(_AUTH_ROW, {"user_id": user_id,
                                                      "org_id": org_id}).first()
    if row is None:
        raise Unauthorized("Invalid access token.", error="invalid_token")
    if not row.active:
        # Deactivation takes effect at once, also for tokens already issued.
        raise Unauthorized("This account is deactivated.", error="user_inactive")
    return Principal.for_user(row, org_timezone=row.org_timezone)
