"""Appending to and verifying the per-user HMAC-SHA256 audit chains.

hash = HMAC-SHA256(audit key, prev_hash + canonical JSON of the entry). Entries about evidence
(visits, photos) carry `evidence_sha256`, a digest of the evidence fields as written; verify
recomputes it from the live rows, so editing a stored visit behind the API's back is caught.
"""
import hashlib
import hmac
import uuid
from datetime import UTC, datetime

from flask import current_app
from sqlalchemy import select, text, update

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


_ADVANCE_HEAD = text("""
    INSERT INTO audit_heads AS h (user_id, org_id, seq, hash)
    VALUES (:user_id, :org_id, 1, :genesis)
    ON CONFLICT (user_id) DO UPDATE SET seq = h.seq + 1
    RETURNING seq, hash
""")


def record(*, org_id, user_id, actor_id, action, entity_type, entity_id=None, data=None,
           evidence=None) -> AuditEntry:
    """Append an entry to `user_id`'s chain inside the caller's transaction (not committed)."""
    data = dict(data or {})
    if evidence is not None:
        data["evidence_sha256"] = evidence_digest(evidence)
    # Row-locks the chain head until the caller commits: appends to one chain are serialised.
    seq, prev_hash = db.session.execute(
        _ADVANCE_HEAD, {"user_id": user_id, "org_id": org_id, "genesis": GENESIS}
    ).one()
    entry = AuditEntry(
        id=uuid.uuid4(), org_id=org_id, user_id=user_id, seq=seq,
        at=datetime.now(UTC), actor_id=actor_id, action=action, entity_type=entity_type,
        entity_id=entity_id, data=canonical_roundtrip(data), prev_hash=prev_hash,
    )
    entry.hash = _hmac(prev_hash, _entry_payload(entry))
    db.session.add(entry)
    db.session.execute(update(AuditHead).where(AuditHead.user_id == user_id)
                       .values(hash=entry.hash))
    return entry


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
    if first_bad is None and not entries and head is not None:
        first_bad = 1
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
