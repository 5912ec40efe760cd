"""Alembic, driven from the app's settings (`fieldsales db upgrade`, readiness checks)."""
from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from config.settings import ROOT


def alembic_config(url=None):
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    if url:
        cfg.attributes["url"] = url
    return cfg


# Owned by extensions (PostGIS, pg_trgm), not by us; and migration 0017's own undo log.
_FOREIGN_TABLES = {"spatial_ref_sys", "tenancy_undo_0017"}


def include_object(obj, name, type_, reflected, compare_to):
    """What autogenerate compares: our tables, with geoalchemy2's view of spatial columns."""
    from geoalchemy2 import alembic_helpers

    if type_ == "table" and name in _FOREIGN_TABLES:
        return False
    # procrastinate's job queue: its schema is its own (migration 0013 applies it as shipped).
    if type_ == "table" and name.startswith("procrastinate_"):
        return False
    return alembic_helpers.include_object(obj, name, type_, reflected, compare_to)


def drift(url):
    """Differences between the models and the database schema (empty when in sync)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from config.settings import sqlalchemy_url
    from fieldsales.models import Base

    engine = create_engine(sqlalchemy_url(url))
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={
                "include_object": include_object, "compare_type": True,
                "target_metadata": Base.metadata})
            return compare_metadata(ctx, Base.metadata)
    finally:
        engine.dispose()


def head_revision():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url, revision="head"):
    command.upgrade(alembic_config(url), revision)


def downgrade(url, revision):
    command.downgrade(alembic_config(url), revision)
