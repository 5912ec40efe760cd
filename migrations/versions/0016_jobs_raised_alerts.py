"""jobs: raised_alerts, the alerts the evaluation job has raised (webhook alert.raised)

Revision ID: 0016
Revises: 0015
"""
from alembic import op
import sqlalchemy as sa

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "raised_alerts",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"],
                                name=op.f("fk_raised_alerts_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "kind", "subject_id", "since",
                                name=op.f("pk_raised_alerts")),
    )


def downgrade():
    op.drop_table("raised_alerts")
