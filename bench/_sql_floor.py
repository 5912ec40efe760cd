"""The SQL floor of a write use case: the statements it sends, run straight through psycopg2
from N threads (one connection each) without HTTP, Flask or SQLAlchemy. Reported beside the
HTTP floor, never as the ratio's denominator. The bench's audit entries are hashed like the
app's (HMAC-SHA256 over the previous hash + canonical JSON) with a bench key: the CPU is the
same, the chains of the SQL-floor reps do not verify (they are bench-only users)."""
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from bench.harness import connect

GENESIS = "0" * 64
_KEY = b"bench-sql-floor"

_COLUMNS = ("id", "org_id", "user_id", "seq", "at", "actor_id", "action", "entity_type",
            "entity_id", "data", "prev_hash", "hash")


def canonical(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def digest(row: dict) -> str:
    return hashlib.sha256(canonical(row).encode()).hexdigest()


class Chain:
    """One rep's audit chain inside a transaction, its head locked at (seq, hash): `append`
    hashes an entry, `ctes` are the CTEs that write the entries and move the head."""

    def __init__(self, org_id, user_id, seq, hash_):
        self.org_id, self.user_id, self.rows = org_id, user_id, []
        self.seq, self.hash = seq, hash_

    def append(self, action, entity_type, entity_id, data):
        row = {"id": str(uuid.uuid4()), "org_id": self.org_id, "user_id": self.user_id,
               "seq": self.seq + 1, "at": datetime.now(UTC).isoformat(),
               "actor_id": self.user_id, "action": action, "entity_type": entity_type,
               "entity_id": str(entity_id), "data": data, "prev_hash": self.hash}
        row["hash"] = hmac.new(_KEY, (self.hash + canonical(row)).encode(),
                               hashlib.sha256).hexdigest()
        self.rows.append(row)
        self.seq, self.hash = row["seq"], row["hash"]

    def ctes(self):
        """(CTE SQL, params) writing the entries and the head; names start with `audit_`."""
        params = {"audit_seq": self.seq, "audit_hash": self.hash, "audit_user": self.user_id}
        values = []
        for i, row in enumerate(self.rows):
            values.append("(" + ", ".join(
                f"%(audit_{c}{i})s::jsonb" if c == "data" else f"%(audit_{c}{i})s"
                for c in _COLUMNS) + ")")
            params.update({f"audit_{c}{i}": row[c] for c in _COLUMNS})
            params[f"audit_data{i}"] = canonical(row["data"])
        # Only fixed column names and placeholders are formatted in; the values are bound.
        sql = (f"audit_entries_w AS (INSERT INTO audit_entries ({', '.join(_COLUMNS)}) "  # noqa: S608
               f"VALUES {', '.join(values)}), "
               "audit_head_w AS (UPDATE audit_heads SET seq = %(audit_seq)s, "
               "hash = %(audit_hash)s WHERE user_id = %(audit_user)s)")
        return sql, params


def sql_work(transaction):
    """A `work` factory for bench._load.closed_loop: client i gets its own connection and runs
    `transaction(cur, i)` then commits (psycopg2 sends BEGIN before the first statement)."""

    def work(i):
        conn = connect()

        def do():
            with conn.cursor() as cur:
                if transaction(cur, i) is False:
                    conn.rollback()
                    return False
            conn.commit()
        do.close = conn.close
        return do

    return work
