"""lead_import: rows/s of the largest allowed lead import (just under 5 MiB, ~200k short rows,
0.1 % bad phones, 0.1 % repeated phones) through the API — gunicorn, auth, COPY into staging,
the SQL checks, the INSERT with its indexes, trigger and ledger rows, the audit entry — vs a
raw `COPY … FROM STDIN (FORMAT csv)` of the same bytes into a bare three-column table, in the
same run; ratio = ours / raw (target >= 0.5)."""
import io
import statistics
import time
import uuid
from contextlib import closing

import requests

from bench.harness import connect, ensure_org, gunicorn, login, result

PASSWORD = "lead-import-bench-pw"
RUNS = 3
LIMIT = 5 * 1024 * 1024


def make_file(prefix):
    """The file and its row counts (phones: `prefix` and 8 digits)."""
    lines, bad, dup = ["name,company,phone\n"], 0, 0
    size = len(lines[0])
    for i in range(10**6):
        if i % 1000 == 999:
            row, kind = f"L{i},,call me\n", "bad"
        elif i % 1000 == 499:
            row, kind = f"L{i},,{prefix}{i - 1:08d}\n", "dup"
        else:
            row, kind = f"L{i},,{prefix}{i:08d}\n", "ok"
        if size + len(row) > LIMIT:
            break
        lines.append(row)
        size += len(row)
        bad, dup = bad + (kind == "bad"), dup + (kind == "dup")
    return "".join(lines).encode(), len(lines) - 1, bad, dup


def raw_copy(body):
    """The baseline: PostgreSQL parsing the same CSV into a bare table, nothing else."""
    with closing(connect()) as conn, conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bare (name text, company text, phone text)")
        t = time.perf_counter()
        cur.copy_expert("COPY bare FROM STDIN (FORMAT csv, HEADER true)", io.BytesIO(body))
        conn.commit()
        return time.perf_counter() - t


def run():
    ours, raw = [], []
    with gunicorn(workers=2) as (base, _):
        for _ in range(RUNS):
            # A new org each run: every run imports into the same (empty) phone space. (Deleting
            # 200k leads instead takes minutes: one foreign-key check per row.)
            admin = f"lead-import-{uuid.uuid4().hex[:12]}@example.test"
            ensure_org("Lead import bench", admin, PASSWORD)
            headers = login(base, admin, PASSWORD)
            body, rows, bad, dup = make_file("138")
            pool = requests.post(base + "/api/v1/lead-pools", headers=headers, timeout=30,
                                 json={"name": f"bench {uuid.uuid4().hex[:8]}"})
            pool.raise_for_status()
            pool_id = pool.json()["id"]
            t = time.perf_counter()
            r = requests.post(f"{base}/api/v1/lead-pools/{pool_id}/import", data=body,
                              headers={**headers, "Content-Type": "text/csv"}, timeout=300)
            elapsed = time.perf_counter() - t
            r.raise_for_status()
            got = r.json()
            counts = (got["created"], got["duplicates"], got["errors_total"])
            assert counts == (rows - bad - dup, dup, bad), counts
            ours.append(rows / elapsed)
            raw.append(rows / raw_copy(body))
    return result(
        "lead_import", statistics.median(ours), statistics.median(raw), "rows/s",
        higher_is_better=True,
        notes=f"{len(body) / 2**20:.2f} MiB, {rows:,} rows ({bad} bad phones, {dup} repeated); "
              f"median of {RUNS} interleaved runs: API {min(ours):,.0f}-{max(ours):,.0f} rows/s "
              f"({rows / statistics.median(ours):.2f} s a file), raw COPY into a bare table "
              f"{min(raw):,.0f}-{max(raw):,.0f} rows/s", min_ratio=0.5)


if __name__ == "__main__":
    print(run())
