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


def test_cors_allowlist_admits_only_listed_origins():
    from flask import Flask

    from fieldsales.security import init_app

    app = Flask("cors-test")
    app.config.update(CORS_ORIGINS=["https://app.example.com"], MAP_TILE_URL="")
    app.add_url_rule("/x", "x", lambda: "ok")
    init_app(app)
    client = app.test_client()
    ok = client.get("/x", headers={"Origin": "https://app.example.com"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "X-Pagination" in ok.headers["Access-Control-Expose-Headers"]
    other = client.get("/x", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers
