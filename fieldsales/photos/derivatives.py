"""A photo's preview and thumbnail, made after the upload has answered: by a job deferred in the
upload's own statement, or on demand by the first GET that finds one missing. Both make them
from the stored original (checked against its sha256) and write them under the photo's key
(`put_bytes`: whole files, atomically), so whichever comes second rewrites the same bytes."""
import logging

import procrastinate
from sqlalchemy import select

from fieldsales.extensions import db
from fieldsales.jobs.context import app_context
from fieldsales.jobs.defer import job_cte
from fieldsales.photos import integrity, processing
from fieldsales.photos.models import Photo
from fieldsales.photos.storage import store

log = logging.getLogger(__name__)

DERIVED = ("preview", "thumbnail")
TASK = "make_derivatives"
NAMESPACE = "photos"
tasks = procrastinate.Blueprint()


def missing(photo) -> bool:
    """Whether a derivative of the photo is not stored yet."""
    photos = store()
    return not all(photos.exists(f"{photo.storage_key}/{name}") for name in DERIVED)


def make(photo) -> bool:
    """Store the photo's derivatives unless both are there; True if it made them. Raises
    integrity.Damaged when the original is missing or no longer the photo's."""
    if not missing(photo):
        return False
    fp, _size = integrity.open_stored(photo, "original")
    with fp:
        derived = processing.derivatives(fp)
    photos = store()
    for name in DERIVED:
        photos.put_bytes(f"{photo.storage_key}/{name}", getattr(derived, name))
    return True


def deferred(photo):
    """The job making `photo`'s derivatives, for the upload's statement (writes.insert)."""
    return job_cte("job", f"{NAMESPACE}:{TASK}",
                   {"org_id": str(photo.org_id), "photo_id": str(photo.id)})


@tasks.task(name=TASK, pass_context=False, retry=procrastinate.RetryStrategy(
    max_attempts=5, exponential_wait=5))
def make_derivatives(org_id: str, photo_id: str) -> bool:
    """The job: make the photo's derivatives (nothing when they exist or the photo is gone)."""
    with app_context():
        photo = db.session.scalar(select(Photo).where(Photo.org_id == org_id,
                                                      Photo.id == photo_id))
        if photo is None:
            return False
        try:
            return make(photo)
        except integrity.Damaged as exc:  # nothing to make them from: GET answers 500 as before
            log.error("photo derivatives not made: %s", exc.detail,
                      extra={"photo_id": photo_id, "org_id": org_id, "problem": exc.kind})
            return False
