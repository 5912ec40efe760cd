"""A real gunicorn serving the app on a free loopback port, against the test database."""
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import requests

from bench.harness import free_port

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def live_server(db_url, folder: Path, workers=2):
    """Yield the base URL; the server (and its workers) are stopped on exit, whatever happens."""
    port = free_port()
    env = {**os.environ, "FIELDSALES_ENV": "test", "FIELDSALES_DATABASE_URL": db_url,
           "FIELDSALES_TEST_DATABASE_URL": db_url, "FIELDSALES_BIND": f"127.0.0.1:{port}",
           "FIELDSALES_WORKERS": str(workers), "FIELDSALES_LOG_LEVEL": "WARNING",
           "FIELDSALES_PHOTO_DIR": str(folder / "photos"),
           "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics")}
    log = (folder / "gunicorn.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                             str(ROOT / "gunicorn.conf.py"), "wsgi:app"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # workers still importing the app
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("gunicorn did not start: "
                                   + (folder / "gunicorn.log").read_text()[-2000:])
            time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
