"""Migration 0009 gives every existing project a first stage event from its current stage (on a
database of its own: going below 0009 drops the contracts other tests sealed)."""
import os
import subprocess
import uuid
from pathlib import Path

import psycopg2
import pytest

from fieldsales.migrate import upgrade

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not os.environ.get("FIELDSALES_LOCAL_CLUSTER"),
    reason="makes a database of its own on the project's local cluster")


@pytest.fixture
def fresh_url():
    name = f"fieldsales_stages_{os.getpid()}"
    url = subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "createdb", name], check=True,
                         capture_output=True, text=True).stdout.strip()
    yield url
    subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "dropdb", name], capture_output=True)


def test_existing_projects_get_a_first_event_from_their_stage(fresh_url):
    upgrade(fresh_url, "0008")
    org, user, customer = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    won, demo = uuid.uuid4(), uuid.uuid4()
    with psycopg2.connect(fresh_url) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO orgs (id, name) VALUES (%s, 'o')", (str(org),))
        cur.execute("INSERT INTO users (org_id, id, name, email, password_hash, role) "
                    "VALUES (%s, %s, 'u', 'u@example.test', 'x', 'rep')", (str(org), str(user)))
        cur.execute("INSERT INTO customers (org_id, id, name) VALUES (%s, %s, 'c')",
                    (str(org), str(customer)))
        for pid, stage, at in ((won, "won", "2026-03-01T10:00:00Z"),
                               (demo, "demo", "2026-04-01T10:00:00Z")):
            cur.execute("INSERT INTO projects (org_id, id, customer_id, name, owner_id, stage, "
                        "updated_at) VALUES (%s, %s, %s, 'p', %s, %s, %s)",
                        (str(org), str(pid), str(customer), str(user), stage, at))
    conn.close()
    upgrade(fresh_url, "head")
    with psycopg2.connect(fresh_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT e.project_id::text, e.from_stage, e.to_stage, e.at = p.updated_at, "
                    "p.stage_changed_at = p.updated_at, p.won_at IS NOT NULL "
                    "FROM project_stage_events e JOIN projects p "
                    "ON p.org_id = e.org_id AND p.id = e.project_id")
        events = sorted(cur.fetchall())
    conn.close()
    assert events == sorted([(str(won), None, "won", True, True, True),
                             (str(demo), None, "demo", True, True, False)])
