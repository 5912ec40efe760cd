"""Every /api/v1 request is authenticated here, before its view runs."""
from flask import g, request

from fieldsales.auth.service import authenticate
from fieldsales.security import is_preflight

PUBLIC_ENDPOINTS = {"auth.login", "auth.refresh"}


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
