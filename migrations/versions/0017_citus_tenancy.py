"""citus tenancy: every tenant key leads with org_id; login e-mails and refresh-token hashes get
directory tables for their global uniqueness (DESIGN.md "Scaling out")

Generic on purpose (parallel branches add tables): the tenant tables, their keys and the foreign
keys between them are read from the catalog, not listed here. Every statement run is recorded
with its inverse in `tenancy_undo_0017`, which the downgrade replays backwards.

Revision ID: 0017
Revises: 0016
"""
from alembic import op
import sqlalchemy as sa

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Tables without org_id that are not tenant data; any other table without it stops the upgrade.
# bench_meta: the benchmark data set's version marker (bench/_dataset.py), in bench databases.
NOT_TENANT = {"orgs", "login_throttle", "alembic_version", "spatial_ref_sys",
              "user_emails", "refresh_token_hashes", "tenancy_undo_0017", "bench_meta"}
UNDO = "tenancy_undo_0017"

# 0003's holdings trigger, keyed as lead_holdings now is (and routed by org_id on Citus).
HOLDINGS_FUNCTION = """
CREATE OR REPLACE FUNCTION leads_track_holdings() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_held boolean := TG_OP <> 'INSERT' AND OLD.status = 'claimed';
    is_held boolean := TG_OP <> 'DELETE' AND NEW.status = 'claimed';
    held integer;
    max_held integer;
BEGIN
    IF was_held AND is_held AND OLD.owner_id = NEW.owner_id AND OLD.pool_id = NEW.pool_id THEN
        RETURN NULL;
    END IF;
    IF was_held AND (NOT is_held OR OLD.owner_id < NEW.owner_id) THEN
        UPDATE lead_holdings SET holding = holding - 1
        WHERE org_id = OLD.org_id AND pool_id = OLD.pool_id AND user_id = OLD.owner_id;
        was_held := false;
    END IF;
    IF is_held THEN
        INSERT INTO lead_holdings AS h (org_id, pool_id, user_id, holding)
        VALUES (NEW.org_id, NEW.pool_id, NEW.owner_id, 1)
        ON CONFLICT (org_id, pool_id, user_id) DO UPDATE SET holding = h.holding + 1
        RETURNING holding INTO held;
        SELECT holding_limit INTO max_held FROM lead_pools
        WHERE org_id = NEW.org_id AND id = NEW.pool_id;
        IF held > max_held THEN
            RAISE EXCEPTION 'holding limit of % leads reached', max_held
                USING ERRCODE = 'check_violation', CONSTRAINT = 'lead_holding_limit',
                      TABLE = 'lead_holdings';
        END IF;
    END IF;
    IF was_held THEN
        UPDATE lead_holdings SET holding = holding - 1
        WHERE org_id = OLD.org_id AND pool_id = OLD.pool_id AND user_id = OLD.owner_id;
    END IF;
    RETURN NULL;
END
$$
"""


def _rows(sql, **params):
    return op.get_bind().execute(sa.text(sql), params).all()


def _run(sql, undo):
    op.execute(sql)
    op.execute(sa.text("INSERT INTO tenancy_undo_0017 (stmt) VALUES (:s)").bindparams(s=undo))


def _tables():
    tables = [r[0] for r in _rows("""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')
          AND c.relname NOT LIKE 'procrastinate\\_%' ORDER BY 1""")]
    tenant = {r[0] for r in _rows("""
        SELECT table_name FROM information_schema.columns
        WHERE table_schema = current_schema() AND column_name = 'org_id'""")}
    unknown = [t for t in tables if t not in tenant and t not in NOT_TENANT]
    if unknown:
        raise RuntimeError(f"0017: tables {unknown} have no org_id and are not known as "
                           "non-tenant tables: add org_id, or list them in NOT_TENANT")
    return [t for t in tables if t in tenant and t not in NOT_TENANT]


def _constraints(table, kinds):
    """(name, kind, column names in key order, definition, index oid) of `table`."""
    return _rows("""
        SELECT c.conname, c.contype,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                     ORDER BY k.i)::text[],
               pg_get_constraintdef(c.oid), c.conindid
        FROM pg_constraint c WHERE c.conrelid = CAST(:t AS regclass)
          AND c.contype = ANY(:kinds) ORDER BY c.conname""", t=table, kinds=list(kinds))


def _dependent_fks(index_oid):
    """Foreign keys (table, name, definition) that use the unique index `index_oid`."""
    return _rows("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE contype = 'f' AND conindid = :i ORDER BY 1, 2""", i=index_oid)


def _rekey(table):
    """Primary key and unique constraints/indexes of `table` lead with org_id."""
    keys = _constraints(table, "pu")
    pk = next((k for k in keys if k[1] == "p"), None)
    if pk is None:
        raise RuntimeError(f"0017: tenant table {table} has no primary key")
    if "org_id" not in pk[2]:
        new_cols = ["org_id"] + pk[2]
        # The existing unique (org_id, <pk>) that same-org foreign keys point at becomes the key.
        twin = next((k for k in keys if k[1] == "u" and k[2] == new_cols), None)
        moved = _dependent_fks(twin[4]) if twin else []
        if _dependent_fks(pk[4]):
            raise RuntimeError(f"0017: foreign keys reference {table}'s key without org_id; "
                               "make them (org_id, ...) first")
        for ref_table, name, definition in moved:
            _run(f'ALTER TABLE {ref_table} DROP CONSTRAINT "{name}"',
                 f'ALTER TABLE {ref_table} ADD CONSTRAINT "{name}" {definition}')
        if twin:
            _run(f'ALTER TABLE {table} DROP CONSTRAINT "{twin[0]}"',
                 f'ALTER TABLE {table} ADD CONSTRAINT "{twin[0]}" {twin[3]}')
        _run(f'ALTER TABLE {table} DROP CONSTRAINT "{pk[0]}"',
             f'ALTER TABLE {table} ADD CONSTRAINT "{pk[0]}" {pk[3]}')
        _run(f'ALTER TABLE {table} ADD CONSTRAINT "pk_{table}" PRIMARY KEY ({", ".join(new_cols)})',
             f'ALTER TABLE {table} DROP CONSTRAINT "pk_{table}"')
        for ref_table, name, definition in moved:
            _run(f'ALTER TABLE {ref_table} ADD CONSTRAINT "{name}" {definition}',
                 f'ALTER TABLE {ref_table} DROP CONSTRAINT "{name}"')
    for name, _kind, cols, definition, index_oid in keys:
        if _kind != "u" or "org_id" in cols:
            continue
        if _dependent_fks(index_oid):
            raise RuntimeError(f"0017: foreign keys use {table}.{name}; make them (org_id, ...)")
        new = f"uq_{table}_org_id_{'_'.join(cols)}"
        _run(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"',
             f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        _run(f'ALTER TABLE {table} ADD CONSTRAINT "{new}" UNIQUE (org_id, {", ".join(cols)})',
             f'ALTER TABLE {table} DROP CONSTRAINT "{new}"')
    # Unique indexes that are not constraints (partial, on expressions): org_id goes first.
    for name, definition in _rows("""
        SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
        JOIN pg_class ic ON ic.oid = i.indexrelid
        WHERE i.indrelid = CAST(:t AS regclass) AND i.indisunique
          AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = i.indrelid
                          AND a.attname = 'org_id' AND a.attnum = ANY(i.indkey))
        ORDER BY 1""", t=table):
        head, sep, rest = definition.partition(" USING btree (")
        if not sep:
            raise RuntimeError(f"0017: cannot re-key unique index {name}: {definition}")
        _run(f'DROP INDEX "{name}"', definition)
        _run(f"{head}{sep}org_id, {rest}", f'DROP INDEX "{name}"')


def _composite_fks(table, tenant):
    """Foreign keys between tenant tables carry org_id on both sides."""
    for name, _kind, cols, definition, _ in _constraints(table, "f"):
        ref = _rows("SELECT confrelid::regclass::text FROM pg_constraint "
                    "WHERE conname = :n AND conrelid = CAST(:t AS regclass)", n=name, t=table)[0][0]
        if ref not in tenant or "org_id" in cols:
            continue
        raise RuntimeError(f"0017: foreign key {table}.{name} ({definition}) between tenant "
                           "tables lacks org_id: make it (org_id, ...) -> (org_id, id)")


def upgrade():
    op.create_table(UNDO, sa.Column("n", sa.BigInteger(), sa.Identity(), primary_key=True),
                    sa.Column("stmt", sa.Text(), nullable=False))
    op.create_table(
        "user_emails",
        sa.Column("email", sa.String(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_user_emails")),
    )
    op.create_table(
        "refresh_token_hashes",
        sa.Column("token_hash", sa.String(), nullable=False),
        sa.Column("org_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_refresh_token_hashes")),
    )
    op.execute("INSERT INTO user_emails (email, org_id, user_id) "
               "SELECT lower(email), org_id, id FROM users")
    op.execute("INSERT INTO refresh_token_hashes (token_hash, org_id) "
               "SELECT token_hash, org_id FROM refresh_tokens")
    tenant = _tables()
    for table in tenant:
        _composite_fks(table, set(tenant))
    for table in tenant:
        _rekey(table)
    old = _rows("SELECT pg_get_functiondef('leads_track_holdings'::regproc)")[0][0]
    _run(HOLDINGS_FUNCTION, old)


def downgrade():
    for (stmt,) in _rows("SELECT stmt FROM tenancy_undo_0017 ORDER BY n DESC"):
        op.execute(stmt)
    op.drop_table("refresh_token_hashes")
    op.drop_table("user_emails")
    op.drop_table(UNDO)
