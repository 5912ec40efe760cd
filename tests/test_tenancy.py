"""DESIGN.md "Scaling out": every tenant key leads with org_id, so Citus can distribute every
tenant table by it; errors are mapped without a constraint's exact name."""
from types import SimpleNamespace

from sqlalchemy import text

from fieldsales.db import violated

# Keyed by their own value (global uniqueness), or not tenant data at all.
NOT_TENANT = {"user_emails", "refresh_token_hashes"}


def _tenant_keys(db, kinds):
    return db.execute(text("""
        SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)
        FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
        WHERE r.relnamespace = 'public'::regnamespace AND c.contype = ANY(:kinds)
          AND r.relname NOT LIKE 'procrastinate%'
          AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = r.oid
                      AND a.attname = 'org_id')""").bindparams(kinds=list(kinds))).all()


def test_every_primary_and_unique_key_of_a_tenant_table_includes_org_id(db):
    keys = [k for k in _tenant_keys(db, "pu") if k[0] not in NOT_TENANT]
    assert len(keys) > 30
    assert [k for k in keys if "org_id" not in k[2]] == []


def test_every_unique_index_of_a_tenant_table_includes_org_id(db):
    rows = db.execute(text("""
        SELECT i.indexrelid::regclass::text FROM pg_index i JOIN pg_class r ON r.oid = i.indrelid
        WHERE r.relnamespace = 'public'::regnamespace AND i.indisunique
          AND r.relname NOT LIKE 'procrastinate%' AND r.relname <> ALL(:skip)
          AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = r.oid AND a.attname = 'org_id')
          AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = r.oid
                          AND a.attname = 'org_id' AND a.attnum = ANY(i.indkey))""")
        .bindparams(skip=sorted(NOT_TENANT))).scalars().all()
    assert rows == []


def test_foreign_keys_between_tenant_tables_carry_org_id(db):
    fks = [k for k in _tenant_keys(db, "f") if "REFERENCES orgs(" not in k[2]]
    assert len(fks) > 40
    assert [k for k in fks if not k[2].startswith("FOREIGN KEY (org_id, ")] == []


def _error(sqlstate, constraint, table, detail):
    diag = SimpleNamespace(constraint_name=constraint, table_name=table, message_detail=detail)
    return SimpleNamespace(orig=SimpleNamespace(pgcode=sqlstate, diag=diag))


def test_a_key_violation_from_a_citus_shard_is_recognised(app):
    # A worker names the shard: the table and constraint carry its id.
    shard = _error("23505", "uq_photos_org_id_visit_id_sha256_102044", "photos_102044",
                   "Key (org_id, visit_id, sha256)=(a, b, c) already exists.")
    assert violated(shard, "23505", "uq_photos_org_id_visit_id_sha256")
    assert not violated(shard, "23505", "pk_photos")
    # Some paths report no name at all: the table and the key columns still tell.
    unnamed = _error("23505", None, "customers", "Key (org_id, id)=(a, b) already exists.")
    assert violated(unnamed, "23505", "pk_customers")
    assert not violated(unnamed, "23505", "pk_leads")
    assert not violated(unnamed, "23503", "pk_customers")
