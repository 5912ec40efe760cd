"""Appending to and verifying the per-user HMAC-SHA256 audit chains.

hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of the entry). Entries about evidence
(visits, photos) carry `evidence_sha256`, a digest of the evidence fields as written; verify
recomputes it from the live rows, so editing a stored visit behind the API's back is caught.
"""
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from flask import current_app
from sqlalchemy import event, select, text
from sqlalchemy.orm import Session

from fieldsales.audit.models import AuditEntry, AuditHead
from fieldsales.extensions import db
from fieldsales.idempotency import canonical_json

GENESIS = "0" * 64

# entity_type -> function(ids) -> {id: evidence dict}; domains that keep evidence register here.
EVIDENCE_LOADERS = {}


def register_evidence(entity_type):
    def decorator(fn):
        EVIDENCE_LOADERS[entity_type] = fn
        return fn
    return decorator


def evidence_digest(evidence: dict) -> str:
    return hashlib.sha256(canonical_json(evidence).encode()).hexdigest()


def _entry_payload(e) -> dict:
    return {
        "org_id": str(e.org_id), "user_id": str(e.user_id), "seq": e.seq,
        "at": e.at.astimezone(UTC).isoformat(), "actor_id": str(e.actor_id) if e.actor_id else None,
        "action": e.action, "entity_type": e.entity_type,
        "entity_id": str(e.entity_id) if e.entity_id else None, "data": e.data,
    }


def _hmac(prev_hash: str, payload: dict) -> str:
    key = current_app.config["AUDIT_KEY"].encode()
    return hmac.new(key, (prev_hash + canonical_json(payload)).encode(), hashlib.sha256).hexdigest()


# Locks the chain's head row until commit (appends to one chain are serialised, per user) and
# reads where the chain stands. The no-op DO UPDATE is what takes the lock on an existing row.
_LOCK_HEAD = text("""
    INSERT INTO audit_heads AS h (user_id, org_id, seq, hash)
    VALUES (:user_id, :org_id, 0, :genesis)
    ON CONFLICT (user_id) DO UPDATE SET seq = h.seq
    RETURNING seq, hash
""")

_PENDING = "fieldsales.audit.pending"


class _Chain:
    """One user's chain within the current transaction: head locked, entries not yet written."""

    def __init__(self, org_id, seq, hash_):
        self.org_id, self.seq, self.hash = org_id, seq, hash_
        self.rows = []


def record(*, org_id, user_id, actor_id, action, entity_type, entity_id=None, data=None,
           evidence=None) -> dict:
    """Append an entry to `user_id`'s chain inside the caller's transaction.

    The first append of a transaction locks the chain head (one statement); the entries are
    hashed here and written with the head in one statement just before the commit, so a
    transaction costs two round trips per chain however many entries it adds."""
    data = dict(data or {})
    if evidence is not None:
        data["evidence_sha256"] = evidence_digest(evidence)
    chains = db.session.info.setdefault(_PENDING, {})
    chain = chains.get(user_id)
    if chain is None:
        seq, head_hash = db.session.execute(
            _LOCK_HEAD, {"user_id": user_id, "org_id": org_id, "genesis": GENESIS}).one()
        chain = chains[user_id] = _Chain(org_id, seq, head_hash)
    row = {"id": uuid.uuid4(), "org_id": org_id, "user_id": user_id, "seq": chain.seq + 1,
           "at": datetime.now(UTC), "actor_id": actor_id, "action": action,
           "entity_type": entity_type, "entity_id": entity_id,
           "data": canonical_roundtrip(data), "prev_hash": chain.hash}
    row["hash"] = _hmac(chain.hash, _entry_payload(SimpleNamespace(**row)))
    chain.rows.append(row)
    chain.seq, chain.hash = row["seq"], row["hash"]
    return row


_ENTRY_COLUMNS = ("id", "org_id", "user_id", "seq", "at", "actor_id", "action", "entity_type",
                  "entity_id", "data", "prev_hash", "hash")


def _write_pending(session):
    """Write every chain's new entries and its head, one statement per chain."""
    chains = session.info.pop(_PENDING, None)
    for user_id, chain in (chains or {}).items():
        if not chain.rows:
            continue
        # Plain SQL: a multi-row INSERT built with the ORM is compiled afresh every time (its
        # shape varies with the row count), which cost more than the round trip it saves.
        params = {"head_user": user_id, "head_seq": chain.seq, "head_hash": chain.hash}
        values = []
        for i, row in enumerate(chain.rows):
            values.append("(" + ", ".join(
                f"CAST(:data{i} AS jsonb)" if col == "data" else f":{col}{i}"
                for col in _ENTRY_COLUMNS) + ")")
            params.update({f"{col}{i}": row[col] for col in _ENTRY_COLUMNS})
            params[f"data{i}"] = canonical_json(row["data"])
        # Only fixed column names and placeholders are formatted in; the values are bound.
        columns, rows = ", ".join(_ENTRY_COLUMNS), ", ".join(values)
        sql = (f"WITH new_entries AS (INSERT INTO audit_entries ({columns}) VALUES {rows}) "  # noqa: S608
               "UPDATE audit_heads SET seq = :head_seq, hash = :head_hash "
               "WHERE user_id = :head_user")
        session.execute(text(sql), params)


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
    """Recompute one user's chain: {ok, entries, first_bad_seq, head_hash}."""
    # populate_existing: verify what is stored now, never a copy cached in this session.
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.org_id == org_id, AuditEntry.user_id == user_id)
        .order_by(AuditEntry.seq).execution_options(populate_existing=True)
    ).all()
    head = db.session.scalar(
        select(AuditHead).where(AuditHead.org_id == org_id, AuditHead.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    first_bad = None
    prev = GENESIS
    for expected_seq, e in enumerate(entries, start=1):
        if e.seq != expected_seq or e.prev_hash != prev or e.hash != _hmac(prev, _entry_payload(e)):
            first_bad = e.seq
            break
        prev = e.hash
    if first_bad is None:
        first_bad = _first_bad_evidence(entries)
    if first_bad is None and entries and (head is None or head.seq != entries[-1].seq
                                          or head.hash != entries[-1].hash):
        first_bad = entries[-1].seq  # entries removed from the end of the chain
    if first_bad is None and not entries and head is not None and head.seq != 0:
        first_bad = 1  # the whole chain was deleted
    return {"ok": first_bad is None, "entries": len(entries), "first_bad_seq": first_bad,
            "head_hash": entries[-1].hash if entries else None}


def _first_bad_evidence(entries):
    """The seq of the latest entry about an entity whose live evidence no longer matches."""
    latest = {}
    for e in entries:
        if "evidence_sha256" in e.data and e.entity_id is not None:
            latest[(e.entity_type, e.entity_id)] = e
    bad = []
    for entity_type, loader in EVIDENCE_LOADERS.items():
        ids = [eid for (etype, eid) in latest if etype == entity_type]
        if not ids:
            continue
        live = loader(ids)
        for eid in ids:
            entry = latest[(entity_type, eid)]
            current = live.get(eid)
            if current is None or evidence_digest(current) != entry.data["evidence_sha256"]:
                bad.append(entry.seq)
    return min(bad) if bad else None


def chain_user_ids(*, org_id):
    return list(db.session.scalars(
        select(AuditHead.user_id).where(AuditHead.org_id == org_id).order_by(AuditHead.user_id)
    ))


def verify_all(*, user_id=None, progress=None) -> dict:
    """Verify every chain (all orgs), or one user's; name the first broken entry."""
    stmt = select(AuditHead.org_id, AuditHead.user_id).order_by(AuditHead.org_id,
                                                                 AuditHead.user_id)
    if user_id is not None:
        stmt = stmt.where(AuditHead.user_id == user_id)
    chains = db.session.execute(stmt).all()
    total = 0
    for n, (org_id, uid) in enumerate(chains, start=1):
        result = verify_chain(org_id=org_id, user_id=uid)
        total += result["entries"]
        if progress and (n % 100 == 0 or n == len(chains)):
            progress(f"verified {n}/{len(chains)} chains, {total} entries")
        if not result["ok"]:
            return {"ok": False, "chains": n, "entries": total,
                    "first_bad": {"org_id": str(org_id), "user_id": str(uid),
                                  "seq": result["first_bad_seq"]}}
    return {"ok": True, "chains": len(chains), "entries": total, "first_bad": None}


def list_entries(*, principal, filters: dict, page):
    """Audit entries of the caller's org (admin, hr), newest first."""
    from fieldsales.db import paginate
    from fieldsales.scope import scope
    from fieldsales.timeutil import lower_bound, upper_bound

    scope().require_role("admin", "hr")
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
    from fieldsales.scope import scope

    scope().require_role("admin", "hr")
    if user_id is not None:
        from fieldsales.users.models import User

        scope().get(User, user_id, scope().users())
        user_ids = [user_id]
    else:
        user_ids = chain_user_ids(org_id=principal.org_id)
    total = 0
    for uid in user_ids:
        result = verify_chain(org_id=principal.org_id, user_id=uid)
        total += result["entries"]
        if not result["ok"]:
            return {"ok": False, "entries": total, "first_bad_seq": result["first_bad_seq"],
                    "first_bad_user_id": uid, "chains": len(user_ids)}
    return {"ok": True, "entries": total, "first_bad_seq": None, "first_bad_user_id": None,
            "chains": len(user_ids)}
