"""CORS against the real app under gunicorn with FIELDSALES_CORS_ORIGINS set: a preflight from a
listed origin is 204 with the allow headers and needs no token; an unlisted origin gets none.
Then in a real headless Chromium: a page served from ANOTHER loopback origin (a second small
HTTP server) logs in and reads /api/v1/me with the Bearer token; from an unlisted origin the
browser blocks the same calls."""
import functools
import json
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from bench.harness import free_port, gunicorn
from tests import factories
from tests.browser.test_map_page import browser_context  # noqa: F401 (fixture)
from tests.conftest import DB_URL

pytestmark = pytest.mark.slow

PAGE = """<!doctype html><meta charset="utf-8"><title>web app</title>
<p>A web app on another origin calling the fieldsales API.</p>"""

# Runs in the page: log in, then GET /me with the token; every step's outcome is returned.
CALLS = """async ([api, email, password]) => {
  const out = {};
  try {
    const login = await fetch(api + "/api/v1/auth/login", {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify({email, password})});
    out.login = login.status;
    const token = (await login.json()).access_token;
    const me = await fetch(api + "/api/v1/me", {headers: {"Authorization": "Bearer " + token}});
    out.me = me.status;
    out.email = (await me.json()).email;
    out.request_id_exposed = me.headers.get("X-Request-ID") !== null;
  } catch (e) {
    out.error = String(e);
  }
  return out;
}"""


@contextmanager
def _static_site(folder):
    """A second origin: a tiny HTTP server on its own loopback port serving `folder`."""
    (folder / "index.html").write_text(PAGE)
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def rep(app, committed):
    org = factories.org()
    user = factories.user(org, "rep", factories.team(org))
    committed.remove()
    return user.email


@pytest.fixture
def sites(tmp_path):
    (tmp_path / "listed").mkdir()
    (tmp_path / "unlisted").mkdir()
    with _static_site(tmp_path / "listed") as listed, \
            _static_site(tmp_path / "unlisted") as unlisted:
        yield listed, unlisted


@contextmanager
def _api(tmp_path, origins):
    env = {"FIELDSALES_ENV": "test", "FIELDSALES_DATABASE_URL": DB_URL,
           "FIELDSALES_CORS_ORIGINS": ",".join(origins), "FIELDSALES_LOG_LEVEL": "INFO",
           "FIELDSALES_PHOTO_DIR": str(tmp_path / "photos")}
    log = tmp_path / "gunicorn.log"
    with gunicorn(workers=2, extra_env=env, log_path=log) as (base, _):
        yield base, log


def _requests(log, method, path):
    """The statuses of the app's access log lines for method and path, in order."""
    entries = []
    for line in log.read_text().splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("method") == method and entry.get("path") == path:
            entries.append(entry["status"])
    return entries


def _preflight(base, origin, method="GET", headers="authorization"):
    return requests.options(f"{base}/api/v1/me", timeout=30, headers={
        "Origin": origin, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": headers})


def test_preflight_of_the_real_app_needs_no_token_and_admits_only_listed_origins(tmp_path):
    listed = "https://app.example.com"
    with _api(tmp_path, [listed]) as (base, _):
        ok = _preflight(base, listed)
        assert ok.status_code == 204, ok.text
        assert ok.headers["Access-Control-Allow-Origin"] == listed
        assert "authorization" in ok.headers["Access-Control-Allow-Headers"].lower()
        assert "GET" in ok.headers["Access-Control-Allow-Methods"]
        assert ok.content == b""

        other = _preflight(base, "https://evil.example")
        assert not any(h.startswith("Access-Control-Allow") for h in other.headers), \
            other.headers

        # the call itself still needs the token, and carries the exposed headers
        call = requests.get(f"{base}/api/v1/me", headers={"Origin": listed}, timeout=30)
        assert call.status_code == 401
        assert call.headers["Access-Control-Allow-Origin"] == listed
        assert "X-Pagination" in call.headers["Access-Control-Expose-Headers"]


def test_a_page_on_another_origin_calls_the_api_in_chromium(rep, sites, tmp_path,
                                                              browser_context):  # noqa: F811
    listed, unlisted = sites
    with _api(tmp_path, [listed]) as (base, log):
        page = browser_context.new_page()
        page.goto(listed + "/index.html")
        result = page.evaluate(CALLS, [base, rep, factories.PASSWORD])
        assert result == {"login": 200, "me": 200, "email": rep,
                          "request_id_exposed": True}, result
        # Chromium sent real preflights (JSON login, Bearer call), answered 204 without a token
        assert 204 in _requests(log, "OPTIONS", "/api/v1/me")
        assert 204 in _requests(log, "OPTIONS", "/api/v1/auth/login")
        assert _requests(log, "GET", "/api/v1/me") == [200]

        page.goto(unlisted + "/index.html")
        blocked = page.evaluate(CALLS, [base, rep, factories.PASSWORD])
        assert "error" in blocked and "Failed to fetch" in blocked["error"], blocked
        assert "login" not in blocked  # the browser refused the answer to the preflight
        assert _requests(log, "POST", "/api/v1/auth/login") == [200]  # only the listed one
