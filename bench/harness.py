"""Shared benchmark plumbing: a real gunicorn on loopback, logins, timing and percentiles."""
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
DB_URL = os.environ.get("FIELDSALES_DATABASE_URL", "")
# The app's driver for this run (the baselines always use psycopg2); results are kept per driver.
DRIVER = os.environ.get("FIELDSALES_DB_DRIVER", "psycopg2")
# FIELDSALES_BENCH_SCALE=0.05 shrinks the generated data sets (to try the harness quickly).
SCALE = float(os.environ.get("FIELDSALES_BENCH_SCALE", "1"))


def scaled(n, minimum=1):
    return max(minimum, int(n * SCALE))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(workers=None, app="wsgi:app", extra_env=None, log_path=None):
    """Run the real app under gunicorn (gunicorn.conf.py) on a free loopback port; yields
    (base URL, the master process). The server and its workers are stopped on exit, whatever
    happens. `log_path` keeps gunicorn's output (for a test to show when it fails)."""
    port = free_port()
    metrics_dir = ROOT / "var" / f"prometheus-bench-{port}"  # ours to remove afterwards
    env = {**os.environ, "FIELDSALES_BIND": f"127.0.0.1:{port}", "FIELDSALES_LOG_LEVEL": "WARNING",
           "FIELDSALES_ACCESS_TOKEN_TTL_S": "7200", "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
           **({"FIELDSALES_WORKERS": str(workers)} if workers else {}), **(extra_env or {})}
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    proc = subprocess.Popen([str(Path(sys.executable).parent / "gunicorn"), "-c",
                             str(ROOT / "gunicorn.conf.py"), app], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):
                pass  # the master accepts before its workers have imported the app
            if proc.poll() is not None or time.time() > deadline:
                tail = Path(log_path).read_text()[-2000:] if log_path else ""
                raise RuntimeError("gunicorn did not start. " + tail)
            time.sleep(0.2)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if log_path:
            log.close()
        shutil.rmtree(metrics_dir, ignore_errors=True)


def login(base, email, password):
    r = requests.post(base + "/api/v1/auth/login", json={"email": email, "password": password},
                      timeout=30)
    r.raise_for_status()
    return {"Authorization": "Bearer " + r.json()["access_token"]}


def connect():
    """A raw psycopg2 connection with the same session settings the app uses."""
    from config.settings import load

    return psycopg2.connect(DB_URL, options=load().DB_SESSION_OPTIONS)


def percentile(values, p):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def timed(fn, n, warmup=20):
    """Run fn() n times after a warm-up; return the latencies in milliseconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


def result(name, ours, baseline, unit, higher_is_better, notes, min_ratio=None, max_ours=None):
    """One row of bench/results.json. The target (from issue 12) is written into the row as
    text, and `met` says whether this run reached it (None: no target)."""
    ratio = ours / baseline if higher_is_better else baseline / ours
    target, met = [], None
    if min_ratio is not None:
        target.append(f"ratio >= {min_ratio}")
        met = ratio >= min_ratio
    if max_ours is not None:
        target.append(f"ours <= {max_ours} {unit}")
        met = (met is not False) and ours <= max_ours
    return {"name": name, "driver": DRIVER, "ours": round(ours, 3),
            "baseline": round(baseline, 3), "unit": unit, "ratio": round(ratio, 3),
            "target": " and ".join(target) or None, "met": met, "scale": SCALE,
            "notes": notes}


def median(values):
    return statistics.median(values)


# FIELDSALES_BENCH_RESULTS: write elsewhere (a trial run must not touch the committed table).
RESULTS = Path(os.environ.get("FIELDSALES_BENCH_RESULTS", ROOT / "bench" / "results.json"))


def write_results(results, path=RESULTS):
    existing = []
    if path.exists():
        try:
            existing = json.loads(path.read_text())
        except ValueError:
            existing = []
    key = lambda r: (r["name"], r.get("driver"))  # noqa: E731
    names = {key(r) for r in results}
    # Rows from before the driver was recorded give way to any new row of their benchmark.
    renewed = {r["name"] for r in results}
    merged = [r for r in existing if key(r) not in names
              and not (r.get("driver") is None and r["name"] in renewed)] + results
    path.write_text(json.dumps(merged, indent=2, ensure_ascii=False) + "\n")
    return merged


def ensure_org(name, admin_email, password, timezone="Asia/Shanghai"):
    """The id of the bench org whose admin is `admin_email`, created with the CLI if missing."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT org_id FROM users WHERE email = %s", (admin_email,))
        row = cur.fetchone()
    if row is not None:
        return str(row[0])
    out = subprocess.run([sys.executable, "-m", "fieldsales.cli", "orgs", "create", name,
                          "--admin-email", admin_email, "--admin-password", password,
                          "--timezone", timezone], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["org_id"]


def exit_on_sigterm():
    """Let `finally` blocks (which stop the gunicorn a run started) run on SIGTERM too."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
