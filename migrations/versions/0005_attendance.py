"""attendance: a covering index for the per-day visit aggregates

Revision ID: 0005
Revises: 0004
"""
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_visits_attendance", "visits", ["user_id", "in_at"], unique=False,
                    postgresql_include=["org_id", "out_at", "status", "closed_by", "flags"])


def downgrade():
    op.drop_index("ix_visits_attendance", table_name="visits",
                  postgresql_include=["org_id", "out_at", "status", "closed_by", "flags"])
