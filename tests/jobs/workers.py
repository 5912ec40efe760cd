"""Real `fieldsales worker` processes for the job tests, their JSON log lines read back."""
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

FIELDSALES = str(Path(sys.executable).parent / "fieldsales")


@contextlib.contextmanager
def workers(n, schedules=None, env=None):
    """n workers with these cron lines (FIELDSALES_JOB_SCHEDULES) and `env` on top of ours;
    yields a function returning every finished periodic job's log line so far ({"job", "tick",
    "result", ...}, with "worker": i)."""
    env = {**os.environ, "FIELDSALES_JOB_SCHEDULES": json.dumps(schedules or {}), **(env or {})}
    # a file each, closed below (a pipe nobody reads would fill up and stall the worker)
    logs = [tempfile.TemporaryFile() for _ in range(n)]  # noqa: SIM115
    procs = [subprocess.Popen([FIELDSALES, "worker", "--name", f"jobs-test-{i}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=logs[i]) for i in range(n)]

    def done():
        lines = []
        for i, log in enumerate(logs):
            log.seek(0)
            for raw in log.read().splitlines():
                with contextlib.suppress(ValueError):
                    line = json.loads(raw)
                    if "job" in line and "tick" in line:
                        lines.append({**line, "worker": i})
        return lines

    try:
        yield done
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for log in logs:
            log.close()


def wait_until(check, timeout=120):
    pause = threading.Event()
    for _ in range(int(timeout / 0.5)):
        if check():
            return True
        pause.wait(0.5)
    return False
