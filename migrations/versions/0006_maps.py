"""maps: one GiST index over (check-in time, check-in point) for map reads

Revision ID: 0006
Revises: 0005
"""
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    # btree_gist lets a GiST index hold the timestamp beside the point (a trusted extension:
    # the database owner may create it).
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_index("ix_visits_in_at_in_geom", "visits", ["in_at", "in_geom"],
                    postgresql_using="gist", if_not_exists=True)


def downgrade():
    # IF EXISTS: a database stamped with this revision while it was still an empty placeholder
    # can go down to 0005 and up again to get the index.
    op.drop_index("ix_visits_in_at_in_geom", table_name="visits", if_exists=True)
    # btree_gist stays: dropping an extension another object may use is not this revision's call
