"""distribute: users' tags and level, pools' assignment strategy and round-robin cursor

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("tags", postgresql.ARRAY(sa.String()),
                                     server_default="{}", nullable=False))
    op.add_column("users", sa.Column("level", sa.Integer(), nullable=True))
    op.create_check_constraint(op.f("ck_users_level"), "users", "level BETWEEN 1 AND 10")
    op.add_column("lead_pools", sa.Column(
        "assignment", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
        server_default=sa.text("""'{"strategy": "claim"}'::jsonb""")))
    op.create_check_constraint(
        op.f("ck_lead_pools_assignment_strategy"), "lead_pools",
        "assignment ->> 'strategy' IN ('claim', 'round_robin', 'load_balance', 'tag_match')")
    op.add_column("lead_pools", sa.Column("round_robin_after", sa.Uuid(), nullable=True))


def downgrade():
    op.drop_column("lead_pools", "round_robin_after")
    op.drop_constraint(op.f("ck_lead_pools_assignment_strategy"), "lead_pools")
    op.drop_column("lead_pools", "assignment")
    op.drop_constraint(op.f("ck_users_level"), "users")
    op.drop_column("users", "level")
    op.drop_column("users", "tags")
