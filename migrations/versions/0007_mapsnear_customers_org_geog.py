"""customers near me: one GiST index over (org_id, geography(geom))

Revision ID: 0007_mapsnear
Revises: 0006

"Customers within r of here" always asks for one org's cards. With the geography index alone
the planner ANDs its bitmap with the org_id index's bitmap, which holds every card of the org
(200,000 entries read to keep ~8,000); with a single org in the table it skips the AND but then
reads every org's cards in the circle. btree_gist (migration 0006) lets one GiST hold the org
beside the point, so the count reads exactly the org's cards in the circle's box.
"""
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_index("ix_customers_org_geog", "customers",
                    ["org_id", sa.literal_column("geography(geom)")], postgresql_using="gist",
                    if_not_exists=True)


def downgrade():
    op.drop_index("ix_customers_org_geog", table_name="customers", if_exists=True)
