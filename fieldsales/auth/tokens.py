"""Access tokens (JWT, HS256 pinned) and opaque refresh tokens."""
import hashlib
import secrets
import time
import uuid

import jwt
from flask import current_app

ALGORITHM = "HS256"


def issue_access_token(user_id: uuid.UUID, org_id: uuid.UUID) -> tuple[str, int]:
    ttl = current_app.config["ACCESS_TOKEN_TTL_S"]
    now = int(time.time())
    claims = {"sub": str(user_id), "org": str(org_id), "iat": now, "exp": now + ttl,
              "typ": "access", "jti": uuid.uuid4().hex}
    return jwt.encode(claims, current_app.config["SECRET_KEY"], algorithm=ALGORITHM), ttl


def decode_access_token(token: str) -> dict:
    """Claims of a valid token; raises jwt.ExpiredSignatureError / jwt.InvalidTokenError."""
    claims = jwt.decode(
        token, current_app.config["SECRET_KEY"], algorithms=[ALGORITHM],
        options={"require": ["exp", "iat", "sub", "org"]},
    )
    if claims.get("typ") != "access":
        raise jwt.InvalidTokenError("not an access token")
    return claims


def new_refresh_token() -> tuple[str, str]:
    """(token for the client, digest to store)."""
    token = secrets.token_urlsafe(32)
    return token, digest(token)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
