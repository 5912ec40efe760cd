"""The gunicorn worker (gunicorn.conf.py): gunicorn's own error answers in the API's JSON shape.

gunicorn answers a request it cannot parse (request line or header too long, too many headers,
malformed request line) itself, with an HTML page written by `gunicorn.util.write_error`, before
the app ever runs. It has no hook for that page, so the worker process points that function at
ours (API.md: errors the HTTP server produces are JSON too).
"""
import json

from gunicorn import util
from gunicorn.workers.sync import SyncWorker

from fieldsales.errors import http_error_body

# gunicorn's messages echo parts of the raw request; ours say what to fix.
_MESSAGES = {
    400: "The request is malformed (request line, headers or chunked framing).",
    414: "The request line (method, path and query string) is too long.",
    431: "Too many request headers, or a header that is too long.",
}


def write_json_error(sock, status_int, reason, mesg):
    """gunicorn.util.write_error's signature; the body is JSON in the API's error shape."""
    body = json.dumps(http_error_body(status_int, _MESSAGES.get(status_int))).encode()
    head = (f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    util.write_nonblock(sock, head.encode("latin-1") + body)


class JsonErrorWorker(SyncWorker):
    """gunicorn's sync worker, answering its own errors with JSON."""

    def init_process(self):
        util.write_error = write_json_error
        super().init_process()
