"""Stored originals checked against their sha256 (`fieldsales audit verify --photos`).

Placeholder with the agreed signature until the photo-storage branch (evphotos) lands its own.
"""
import hashlib

from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.photos.models import Photo
from fieldsales.photos.storage import store


def _sha256_of(key):
    fp, _size = store().open(key)
    with fp:
        digest = hashlib.sha256()
        for chunk in iter(lambda: fp.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def damaged_originals(*, org_id=None, user_id=None, progress=None) -> list[dict]:
    """Problems for every photo whose stored original is missing or not its sha256."""
    stmt = select(Photo.id, Photo.user_id, Photo.sha256, Photo.storage_key).order_by(Photo.id)
    if org_id is not None:
        stmt = stmt.where(Photo.org_id == org_id)
    if user_id is not None:
        stmt = stmt.where(Photo.user_id == user_id)
    problems, n = [], 0
    for photo in db.session.execute(stmt.execution_options(yield_per=1000)):
        n += 1
        try:
            actual = _sha256_of(f"{photo.storage_key}/original")
        except (OSError, ValueError):
            actual = None
        if actual != photo.sha256:
            problems.append({
                "kind": "photo_damaged", "entity_type": "photo", "entity_id": str(photo.id),
                "user_id": str(photo.user_id),
                "detail": "the stored original is missing" if actual is None else
                          "the stored original's sha256 is not the photo's sha256"})
        if progress and n % 1000 == 0:
            progress(f"checked {n} photo originals")
    if progress:
        progress(f"checked {n} photo originals, {len(problems)} damaged")
    return problems
