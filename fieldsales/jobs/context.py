"""The Flask app a worker's tasks run in (set once by queue.run_worker)."""
import contextlib

_flask = {}


def set_app(flask_app) -> None:
    _flask["app"] = flask_app


@contextlib.contextmanager
def app_context():
    """The worker's Flask app context (each task pushes its own: one session per task)."""
    with _flask["app"].app_context():
        yield
