"""Distribute a migrated fieldsales database on Citus (make test-citus): every tenant table by
org_id, all colocated; orgs a reference table; the directories by their own key; everything
else (procrastinate's queue, alembic, the login throttle) stays on the coordinator.

Usage: citus_distribute.py SUPERUSER_URL   (idempotent: distributed tables are skipped)
"""
import sys

import psycopg2

# orgs is one small row per customer company, read by every request and joined to every tenant
# table: a reference table (a copy on each node) keeps those joins local and lets every tenant
# table keep its foreign key to it; creating an org (rare) pays a write on every node.
REFERENCE = ["orgs"]
DIRECTORIES = {"user_emails": "email", "refresh_token_hashes": "token_hash"}


def tenant_tables(cur):
    cur.execute("""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped
        WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname NOT LIKE 'procrastinate%%'
          AND c.relname <> ALL(%s) ORDER BY 1""", (list(DIRECTORIES),))
    tables = [r[0] for r in cur.fetchall()]
    # A foreign key may only point at a table that is distributed already: referenced first.
    cur.execute("""
        SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
        WHERE contype = 'f' AND conrelid <> confrelid""")
    refs = {}
    for src, dst in cur.fetchall():
        refs.setdefault(src, set()).add(dst)
    ordered, seen = [], set()

    def visit(table, path=()):
        if table in seen:
            return
        if table in path:
            raise SystemExit(f"citus: foreign-key cycle through {table}")
        for dst in sorted(refs.get(table, ())):
            if dst in tables:
                visit(dst, path + (table,))
        seen.add(table)
        ordered.append(table)

    for table in tables:
        visit(table)
    return ordered


# 0011's insert triggers on customers and leads are statement triggers reading a transition
# table (new_rows), which Citus's shards cannot see ("could not find named tuplestore"): on
# Citus each new row offers its keys through the per-row function the update triggers use
# (party_keys_sync: same keys, same party_keys_taken refusal; one call per row on imports).
ROW_TRIGGERS = """
DROP TRIGGER IF EXISTS customers_party_keys_insert ON customers;
CREATE TRIGGER customers_party_keys_insert AFTER INSERT ON customers
FOR EACH ROW EXECUTE FUNCTION party_keys_sync();
DROP TRIGGER IF EXISTS leads_party_keys_insert ON leads;
CREATE TRIGGER leads_party_keys_insert AFTER INSERT ON leads
FOR EACH ROW EXECUTE FUNCTION party_keys_sync();
"""


def distributed(cur):
    cur.execute("SELECT logicalrelid::regclass::text FROM pg_dist_partition")
    return {r[0] for r in cur.fetchall()}


def main(url):
    conn = psycopg2.connect(url)
    conn.autocommit = True
    cur = conn.cursor()
    # The lead-holdings and party-key triggers run on the shards, where the rows they touch are
    # colocated (same org_id): Citus refuses triggers on distributed tables unless told so.
    cur.execute("SET citus.enable_unsafe_triggers = on")
    cur.execute("SELECT current_database()")
    cur.execute(f'ALTER DATABASE "{cur.fetchone()[0]}" SET citus.enable_unsafe_triggers = on')
    done = distributed(cur)
    if "customers" not in done:
        cur.execute(ROW_TRIGGERS)
        # On a shard the trigger's table is leads_<shard id>.
        cur.execute("SELECT pg_get_functiondef('party_keys_sync'::regproc)")
        body = cur.fetchone()[0]
        cur.execute(body.replace("TG_TABLE_NAME = 'leads'", "TG_TABLE_NAME ~ '^leads(_[0-9]+)?$'"))
    tables = tenant_tables(cur)
    # Citus turns the tables with a foreign key to a new reference table into coordinator-local
    # tables, which then cannot be distributed: foreign keys are set aside and re-added last.
    cur.execute("""
        SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE contype = 'f' AND connamespace = 'public'::regnamespace
          AND conrelid::regclass::text <> ALL(%s)""", (sorted(done),))
    fks = cur.fetchall()
    for table, name, _ in fks:
        cur.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for table in REFERENCE:
        if table not in done:
            cur.execute("SELECT create_reference_table(%s)", (table,))
    for table, column in DIRECTORIES.items():
        if table not in done:
            cur.execute("SELECT create_distributed_table(%s, %s, colocate_with => 'none')",
                        (table, column))
    # A table Citus refuses (a key without org_id) stays on the coordinator and is reported:
    # the suite still runs, and its failures show what is left to route by org_id.
    colocate, refused = None, []
    for table in tables:
        if table in done:
            continue
        try:
            cur.execute("SELECT create_distributed_table(%s, 'org_id', colocate_with => %s)",
                        (table, colocate or "default"))
            colocate = colocate or table
        except psycopg2.Error as exc:
            refused.append(f"{table}: {exc.pgerror.splitlines()[0]}")
    for table, name, definition in fks:
        try:
            cur.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        except psycopg2.Error as exc:
            refused.append(f"{table}.{name}: {exc.pgerror.splitlines()[0]}")
    for line in refused:
        print(f"citus: not distributed: {line}")
    print(f"citus: {len(distributed(cur)) - 3} of {len(tables)} tenant tables distributed by "
          f"org_id, reference: "
          f"{', '.join(REFERENCE)}, directories: {', '.join(DIRECTORIES)}")


if __name__ == "__main__":
    main(sys.argv[1])
