def test_api_responses_carry_security_headers(api, world):
    r = api.as_(world.rep_east).get("/api/v1/me")
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert r.headers["X-Frame-Options"] == "DENY"


def test_docs_page_csp_allows_only_own_scripts(api):
    r = api.get("/docs")
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1] \
        .split(";")[0]
    assert b"<script>" not in r.data  # nothing inline for the CSP to block
    assert api.get("/static/docs.js").status_code == 200


def test_no_cors_headers_without_allowlist(api):
    r = api.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in r.headers


def test_csp_includes_configured_tile_server():
    from fieldsales.security import page_csp

    assert "https://*.tile.example.org" in page_csp("https://{s}.tile.example.org/{z}/{x}/{y}.png")
    assert "img-src 'self' data: blob:;" in page_csp("")


def _start(env_overrides):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("FIELDSALES_SECRET_KEY", "FIELDSALES_AUDIT_KEY")}
    env.update({"FIELDSALES_ENV": "production", **env_overrides})
    return subprocess.run([sys.executable, "-c", "from fieldsales import create_app; "
                           "create_app(); print('started')"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_production_refuses_to_start_without_keys():
    no_keys = _start({})
    assert no_keys.returncode != 0 and "FIELDSALES_SECRET_KEY must be set" in no_keys.stderr
    weak = _start({"FIELDSALES_SECRET_KEY": "short", "FIELDSALES_AUDIT_KEY": "x" * 40})
    assert weak.returncode != 0 and "FIELDSALES_SECRET_KEY" in weak.stderr
    no_audit = _start({"FIELDSALES_SECRET_KEY": "s" * 40})
    assert no_audit.returncode != 0 and "FIELDSALES_AUDIT_KEY must be set" in no_audit.stderr
    ok = _start({"FIELDSALES_SECRET_KEY": "s" * 40, "FIELDSALES_AUDIT_KEY": "a" * 40})
    assert ok.returncode == 0 and "started" in ok.stdout
