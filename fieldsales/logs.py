"""JSON-lines logging with a request id on every line, and one access line per request; the
same format for gunicorn's own lines (GunicornLogger, set in gunicorn.conf.py)."""
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import g, has_request_context, request
from gunicorn import glogging
from pythonjsonlogger.json import JsonFormatter

_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
access_log = logging.getLogger("fieldsales.access")


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        record.request_id = g.get("request_id") if has_request_context() else None
        return True


class StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, value):
        pass


class UtcJsonFormatter(JsonFormatter):
    """One JSON object per line: ts (ISO-8601 UTC, milliseconds), level, logger, message,
    request_id, then the record's extra fields."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
                         rename_fields={"asctime": "ts", "levelname": "level", "name": "logger"})

    def formatTime(self, record, datefmt=None):  # noqa: N802 (logging's name)
        at = datetime.fromtimestamp(record.created, UTC)
        return at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure(level="INFO"):
    handler = StderrHandler()
    handler.setFormatter(UtcJsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def init_app(app):
    configure(app.config["LOG_LEVEL"])

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        principal = g.get("principal")
        access_log.info("request", extra={
            "method": request.method, "path": request.path, "status": response.status_code,
            "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter()))
                                 * 1000, 2),
            "user_id": str(principal.id) if principal else None,
            "remote_addr": request.remote_addr,
        })
        return response


class GunicornLogger(glogging.Logger):
    """gunicorn's error and access logs as JSON lines like the app's. Its access lines (off
    unless --access-logfile is given: the app writes one per request) carry the request as
    fields."""

    def setup(self, cfg):
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(UtcJsonFormatter())

    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        atoms = self.atoms(resp, req, environ, request_time)
        status = str(atoms["s"])
        self.access_log.info("request", extra={
            "request_id": None, "method": atoms["m"], "path": atoms["U"],
            "status": int(status) if status.isdigit() else status, "bytes": atoms["B"],
            "duration_ms": round(atoms["D"] / 1000, 2), "remote_addr": atoms["h"],
            "user_agent": atoms["a"]})
