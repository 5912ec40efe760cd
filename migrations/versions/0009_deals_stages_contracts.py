"""deals: project stage events (won_at, lost_at, lost_reason, stage_changed_at), contracts,
payment plans and payments

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_NOW = sa.text("statement_timestamp()")


def _tenant(name, *columns, constraints=()):
    op.create_table(
        name,
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        *columns,
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f(f"fk_{name}_org_id_orgs")),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f(f"pk_{name}")),
        *constraints,
    )


def _fk(table, column, target, target_column="id"):
    return sa.ForeignKeyConstraint(
        ["org_id", column], [f"{target}.org_id", f"{target}.{target_column}"],
        name=op.f(f"fk_{table}_org_id_{column}_{target}"))


def _client_columns():
    return (sa.Column("created_by", sa.Uuid(), nullable=True),
            sa.Column("request_hash", sa.String(), nullable=True),
            sa.Column("created_at", sa.DateTime(timezone=True), server_default=_NOW,
                      nullable=False))


def upgrade():
    op.add_column("projects", sa.Column("stage_changed_at", sa.DateTime(timezone=True),
                                        server_default=_NOW, nullable=False))
    op.add_column("projects", sa.Column("won_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("projects", sa.Column("lost_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("projects", sa.Column("lost_reason", sa.Text(), nullable=True))
    # What is known of the past: the current stage since the project's last change.
    op.execute("UPDATE projects SET stage_changed_at = updated_at, "
               "won_at = CASE WHEN stage = 'won' THEN updated_at END, "
               "lost_at = CASE WHEN stage = 'lost' THEN updated_at END")
    _tenant(
        "project_stage_events",
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=_NOW, nullable=False),
        sa.Column("from_stage", sa.String(), nullable=True),
        sa.Column("to_stage", sa.String(), nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        constraints=(
            _fk("project_stage_events", "project_id", "projects"),
            _fk("project_stage_events", "actor_id", "users"),
            sa.CheckConstraint("to_stage IN ('prospecting', 'needs_analysis', 'demo', 'quote', "
                               "'negotiation', 'won', 'lost')",
                               name=op.f("ck_project_stage_events_to_stage")),
        ))
    op.create_index("ix_project_stage_events_project", "project_stage_events",
                    ["org_id", "project_id", "at"])
    # Every existing project gets its first event: the stage it is in now.
    op.execute("INSERT INTO project_stage_events (org_id, id, project_id, at, from_stage, "
               "to_stage, actor_id, reason) SELECT org_id, gen_random_uuid(), id, updated_at, "
               "NULL, stage, NULL, NULL FROM projects")

    _tenant(
        "contracts",
        sa.Column("customer_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=True),
        sa.Column("owner_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.String(), nullable=False),
        sa.Column("title", sa.String(), server_default="", nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("currency", sa.String(length=3), server_default="CNY", nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(), server_default="active", nullable=False),
        sa.Column("renewal_of_id", sa.Uuid(), nullable=True),
        sa.Column("remind_days", postgresql.ARRAY(sa.Integer()),
                  server_default=sa.text("'{90,30,7}'"), nullable=False),
        sa.Column("terminated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("terminate_reason", sa.Text(), nullable=True),
        *_client_columns(),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=_NOW,
                  nullable=False),
        constraints=(
            _fk("contracts", "customer_id", "customers"),
            _fk("contracts", "project_id", "projects"),
            _fk("contracts", "owner_id", "users"),
            _fk("contracts", "renewal_of_id", "contracts"),
            sa.UniqueConstraint("org_id", "number", name=op.f("uq_contracts_org_id_number")),
            sa.UniqueConstraint("org_id", "renewal_of_id",
                                name=op.f("uq_contracts_org_id_renewal_of_id")),
            sa.CheckConstraint("amount > 0", name=op.f("ck_contracts_amount")),
            sa.CheckConstraint("end_date IS NULL OR end_date >= start_date",
                               name=op.f("ck_contracts_dates")),
            sa.CheckConstraint("status IN ('active', 'expired', 'terminated', 'renewed')",
                               name=op.f("ck_contracts_status")),
            sa.CheckConstraint("currency ~ '^[A-Z]{3}$'", name=op.f("ck_contracts_currency")),
        ))
    op.create_index("ix_contracts_customer", "contracts", ["org_id", "customer_id"])
    op.create_index("ix_contracts_active_end", "contracts", ["org_id", "end_date"],
                    postgresql_where=sa.text("status = 'active'"))

    _tenant(
        "payment_plans",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        *_client_columns(),
        constraints=(
            _fk("payment_plans", "contract_id", "contracts"),
            sa.CheckConstraint("amount > 0", name=op.f("ck_payment_plans_amount")),
        ))
    op.create_index("ix_payment_plans_contract", "payment_plans",
                    ["org_id", "contract_id", "due_date"])

    _tenant(
        "payments",
        sa.Column("contract_id", sa.Uuid(), nullable=False),
        sa.Column("plan_id", sa.Uuid(), nullable=True),
        sa.Column("amount", sa.Numeric(14, 2), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        *_client_columns(),
        constraints=(
            _fk("payments", "contract_id", "contracts"),
            _fk("payments", "plan_id", "payment_plans"),
            sa.CheckConstraint("amount > 0", name=op.f("ck_payments_amount")),
            sa.CheckConstraint("method IN ('transfer', 'cash', 'cheque', 'other')",
                               name=op.f("ck_payments_method")),
        ))
    op.create_index("ix_payments_contract", "payments", ["org_id", "contract_id", "received_on"])


def downgrade():
    op.drop_table("payments")
    op.drop_table("payment_plans")
    op.drop_table("contracts")
    op.drop_table("project_stage_events")
    for column in ("lost_reason", "lost_at", "won_at", "stage_changed_at"):
        op.drop_column("projects", column)
