"""Client-generated ids make creates safe to retry (API.md "Conventions").

The primary key is the lock: a concurrent duplicate blocks on the first insert's key, then
finds the committed row and is answered from it. No read-then-write window exists. Only that
(a primary-key violation, or DuplicateId from a write that checks the id itself) counts as a
retry; a domain error such as email_taken is never mistaken for one.
"""
import hashlib
import hmac
import json

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsales.db import transaction, violated
from fieldsales.errors import IdempotencyConflict
from fieldsales.extensions import db

# Secrets count in "the same request" (a replay with another password is a conflict) but enter
# the digest only as an HMAC under the server's key: the stored digest cannot be used to test
# password guesses without that key.
_SECRETS = ("password",)


def canonical_json(data) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _keyed(value) -> str:
    key = b"fieldsales.idempotency:" + current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, str(value).encode(), hashlib.sha256).hexdigest()


def request_hash(data: dict) -> str:
    """Digest of a create request's body (without the id; secrets only keyed, see _SECRETS)."""
    body = {k: _keyed(v) if k in _SECRETS else v for k, v in data.items() if k != "id"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def replay(model, id_, *, principal, data):
    """The stored row when this create is a retry, None when the id is new; 409 otherwise."""
    if id_ is None:
        return None
    # Deliberately not scoped: an id used by anyone, anywhere, must not be taken again.
    row = db.session.scalar(select(model).where(model.id == id_))
    if row is None:
        return None
    if (row.org_id != principal.org_id or row.created_by != principal.id
            or row.request_hash != request_hash(data)):
        raise IdempotencyConflict()
    return row


def is_unique_violation(exc: IntegrityError, constraint: str) -> bool:
    return violated(exc, "23505", constraint)


class DuplicateId(Exception):  # noqa: N818 (a signal between a write and create(), not an error)
    """Raised by a write that finds its client id taken (a retry, or a concurrent one that
    committed first): create() answers it from the stored row."""


def create(model, *, principal, data, write, look_first=True):
    """Run `write()` (which adds the new row and its audit entry, and returns the row) as one
    unit of work, answering a retry from the stored row. Returns (row, created).

    A retry is recognised only by DuplicateId from `write()` or a unique violation of the
    model's primary key; domain errors pass through untouched. look_first=False skips the
    lookup of the id before writing, for a `write()` that checks the id itself in a statement
    it runs anyway (and raises DuplicateId)."""
    if look_first and (existing := replay(model, data.get("id"), principal=principal,
                                          data=data)):
        return existing, False
    try:
        with transaction():
            return write(), True
    except (IntegrityError, DuplicateId) as exc:
        if isinstance(exc, IntegrityError) and not violated(
                exc, "23505", model.__table__.primary_key.name):
            raise
        # A concurrent request with the same id committed first: a retry is answered from its
        # row, anything else with the id is a 409 (replay raises it).
        if data.get("id") and (existing := replay(model, data["id"], principal=principal,
                                                  data=data)):
            return existing, False
        raise


def stamp(row, *, principal, data):
    """Give a new row its client id (or a fresh one) and the request digest."""
    import uuid

    row.id = data.get("id") or uuid.uuid4()
    row.created_by = principal.id
    row.request_hash = request_hash(data)
    return row
