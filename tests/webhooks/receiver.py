"""A real HTTP receiver on 127.0.0.1 in a thread: records every POST (headers, raw body), answers
a chosen status, can hold requests open, and tracks deliveries in flight at once."""
import threading
from collections import Counter
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    def __init__(self, status=200):
        self.status = status
        self.requests = []  # (headers dict, raw body)
        self.lock = threading.Lock()
        self.in_flight = Counter()  # delivery id -> requests for it being handled now
        self.overlaps = 0  # a delivery id sent again while a request for it was in flight
        self.hold_first = None  # threading.Event: the first request waits for it
        self.holding = threading.Event()  # set while the first request is held
        self.pause = 0.0  # seconds each request takes (widens race windows; asserts none)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def bodies(self):
        with self.lock:
            return [body for _, body in self.requests]


def _handler(rx: Receiver):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            delivery = self.headers.get("X-Fieldsales-Delivery")
            with rx.lock:
                rx.requests.append((dict(self.headers), body))
                if rx.in_flight[delivery]:
                    rx.overlaps += 1
                rx.in_flight[delivery] += 1
                first = len(rx.requests) == 1
            try:
                if first and rx.hold_first is not None:
                    rx.holding.set()
                    rx.hold_first.wait(60)
                elif rx.pause:
                    threading.Event().wait(rx.pause)
                self.send_response(rx.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
            except OSError:
                pass  # the sender died while we held it
            finally:
                with rx.lock:
                    rx.in_flight[delivery] -= 1

        def log_message(self, *args):
            pass

    return Handler


@contextmanager
def receiver(status=200):
    rx = Receiver(status)
    rx.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(rx))
    rx.server.daemon_threads = True
    thread = threading.Thread(target=rx.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        if rx.hold_first is not None:
            rx.hold_first.set()
        rx.server.shutdown()
        rx.server.server_close()
