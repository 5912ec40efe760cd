"""`make unit` runs tests/unit with no database at all: no FIELDSALES_* database settings, an
empty cluster folder that must stay empty (no cluster initialised or started), no app."""
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_unit_passes_without_any_database(tmp_path):
    pg_dir = tmp_path / "pg"
    pg_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDSALES_")}
    env["FIELDSALES_PG_DIR"] = str(pg_dir)
    env["FIELDSALES_PG_PORT"] = "1"  # nothing listens there: a stray connection fails loudly
    run = subprocess.run(["make", "-s", "unit", "T=-q -p no:cacheprovider"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    out = run.stdout + run.stderr
    assert run.returncode == 0, out[-3000:]
    assert " passed" in out and " failed" not in out, out[-3000:]
    assert list(pg_dir.iterdir()) == [], "make unit touched the cluster folder"

