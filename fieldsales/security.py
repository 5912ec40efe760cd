"""Response hardening: security headers, a CSP per kind of response, and the CORS allowlist."""
from urllib.parse import urlsplit

from flask import request
from flask_cors import CORS

API_CSP = "default-src 'none'; frame-ancestors 'none'"


def page_csp(tile_url: str) -> str:
    """CSP for our HTML pages (/docs, /map): only our own scripts; map tiles from the configured
    tile server if there is one."""
    img = "'self' data: blob:"
    if tile_url:
        parts = urlsplit(tile_url.replace("{s}", "a"))
        host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tile_url else parts.netloc
        img += f" {parts.scheme}://{host}"
    return ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            f"img-src {img}; connect-src 'self'; worker-src 'self' blob:; "
            "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


def is_preflight(request) -> bool:
    """A browser's CORS preflight: it never carries credentials, so it is answered without."""
    return (request.method == "OPTIONS" and "Origin" in request.headers
            and "Access-Control-Request-Method" in request.headers)


def init_app(app):
    if app.config["CORS_ORIGINS"]:
        CORS(app, origins=app.config["CORS_ORIGINS"], supports_credentials=False,
             expose_headers=["X-Pagination", "X-Request-ID", "ETag", "Retry-After"],
             max_age=600)

        @app.before_request
        def _preflight():
            # 204 for a route that exists; flask-cors adds the allow headers only when the
            # origin is listed, so the browser refuses every other origin.
            if is_preflight(request) and request.routing_exception is None:
                return "", 204
    html_csp = page_csp(app.config["MAP_TILE_URL"])

    @app.after_request
    def _headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        csp = html_csp if response.mimetype == "text/html" else API_CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        return response
