from flask import request
from fieldsales.extensions import Blueprint

from fieldsales.auth import service
from fieldsales.auth.schemas import LoginSchema, LogoutSchema, RefreshSchema, TokenPairSchema
from fieldsales.openapi import responds
from fieldsales.auth.guard import current
from fieldsales.users.schemas import UserSchema

blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Login and tokens")


@blp.post("/auth/login")
@blp.arguments(LoginSchema)
@blp.response(200, TokenPairSchema)
@responds(blp, "invalid_credentials", "user_inactive", "too_many_attempts")
@blp.doc(security=[])
def login(data):
    """Log in with email and password; failures are rate limited (429 + Retry-After)."""
    return service.login(email=data["email"], password=data["password"],
                         client=request.remote_addr or "unknown")


@blp.post("/auth/refresh")
@blp.arguments(RefreshSchema)
@blp.response(200, TokenPairSchema)
@responds(blp, "invalid_refresh_token", "refresh_token_reused", "user_inactive")
@blp.doc(security=[])
def refresh(data):
    """Exchange a refresh token for a new pair; the old refresh token stops working."""
    return service.refresh(refresh_token=data["refresh_token"])


@blp.post("/auth/logout")
@blp.arguments(LogoutSchema, required=False)
@blp.response(204)
def logout(data):
    """Revoke the given refresh token's login (or every login of the caller)."""
    service.logout(principal=current(), refresh_token=(data or {}).get("refresh_token"))


@blp.get("/me")
@blp.response(200, UserSchema)
def me():
    """The logged-in user."""
    from fieldsales.users.service import get_user

    return get_user(principal=current(), user_id=current().id)
