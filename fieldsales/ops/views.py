"""Health, readiness, metrics and the API docs assets (no auth, no prefix)."""
import logging

import marshmallow as ma
from flask import Blueprint as FlaskBlueprint
from flask import current_app, send_from_directory
from fieldsales.extensions import Blueprint
from sqlalchemy import text

from fieldsales import metrics
from fieldsales.extensions import db

blp = Blueprint("ops", __name__, description="Operations (no authentication)")
log = logging.getLogger(__name__)


class HealthSchema(ma.Schema):
    status = ma.fields.String()


class ReadySchema(ma.Schema):
    status = ma.fields.String(metadata={"enum": ["ok", "database_unavailable",
                                                 "migrations_pending"]})
    database = ma.fields.String(allow_none=True, metadata={"description": "Migration revision"})
    head = ma.fields.String(metadata={"description": "Revision the code expects"})


@blp.get("/healthz")
@blp.response(200, HealthSchema)
@blp.doc(security=[])
def healthz():
    """The process is up."""
    return {"status": "ok"}


@blp.get("/readyz")
@blp.response(200, ReadySchema)
@blp.alt_response(503, schema=ReadySchema, description="Database down or migrations behind")
@blp.doc(security=[])
def readyz():
    """Ready: the database answers and its schema is at the migration head."""
    head = current_app.extensions["fieldsales.migration_head"]
    try:
        with db.engine.connect() as conn:
            current = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # any failure to reach the database means not ready
        log.warning("readyz: database unavailable (%s)", exc.__class__.__name__)
        return {"status": "database_unavailable", "database": None, "head": head}, 503
    if current != head:
        return {"status": "migrations_pending", "database": current, "head": head}, 503
    return {"status": "ok", "database": current, "head": head}


@blp.get("/metrics")
@blp.doc(security=[], responses={"200": {
    "description": "Prometheus text format",
    "content": {"text/plain": {"schema": {"type": "string"}}}}})
def prometheus_metrics():
    """Prometheus metrics (request counts and latency histograms)."""
    return metrics.render()


assets = FlaskBlueprint("docs_assets", __name__)


@assets.get("/docs/assets/<path:filename>")
def docs_assets(filename):
    """Swagger UI files, served locally (no CDN)."""
    import swagger_ui_bundle

    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename, max_age=86400)
