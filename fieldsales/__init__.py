"""fieldsales: the backend behind field sales reps' phone apps."""
from flask import Flask

from config import settings

BLUEPRINTS = (
    "fieldsales.ops.views",
    "fieldsales.auth.views",
    "fieldsales.users.views",
    "fieldsales.teams.views",
    "fieldsales.orgs.views",
    "fieldsales.customers.views",
    "fieldsales.projects.views",
    "fieldsales.audit.views",
    "fieldsales.visits.views",
    "fieldsales.photos.views",
    "fieldsales.sync.views",
    "fieldsales.leads.views",
    "fieldsales.reports.views",
    "fieldsales.alerts.views",
    "fieldsales.attendance.views",
    "fieldsales.maps.views",
    "fieldsales.plans.views",
    "fieldsales.contracts.views",
    "fieldsales.targets.views",
    "fieldsales.duplicates.views",
    "fieldsales.webhooks.views",
    "fieldsales.approvals.views",
)


def create_app(config=None):
    """Build the Flask app: settings, database, API blueprints, errors, auth, logs, metrics."""
    from importlib import import_module

    from fieldsales import errors, logs, metrics, openapi, security, textguard
    from fieldsales.auth import guard
    from fieldsales.extensions import api, db
    from fieldsales.migrate import head_revision

    app = Flask(__name__)
    app.json = textguard.JSONProvider(app)  # refuses deep nesting and huge numbers (400)
    app.json.sort_keys = False  # keep the schema's field order
    app.config.from_object(settings.load())
    app.config.update(config or {})
    _check_secrets(app)
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_JSON_BYTES"]
    app.config["API_SPEC_OPTIONS"] = _spec_options()
    _trust_proxies(app)

    logs.init_app(app)
    security.init_app(app)
    metrics.init_app(app)
    db.init_app(app)
    guard.init_app(app)
    textguard.init_app(app)
    api.init_app(app)
    openapi.init(api)
    for module in BLUEPRINTS:
        api.register_blueprint(import_module(module).blp)
    app.register_blueprint(import_module("fieldsales.ops.views").assets)
    api.spec.options["info"]["description"] = openapi.description()
    openapi.finalize(api, app)
    errors.register(app)
    app.extensions["fieldsales.migration_head"] = head_revision()
    return app


def _trust_proxies(app):
    """Behind TRUSTED_PROXIES proxies, the client's address and scheme are the ones they
    forwarded (the last hops of X-Forwarded-For/-Proto); never from an untrusted client."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    hops = app.config["TRUSTED_PROXIES"]
    if hops < 0:
        raise RuntimeError("FIELDSALES_TRUSTED_PROXIES must be 0 or more.")
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)


def _check_secrets(app):
    if app.config["ENV_NAME"] != "production":
        return
    for key in ("SECRET_KEY", "AUDIT_KEY", "DATABASE_URL"):
        if not app.config.get(key) or len(app.config[key]) < (32 if key != "DATABASE_URL" else 1):
            raise RuntimeError(
                f"FIELDSALES_{key} must be set (keys: at least 32 characters) in production."
            )


def _spec_options():
    return {
        "info": {"description": ""},
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
        "security": [{"bearerAuth": []}],
        "servers": [{"url": "/"}],
    }
