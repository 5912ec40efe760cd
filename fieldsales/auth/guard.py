"""Every /api/v1 request is authenticated here, before its view runs; views read the caller
with current() and pass it on (nothing below the views reads flask.g)."""
from flask import g, request

from fieldsales.auth.service import authenticate
from fieldsales.scope import Principal
from fieldsales.security import is_preflight

PUBLIC_ENDPOINTS = {"auth.login", "auth.refresh"}


def current() -> Principal:
    """The authenticated caller of this request."""
    return g.principal


def init_app(app):
    @app.before_request
    def _authenticate():
        if not request.path.startswith("/api/v1"):
            return
        if request.routing_exception is not None:  # unknown route or method: 404/405 follow
            return
        if request.endpoint in PUBLIC_ENDPOINTS or is_preflight(request):
            return
        g.principal = authenticate(request.headers.get("Authorization"))
