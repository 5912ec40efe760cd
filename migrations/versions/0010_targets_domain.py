"""targets: sales targets split by period and subject, and user_team_history (which team a
user was in when), kept by a trigger on users so that progress credits the team of the time

Revision ID: 0010
Revises: 0009 (deals, merged into this branch)
"""
from alembic import op
import sqlalchemy as sa

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_TRACK = """
CREATE FUNCTION user_team_history_track() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    moved_at timestamptz := CASE WHEN TG_OP = 'INSERT' THEN '-infinity'::timestamptz
                                 ELSE statement_timestamp() END;
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF NEW.team_id IS NOT DISTINCT FROM OLD.team_id THEN
            RETURN NULL;
        END IF;
        UPDATE user_team_history SET until = moved_at
         WHERE org_id = NEW.org_id AND user_id = NEW.id AND until IS NULL AND since < moved_at;
    END IF;
    INSERT INTO user_team_history (org_id, user_id, since, until, team_id)
    VALUES (NEW.org_id, NEW.id, moved_at, NULL, NEW.team_id)
    ON CONFLICT (org_id, user_id, since) DO UPDATE SET team_id = EXCLUDED.team_id, until = NULL;
    RETURN NULL;
END $$;
"""


def upgrade():
    op.create_table(
        "targets",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("period", sa.String(), nullable=False),
        sa.Column("starts", sa.Date(), nullable=False),
        sa.Column("ends", sa.Date(), nullable=False),
        sa.Column("subject_type", sa.String(), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("status", sa.String(), server_default="draft", nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.CheckConstraint("metric IN ('won_amount', 'collected_amount', 'new_customers', "
                           "'visits', 'converted_leads')", name=op.f("ck_targets_metric")),
        sa.CheckConstraint("subject_type IN ('org', 'team', 'user')",
                           name=op.f("ck_targets_subject_type")),
        sa.CheckConstraint("status IN ('draft', 'published')", name=op.f("ck_targets_status")),
        sa.CheckConstraint("amount >= 0", name=op.f("ck_targets_amount")),
        sa.CheckConstraint("starts <= ends", name=op.f("ck_targets_period")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_targets_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "parent_id"], ["targets.org_id", "targets.id"],
                                name=op.f("fk_targets_org_id_parent_id_targets")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_targets")),
        sa.UniqueConstraint("org_id", "metric", "period", "subject_type", "subject_id",
                            name=op.f("uq_targets_org_id_metric_period_subject_type_subject_id")),
    )
    op.create_index("ix_targets_parent", "targets", ["org_id", "parent_id"])
    op.create_table(
        "user_team_history",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"],
                                name=op.f("fk_user_team_history_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"],
                                name=op.f("fk_user_team_history_org_id_user_id_users")),
        sa.PrimaryKeyConstraint("org_id", "user_id", "since", name=op.f("pk_user_team_history")),
    )
    # Users from before this revision: their team of today, since the start (nothing older
    # is known).
    op.execute("INSERT INTO user_team_history (org_id, user_id, since, until, team_id) "
               "SELECT org_id, id, '-infinity', NULL, team_id FROM users")
    op.execute(_TRACK)
    op.execute("CREATE TRIGGER user_team_history_track AFTER INSERT OR UPDATE OF team_id "
               "ON users FOR EACH ROW EXECUTE FUNCTION user_team_history_track()")


def downgrade():
    op.execute("DROP TRIGGER user_team_history_track ON users")
    op.execute("DROP FUNCTION user_team_history_track()")
    op.drop_table("user_team_history")
    op.drop_index("ix_targets_parent", table_name="targets")
    op.drop_table("targets")
