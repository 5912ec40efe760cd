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


def head_revision():
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def upgrade(url, revision="head"):
    command.upgrade(alembic_config(url), revision)


def downgrade(url, revision):
    command.downgrade(alembic_config(url), revision)
