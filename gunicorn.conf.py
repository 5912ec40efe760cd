"""gunicorn settings for fieldsales (`gunicorn -c gunicorn.conf.py wsgi:app`)."""
import multiprocessing
import os
import shutil
from pathlib import Path

bind = os.environ.get("FIELDSALES_BIND", "127.0.0.1:8000")
# Sync workers: requests are short and database-bound; 2 per core plus one.
workers = int(os.environ.get("FIELDSALES_WORKERS", multiprocessing.cpu_count() * 2 + 1))
# Sync workers whose own error answers (URL or headers too long, malformed request) are JSON.
worker_class = "fieldsales.workers.JsonErrorWorker"
timeout = int(os.environ.get("FIELDSALES_WORKER_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5
limit_request_line = 8190
limit_request_fields = 100
accesslog = None  # the app writes one JSON access line per request
errorlog = "-"
# gunicorn's own lines (start, workers, its own 400s, timeouts) in the app's JSON format.
logger_class = "fieldsales.logs.GunicornLogger"
proc_name = "fieldsales"
# gunicorn's runtime control socket (in $HOME) is not needed to run the app.
control_socket_disable = True

# Metrics from all workers are aggregated through files in this folder.
_metrics_dir = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR",
                                   Path(__file__).parent / "var" / "prometheus"))


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    _metrics_dir.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_metrics_dir)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
