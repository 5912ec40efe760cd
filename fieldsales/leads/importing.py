"""The lead import use case (import_leads), a bulk path: the CSV is streamed into a temporary
staging table with COPY, then checked and inserted by a few set-based statements, all in one
transaction.

Python only splits the file into rows (csv_import.records: line numbers, rows that are not
rows). PostgreSQL then accepts every row whose fields pass a conservative check (_ACCEPT: plain
ASCII phones, common e-mail shapes, plain decimal coordinates) and normalises its phone the
way rules.normalize_phone does. The few rows it does not accept — the bad ones and the exotic
valid ones (full-width digits, IDN e-mail domains, `1e1` coordinates) — go through the lead
schema row by row (csv_import.load_row), which stays the one owner of the per-line messages.
The SQL check may only be stricter than the schema, never looser: tests/leads/test_import.py
compares both on edge cases.

Duplicates (a phone or company already held in the org, or earlier in the file) are left out
by the INSERT itself (see _INSERT), so each phone is created once.
"""
import io
import sys
import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from fieldsales import audit
from fieldsales.db import copy_in, transaction
from fieldsales.duplicates import service as duplicates
from fieldsales.errors import NotFound, field_error
from fieldsales.extensions import db
from fieldsales.leads import csv_import, rules
from fieldsales.leads.pools import managed_pool
from fieldsales.leads.schemas import LeadFieldsSchema
from fieldsales.scope import Principal

MAX_ERRORS = 1000
# Every character str.strip() removes, so SQL trims tags exactly as Python trims cells.
_WHITESPACE = "".join(ch for ch in map(chr, range(sys.maxunicode + 1)) if ch.isspace())
_NUMBER = r"^[+-]?[0-9]{1,3}(\.[0-9]{1,17})?$"
_EMAIL = (r"^[A-Za-z0-9_%+-]+(\.[A-Za-z0-9_%+-]+)*"
          r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,6}$")

_STAGE = (
    # A bulk statement, not an OLTP one: bounded by the 5 MiB body and the worker timeout
    # (a killed worker's transaction is rolled back), not by the 30 s OLTP statement timeout.
    # The sort by phone of at most 5 MiB of rows fits in memory.
    "SET LOCAL statement_timeout = 0",
    "SET LOCAL work_mem = '64MB'",
    "DROP TABLE IF EXISTS pg_temp.lead_import, pg_temp.lead_import_ok",
    """CREATE TEMP TABLE lead_import (
        line int, name text, company text, phone text, email text, address text, lat text,
        lng text, source text, tags text) ON COMMIT DROP""",
    """CREATE TEMP TABLE lead_import_ok (
        line int, name text, company text, phone text, phone_n text, email text,
        address text, lat float8, lng float8, source text, tags text[]) ON COMMIT DROP""",
)

# The rows PostgreSQL accepts by itself. Every cast sits behind a CASE on the pattern that makes
# it safe: WHERE clauses may be evaluated in any order.
_ACCEPT = text(r"""
INSERT INTO lead_import_ok
SELECT s.line, s.name, nullif(s.company, ''), nullif(s.phone, ''),
       CASE WHEN s.phone <> '' THEN CASE WHEN p2.plus THEN '+' ELSE '' END || p2.n END,
       nullif(s.email, ''), nullif(s.address, ''), g.lat, g.lng, nullif(s.source, ''), t.tags
FROM lead_import s
CROSS JOIN LATERAL (SELECT regexp_replace(s.phone, '[ ().·/-]', '', 'g') AS d) p0
CROSS JOIN LATERAL (
    SELECT p0.d ~ '^(\+|00)' AS plus,
           CASE WHEN p0.d LIKE '+%' THEN substr(p0.d, 2)
                WHEN p0.d LIKE '00%' THEN substr(p0.d, 3) ELSE p0.d END AS core) p1
CROSS JOIN LATERAL (
    SELECT p1.plus AND p1.core NOT LIKE '86%' AS plus,
           CASE WHEN p1.plus AND p1.core LIKE '86%' THEN substr(p1.core, 3)
                WHEN NOT p1.plus AND length(p1.core) = 13 AND p1.core LIKE '861%'
                THEN substr(p1.core, 3)
                ELSE p1.core END AS n) p2
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.lat ~ :number AND s.lng ~ :number THEN s.lat::float8 END AS lat,
           CASE WHEN s.lat ~ :number AND s.lng ~ :number THEN s.lng::float8 END AS lng) g
CROSS JOIN LATERAL (
    SELECT CASE WHEN s.tags = '' THEN '{}'::text[] ELSE ARRAY(
        SELECT btrim(x, :ws) FROM unnest(string_to_array(replace(s.tags, '|', ';'), ';'))
        WITH ORDINALITY AS u(x, i) WHERE btrim(x, :ws) <> '' ORDER BY i) END AS tags) t
WHERE char_length(s.name) BETWEEN 1 AND 200
  AND char_length(s.company) <= 200 AND char_length(s.address) <= 500
  AND char_length(s.source) <= 100
  AND (s.phone = '' OR (char_length(s.phone) <= 50 AND s.phone ~ '^[0-9 ().·/+-]+$'
                        AND p1.core ~ '^[0-9]+$' AND length(p2.n) BETWEEN 3 AND 20))
  AND (s.email = '' OR (char_length(s.email) <= 254 AND s.email ~ :email))
  AND ((s.lat = '' AND s.lng = '')
       OR (g.lat BETWEEN -90 AND 90 AND g.lng BETWEEN -180 AND 180))
  AND cardinality(t.tags) <= 50
  AND NOT EXISTS (SELECT FROM unnest(t.tags) AS x WHERE char_length(x) > 50)
""")

# Read in pages (a server-side cursor), so a file of 5 MiB of bad rows never sits in memory whole.
_REST = """
DECLARE lead_import_rest NO SCROLL CURSOR FOR
SELECT s.* FROM lead_import s
WHERE NOT EXISTS (SELECT FROM lead_import_ok o WHERE o.line = s.line)
ORDER BY s.line
"""
_REST_PAGE = 2000

# The duplicate guard (fieldsales/duplicates) decides what is new: a row whose phone or company
# another customer or live lead holds, or an earlier line of the file has, is a duplicate. The
# org's imports queue on an advisory lock, so each sees the keys the previous one committed; a
# single create racing an import loses or makes the import answer 409 (the trigger's refusal).
# Ordered by phone: within the file the earliest line of a phone is the one created.
_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('party_keys:' || :org_id, 0))")
_INSERT = text("""
WITH keyed AS (
    SELECT o.*, fs_company_key(o.company) AS company_k,
           row_number() OVER (PARTITION BY o.phone_n ORDER BY o.line) AS phone_nth
    FROM lead_import_ok o
), firsts AS (
    SELECT k.*, row_number() OVER (PARTITION BY k.company_k ORDER BY k.line) AS company_nth
    FROM keyed k WHERE k.phone_n IS NULL OR k.phone_nth = 1
), fresh AS (
    SELECT f.* FROM firsts f
    WHERE (f.company_k IS NULL OR f.company_nth = 1)
      AND NOT EXISTS (SELECT FROM party_keys p WHERE p.org_id = :org_id
                      AND p.kind = 'phone' AND p.value = f.phone_n)
      AND NOT EXISTS (SELECT FROM party_keys p WHERE p.org_id = :org_id
                      AND p.kind = 'company' AND p.value = f.company_k)
), created AS (
    INSERT INTO leads (id, org_id, pool_id, name, company, phone, phone_normalized, email,
                       address, lat, lng, source, tags, status, follow_up_count, created_at,
                       pooled_at, created_by)
    SELECT gen_random_uuid(), :org_id, :pool_id, name, company, phone, phone_n, email,
           address, lat, lng, source, tags, 'pooled', 0, :now, :now, :actor_id
    FROM fresh ORDER BY phone_n, line
    RETURNING id
), ledger AS (
    INSERT INTO lead_events (id, org_id, lead_id, at, action, actor_id)
    SELECT gen_random_uuid(), :org_id, id, :now, 'imported', :actor_id FROM created
)
SELECT (SELECT count(*) FROM lead_import_ok) AS valid, count(*) AS created,
       encode(sha256(convert_to(coalesce(
           string_agg(id::text, E'\\n' ORDER BY id::text COLLATE "C"), ''), 'UTF8')), 'hex')
FROM created
""")


class _Errors:
    """The first MAX_ERRORS (line, message) pairs by line, and how many there were."""

    def __init__(self):
        self.kept, self.total = [], 0

    def add(self, line, message):
        self.total += 1
        if len(self.kept) < MAX_ERRORS:
            self.kept.append({"line": line, "message": message})


def _copy_rows(cursor, header, rows, errors):
    """COPY the rows into lead_import; rows that are not rows go to `errors`."""
    positions = [header.index(c) if c in header else None for c in csv_import.COLUMNS]
    columns = ", ".join(csv_import.COLUMNS)

    def accepted():
        for line, cells, error in rows:
            if error:
                errors.add(line, error)
            else:
                yield [line, *(cells[i] if i is not None else "" for i in positions)]

    copy_in(cursor, f"COPY lead_import (line, {columns}) FROM STDIN", accepted())  # noqa: S608


def _check_rest(cursor, schema, errors):
    """The rows SQL did not accept, through the lead schema: their errors, and the valid ones
    (exotic but fine) into lead_import_ok."""
    cursor.execute(_REST)
    while True:
        cursor.execute(f"FETCH {_REST_PAGE} FROM lead_import_rest")
        page = cursor.fetchall()
        if not page:
            break
        names = [column.name for column in cursor.description][1:]  # after `line`
        valid = []
        for line, *values in page:
            data, error = csv_import.load_row(dict(zip(names, values, strict=True)), schema)
            if error:
                errors.add(line, error)
                continue
            loc = data.get("location")
            valid.append([
                line, data["name"], data.get("company"), data.get("phone"),
                rules.normalize_phone(data.get("phone")), data.get("email"), data.get("address"),
                loc["lat"] if loc else None, loc["lng"] if loc else None, data.get("source"),
                data.get("tags", [])])
        copy_in(cursor, "COPY lead_import_ok FROM STDIN", valid)
    cursor.execute("CLOSE lead_import_rest")


def import_rows(text_in: io.TextIOBase, *, schema, org_id: uuid.UUID, pool_id: uuid.UUID,
                actor_id: uuid.UUID, now: datetime) -> dict:
    """Stage, check and insert the CSV in the session's transaction (not committed here).
    Returns {created, duplicates, errors, errors_total, lead_ids_sha256}."""
    header, rows = csv_import.records(text_in)
    line_errors, rest_errors = _Errors(), _Errors()
    with db.session.connection().connection.driver_connection.cursor() as cursor:
        for statement in _STAGE:
            cursor.execute(statement)
        _copy_rows(cursor, header, rows, line_errors)
        db.session.execute(_ACCEPT, {"number": _NUMBER, "email": _EMAIL, "ws": _WHITESPACE})
        _check_rest(cursor, schema, rest_errors)
        db.session.execute(_LOCK, {"org_id": str(org_id)})
        valid, created, digest = db.session.execute(_INSERT, {
            "org_id": org_id, "pool_id": pool_id, "actor_id": actor_id, "now": now}).one()
        cursor.execute("DROP TABLE lead_import, lead_import_ok")
    errors = sorted(line_errors.kept + rest_errors.kept, key=lambda e: e["line"])
    return {"created": created, "duplicates": valid - created, "errors": errors[:MAX_ERRORS],
            "errors_total": line_errors.total + rest_errors.total, "lead_ids_sha256": digest}


def import_leads(*, principal: Principal, pool_id, stream, mimetype, charset):
    """Import a CSV into a pool: good rows are created, phones already in the org (or earlier
    in the file) are counted as duplicates, bad rows are reported by line. One transaction,
    one audit entry."""
    with duplicates.guarded(principal.org_id, {}), transaction():
        pool = managed_pool(principal, pool_id, missing=NotFound("LeadPool not found."))
        principal.scope.require_writer()
        text_in = csv_import.text_stream(stream, mimetype=mimetype, charset=charset)
        try:
            result = import_rows(text_in, schema=LeadFieldsSchema(), org_id=principal.org_id,
                                 pool_id=pool.id, actor_id=principal.id, now=datetime.now(UTC))
        except UnicodeDecodeError:
            raise field_error("csv", f"The file is not valid {charset or 'UTF-8'}; send "
                              "`Content-Type: text/csv; charset=...` with its encoding.",
                              error="invalid_csv") from None
        digest = result.pop("lead_ids_sha256")
        audit.record(org_id=principal.org_id, user_id=principal.id, actor_id=principal.id,
                     action="lead.imported", entity_type="lead_pool", entity_id=pool.id,
                     data={"created": result["created"], "duplicates": result["duplicates"],
                           "errors": result["errors_total"], "lead_ids_sha256": digest})
    return result
