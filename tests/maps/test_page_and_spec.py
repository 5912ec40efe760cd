"""The /map page is served without inline script under the strict CSP, with its assets local;
the OpenAPI document states the map endpoints' real content types and statuses."""
import re

import pytest


def test_map_page_is_html_with_only_local_scripts(api, app):
    r = api.get("/map")
    assert r.status_code == 200 and r.mimetype == "text/html"
    csp = r.headers["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", csp).group(1)
    assert script_src.strip() == "'self'"
    html = r.get_data(as_text=True)
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", html, re.S)
    assert scripts and all('src="/static/' in attrs and not inner.strip()
                           for attrs, inner in scripts)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers either
    assert "http://" not in html and "https://" not in html  # no CDN
    for path in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert api.get(path).status_code == 200, path
    assert api.get("/static/vendor/leaflet-1.9.4/images/marker-icon.png").status_code == 200


def test_tile_url_setting_reaches_the_page(api, app, monkeypatch):
    r = api.get("/map")
    assert 'data-tile-url=""' in r.get_data(as_text=True)  # no base map by default
    monkeypatch.setitem(app.config, "MAP_TILE_URL",
                        "https://tiles.example.com/{z}/{x}/{y}.png?a=1&b=2")
    monkeypatch.setitem(app.config, "MAP_TILE_ATTRIBUTION", "© Example <maps>")
    html = api.get("/map").get_data(as_text=True)
    assert 'data-tile-url="https://tiles.example.com/{z}/{x}/{y}.png?a=1&amp;b=2"' in html
    assert 'data-tile-attribution="© Example &lt;maps&gt;"' in html


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").json


@pytest.mark.parametrize("path", ["/api/v1/maps/visits", "/api/v1/maps/clusters",
                                  "/api/v1/maps/routes"])
def test_geojson_endpoints_in_the_spec(spec, path):
    op = spec["paths"][path]["get"]
    assert set(op["responses"]["200"]["content"]) == {"application/geo+json"}
    assert {"200", "401", "403", "422", "503"} <= set(op["responses"])
    forbidden = op["responses"]["403"]
    if "$ref" in forbidden:
        forbidden = spec["components"]["responses"][forbidden["$ref"].rsplit("/", 1)[1]]
    assert "application/json" in forbidden["content"]


def test_tile_endpoint_in_the_spec(spec):
    item = spec["paths"]["/api/v1/maps/tiles/{z}/{x}/{y}.mvt"]
    op = item["get"]
    ok = op["responses"]["200"]["content"]
    assert ok == {"application/vnd.mapbox-vector-tile": {"schema": {"type": "string",
                                                                    "format": "binary"}}}
    assert {"200", "204", "401", "403", "404", "422", "503"} <= set(op["responses"])
    names = {p["name"] for p in op["parameters"] + item.get("parameters", [])}
    assert {"z", "x", "y", "from", "to", "user_id", "team_id", "flagged"} <= names


def test_maps_are_described(spec):
    text = spec["info"]["description"]
    assert "too_many_features" in text and "204" in text and "reps get 403" in text
