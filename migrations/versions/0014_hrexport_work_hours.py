"""hrexport: org setting work_hours (start, end, grace_minutes) for late / left_early

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

DEFAULT = """'{"start": "09:00", "end": "18:00", "grace_minutes": 10}'::jsonb"""


def upgrade():
    op.add_column("orgs", sa.Column("work_hours", postgresql.JSONB(astext_type=sa.Text()),
                                    server_default=sa.text(DEFAULT), nullable=False))
    # The attendance SQL casts these to intervals: a value it cannot read never gets stored.
    op.create_check_constraint(
        op.f("ck_orgs_work_hours_valid"), "orgs",
        "COALESCE(CASE WHEN jsonb_typeof(work_hours->'grace_minutes') = 'number' "
        "THEN (work_hours->>'grace_minutes')::numeric BETWEEN 0 AND 240 "
        "AND (work_hours->>'grace_minutes')::numeric % 1 = 0 ELSE false END "
        "AND work_hours->>'start' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' "
        "AND work_hours->>'end' ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$' "
        "AND work_hours->>'start' < work_hours->>'end', false)")


def downgrade():
    op.drop_constraint(op.f("ck_orgs_work_hours_valid"), "orgs", type_="check")
    op.drop_column("orgs", "work_hours")
