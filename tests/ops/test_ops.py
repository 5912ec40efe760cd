import json
import re

from sqlalchemy import create_engine, text


def test_healthz(api):
    r = api.get("/healthz")
    assert r.status_code == 200 and r.json == {"status": "ok"}


def test_readyz_ok_at_head(api):
    r = api.get("/readyz")
    assert r.status_code == 200 and r.json["status"] == "ok"
    assert r.json["database"] == r.json["head"]


def test_readyz_503_when_migrations_are_behind(app, api):
    from fieldsales.extensions import db

    # alembic_version is read on a connection of its own, so change it for real and restore.
    with db.engine.begin() as conn:
        head = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        conn.execute(text("UPDATE alembic_version SET version_num = 'behind'"))
    try:
        r = api.get("/readyz")
        assert r.status_code == 503 and r.json["status"] == "migrations_pending"
    finally:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})


def test_readyz_503_when_database_is_unreachable(app, api, monkeypatch):
    from fieldsales.extensions import db

    # A real engine pointed at a port where nothing listens.
    dead = create_engine("postgresql+psycopg2://nobody:x@127.0.0.1:1/none",
                         connect_args={"connect_timeout": 1})
    monkeypatch.setattr(db, "engine", dead)
    r = api.get("/readyz")
    assert r.status_code == 503 and r.json["status"] == "database_unavailable"


def test_openapi_covers_every_route(app, api):
    spec = api.get("/openapi.json").json
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops
                  if method != "parameters"}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)  # <uuid:id>, <int:z> → {id}, {z}
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method.lower()) in documented, (path, method)


def test_openapi_operations_have_summaries_and_error_responses(api):
    spec = api.get("/openapi.json").json
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if method == "parameters":
                continue
            assert op.get("summary"), (path, method)
            if path.startswith("/api/v1") and path not in ("/api/v1/auth/login",
                                                           "/api/v1/auth/refresh"):
                assert "401" in op["responses"], (path, method)
            if "{" in path:
                assert "404" in op["responses"], (path, method)
            assert "default" not in op["responses"]


def test_docs_page_loads_local_assets(api):
    r = api.get("/docs")
    assert r.status_code == 200 and b"/docs/assets/swagger-ui-bundle.js" in r.data
    assert api.get("/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_metrics_count_requests_by_endpoint_and_status(api, world):
    api.as_(world.rep_east).get("/api/v1/me")
    text_ = api.get("/metrics").get_data(as_text=True)
    line = [ln for ln in text_.splitlines() if ln.startswith("fieldsales_http_requests_total{")
            and 'endpoint="/api/v1/me"' in ln and 'status="200"' in ln]
    assert line and float(line[0].rsplit(" ", 1)[1]) >= 1
    assert "fieldsales_http_request_duration_seconds_bucket" in text_


def test_logs_are_json_lines_with_request_id(api, world, capfd):
    api.get("/healthz", headers={"X-Request-ID": "log-test-1"})
    err = capfd.readouterr().err
    lines = [json.loads(ln) for ln in err.splitlines() if ln.startswith("{")]
    access = [ln for ln in lines if ln.get("request_id") == "log-test-1"]
    assert access and access[-1]["status"] == 200 and access[-1]["path"] == "/healthz"


def test_openapi_document_is_valid_openapi(api):
    """The spec as a whole validates against the OpenAPI schema (openapi-spec-validator)."""
    from openapi_spec_validator import validate

    validate(api.get("/openapi.json").json)


def test_photo_upload_body_documents_all_its_parts(api):
    """API.md: multipart `file` (required), `id?`, `source?` in the one request body."""
    spec = api.get("/openapi.json").json
    op = spec["paths"]["/api/v1/visits/{visit_id}/photos"]["post"]
    ref = op["requestBody"]["content"]["multipart/form-data"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert set(schema["properties"]) == {"file", "id", "source"}
    assert schema["required"] == ["file"]
    assert not any(p["in"] not in ("path", "query", "header", "cookie")
                   for p in op.get("parameters", []))
