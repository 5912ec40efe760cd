"""daily reports and alerts: the daily_reports table (one per rep per local day, frozen stats,
review), and the indexes that compiling a day (follow-ups and contact records per rep and time)
and GET /alerts (recent risky visits) read through

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "daily_reports",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=True),
        sa.Column("plan", sa.String(), nullable=True),
        sa.Column("problems", sa.String(), nullable=True),
        sa.Column("frozen_stats", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("frozen_visits", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_decision", sa.String(), nullable=True),
        sa.Column("review_comment", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.CheckConstraint("status IN ('draft', 'submitted', 'approved', 'returned')",
                           name=op.f("ck_daily_reports_status")),
        sa.CheckConstraint("review_decision IS NULL OR review_decision IN ('approved', 'returned')",
                           name=op.f("ck_daily_reports_review_decision")),
        sa.CheckConstraint("status NOT IN ('submitted', 'approved') OR (frozen_stats IS NOT NULL AND frozen_visits IS NOT NULL AND submitted_at IS NOT NULL)",
                           name=op.f("ck_daily_reports_frozen_when_submitted")),
        sa.CheckConstraint("status NOT IN ('approved', 'returned') OR (review_decision = status AND reviewed_by IS NOT NULL AND reviewed_at IS NOT NULL)",
                           name=op.f("ck_daily_reports_reviewed_when_decided")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_daily_reports_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"],
                                name=op.f("fk_daily_reports_org_id_user_id_users")),
        sa.ForeignKeyConstraint(["org_id", "reviewed_by"], ["users.org_id", "users.id"],
                                name=op.f("fk_daily_reports_org_id_reviewed_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_daily_reports")),
        sa.UniqueConstraint("user_id", "day", name=op.f("uq_daily_reports_user_id_day")),
    )
    op.create_index("ix_daily_reports_org_day", "daily_reports", ["org_id", "day"])
    op.create_index("ix_lead_follow_ups_user_created", "lead_follow_ups",
                    ["user_id", "created_at"])
    op.create_index("ix_contact_records_user_created", "contact_records",
                    ["user_id", "created_at"])
    op.create_index("ix_visits_org_in_at_risky", "visits", ["org_id", "in_at"],
                    postgresql_where=sa.text("risk_score >= 50"))


def downgrade():
    op.drop_index("ix_visits_org_in_at_risky", table_name="visits")
    op.drop_index("ix_contact_records_user_created", table_name="contact_records")
    op.drop_index("ix_lead_follow_ups_user_created", table_name="lead_follow_ups")
    op.drop_index("ix_daily_reports_org_day", table_name="daily_reports")
    op.drop_table("daily_reports")
