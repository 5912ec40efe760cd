"""Signed checkpoints of every chain's head, kept outside the database.

A checkpoint is one JSON file per run, `checkpoint-<UTC time>-<random>.json`, never rewritten:
`{"version": 1, "created_at", "chains": [{org_id, user_id, seq, hash}], "signature"}` where
signature = HMAC-SHA256(audit key, canonical JSON of everything else). Verification compares
the chains with the latest one, so rows deleted after it are caught even when the deleter also
rewinds the heads; it is only as safe as the folder it is kept in.
"""
import hashlib
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from fieldsales.audit.models import AuditHead
from fieldsales.extensions import db
from fieldsales.idempotency import canonical_json

PREFIX = "checkpoint-"


def _folder() -> Path:
    return Path(current_app.config["CHECKPOINT_DIR"])


def _sign(body: dict) -> str:
    key = current_app.config["AUDIT_KEY"].encode()
    return hmac.new(key, canonical_json(body).encode(), hashlib.sha256).hexdigest()


def write_checkpoint() -> dict:
    """Write every chain's head to a new signed file; {"chains": N, "file": path}."""
    heads = db.session.execute(
        select(AuditHead.org_id, AuditHead.user_id, AuditHead.seq, AuditHead.hash)
        .where(AuditHead.seq > 0).order_by(AuditHead.org_id, AuditHead.user_id)).all()
    now = datetime.now(UTC)
    body = {"version": 1, "created_at": now.isoformat(),
            "chains": [{"org_id": str(h.org_id), "user_id": str(h.user_id), "seq": h.seq,
                        "hash": h.hash} for h in heads]}
    text = json.dumps({**body, "signature": _sign(body)}, indent=1)
    folder = _folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{PREFIX}{now.strftime('%Y%m%dT%H%M%S%fZ')}-{secrets.token_hex(4)}.json"
    # Written under a temporary name and linked into place: the final name appears complete
    # or not at all, and os.link refuses to replace an existing file.
    tmp = folder / f".tmp-{path.name}"
    with open(tmp, "x", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink()
    return {"chains": len(heads), "file": str(path)}


def latest_checkpoint():
    """(name, {(org_id, user_id): (seq, hash)}) of the newest checkpoint, (None, {}) when there
    is none; raises ValueError when it is unreadable or its signature does not verify."""
    folder = _folder()
    names = sorted(p.name for p in folder.glob(f"{PREFIX}*.json")) if folder.is_dir() else []
    if not names:
        return None, {}
    name = names[-1]
    try:
        doc = json.loads((folder / name).read_text(encoding="utf-8"))
        signature = doc.pop("signature")
        chains = {(c["org_id"], c["user_id"]): (int(c["seq"]), c["hash"])
                  for c in doc["chains"]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"checkpoint {name} is unreadable ({type(exc).__name__})") from None
    if not isinstance(signature, str) or not hmac.compare_digest(signature, _sign(doc)):
        raise ValueError(f"checkpoint {name}: the signature does not verify (edited, or "
                         "signed with another audit key)")
    return name, chains
