"""Stored photo files checked against their rows: the one owner of "this stored original is the
photo's" (its SHA-256 is the one sealed in the audit chain). `GET /photos/{id}/original` serves
only a file that passes, and `fieldsales audit verify --photos` lists every one that does not.
"""
from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.photos.models import Photo
from fieldsales.photos.processing import sha256_of
from fieldsales.photos.storage import store

BATCH = 1000  # photos read per query, and between two progress calls


class Damaged(Exception):
    """A stored photo file that is missing, or an original that no longer matches its sha256."""

    def __init__(self, kind: str, photo_id, detail: str):
        super().__init__(detail)
        self.kind, self.photo_id, self.detail = kind, photo_id, detail

    def as_problem(self) -> dict:
        return {"kind": self.kind, "entity_type": "photo", "entity_id": str(self.photo_id),
                "detail": self.detail}


def open_stored(photo, variant: str = "original"):
    """(file, size) of a stored photo file; an original is read through and checked against the
    photo's sha256 first (the caller gets it rewound). Raises Damaged."""
    key = f"{photo.storage_key}/{variant}"
    try:
        fp, size = store().open(key)
    except FileNotFoundError:
        raise Damaged("photo_file_missing", photo.id,
                      f"The stored {variant} of photo {photo.id} is missing ({key}).") from None
    if variant != "original":
        return fp, size
    try:
        digest, _ = sha256_of(fp)
    except BaseException:
        fp.close()
        raise
    if digest != photo.sha256:
        fp.close()
        raise Damaged("photo_file_damaged", photo.id,
                      f"The stored original of photo {photo.id} ({key}) has SHA-256 {digest}, "
                      f"not the photo's {photo.sha256}.")
    return fp, size


def damaged_originals(*, org_id=None, user_id=None, progress=None) -> list[dict]:
    """Stored originals that are missing or no longer match their sha256."""
    query = select(Photo.id, Photo.sha256, Photo.storage_key).order_by(Photo.id).limit(BATCH)
    if org_id is not None:
        query = query.where(Photo.org_id == org_id)
    if user_id is not None:
        query = query.where(Photo.user_id == user_id)
    problems, checked, last = [], 0, None
    while True:  # keyset pages: memory holds one batch of ids, whatever the count
        page = db.session.execute(query if last is None else query.where(Photo.id > last)).all()
        for photo in page:
            try:
                open_stored(photo)[0].close()
            except Damaged as damaged:
                problems.append(damaged.as_problem())
        checked += len(page)
        if progress is not None and page:
            progress(f"photos: {checked} checked, {len(problems)} damaged or missing")
        if len(page) < BATCH:
            return problems
        last = page[-1].id
