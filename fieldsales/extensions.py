"""Unbound extensions, bound to the app in create_app()."""
from flask_smorest import Api as _Api
from sqlalchemy import create_engine
from sqlalchemy.orm import scoped_session, sessionmaker

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

    def init_app(self, app):
        url = app.config["DATABASE_URL"]
        if not url:
            raise RuntimeError(
                "No database configured: set FIELDSALES_DATABASE_URL or run `make run` once "
                "to create the local cluster."
            )
        self.engine = create_engine(
            sqlalchemy_url(url),
            pool_size=app.config["DB_POOL_SIZE"],
            max_overflow=app.config["DB_POOL_SIZE"],
            # A connection the server dropped (restart, failover) is replaced, not reused.
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={
                "connect_timeout": 3,
                "application_name": "fieldsales",
                "options": f"-c statement_timeout={app.config['DB_STATEMENT_TIMEOUT_MS']}"
                f" -c timezone=UTC {app.config['DB_SESSION_OPTIONS']}",
            },
        )
        self.session.configure(bind=self.engine)
        app.teardown_appcontext(self._remove)

    def _remove(self, exc=None):
        self.session.remove()


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


db = Database()
api = Api()
