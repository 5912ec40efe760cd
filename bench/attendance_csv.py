"""attendance_csv: time to export one month of attendance for 500 reps (the shared 1M-visit data
set: 15,531 rows from ~313,000 visits) through the API — gunicorn, auth, validation, scope,
SQLAlchemy, a server-side cursor, csv.writer, HTTP — vs the same SQL run raw through psycopg2
(a server-side cursor fetched in the same batches, written with csv.writer to memory) in the
same run; ratio = raw / API (1.0 = no overhead). Also the peak RSS of the gunicorn worker while
it streams one month and three months: it must not grow with the range."""
import csv
import io
import statistics
import threading
import time
from contextlib import closing
from datetime import date

import psutil
import requests

from bench._dataset import ensure
from bench.harness import connect, gunicorn, login, result

MONTH = (date(2026, 8, 1), date(2026, 8, 31))
QUARTER = (date(2026, 7, 1), date(2026, 9, 30))  # 92 days (the limit is 93)
WINDOWS = {"month": MONTH, "quarter": QUARTER}
RUNS = 5
SAMPLE_S = 0.005


def export_sql(org_id, first, last):
    """The SQL GET /attendance.csv runs for the bench org's admin, with its values inlined."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql

    from fieldsales import create_app
    from fieldsales.attendance import export, service
    from fieldsales.extensions import db
    from fieldsales.scope import Principal
    from fieldsales.users.models import User

    app = create_app()
    with app.test_request_context():
        admin = db.session.scalar(select(User).where(User.org_id == org_id,
                                                     User.role == "admin"))
        principal = Principal.for_user(admin, org_timezone="Asia/Shanghai")
        filters = {"from_": first, "to": last}
        people = service.people_cte(principal, filters)
        stmt = export.export_statement(principal, people, first, last, "machine")
        sql = str(stmt.compile(dialect=postgresql.dialect(),
                               compile_kwargs={"literal_binds": True}))
        db.session.remove()
    return sql


def raw_export(sql, sink):
    """The baseline: DECLARE … CURSOR, FETCH 2000 at a time, csv.writer into memory."""
    with closing(connect()) as conn:
        with conn.cursor(name="attendance_export") as cur:
            cur.itersize = 2000
            cur.execute(sql)
            buffer = io.StringIO()
            writer = csv.writer(buffer)
            buffer.write("\ufeff")
            rows = 0
            while True:
                batch = cur.fetchmany(2000)
                if not batch:
                    break
                writer.writerows(batch)
                rows += len(batch)
                sink(buffer.getvalue().encode())
                buffer.seek(0)
                buffer.truncate()
        conn.rollback()
    return rows


def copy_export(sql):
    """For reference only: COPY (query) TO STDOUT WITH CSV, PostgreSQL writing the CSV itself."""
    out = io.BytesIO()
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.copy_expert(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)", out)
    return out.getvalue()


def api_export(base, headers, first, last, sink):
    with requests.get(f"{base}/api/v1/attendance.csv", headers=headers, stream=True, timeout=300,
                      params={"from": first.isoformat(), "to": last.isoformat()}) as r:
        r.raise_for_status()
        assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
        for chunk in r.iter_content(chunk_size=64 * 1024):
            sink(chunk)


class PeakRss:
    """Samples the RSS of the gunicorn workers (the master's children) while a request runs."""

    def __init__(self, master_pid):
        self.workers = psutil.Process(master_pid).children()
        self.peak = 0
        self._stop = threading.Event()

    def rss(self):
        return max(w.memory_info().rss for w in self.workers)

    def __enter__(self):
        self.before = self.rss()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(SAMPLE_S)

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()
        self.peak = max(self.peak, self.rss())


def mb(n):
    return n / (1024 * 1024)


def run():
    info = ensure()
    sqls = {window: export_sql(info["org_id"], *r) for window, r in WINDOWS.items()}
    counts = {}

    with gunicorn(workers=1) as (base, proc):
        headers = login(base, info["admin"], info["password"])

        # Both sides give the same bytes (the API adds the header row, which raw lacks).
        api_body, raw_body = [], []
        api_export(base, headers, *MONTH, api_body.append)
        rows = raw_export(sqls["month"], raw_body.append)
        api_lines = b"".join(api_body).decode("utf-8-sig").splitlines()
        raw_lines = b"".join(raw_body).decode("utf-8-sig").splitlines()
        assert api_lines[1:] == raw_lines and len(raw_lines) == rows, "API and raw rows differ"

        # Interleaved (API, raw, API, raw …) so both see the same machine; the worker's RSS
        # is sampled during every API export.
        times = {w: {"api": [], "raw": []} for w in WINDOWS}
        peaks = {w: [] for w in WINDOWS}
        before = {w: [] for w in WINDOWS}
        for _ in range(RUNS):
            for window, (first, last) in WINDOWS.items():
                with PeakRss(proc.pid) as sample:
                    t = time.perf_counter()
                    api_export(base, headers, first, last, lambda chunk: None)
                    times[window]["api"].append(time.perf_counter() - t)
                peaks[window].append(sample.peak)
                before[window].append(sample.before)
                t = time.perf_counter()
                raw_rows = raw_export(sqls[window], lambda chunk: None)
                times[window]["raw"].append(time.perf_counter() - t)
                counts[window] = raw_rows
        t = time.perf_counter()
        copy_export(sqls["month"])
        copy_s = time.perf_counter() - t

    med = {w: {side: statistics.median(v) for side, v in t.items()} for w, t in times.items()}
    spread = {w: {side: f"{min(v):.2f}-{max(v):.2f}" for side, v in t.items()}
              for w, t in times.items()}
    timing = result(
        "attendance_csv", med["month"]["api"], med["month"]["raw"], "s median",
        higher_is_better=False,
        notes=f"one month, 500 reps: {counts['month']:,} rows from ~313k visits, "
              f"{len(b''.join(api_body)) / 1e6:.1f} MB of CSV; median of {RUNS} interleaved "
              f"runs (API {spread['month']['api']} s, raw {spread['month']['raw']} s); raw = "
              f"the same SQL through a psycopg2 server-side cursor + csv.writer; PostgreSQL's "
              f"own COPY of that query: {copy_s:.2f} s; three months ({counts['quarter']:,} "
              f"rows, ~920k visits): API {med['quarter']['api']:.2f} s vs raw "
              f"{med['quarter']['raw']:.2f} s (ratio "
              f"{med['quarter']['raw'] / med['quarter']['api']:.2f})", min_ratio=0.8)
    # The first month is measured before any quarter ran (memory a worker once took it keeps).
    m_peak, q_peak = peaks["month"][0], max(peaks["quarter"])
    rise = {w: max(p - b for p, b in zip(peaks[w], before[w], strict=True)) for w in WINDOWS}
    memory = result(
        "attendance_csv_rss", mb(q_peak), mb(m_peak), "MB peak", higher_is_better=False,
        notes=f"peak RSS of the gunicorn worker (psutil every {SAMPLE_S * 1000:.0f} ms) while "
              f"streaming: one month {mb(m_peak):.1f} MB (first export, before any three-month "
              f"one; {mb(before['month'][0]):.1f} MB just before it), three months "
              f"{mb(q_peak):.1f} MB (the highest of {RUNS} exports); all {2 * RUNS} exports "
              f"within {mb(min(before['month'] + before['quarter'])):.1f}-"
              f"{mb(max(peaks['month'] + peaks['quarter'])):.1f} MB; the most one export added "
              f"to the worker: {mb(rise['month']):.1f} MB for a month, {mb(rise['quarter']):.1f} "
              "MB for three; ratio 1.0 = no growth with the range")
    return [timing, memory]


if __name__ == "__main__":
    print(run())
