"""approvals: requests with their steps, attendance corrections, org approval_levels

Revision ID: 0015
Revises: 0014
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("orgs", sa.Column(
        "approval_levels", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
        server_default=sa.text(
            """'{"outing": 1, "attendance_correction": 1, "target_change": 2}'::jsonb""")))
    op.create_table(
        "approvals",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("status", sa.String(), server_default="pending", nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("steps", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("current_step", sa.Integer(), server_default="0", nullable=False),
        sa.Column("current_approvers", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.CheckConstraint("kind IN ('outing', 'attendance_correction', 'target_change')",
                           name=op.f("ck_approvals_kind")),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'withdrawn')",
                           name=op.f("ck_approvals_status")),
        sa.CheckConstraint("current_step >= 0 AND current_step < jsonb_array_length(steps)",
                           name=op.f("ck_approvals_current_step")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_approvals_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "requester_id"], ["users.org_id", "users.id"],
                                name=op.f("fk_approvals_org_id_requester_id_users")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_approvals")),
    )
    op.create_index("ix_approvals_requester", "approvals",
                    ["org_id", "requester_id", "created_at"])
    op.create_index("ix_approvals_todo", "approvals", ["current_approvers"],
                    postgresql_using="gin", postgresql_where=sa.text("status = 'pending'"))
    op.create_index("ix_approvals_outings", "approvals", ["org_id", "requester_id"],
                    postgresql_where=sa.text("kind = 'outing' AND status = 'approved'"))
    op.create_table(
        "attendance_corrections",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("missing", sa.String(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("approval_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.CheckConstraint("missing IN ('check_in', 'check_out')",
                           name=op.f("ck_attendance_corrections_missing")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"],
                                name=op.f("fk_attendance_corrections_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"],
                                name=op.f("fk_attendance_corrections_org_id_user_id_users")),
        sa.ForeignKeyConstraint(
            ["org_id", "approval_id"], ["approvals.org_id", "approvals.id"],
            name=op.f("fk_attendance_corrections_org_id_approval_id_approvals")),
        sa.ForeignKeyConstraint(["org_id", "visit_id"], ["visits.org_id", "visits.id"],
                                name=op.f("fk_attendance_corrections_org_id_visit_id_visits")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_attendance_corrections")),
        sa.UniqueConstraint("org_id", "approval_id",
                            name=op.f("uq_attendance_corrections_org_id_approval_id")),
    )
    op.create_index("ix_attendance_corrections_day", "attendance_corrections",
                    ["org_id", "user_id", "date"])


def downgrade():
    op.drop_table("attendance_corrections")
    op.drop_table("approvals")
    op.drop_column("orgs", "approval_levels")
