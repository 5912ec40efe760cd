"""Unbound extensions, bound to the app in create_app()."""
import marshmallow as ma
from flask import current_app
from flask_smorest import Api as _Api
from flask_smorest import Blueprint as _Blueprint
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

from config.settings import sqlalchemy_url


class Database:
    """The engine and a request-scoped session.

    A thin holder rather than Flask-SQLAlchemy: services own their transactions and tests bind
    the session to an outer connection (join_transaction_mode="create_savepoint"), which is
    simplest with a plain sessionmaker we configure ourselves.
    """

    def __init__(self):
        self.engine = None
        # expire_on_commit=False: services return the rows they committed for serialisation;
        # expiring them would cost one SELECT per object after every write.
        self.session = scoped_session(sessionmaker(expire_on_commit=False))
        # FIELDSALES_READ_DATABASE_URL (a streaming replica): an engine and a session of its
        # own, used only through fieldsales.db.reading(); None without one.
        self.read_engine = None
        self.read_session = None

    def init_app(self, app):
        url = app.config["DATABASE_URL"]
        if not url:
            raise RuntimeError(
                "No database configured: set FIELDSALES_DATABASE_URL or run `make run` once "
                "to create the local cluster."
            )
        self.engine = _engine(app, url)
        self.session.configure(bind=self.engine)
        read_url = app.config.get("READ_DATABASE_URL")
        if read_url:
            # Read-only even when the URL names a primary: a write sent there by mistake fails
            # loudly instead of landing somewhere the caller's next read may not look.
            self.read_engine = _engine(app, read_url, "-c default_transaction_read_only=on")
            self.read_session = scoped_session(sessionmaker(bind=self.read_engine,
                                                            expire_on_commit=False))
        else:
            self.read_engine = self.read_session = None
        app.teardown_appcontext(self._remove)

    def _remove(self, exc=None):
        self.session.remove()
        if self.read_session is not None:
            self.read_session.remove()


def _engine(app, url, options=""):
    """An engine with the app's driver, pool and session settings (primary and replica alike)."""
    driver = {"prepare_threshold": app.config["DB_PREPARE_THRESHOLD"]} \
        if app.config["DB_DRIVER"] == "psycopg" else {}
    return create_engine(
        sqlalchemy_url(url, app.config["DB_DRIVER"]),
        pool_size=app.config["DB_POOL_SIZE"],
        max_overflow=app.config["DB_POOL_SIZE"],
        # No pre-ping (a round trip on every checkout): a connection the server dropped
        # (restart, failover) fails its request with a disconnect error, which makes
        # SQLAlchemy invalidate the pool; that request answers 503 (errors.py) and the
        # next one gets a fresh connection.
        pool_recycle=1800,
        connect_args={
            "connect_timeout": 3,
            "application_name": "fieldsales",
            "options": f"-c statement_timeout={app.config['DB_STATEMENT_TIMEOUT_MS']}"
            f" -c timezone=UTC {app.config['DB_SESSION_OPTIONS']} {options}".rstrip(),
            **driver,
        },
    )


class Api(_Api):
    """flask-smorest Api with our error rendering (see errors.py) and no catch-all `default`
    response in the spec: each operation lists the statuses it really returns (openapi.py)."""

    DEFAULT_ERROR_RESPONSE_NAME = None

    @property
    def ERROR_SCHEMA(self):  # noqa: N802 (flask-smorest's attribute name)
        from fieldsales.schemas import ErrorSchema

        return ErrorSchema

    def handle_http_exception(self, error):
        from fieldsales.errors import render_http_exception

        return render_http_exception(error)


class Parser(FlaskParser):
    """webargs' parser, reading JSON bodies through the app's JSON provider (textguard.py) so
    its limits hold for every view, instead of webargs' own unguarded json.loads."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        try:
            return current_app.json.loads(req.get_data(cache=True))
        except ValueError as exc:  # JSONDecodeError, UnicodeDecodeError, textguard.JSONError
            abort(400, exc=exc, messages={"json": [f"Invalid JSON body: {exc}"]})


# Past this, OFFSET (page - 1) * page_size no longer fits PostgreSQL's bigint; int32 is also
# what generated clients use for a plain integer.
MAX_PAGE = 2**31 - 1


class Blueprint(_Blueprint):
    """flask-smorest's Blueprint with our parser and a bounded page number (API.md: page
    numbers past any sensible bound are a 422). Every API blueprint is one of these."""

    ARGUMENTS_PARSER = PAGINATION_ARGUMENTS_PARSER = Parser()

    def paginate(self, *args, **kwargs):
        decorate = super().paginate(*args, **kwargs)

        def decorator(func):
            wrapper = decorate(func)
            # flask-smorest builds a fresh schema class per call, read both by the parser and
            # by the spec: bounding its `page` field bounds both.
            schema = wrapper._apidoc["pagination"]["parameters"]["schema"]
            page = schema._declared_fields["page"]
            schema._declared_fields["page"] = ma.fields.Integer(
                load_default=page.load_default, validate=ma.validate.Range(min=1, max=MAX_PAGE))
            return wrapper

        return decorator


db = Database()
api = Api()
