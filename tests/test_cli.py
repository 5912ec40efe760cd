"""The `fieldsales` command, run as a real subprocess against the test database."""
import json
import os
import subprocess
import sys
import uuid

import pytest

from tests.conftest import DB_URL

FIELDSALES = os.path.join(os.path.dirname(sys.executable), "fieldsales")


def run(*args, check=True):
    env = {**os.environ, "FIELDSALES_DATABASE_URL": DB_URL, "FIELDSALES_ENV": "test"}
    proc = subprocess.run([FIELDSALES, *args], capture_output=True, text=True, env=env,
                          timeout=120)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args}: exit {proc.returncode}\n{proc.stdout[-3000:]}\n"
                             f"{proc.stderr[-2000:]}")
    return proc


def test_db_url_prints_the_configured_url(app):
    assert run("db", "url").stdout.strip() == DB_URL


def test_db_upgrade_is_a_no_op_at_head(app):
    assert run("db", "upgrade").returncode == 0


def test_orgs_create_prints_ids_and_admin_can_log_in(app, api):
    email = f"boss-{uuid.uuid4().hex[:8]}@example.test"
    out = json.loads(run("orgs", "create", "Acme Ltd", "--admin-email", email,
                         "--admin-password", "s3cret-password", "--timezone",
                         "Europe/Berlin").stdout)
    assert set(out) == {"org_id", "admin_id"}
    r = api.post("/api/v1/auth/login", json={"email": email, "password": "s3cret-password"})
    assert r.status_code == 200 and r.json["user"]["id"] == out["admin_id"]
    assert r.json["user"]["role"] == "admin"
    again = run("orgs", "create", "Acme 2", "--admin-email", email, "--admin-password",
                "s3cret-password", check=False)
    assert again.returncode != 0 and "already exists" in again.stderr


@pytest.mark.parametrize("args", [["--timezone", "Moon/Base"], ["--admin-password", "short"]])
def test_orgs_create_rejects_bad_options(app, args):
    base = ["orgs", "create", "X", "--admin-email", "x@example.test",
            "--admin-password", "long-enough-pw"]
    if args[0] == "--admin-password":
        base = base[:-2]
    proc = run(*base, *args, check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr


def test_seed_demo_is_idempotent(app, committed):
    from sqlalchemy import func, select

    from fieldsales.customers.models import Customer
    from fieldsales.projects.models import Project
    from fieldsales.users.models import User

    first = json.loads(run("seed", "demo").stdout)
    org_id = uuid.UUID(first["org_id"])

    def counts():
        return tuple(committed.scalar(select(func.count()).where(m.org_id == org_id))
                     for m in (User, Customer, Project))

    after_first = counts()
    users, customers, projects = after_first
    assert users == 10 and 45 <= customers <= 60 and projects >= 10
    roles = dict(committed.execute(select(User.role, func.count()).where(User.org_id == org_id)
                                   .group_by(User.role)).all())
    assert roles == {"admin": 1, "hr": 1, "manager": 2, "rep": 6}
    run("seed", "demo")
    committed.expire_all()
    assert counts() == after_first
    assert {login["email"] for login in first["logins"]} >= {"admin@demo.fieldsales.dev"}


def test_audit_verify_exits_zero_on_intact_chains(app, committed):
    proc = run("audit", "verify")
    assert json.loads(proc.stdout)["ok"] is True
