"""plans: the plans table (what a rep should do on a local date), the plan a visit fulfilled
(visits.plan_id), customers.grade and the org's visit_cadence_days

Revision ID: 0008
Revises: 0006 (a parallel branch adds 0007; the integrator re-chains)
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("customers", sa.Column("grade", sa.String(), nullable=True))
    op.create_check_constraint(op.f("ck_customers_grade"), "customers", "grade IN ('A', 'B', 'C', 'D')")
    op.add_column("orgs", sa.Column(
        "visit_cadence_days", postgresql.JSONB(astext_type=sa.Text()), nullable=False,
        server_default=sa.text("""'{"A": 7, "B": 14, "C": 30}'::jsonb""")))
    op.create_table(
        "plans",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("planned_start", sa.DateTime(timezone=True), nullable=True),
        sa.Column("planned_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("purpose", sa.Text(), server_default="", nullable=False),
        sa.Column("talking_points", sa.Text(), server_default="", nullable=False),
        sa.Column("status", sa.String(), server_default="planned", nullable=False),
        sa.Column("visit_id", sa.Uuid(), nullable=True),
        sa.Column("contact_record_id", sa.Uuid(), nullable=True),
        sa.Column("source", sa.String(), server_default="self", nullable=False),
        sa.Column("cancel_reason", sa.String(), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("request_hash", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True),
                  server_default=sa.text("statement_timestamp()"), nullable=False),
        sa.CheckConstraint("kind IN ('visit', 'call', 'follow_up')", name=op.f("ck_plans_kind")),
        sa.CheckConstraint("status IN ('planned', 'done', 'missed', 'cancelled')",
                           name=op.f("ck_plans_status")),
        sa.CheckConstraint("source IN ('self', 'manager', 'cadence')",
                           name=op.f("ck_plans_source")),
        sa.CheckConstraint("CASE WHEN kind = 'visit' THEN customer_id IS NOT NULL AND lead_id IS "
                           "NULL ELSE (customer_id IS NULL) <> (lead_id IS NULL) END",
                           name=op.f("ck_plans_subject")),
        sa.CheckConstraint("planned_end IS NULL OR planned_start IS NULL "
                           "OR planned_end >= planned_start", name=op.f("ck_plans_window")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_plans_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "user_id"], ["users.org_id", "users.id"],
                                name=op.f("fk_plans_org_id_user_id_users")),
        sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"],
                                name=op.f("fk_plans_org_id_customer_id_customers")),
        sa.ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"],
                                name=op.f("fk_plans_org_id_lead_id_leads")),
        sa.ForeignKeyConstraint(["org_id", "project_id"], ["projects.org_id", "projects.id"],
                                name=op.f("fk_plans_org_id_project_id_projects")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_plans")),
        sa.UniqueConstraint("org_id", "visit_id", name=op.f("uq_plans_org_id_visit_id")),
        sa.UniqueConstraint("org_id", "contact_record_id",
                            name=op.f("uq_plans_org_id_contact_record_id")),
    )
    op.create_index("ix_plans_user_date", "plans", ["org_id", "user_id", "planned_date"])
    op.create_index("ix_plans_open_customer", "plans",
                    ["org_id", "user_id", "customer_id", "planned_date"],
                    postgresql_where=sa.text("status = 'planned'"))
    op.add_column("visits", sa.Column("plan_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(op.f("fk_visits_org_id_plan_id_plans"), "visits", "plans",
                          ["org_id", "plan_id"], ["org_id", "id"])
    op.create_index("uq_visits_org_plan", "visits", ["org_id", "plan_id"], unique=True,
                    postgresql_where=sa.text("plan_id IS NOT NULL"))


def downgrade():
    op.drop_index("uq_visits_org_plan", table_name="visits")
    op.drop_column("visits", "plan_id")
    op.drop_table("plans")
    op.drop_column("orgs", "visit_cadence_days")
    op.drop_constraint("ck_customers_grade", "customers")
    op.drop_column("customers", "grade")
