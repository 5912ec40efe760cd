"""The migrations are the schema: down to nothing and up again, and no drift from the models."""
from sqlalchemy import inspect, text

from fieldsales.migrate import downgrade, drift, head_revision, upgrade
from tests.citus import single_node
from tests.conftest import DB_URL


@single_node("downgrading 0017 restores keys without org_id, which a distributed table cannot "
             "hold (make test-citus distributes the tables after the upgrade)")
def test_downgrade_to_base_and_upgrade_again(app):
    from fieldsales.extensions import db

    db.engine.dispose()  # idle pooled connections must not hold anything while tables go
    downgrade(DB_URL, "base")
    try:
        with db.engine.connect() as conn:
            left = set(inspect(conn).get_table_names()) - {"spatial_ref_sys", "alembic_version"}
            assert left == set()
    finally:
        upgrade(DB_URL, "head")
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == \
            head_revision()


def test_models_and_migrations_agree(app):
    assert drift(DB_URL) == []
