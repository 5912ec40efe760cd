"""What a first deployment needs: a CLI safe to run in production, the client's address from a
trusted proxy only, and gunicorn's own log lines in the app's JSON format. Real subprocesses:
the `fieldsales` command, a pseudo-terminal for its prompt, gunicorn."""
import json
import os
import pty
import re
import secrets
import subprocess
import sys
import time
import uuid
from importlib.metadata import version

import pytest
import requests

from bench.harness import gunicorn
from tests import factories
from tests.conftest import DB_URL

FIELDSALES = os.path.join(os.path.dirname(sys.executable), "fieldsales")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


def cli(*args, env=None, stdin=None):
    env = {**os.environ, "FIELDSALES_DATABASE_URL": DB_URL, "FIELDSALES_ENV": "test",
           **(env or {})}
    return subprocess.run([FIELDSALES, *args], capture_output=True, text=True, env=env,
                          input=stdin if stdin is not None else "", timeout=120)


def logs_in(api, email, password):
    r = api.post("/api/v1/auth/login", json={"email": email, "password": password})
    return r.status_code == 200


# --- CLI ----------------------------------------------------------------------------------------

def test_seed_demo_refuses_to_run_in_production(app):
    production = {"FIELDSALES_ENV": "production", "FIELDSALES_SECRET_KEY": secrets.token_hex(32),
                  "FIELDSALES_AUDIT_KEY": secrets.token_hex(32)}
    proc = cli("seed", "demo", env=production)
    assert proc.returncode == 2, proc.stderr[-500:]
    assert "FIELDSALES_ENV=production" in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_version():
    proc = cli("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"fieldsales, version {version('fieldsales')}"


@pytest.mark.parametrize("flag", [[], ["--admin-password-stdin"]])
def test_orgs_create_reads_the_password_from_stdin(app, api, flag):
    email = f"stdin-{uuid.uuid4().hex[:8]}@example.test"
    proc = cli("orgs", "create", "Piped", "--admin-email", email, *flag,
               stdin="piped-password-1\nignored\n")
    assert proc.returncode == 0, proc.stderr[-500:]
    assert set(json.loads(proc.stdout)) == {"org_id", "admin_id"}
    assert logs_in(api, email, "piped-password-1")


def test_orgs_create_refuses_an_empty_stdin_or_two_passwords(app):
    email = f"none-{uuid.uuid4().hex[:8]}@example.test"
    assert cli("orgs", "create", "X", "--admin-email", email, stdin="").returncode == 2
    both = cli("orgs", "create", "X", "--admin-email", email, "--admin-password",
               "long-enough-pw", "--admin-password-stdin", stdin="other-password\n")
    assert both.returncode == 2 and "not both" in both.stderr


def _read_until(fd, needle, timeout=60):
    seen = b""
    deadline = time.time() + timeout
    while needle not in seen:
        assert time.time() < deadline, seen
        seen += os.read(fd, 1024)
    return seen


def test_orgs_create_prompts_hidden_and_confirmed_on_a_terminal(app, api):
    email = f"tty-{uuid.uuid4().hex[:8]}@example.test"
    controller, terminal = pty.openpty()
    env = {**os.environ, "FIELDSALES_DATABASE_URL": DB_URL, "FIELDSALES_ENV": "test"}
    proc = subprocess.Popen([FIELDSALES, "orgs", "create", "Typed", "--admin-email", email],
                            stdin=terminal, stdout=subprocess.PIPE, stderr=terminal, env=env)
    os.close(terminal)
    try:
        screen = _read_until(controller, b"Admin password:")
        os.write(controller, b"typed-password-1\n")
        screen += _read_until(controller, b"Repeat for confirmation:")
        os.write(controller, b"typed-password-1\n")
        out, _ = proc.communicate(timeout=120)
    finally:
        os.close(controller)
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert b"typed-password-1" not in screen  # not echoed
    assert set(json.loads(out)) == {"org_id", "admin_id"}
    assert logs_in(api, email, "typed-password-1")


# --- behind a proxy, and gunicorn's log lines ---------------------------------------------------

def _lines(path):
    """Every line gunicorn and the app wrote, each parsed as JSON (fails on any other line)."""
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines]


def _failures(base, email, forwarded_for, n):
    return [requests.post(base + "/api/v1/auth/login", timeout=30,
                          json={"email": email, "password": "wrong-password"},
                          headers={"X-Forwarded-For": forwarded_for}).status_code
            for _ in range(n)]


@pytest.mark.parametrize("trusted", [0, 1])
def test_client_address_comes_from_x_forwarded_for_only_behind_trusted_proxies(
        app, committed, tmp_path, trusted):
    org = factories.org()
    user = factories.user(org, "rep")
    log = tmp_path / "gunicorn.log"
    env = {"FIELDSALES_LOG_LEVEL": "INFO", **({"FIELDSALES_TRUSTED_PROXIES": "1"}
                                              if trusted else {})}
    with gunicorn(workers=1, extra_env=env, log_path=log) as (base, _):
        # Five failures lock (email, client address); then another client tries.
        assert _failures(base, user.email, "198.51.100.7", 5) == [401] * 5
        assert _failures(base, user.email, "198.51.100.7", 1) == [429]
        other = _failures(base, user.email, "198.51.100.8", 1)
    assert other == ([401] if trusted else [429])
    logins = [e for e in _lines(log) if e.get("logger") == "fieldsales.access"
              and e.get("path") == "/api/v1/auth/login"]
    assert len(logins) == 7
    expected = ["198.51.100.7"] * 6 + ["198.51.100.8"] if trusted else ["127.0.0.1"] * 7
    assert [e["remote_addr"] for e in logins] == expected


def test_gunicorn_and_app_log_lines_are_json_with_iso_utc_times(app, tmp_path):
    log = tmp_path / "gunicorn.log"
    env = {"FIELDSALES_LOG_LEVEL": "INFO", "GUNICORN_CMD_ARGS": "--access-logfile -"}
    with gunicorn(workers=1, extra_env=env, log_path=log) as (base, _):
        assert requests.get(base + "/api/v1/nowhere", timeout=30).status_code == 404
        # A request line too long for gunicorn: answered by gunicorn itself, not the app.
        assert requests.get(base + "/" + "x" * 9000, timeout=30).status_code >= 400
    entries = _lines(log)
    assert all(ISO_UTC.match(e["ts"]) for e in entries), [e["ts"] for e in entries][:5]
    assert all({"level", "logger", "message"} <= set(e) for e in entries)
    loggers = {e["logger"] for e in entries}
    assert {"gunicorn.error", "gunicorn.access", "fieldsales.access"} <= loggers, loggers
    assert any("Booting worker" in e["message"] for e in entries if e["logger"] == "gunicorn.error")
    access = [e for e in entries if e["logger"] == "gunicorn.access"
              and e["path"] == "/api/v1/nowhere"]
    assert access and access[0]["status"] == 404 and access[0]["method"] == "GET"
