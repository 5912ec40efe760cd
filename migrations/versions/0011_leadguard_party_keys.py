"""leadguard: the duplicate guard (party_keys, kept by triggers on customers and leads), lead
intent (and the claim-next index that prefers it), silent pooled leads, reviving dead leads

Revision ID: 0011
Revises: 0010
"""
import logging

from alembic import op
import sqlalchemy as sa

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

# The duplicate keys, computed by the database so that every path that writes a customer or a
# lead (API, import, conversion, seeds, jobs) is guarded alike. fs_phone_key mirrors
# fieldsales.leads.rules.normalize_phone (NULL where it raises); tests/duplicates/test_guard.py
# compares the two. fs_company_key: NFKC, lower case, whitespace runs collapsed, trimmed.
FUNCTIONS = r"""
CREATE FUNCTION fs_phone_key(raw text) RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
DECLARE
    d text := regexp_replace(normalize(raw, NFKC), '[[:space:]().·/-]', '', 'g');
    plus boolean := d LIKE '+%' OR d LIKE '00%';
    core text := CASE WHEN d LIKE '+%' THEN substr(d, 2)
                      WHEN d LIKE '00%' THEN substr(d, 3) ELSE d END;
BEGIN
    IF core IS NULL OR core !~ '^[0-9]+$' THEN
        RETURN NULL;
    END IF;
    IF plus AND core LIKE '86%' THEN
        core := substr(core, 3);
        plus := false;
    ELSIF NOT plus AND length(core) = 13 AND core LIKE '861%' THEN
        core := substr(core, 3);  -- 86 + an 11-digit mobile number typed without the +
    END IF;
    IF length(core) NOT BETWEEN 3 AND 20 THEN
        RETURN NULL;
    END IF;
    RETURN CASE WHEN plus THEN '+' ELSE '' END || core;
END
$$;

CREATE FUNCTION fs_company_key(raw text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT nullif(btrim(regexp_replace(lower(normalize(raw, NFKC)), '[[:space:]]+', ' ', 'g')), '')
$$;

-- Changes (row level: edits are one row at a time).
CREATE FUNCTION party_keys_sync() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    is_lead boolean := TG_TABLE_NAME = 'leads';
    phone_k text;
    company_k text;
    taken text;
BEGIN
    IF NOT is_lead THEN
        phone_k := fs_phone_key(NEW.phone);
        company_k := fs_company_key(NEW.name);
    ELSIF NEW.status IN ('pooled', 'claimed') THEN  -- dead and converted leads hold nothing
        phone_k := NEW.phone_normalized;
        company_k := fs_company_key(NEW.company);
    END IF;
    DELETE FROM party_keys k
    WHERE k.org_id = NEW.org_id
      AND (CASE WHEN is_lead THEN k.lead_id ELSE k.customer_id END) = NEW.id
      AND NOT ((k.kind = 'phone' AND k.value IS NOT DISTINCT FROM phone_k)
               OR (k.kind = 'company' AND k.value IS NOT DISTINCT FROM company_k));
    INSERT INTO party_keys (org_id, kind, value, customer_id, lead_id)
    SELECT NEW.org_id, v.kind, v.value, CASE WHEN NOT is_lead THEN NEW.id END,
           CASE WHEN is_lead THEN NEW.id END
    FROM (VALUES ('phone', phone_k), ('company', company_k)) AS v (kind, value)
    WHERE v.value IS NOT NULL
    ORDER BY v.kind DESC  -- phone, then company: one lock order on every path
    ON CONFLICT (org_id, kind, value) DO NOTHING;
    -- A fresh snapshot: a concurrent holder that committed while we waited is seen here.
    SELECT k.kind INTO taken FROM party_keys k
    WHERE k.org_id = NEW.org_id
      AND ((k.kind = 'phone' AND k.value = phone_k) OR (k.kind = 'company' AND k.value = company_k))
      AND coalesce(k.lead_id, k.customer_id) <> NEW.id
    LIMIT 1;
    IF taken IS NOT NULL THEN
        RAISE EXCEPTION 'this % already belongs to another customer or lead', taken
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'party_keys_taken',
                  TABLE = 'party_keys';
    END IF;
    RETURN NULL;
END
$$;
"""

# New rows: one statement-level trigger per table (a 190,000-row import is one set-based
# insert of keys, not 190,000 function calls). Within one statement the first row of a key
# wins the ON CONFLICT and the check refuses the statement for the others.
INSERT_FUNCTION = r"""
CREATE FUNCTION party_keys_{table}_insert() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    offered bigint;
    n_added bigint;
BEGIN
    -- New rows hold no key yet: every key not inserted is someone else's (or an earlier row's
    -- of the same statement).
    WITH keys AS (
        SELECT n.org_id, v.kind, v.value, n.id FROM new_rows n
        CROSS JOIN LATERAL (VALUES ('phone', {phone}),
                                   ('company', fs_company_key(n.{company}))) v (kind, value)
        WHERE v.value IS NOT NULL {live}
    ), added AS (
        INSERT INTO party_keys (org_id, kind, value, {holder})
        SELECT * FROM keys ORDER BY org_id, kind DESC, value
        ON CONFLICT (org_id, kind, value) DO NOTHING
        RETURNING 1
    )
    SELECT (SELECT count(*) FROM keys), (SELECT count(*) FROM added) INTO offered, n_added;
    IF n_added < offered THEN
        RAISE EXCEPTION 'a phone or company of this {table} row already belongs to another '
                        'customer or lead'
            USING ERRCODE = 'unique_violation', CONSTRAINT = 'party_keys_taken',
                  TABLE = 'party_keys';
    END IF;
    RETURN NULL;
END
$$;
"""

TRIGGERS = """
CREATE TRIGGER customers_party_keys_insert AFTER INSERT ON customers
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION party_keys_customers_insert();
CREATE TRIGGER customers_party_keys_update AFTER UPDATE OF phone, name ON customers
FOR EACH ROW WHEN (OLD.phone IS DISTINCT FROM NEW.phone OR OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION party_keys_sync();
CREATE TRIGGER leads_party_keys_insert AFTER INSERT ON leads
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION party_keys_leads_insert();
-- Not on claims and releases (pooled <-> claimed keeps the keys): the claim path stays as it was.
CREATE TRIGGER leads_party_keys_update
AFTER UPDATE OF phone_normalized, company, status ON leads FOR EACH ROW WHEN (OLD.phone_normalized IS DISTINCT FROM NEW.phone_normalized
                   OR OLD.company IS DISTINCT FROM NEW.company
                   OR (OLD.status IN ('pooled', 'claimed')) <> (NEW.status IN ('pooled', 'claimed')))
EXECUTE FUNCTION party_keys_sync();
"""

# Existing data: every customer and live lead offers its keys, oldest first; the first holder
# keeps a key and the others are reported (`fieldsales duplicates report`).
BACKFILL = """
INSERT INTO party_keys (org_id, kind, value, customer_id, lead_id)
SELECT org_id, kind, value, customer_id, lead_id FROM (
    SELECT c.org_id, v.kind, v.value, c.id AS customer_id, NULL::uuid AS lead_id, c.created_at
    FROM customers c CROSS JOIN LATERAL (VALUES ('phone', fs_phone_key(c.phone)),
                                                ('company', fs_company_key(c.name))) v (kind, value)
    UNION ALL
    SELECT l.org_id, v.kind, v.value, NULL, l.id, l.created_at
    FROM leads l CROSS JOIN LATERAL (VALUES ('phone', l.phone_normalized),
                                            ('company', fs_company_key(l.company))) v (kind, value)
    WHERE l.status IN ('pooled', 'claimed')
) offered
WHERE value IS NOT NULL
ORDER BY created_at, coalesce(customer_id, lead_id)
ON CONFLICT (org_id, kind, value) DO NOTHING
"""

UNHELD = """
SELECT count(*) FROM (
    SELECT c.org_id, c.id, v.kind, v.value FROM customers c
    CROSS JOIN LATERAL (VALUES ('phone', fs_phone_key(c.phone)),
                               ('company', fs_company_key(c.name))) v (kind, value)
    UNION ALL
    SELECT l.org_id, l.id, v.kind, v.value FROM leads l
    CROSS JOIN LATERAL (VALUES ('phone', l.phone_normalized),
                               ('company', fs_company_key(l.company))) v (kind, value)
    WHERE l.status IN ('pooled', 'claimed')
) o JOIN party_keys k USING (org_id, kind, value)
WHERE coalesce(k.customer_id, k.lead_id) <> o.id
"""

POOLED_AT = """
CREATE FUNCTION leads_pooled_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.pooled_at := CASE WHEN TG_OP = 'INSERT' THEN coalesce(NEW.pooled_at, NEW.created_at, now())
                          ELSE now() END;
    RETURN NEW;
END
$$;
CREATE TRIGGER leads_pooled_at_insert BEFORE INSERT ON leads
FOR EACH ROW WHEN (NEW.status = 'pooled' AND NEW.pooled_at IS NULL)
EXECUTE FUNCTION leads_pooled_at();
CREATE TRIGGER leads_pooled_at_update BEFORE UPDATE OF status ON leads
FOR EACH ROW WHEN (NEW.status = 'pooled' AND OLD.status <> 'pooled')
EXECUTE FUNCTION leads_pooled_at();
"""

INTENT_RANK = ("CASE intent WHEN 'hot' THEN 0 WHEN 'warm' THEN 1 WHEN 'cold' THEN 2 "
               "WHEN 'none' THEN 4 ELSE 3 END")

ACTIONS = ("'created', 'imported', 'claimed', 'assigned', 'released', 'recycled', "
           "'followed_up', 'converted', 'marked_dead'")


def upgrade():
    op.create_table(
        "party_keys",
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("customer_id", sa.Uuid(), nullable=True),
        sa.Column("lead_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint("kind IN ('phone', 'company')", name=op.f("ck_party_keys_kind")),
        sa.CheckConstraint("num_nonnulls(customer_id, lead_id) = 1",
                           name=op.f("ck_party_keys_one_holder")),
        sa.ForeignKeyConstraint(["org_id"], ["orgs.id"], name=op.f("fk_party_keys_org_id_orgs")),
        sa.ForeignKeyConstraint(["org_id", "customer_id"], ["customers.org_id", "customers.id"],
                                name=op.f("fk_party_keys_org_id_customer_id_customers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["org_id", "lead_id"], ["leads.org_id", "leads.id"],
                                name=op.f("fk_party_keys_org_id_lead_id_leads"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("org_id", "kind", "value", name=op.f("pk_party_keys")),
    )
    op.create_index("ix_party_keys_customer", "party_keys", ["org_id", "customer_id"],
                    postgresql_where=sa.text("customer_id IS NOT NULL"))
    op.create_index("ix_party_keys_lead", "party_keys", ["org_id", "lead_id"],
                    postgresql_where=sa.text("lead_id IS NOT NULL"))
    op.execute(FUNCTIONS)
    op.execute(INSERT_FUNCTION.format(table="customers", phone="fs_phone_key(n.phone)",
                                      company="name", live="", holder="customer_id"))
    # A lead's phone_normalized is rules.normalize_phone(phone) (or import's SQL twin of it).
    op.execute(INSERT_FUNCTION.format(table="leads", phone="n.phone_normalized",
                                      company="company",
                                      live="AND n.status IN ('pooled', 'claimed')",
                                      holder="lead_id"))
    op.execute(BACKFILL)
    unheld = op.get_bind().execute(sa.text(UNHELD)).scalar()
    if unheld:
        log.warning("duplicate guard: %s phone/company keys of existing customers or leads are "
                    "held by an older one; list them with `fieldsales duplicates report`", unheld)
    op.execute(TRIGGERS)
    # A phone may now return as a new lead once its old lead is dead: party_keys decides.
    op.drop_index("uq_leads_org_phone", table_name="leads",
                  postgresql_where=sa.text("phone_normalized IS NOT NULL"))

    op.add_column("leads", sa.Column("intent", sa.String(), nullable=True))
    op.create_check_constraint(op.f("ck_leads_intent"), "leads",
                               "intent IN ('hot', 'warm', 'cold', 'none')")
    op.add_column("leads", sa.Column("intent_rank", sa.SmallInteger(),
                                     sa.Computed(INTENT_RANK, persisted=True), nullable=False))
    op.add_column("leads", sa.Column("pooled_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("""UPDATE leads l SET pooled_at = coalesce(
        (SELECT max(e.at) FROM lead_events e WHERE e.org_id = l.org_id AND e.lead_id = l.id),
        l.created_at) WHERE l.status = 'pooled'""")
    op.execute(POOLED_AT)
    op.drop_index("ix_leads_pooled_oldest", table_name="leads",
                  postgresql_where=sa.text("status = 'pooled'"))
    op.create_index("ix_leads_pooled_oldest", "leads",
                    ["pool_id", "intent_rank", "created_at", "id"],
                    postgresql_where=sa.text("status = 'pooled'"))

    op.add_column("lead_pools", sa.Column("silent_after_days", sa.Integer(),
                                          server_default="14", nullable=False))
    op.create_check_constraint(op.f("ck_lead_pools_silent_after_days_positive"), "lead_pools",
                               "silent_after_days > 0")
    op.drop_constraint(op.f("ck_lead_events_action"), "lead_events")
    op.create_check_constraint(op.f("ck_lead_events_action"), "lead_events",
                               f"action IN ({ACTIONS}, 'revived')")


def downgrade():
    op.drop_constraint(op.f("ck_lead_events_action"), "lead_events")
    op.execute("DELETE FROM lead_events WHERE action = 'revived'")
    op.create_check_constraint(op.f("ck_lead_events_action"), "lead_events",
                               f"action IN ({ACTIONS})")
    op.drop_constraint(op.f("ck_lead_pools_silent_after_days_positive"), "lead_pools")
    op.drop_column("lead_pools", "silent_after_days")
    op.drop_index("ix_leads_pooled_oldest", table_name="leads",
                  postgresql_where=sa.text("status = 'pooled'"))
    op.create_index("ix_leads_pooled_oldest", "leads", ["pool_id", "created_at", "id"],
                    postgresql_where=sa.text("status = 'pooled'"))
    op.execute("DROP TRIGGER leads_pooled_at_insert ON leads")
    op.execute("DROP TRIGGER leads_pooled_at_update ON leads")
    op.execute("DROP FUNCTION leads_pooled_at()")
    op.drop_column("leads", "pooled_at")
    op.drop_column("leads", "intent_rank")
    op.drop_constraint(op.f("ck_leads_intent"), "leads")
    op.drop_column("leads", "intent")
    op.create_index("uq_leads_org_phone", "leads", ["org_id", "phone_normalized"], unique=True,
                    postgresql_where=sa.text("phone_normalized IS NOT NULL"))
    for table, name in (("customers", "customers_party_keys_insert"),
                        ("customers", "customers_party_keys_update"),
                        ("leads", "leads_party_keys_insert"), ("leads", "leads_party_keys_update")):
        op.execute(f"DROP TRIGGER {name} ON {table}")
    op.execute("DROP FUNCTION party_keys_sync()")
    op.execute("DROP FUNCTION party_keys_customers_insert()")
    op.execute("DROP FUNCTION party_keys_leads_insert()")
    op.execute("DROP FUNCTION fs_company_key(text)")
    op.execute("DROP FUNCTION fs_phone_key(text)")
    op.drop_index("ix_party_keys_lead", table_name="party_keys")
    op.drop_index("ix_party_keys_customer", table_name="party_keys")
    op.drop_table("party_keys")
