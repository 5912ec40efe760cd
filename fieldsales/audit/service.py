"""Appending to and verifying the per-user HMAC-SHA256 audit chains.

hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of the entry). Entries about evidence
(visits, photos) carry `evidence_sha256`, a digest of the evidence fields as written; verify
recomputes it from the live rows, so editing a stored visit behind the API's back is caught
(verify.py holds the checks).
"""
import functools
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from fieldsales.audit.models import AuditEntry
from fieldsales.extensions import db
from fieldsales.idempotency import canonical_json
from fieldsales.timeutil import iso_utc

GENESIS = "0" * 64

# entity_type -> function(ids, version) -> {id: evidence dict in that version's form}; domains
# that keep evidence register here. Entries record the version their digest was computed in.
EVIDENCE_LOADERS = {}
# 2: visits and photos seal created_at; lead events are sealed one by one (data.lead_event_id).
# 3: visits seal the plan they fulfilled (plan_id).
EVIDENCE_VERSION = 3


def register_evidence(entity_type):
    def decorator(fn):
        EVIDENCE_LOADERS[entity_type] = fn
        return fn
    return decorator


class Evidence:
    """One kind of sealed evidence (visit, photo, daily report): `fields(row, version)` builds
    the dict sealed in the owner's chain, from an ORM object or a plain row alike; `live` reads
    it afresh for verification and `seal` appends it to the chain of the row's `user_id`."""

    def __init__(self, entity_type: str, table, fields):
        self.entity_type, self.table, self.fields = entity_type, table, fields
        register_evidence(entity_type)(self.live)

    def live(self, ids, version) -> dict:
        # Plain rows, always read afresh: no ORM objects piling up in the session.
        rows = db.session.execute(select(self.table).where(self.table.c.id.in_(ids)))
        return {row.id: self.fields(row, version) for row in rows}

    def seal(self, row, *, action: str, actor_id, data=None) -> dict:
        """Append the row's current evidence to its user's chain (caller's transaction)."""
        return record(org_id=row.org_id, user_id=row.user_id, actor_id=actor_id, action=action,
                      entity_type=self.entity_type, entity_id=row.id, data=data,
                      evidence=self.fields(row, EVIDENCE_VERSION))


def evidence_digest(evidence: dict) -> str:
    return hashlib.sha256(canonical_json(evidence).encode()).hexdigest()


def _entry_payload(e) -> dict:
    return {
        "org_id": str(e.org_id), "user_id": str(e.user_id), "seq": e.seq,
        "at": iso_utc(e.at, zulu=False), "actor_id": str(e.actor_id) if e.actor_id else None,
        "action": e.action, "entity_type": e.entity_type,
        "entity_id": str(e.entity_id) if e.entity_id else None, "data": e.data,
    }


def _hmac(prev_hash: str, payload: dict) -> str:
    key = current_app.config["AUDIT_KEY"].encode()
    return hmac.new(key, (prev_hash + canonical_json(payload)).encode(), hashlib.sha256).hexdigest()


# Locks the chain's head row until commit (appends to one chain are serialised, per user) and
# reads where the chain stands. The no-op DO UPDATE is what takes the lock on an existing row.
_LOCK_HEAD_SQL = """
    INSERT INTO audit_heads AS h (user_id, org_id, seq, hash)
    {source}
    ON CONFLICT (org_id, user_id) DO UPDATE SET seq = h.seq
    RETURNING seq, hash
"""
_LOCK_HEAD = text(_LOCK_HEAD_SQL.format(source="VALUES (:user_id, :org_id, 0, :genesis)"))

_PENDING = "fieldsales.audit.pending"


def head_lock_sql(source: str) -> str:
    """The head-locking INSERT … RETURNING seq, hash for the chains of the (user_id, org_id)
    rows `source` selects, for a use case that takes the lock inside its own first statement
    (then hands the row to `adopt`). The genesis hash is bound as :audit_genesis (HEAD_PARAMS).

    Lock order wherever evidence is written: the rep's user row, then the row written (visit,
    lead), then the chain head. `source` may read the CTEs that take the earlier locks, which
    orders this lock after theirs."""
    # Only SQL text of the calling module is formatted in; values are bound.
    select_ = ("SELECT u.user_id, u.org_id, 0, :audit_genesis "  # noqa: S608
               f"FROM ({source}) AS u(user_id, org_id)")
    return _LOCK_HEAD_SQL.format(source=select_)


def head_update_sql(condition: str) -> str:
    """Like head_lock_sql for the chain of :user_id in :org_id, for a head that exists: an
    UPDATE … RETURNING seq, hash (no row when the head is missing, or `condition` is false).
    Only on Citus, for a statement it can route only without an INSERT in it (one with the
    team scope's recursive CTE); the caller then runs create_head and its statement again."""
    # Only SQL text of the calling module is formatted in; values are bound.
    return ("UPDATE audit_heads SET seq = seq "  # noqa: S608
            "WHERE org_id = CAST(:org_id AS uuid) AND user_id = CAST(:user_id AS uuid) "
            f"AND {condition} RETURNING seq, hash")


def create_head(*, user_id, org_id) -> None:
    """Lock the chain's head, inserting it when missing (see head_update_sql)."""
    db.session.execute(_LOCK_HEAD, {"user_id": user_id, "org_id": org_id, "genesis": GENESIS})


def head_cte(name: str, source: str) -> str:
    """head_lock_sql as a CTE called `name`, for statements written as text."""
    return f"{name} AS ({head_lock_sql(source)})"


HEAD_PARAMS = {"audit_genesis": GENESIS}


class _Chain:
    """One user's chain within the current transaction: head locked, entries not yet written."""

    def __init__(self, org_id, seq, hash_):
        self.org_id, self.seq, self.hash = org_id, seq, hash_
        self.rows = []


def adopt(*, user_id, org_id, seq: int, hash_: str):
    """Take over a chain head the caller's own statement locked (head_cte): record() appends
    to it without locking it again. A chain this transaction already appends to is kept: its
    pending entries are ahead of the stored head."""
    db.session.info.setdefault(_PENDING, {}).setdefault(user_id, _Chain(org_id, seq, hash_))


def record(*, org_id, user_id, actor_id, action, entity_type, entity_id=None, data=None,
           evidence=None, at=None) -> dict:
    """Append an entry to `user_id`'s chain inside the caller's transaction.

    The first append of a transaction locks the chain head (one statement) unless the caller
    adopted it; the entries are hashed here and written with the head in one statement just
    before the commit (or inside the use case's last statement, see pending_sql), so a
    transaction costs at most two round trips per chain however many entries it adds."""
    data = dict(data or {})
    if evidence is not None:
        data["evidence_sha256"] = evidence_digest(evidence)
        data["evidence_version"] = EVIDENCE_VERSION
    chains = db.session.info.setdefault(_PENDING, {})
    chain = chains.get(user_id)
    if chain is None:
        seq, head_hash = db.session.execute(
            _LOCK_HEAD, {"user_id": user_id, "org_id": org_id, "genesis": GENESIS}).one()
        chain = chains[user_id] = _Chain(org_id, seq, head_hash)
    row = {"id": uuid.uuid4(), "org_id": org_id, "user_id": user_id, "seq": chain.seq + 1,
           "at": at or datetime.now(UTC), "actor_id": actor_id, "action": action,
           "entity_type": entity_type, "entity_id": entity_id,
           "data": canonical_roundtrip(data), "prev_hash": chain.hash}
    row["hash"] = _hmac(chain.hash, _entry_payload(SimpleNamespace(**row)))
    chain.rows.append(row)
    chain.seq, chain.hash = row["seq"], row["hash"]
    return row


_ENTRY_COLUMNS = ("id", "org_id", "user_id", "seq", "at", "actor_id", "action", "entity_type",
                  "entity_id", "data", "prev_hash", "hash")


def pending_sql(session=None) -> tuple[list[str], dict]:
    """CTEs (and their parameters) that write every chain's pending entries and move its head;
    the pending entries are handed over (the caller runs them in its own statement, or
    _write_pending does before the commit). Parameter names start with `audit_`."""
    session = session or db.session
    chains = session.info.pop(_PENDING, None)
    ctes, params = [], {}
    for n, (user_id, chain) in enumerate((chains or {}).items()):
        if not chain.rows:
            continue
        # Plain SQL: a multi-row INSERT built with the ORM is compiled afresh every time (its
        # shape varies with the row count), which cost more than the round trip it saves.
        values = []
        for i, row in enumerate(chain.rows):
            values.append("(" + ", ".join(
                f"CAST(:audit{n}_data{i} AS jsonb)" if col == "data" else f":audit{n}_{col}{i}"
                for col in _ENTRY_COLUMNS) + ")")
            params.update({f"audit{n}_{col}{i}": row[col] for col in _ENTRY_COLUMNS})
            params[f"audit{n}_data{i}"] = canonical_json(row["data"])
        params.update({f"audit{n}_head_user": user_id, f"audit{n}_head_seq": chain.seq,
                       f"audit{n}_head_hash": chain.hash,
                       f"audit{n}_head_org": chain.rows[0]["org_id"]})
        # Only fixed column names and placeholders are formatted in; the values are bound.
        columns = ", ".join(_ENTRY_COLUMNS)
        ctes.append(f"audit{n}_entries AS (INSERT INTO audit_entries ({columns}) "  # noqa: S608
                    f"VALUES {', '.join(values)})")
        ctes.append(f"audit{n}_head AS (UPDATE audit_heads SET seq = :audit{n}_head_seq, "  # noqa: S608
                    f"hash = :audit{n}_head_hash WHERE org_id = :audit{n}_head_org "
                    f"AND user_id = :audit{n}_head_user)")
    return ctes, params


@functools.cache
def _statement(sql: str):
    return text(sql)  # one per shape (chains × entries): parsed once, not on every commit


def _write_pending(session):
    """Write every chain's new entries and its head, in one statement."""
    ctes, params = pending_sql(session)
    if ctes:
        session.execute(_statement(f"WITH {', '.join(ctes)} SELECT 1"), params)


def _forget_pending(session, transaction):
    # A transaction that ended without commit (rollback, close) takes its entries with it,
    # as it takes the head lock and every other change.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


event.listen(Session, "before_commit", _write_pending)
event.listen(Session, "after_transaction_end", _forget_pending)


def canonical_roundtrip(data: dict) -> dict:
    """`data` as it will read back from JSONB (UUIDs, dates and decimals become strings)."""
    import json

    return json.loads(canonical_json(data))


def verify_chain(*, org_id, user_id) -> dict:
    """Every check for one user's chain and sealed rows: {ok, entries, first_bad_seq,
    head_hash, problems}."""
    from fieldsales.audit.verify import verify

    result = verify(org_id=org_id, user_id=user_id)
    head_hash = db.session.scalar(
        select(AuditEntry.hash).where(AuditEntry.org_id == org_id, AuditEntry.user_id == user_id)
        .order_by(AuditEntry.seq.desc()).limit(1))
    return {**result, "head_hash": head_hash}


def list_entries(*, principal, filters: dict, page):
    """Audit entries of the caller's org (admin, hr), newest first."""
    from fieldsales.db import paginate
    from fieldsales.timeutil import lower_bound, upper_bound

    principal.scope.require_role("admin", "hr")
    stmt = select(AuditEntry).where(AuditEntry.org_id == principal.org_id)
    for key in ("user_id", "entity_type", "entity_id"):
        if key in filters:
            stmt = stmt.where(getattr(AuditEntry, key) == filters[key])
    if "from_" in filters:
        stmt = stmt.where(AuditEntry.at >= lower_bound(filters["from_"], principal.timezone))
    if "to" in filters:
        stmt = stmt.where(AuditEntry.at < upper_bound(filters["to"], principal.timezone))
    return paginate(stmt.order_by(AuditEntry.at.desc(), AuditEntry.seq.desc()), page)


def verify_org(*, principal, user_id=None) -> dict:
    """Verify one chain, or every chain of the caller's org (admin, hr)."""
    from fieldsales.audit.verify import verify
    principal.scope.require_role("admin", "hr")
    if user_id is not None:
        from fieldsales.users.models import User

        principal.scope.get(User, user_id, principal.scope.users())
    return verify(org_id=principal.org_id, user_id=user_id)
