"""Photo evidence: upload (validated, measured, flagged), and the stored bytes.

An upload is two statements after its body (writes.py): the visit and audit head locked with
every lookup, then the row with its audit entries and the job that makes its preview and
thumbnail (derivatives.py; a GET that comes first makes them itself). The original is written
first and the row second;
any failure after a file was written removes the files again, so a rejected or failed upload
leaves neither a row nor a file. Each attempt writes under its own key (storage.attempt_key),
so removing them never touches a concurrent retry's files.
"""
import contextlib
import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from fieldsales import audit, idempotency
from fieldsales.errors import (Conflict, DomainError, NotFound, PayloadTooLarge,
                               ServiceUnavailable, Unprocessable, UnsupportedMediaType)
from fieldsales.extensions import db
from fieldsales.orgs.models import Org
from fieldsales.photos import derivatives, integrity, processing, writes
from fieldsales.photos.models import Photo
from fieldsales.photos.storage import Spool, Unavailable, attempt_key, store
from fieldsales.scope import Principal
from fieldsales.visits import flags as rules
from fieldsales.visits import service as visits
from fieldsales.timeutil import iso_utc

log = logging.getLogger(__name__)

MIB = 1024 * 1024
VARIANTS = {"original": None, "preview": "image/jpeg", "thumbnail": "image/jpeg"}



def evidence(p: Photo, version=audit.EVIDENCE_VERSION) -> dict:
    """The photo's evidence fields, as sealed in the audit chain (in `version`'s form)."""
    fields = {"photo_id": str(p.id), "org_id": str(p.org_id), "visit_id": str(p.visit_id),
              "user_id": str(p.user_id), "sha256": p.sha256, "content_type": p.content_type,
              "width": p.width, "height": p.height, "bytes": p.byte_size,
              "taken_at": iso_utc(p.taken_at, zulu=False), "exif_lat": p.exif_lat,
              "exif_lng": p.exif_lng,
              "source": p.source, "flags": list(p.flags), "phash": p.phash,
              "storage_key": p.storage_key}
    if version >= 2:
        fields["created_at"] = iso_utc(p.created_at, zulu=False)
    return fields


EVIDENCE = audit.Evidence("photo", Photo.__table__, evidence)


def upload_limit_bytes(*, principal: Principal) -> int:
    """The org's photo size limit (photo_max_mb) in bytes."""
    return db.session.scalar(select(Org.photo_max_mb).where(Org.id == principal.org_id)) * MIB


def check_window(visit, at: datetime):
    if visit.status == "open":
        return
    closed = max(visit.closed_at, visit.out_received_at or visit.closed_at)
    if at > closed + rules.UPLOAD_WINDOW_AFTER_CHECK_OUT:
        raise Conflict("Photos can be added until 2 hours after check-out.",
                       error="upload_window_closed")


def _process(spool: Spool, *, limit: int, principal: Principal):
    """(result, None) or (None, the error to answer once the visit checks have passed)."""
    if spool.size > limit:
        return None, PayloadTooLarge(f"The photo is larger than {limit // MIB} MB.")
    try:
        return processing.process(spool, default_tz=principal.timezone,
                                  digest=(spool.sha256, spool.size)), None
    except processing.UnsupportedType as exc:
        return None, UnsupportedMediaType(str(exc), error="unsupported_media_type")
    except processing.ImageTooLarge as exc:
        return None, Unprocessable(str(exc), error="image_too_large")
    except processing.InvalidImage as exc:
        return None, Unprocessable(str(exc), error="invalid_image")


class _SameBytes(Exception):  # noqa: N818 (a signal out of the unit of work, not an error)
    def __init__(self, photo):
        self.photo = photo


def upload_photo(*, principal: Principal, visit_id, file, form: dict, limit_bytes: int,
                 sha256=None, problem=None):
    """Attach a photo to the caller's visit. Returns (photo, created). `file.stream` is the
    spool the body was received into (storage.spooling); `limit_bytes` the org's limit. A
    direct upload (direct.finalise) passes the declared `sha256`, and the `problem` its object
    has (missing, mismatching): answered after the visit's checks, as the image's own are."""
    received_at = visits.now()
    spool = file.stream
    sha256 = sha256 or spool.sha256
    data = {"id": form.get("id"), "visit_id": str(visit_id), "sha256": sha256,
            "source": form.get("source", "camera")}
    if not data["id"]:
        data.pop("id")
    # The image is read before the visit is locked: the lock statement needs its perceptual
    # hash and position, and no lock waits on the decoding. Its verdict is answered only after
    # the visit's own checks, in the order they always had; a retry of the same bytes pays
    # the decoding it used to skip, for one statement less on every new photo.
    result, problem = (None, problem) if problem else _process(spool, limit=limit_bytes,
                                                                principal=principal)
    written = []

    def write():
        locked = writes.lock_own_visit(principal=principal, visit_id=visit_id,
                                       sha256=sha256, client_id=data.get("id"),
                                       result=result)
        if locked is None:  # not the caller's visit: 404 if it cannot see it, else 403
            visit = visits.get_visit(principal=principal, visit_id=visit_id)
            principal.scope.require_visit_rep(visit)
            raise NotFound("Visit not found.")  # not reached: an own visit is found above
        visit = locked.visit
        check_window(visit, received_at)
        if isinstance(problem, PayloadTooLarge):
            raise problem
        if locked.same_bytes:
            raise _SameBytes(locked.photo)
        if locked.photo is not None:
            raise idempotency.DuplicateId()  # the id is taken: create() answers from its row
        if problem is not None:
            raise problem
        photo = _new_photo(principal=principal, visit=visit, data=data, result=result,
                           locked=locked, received_at=received_at)
        _write_files(photo.storage_key, spool, written)
        EVIDENCE.seal(photo, action="photo.uploaded", actor_id=principal.id,
                      data={"visit_id": visit.id, "sha256": photo.sha256, "flags": photo.flags})
        changed = visits.add_flags(visit, photo.flags)
        if changed:
            visits.seal(visit, action="visit.photo_flags", actor_id=principal.id,
                        data={"photo_id": photo.id})
        writes.insert(photo, visit=visit if changed else None, job=derivatives.deferred(photo))
        return photo

    try:
        photo, created = idempotency.create(Photo, principal=principal, data=data, write=write,
                                            look_first=False)
    except _SameBytes as same:
        return same.photo, False
    except IntegrityError as exc:
        _remove(written)
        if idempotency.is_unique_violation(exc, "uq_photos_org_id_visit_id_sha256") and (
            (existing := _same_bytes(visit_id, sha256)) is not None
        ):
            return existing, False
        raise
    except BaseException:
        _remove(written)
        raise
    if not created:  # a concurrent retry won: its row names its own files, these are ours
        _remove(written)
    return photo, created


def _new_photo(*, principal, visit, data, result, locked, received_at) -> Photo:
    """The new row (not added to the session: writes.insert writes it), flags computed."""
    photo = idempotency.stamp(Photo(org_id=principal.org_id, visit_id=visit.id,
                                    user_id=visit.user_id), principal=principal, data=data)
    photo.storage_key = attempt_key(principal.org_id, photo.id)
    photo_flags = rules.photo_flags(
        reused=locked.reused, taken_at=result.taken_at,
        exif_distance_beyond_500m=bool(result.gps and locked.far),
        has_gps=result.gps is not None, source=data["source"], visit_start=visit.in_at,
        visit_end=visit.closed_at or received_at)
    photo.created_at = locked.now  # what the column default would write, needed for the seal
    photo.sha256, photo.content_type = result.sha256, result.content_type
    photo.width, photo.height, photo.byte_size = result.width, result.height, result.byte_size
    photo.taken_at = result.taken_at
    photo.exif_lat, photo.exif_lng = result.gps or (None, None)
    photo.source, photo.flags = data["source"], rules.merge(photo_flags)
    photo.phash = result.phash_signed
    photo.phash_b0, photo.phash_b1, photo.phash_b2, photo.phash_b3 = result.phash_bands
    return photo


def _same_bytes(visit_id, sha256):
    return db.session.scalar(select(Photo).where(Photo.visit_id == visit_id,
                                                 Photo.sha256 == sha256))


def storage_unavailable(exc: OSError) -> ServiceUnavailable:
    """Full disk, read-only or missing folder: the phone should retry later (nothing of the
    upload is kept)."""
    log.error("photo store write failed: %s", exc.__class__.__name__, exc_info=exc)
    return ServiceUnavailable("Photo storage is unavailable; retry later.",
                              error="storage_unavailable", headers={"Retry-After": "30"})


def _write_files(key, spool, written):
    written.append(f"{key}/original")
    try:
        store().put_upload(key, spool, {})  # the derivatives follow (derivatives.py)
    except OSError as exc:
        # the caller removes what was written, so no photo row or file is left behind
        raise storage_unavailable(exc) from None


def _remove(keys):
    photos = store()
    for key in reversed(keys):
        with contextlib.suppress(OSError):  # best effort: the folder may be what failed
            photos.delete(key)
    keys.clear()


def _make_derivatives(photo):
    """The derivatives made on demand; a store that cannot take them answers 503 (retry)."""
    try:
        derivatives.make(photo)
    except OSError as exc:
        raise storage_unavailable(exc) from None


def get_photo(*, principal: Principal, photo_id):
    """One visible photo (visible with its visit)."""
    return principal.scope.get(Photo, photo_id, principal.scope.photos())


class PhotoDamaged(DomainError):
    status, error = 500, "photo_damaged"
    message = "The stored photo file is damaged or missing; it has been logged."


def open_photo(*, principal: Principal, photo_id, variant: str):
    """(photo, file, size, content type) of a visible photo's original (only when its SHA-256 is
    still the photo's), preview or thumbnail (made now if its job has not made it yet)."""
    photo = get_photo(principal=principal, photo_id=photo_id)
    try:
        try:
            stream, size = integrity.open_stored(photo, variant)
        except integrity.Damaged as exc:
            if variant not in derivatives.DERIVED or exc.kind != "photo_file_missing":
                raise
            _make_derivatives(photo)  # its job has not run yet: made now, from the original
            stream, size = integrity.open_stored(photo, variant)
    except Unavailable as exc:  # the bucket (or disk) cannot be read now: retry later
        raise storage_unavailable(exc) from None
    except integrity.Damaged as exc:
        log.error("photo file damaged: %s", exc.detail,
                  extra={"photo_id": str(photo.id), "org_id": str(photo.org_id),
                         "problem": exc.kind})
        raise PhotoDamaged() from None
    return photo, stream, size, VARIANTS[variant] or photo.content_type
