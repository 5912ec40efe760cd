"""Alembic environment: the URL comes from the app's settings (or the caller), and
geoalchemy2's helpers make autogenerate understand PostGIS columns and indexes."""
from alembic import context
from geoalchemy2 import alembic_helpers
from sqlalchemy import create_engine, pool

from config import settings
from fieldsales.migrate import include_object
from fieldsales.models import Base

config = context.config
target_metadata = Base.metadata


def _url():
    return config.attributes.get("url") or settings.load().DATABASE_URL


def run_migrations_offline():
    context.configure(url=settings.sqlalchemy_url(_url()), target_metadata=target_metadata,
                      literal_binds=True, include_object=include_object,
                      render_item=alembic_helpers.render_item)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    engine = create_engine(settings.sqlalchemy_url(_url()), poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata,
            include_object=include_object,
            process_revision_directives=alembic_helpers.writer,
            render_item=alembic_helpers.render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
