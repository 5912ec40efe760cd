"""Domain errors and the single place that renders every error as JSON.

Shape (flask-smorest's): {"code", "status", "message", "errors"?, "error"?}. Domain errors add a
snake_case `error`; nothing from the database or a traceback ever reaches the client.
"""
import logging
from http import HTTPStatus

from flask import jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    error = "bad_request"
    message = None

    def __init__(self, message=None, *, error=None, errors=None, headers=None, **extra):
        super().__init__(message or self.message or HTTPStatus(self.status).phrase)
        self.message = message or self.message or HTTPStatus(self.status).phrase
        if error:
            self.error = error
        self.errors = errors
        self.headers = headers or {}
        self.extra = extra


class BadRequest(DomainError):
    status, error = 400, "bad_request"


class Unauthorized(DomainError):
    status, error = 401, "unauthorized"


class Forbidden(DomainError):
    status, error, message = 403, "forbidden", "You may not do this."


class NotFound(DomainError):
    status, error, message = 404, "not_found", "Not found."


class Conflict(DomainError):
    status, error = 409, "conflict"


class IdempotencyConflict(Conflict):
    error = "idempotency_conflict"
    message = "This id was already used for a different request."


class PreconditionFailed(DomainError):
    status, error = 412, "precondition_failed"
    message = "The resource changed since you read it (If-Match does not match its ETag)."


class PayloadTooLarge(DomainError):
    status, error = 413, "payload_too_large"


class UnsupportedMediaType(DomainError):
    status, error = 415, "unsupported_media_type"


class Unprocessable(DomainError):
    status, error = 422, "unprocessable"


class TooManyRequests(DomainError):
    status, error = 429, "too_many_requests"


class ServiceUnavailable(DomainError):
    status, error = 503, "service_unavailable"


def field_error(field, message, *, error="validation_error"):
    """A 422 that names one body field, in the same shape as schema validation errors."""
    return Unprocessable(message, error=error, errors={"json": {field: [message]}})


def _payload(status, message=None, error=None, errors=None, extra=None):
    phrase = HTTPStatus(status).phrase
    body = {"code": status, "status": phrase, "message": message or phrase}
    if error:
        body["error"] = error
    if errors:
        body["errors"] = errors
    if extra:
        body.update(extra)
    return body


_HTTP_ERROR_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 412: "precondition_failed",
    413: "payload_too_large", 414: "uri_too_long", 415: "unsupported_media_type",
    422: "validation_error", 428: "precondition_required", 429: "too_many_requests",
    431: "request_header_fields_too_large", 500: "internal_error", 501: "not_implemented",
    503: "service_unavailable",
}


def http_error_body(status, message=None):
    """The error body for a bare HTTP status (also written by the gunicorn worker)."""
    return _payload(status, message, _HTTP_ERROR_CODES.get(status, "error"))


def render_http_exception(exc):
    """Werkzeug/webargs HTTP errors (404 routes, 405, 413, 422 validation, 500) as JSON."""
    data = getattr(exc, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    message = data.get("message")
    if message is None:
        if exc.code == 422:
            message = "The request is not valid; see `errors`."
        elif exc.code == 400 and errors and "json" in errors:
            message = "The request body is not valid JSON."
        elif exc.code == 413:
            message = "The request body is too large."
        elif exc.code >= 500:
            message = "Internal error; it has been logged."
        else:
            message = exc.description
    body = _payload(exc.code, message, _HTTP_ERROR_CODES.get(exc.code), errors)
    headers = dict(data.get("headers") or {})
    if exc.code == 405 and getattr(exc, "valid_methods", None):
        headers["Allow"] = ", ".join(exc.valid_methods)
    return jsonify(body), exc.code, headers


def render_domain_error(exc: DomainError):
    body = _payload(exc.status, exc.message, exc.error, exc.errors, exc.extra)
    return jsonify(body), exc.status, exc.headers


def render_unexpected(exc):
    if isinstance(exc, HTTPException):
        return render_http_exception(exc)
    log.exception("unhandled error", exc_info=exc)
    return jsonify(_payload(500, "Internal error; it has been logged.", "internal_error")), 500


def render_malformed_body(exc):
    # The server raised this while the app read the body (e.g. a malformed chunk size).
    log.warning("malformed request body: %s", exc.__class__.__name__)
    return jsonify(http_error_body(400, "The request body is malformed (chunked framing).")), 400


def render_database_down(exc):
    orig = getattr(exc, "orig", None)  # the driver's error: its SQLSTATE tells a deadlock
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)  # (40P01) apart
    log.error("database unavailable: %s %s (sqlstate %s)", exc.__class__.__name__,
              orig.__class__.__name__, sqlstate)
    body = _payload(503, "The database is unavailable; retry shortly.", "database_unavailable")
    return jsonify(body), 503, {"Retry-After": "5"}


def register(app):
    from sqlalchemy.exc import InterfaceError, OperationalError

    app.register_error_handler(DomainError, render_domain_error)
    app.register_error_handler(OperationalError, render_database_down)
    app.register_error_handler(InterfaceError, render_database_down)
    app.register_error_handler(Exception, render_unexpected)
    try:
        from gunicorn.http.errors import ParseException
    except ImportError:  # not served by gunicorn
        return
    app.register_error_handler(ParseException, render_malformed_body)
