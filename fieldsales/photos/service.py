"""Photo evidence: upload (validated, measured, flagged), and the stored bytes.

Files are written first and the row second; any failure after a file was written removes the
files again, so a rejected or failed upload leaves neither a row nor a file. Each attempt
writes under its own key (storage.attempt_key), so removing them never touches a concurrent
retry's files.
"""
import contextlib
import logging
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from fieldsales import audit, idempotency
from fieldsales.errors import (Conflict, DomainError, PayloadTooLarge, ServiceUnavailable,
                               Unprocessable, UnsupportedMediaType)
from fieldsales.extensions import db
from fieldsales.geo import geog, make_point
from fieldsales.orgs.models import Org
from fieldsales.photos import integrity, processing
from fieldsales.photos.models import Photo
from fieldsales.photos.storage import attempt_key, store
from fieldsales.scope import Principal
from fieldsales.visits import flags as rules
from fieldsales.visits import service as visits
from fieldsales.timeutil import iso_utc
from fieldsales.visits.models import Visit

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


def _file_size(stream) -> int:
    stream.seek(0, 2)
    size = stream.tell()
    stream.seek(0)
    return size


def _check_window(visit: Visit, at: datetime):
    if visit.status == "open":
        return
    closed = max(visit.closed_at, visit.out_received_at or visit.closed_at)
    if at > closed + rules.UPLOAD_WINDOW_AFTER_CHECK_OUT:
        raise Conflict("Photos can be added until 2 hours after check-out.",
                       error="upload_window_closed")


_REUSED = text("""
    SELECT EXISTS (SELECT 1 FROM photos
                   WHERE org_id = :org_id AND sha256 = :sha256 AND visit_id <> :visit_id)
        OR (:distinctive AND EXISTS (
              SELECT 1 FROM photos
              WHERE org_id = :org_id AND visit_id <> :visit_id
                AND (phash_b0 = :b0 OR phash_b1 = :b1 OR phash_b2 = :b2 OR phash_b3 = :b3)
                AND bit_count((phash # :phash)::bit(64)) <= :max_distance))
""")


def _is_reused(*, org_id, visit_id, result: processing.Processed) -> bool:
    """The same image (bytes, or a perceptual hash within REUSE_MAX_HAMMING bits) is already on
    another visit of the org. Indexed: sha256, and one of the four hash bands must be equal."""
    b0, b1, b2, b3 = result.phash_bands
    return db.session.scalar(_REUSED, {
        "org_id": org_id, "visit_id": visit_id, "sha256": result.sha256,
        "distinctive": processing.phash_is_distinctive(result.phash),
        "b0": b0, "b1": b1, "b2": b2, "b3": b3, "phash": result.phash_signed,
        "max_distance": processing.REUSE_MAX_HAMMING})


def _far_from_check_in(visit: Visit, gps) -> bool:
    """EXIF position more than 500 m from the check-in point (on the spheroid)."""
    if gps is None:
        return False
    return db.session.scalar(
        select(~func.ST_DWithin(geog(make_point(*gps)), func.geography(Visit.in_geom),
                                rules.PHOTO_MAX_DISTANCE_M))
        .where(Visit.id == visit.id))


def upload_photo(*, principal: Principal, visit_id, file, form: dict,
                 limit_bytes: int | None = None):
    """Attach a photo to the caller's visit. Returns (photo, created). `limit_bytes`: the
    org's limit when the caller has read it already (the view does, before the body)."""
    visit = principal.scope.get(Visit, visit_id, principal.scope.visits())
    principal.scope.require_visit_rep(visit)
    received_at = visits.now()
    _check_window(visit, received_at)
    limit = limit_bytes or upload_limit_bytes(principal=principal)
    stream = file.stream
    if _file_size(stream) > limit:
        raise PayloadTooLarge(f"The photo is larger than {limit // MIB} MB.")
    sha256, size = processing.sha256_of(stream)
    data = {"id": form.get("id"), "visit_id": str(visit.id), "sha256": sha256,
            "source": form.get("source", "camera")}
    if not data["id"]:
        data.pop("id")
    # The same bytes on this visit again (a retry, whatever its id): the photo already there.
    if (existing := _same_bytes(visit.id, sha256)) is not None:
        return existing, False
    if (existing := idempotency.replay(Photo, data.get("id"), principal=principal, data=data)):
        return existing, False
    try:
        result = processing.process(stream, default_tz=principal.timezone,
                                    digest=(sha256, size))
    except processing.UnsupportedType as exc:
        raise UnsupportedMediaType(str(exc), error="unsupported_media_type") from None
    except processing.ImageTooLarge as exc:
        raise Unprocessable(str(exc), error="image_too_large") from None
    except processing.InvalidImage as exc:
        raise Unprocessable(str(exc), error="invalid_image") from None

    written = []

    def write():
        photo = idempotency.stamp(Photo(org_id=principal.org_id, visit_id=visit.id,
                                        user_id=visit.user_id), principal=principal, data=data)
        photo.storage_key = attempt_key(principal.org_id, photo.id)
        locked = db.session.scalar(select(Visit).where(Visit.id == visit.id).with_for_update()
                                   .execution_options(populate_existing=True))
        photo_flags = rules.photo_flags(
            reused=_is_reused(org_id=principal.org_id, visit_id=visit.id, result=result),
            taken_at=result.taken_at, exif_distance_beyond_500m=_far_from_check_in(
                locked, result.gps),
            has_gps=result.gps is not None, source=data["source"], visit_start=locked.in_at,
            visit_end=locked.closed_at or received_at)
        photo.sha256, photo.content_type = result.sha256, result.content_type
        photo.width, photo.height, photo.byte_size = result.width, result.height, result.byte_size
        photo.taken_at = result.taken_at
        photo.exif_lat, photo.exif_lng = result.gps or (None, None)
        photo.source, photo.flags = data["source"], rules.merge(photo_flags)
        photo.phash = result.phash_signed
        photo.phash_b0, photo.phash_b1, photo.phash_b2, photo.phash_b3 = result.phash_bands
        _write_files(photo.storage_key, stream, result, written)
        db.session.add(photo)
        db.session.flush()  # a duplicate (same bytes, same visit) fails here, before the audit
        EVIDENCE.seal(photo, action="photo.uploaded", actor_id=principal.id,
                      data={"visit_id": visit.id, "sha256": photo.sha256, "flags": photo.flags})
        if visits.add_flags(locked, photo.flags):
            visits.seal(locked, action="visit.photo_flags", actor_id=principal.id,
                        data={"photo_id": photo.id})
        return photo

    try:
        photo, created = idempotency.create(Photo, principal=principal, data=data, write=write)
    except IntegrityError as exc:
        _remove(written)
        if idempotency.is_unique_violation(exc, "uq_photos_visit_id_sha256") and (
            (existing := _same_bytes(visit.id, sha256)) is not None
        ):
            return existing, False
        raise
    except BaseException:
        _remove(written)
        raise
    if not created:  # a concurrent retry won: its row names its own files, these are ours
        _remove(written)
    return photo, created


def _same_bytes(visit_id, sha256):
    return db.session.scalar(select(Photo).where(Photo.visit_id == visit_id,
                                                 Photo.sha256 == sha256))


def _write_files(key, stream, result, written):
    photos = store()
    try:
        for variant, write in (("original", lambda k: photos.put_file(k, stream)),
                               ("preview", lambda k: photos.put_bytes(k, result.preview)),
                               ("thumbnail", lambda k: photos.put_bytes(k, result.thumbnail))):
            written.append(f"{key}/{variant}")
            write(f"{key}/{variant}")
    except OSError as exc:
        # Full disk, read-only or missing folder: the phone should retry later, and the
        # caller removes what was written, so no photo row or file is left behind.
        log.error("photo store write failed: %s", exc.__class__.__name__, exc_info=exc)
        raise ServiceUnavailable("Photo storage is unavailable; retry later.",
                                 error="storage_unavailable", headers={"Retry-After": "30"}) \
            from None


def _remove(keys):
    photos = store()
    for key in reversed(keys):
        with contextlib.suppress(OSError):  # best effort: the folder may be what failed
            photos.delete(key)
    keys.clear()


def get_photo(*, principal: Principal, photo_id):
    """One visible photo (visible with its visit)."""
    return principal.scope.get(Photo, photo_id, principal.scope.photos())


class PhotoDamaged(DomainError):
    status, error = 500, "photo_damaged"
    message = "The stored photo file is damaged or missing; it has been logged."


def open_photo(*, principal: Principal, photo_id, variant: str):
    """(photo, file, size, content type) of a visible photo's original (only when its SHA-256 is
    still the photo's), preview or thumbnail."""
    photo = get_photo(principal=principal, photo_id=photo_id)
    try:
        stream, size = integrity.open_stored(photo, variant)
    except integrity.Damaged as exc:
        log.error("photo file damaged: %s", exc.detail,
                  extra={"photo_id": str(photo.id), "org_id": str(photo.org_id),
                         "problem": exc.kind})
        raise PhotoDamaged() from None
    return photo, stream, size, VARIANTS[variant] or photo.content_type
