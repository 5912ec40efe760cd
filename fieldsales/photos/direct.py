"""Direct upload (S3-compatible store only): the phone PUTs the photo straight into the bucket
with a presigned URL, then finalises it, and the server checks the object exactly as a multipart
upload (service.upload_photo: one owner of the checks).

The object's key is derived, not chosen: "direct/<org>/<visit>/<caller>/<photo id>.<sha256>.
<bytes>". The URL is signed for that key, that size and that SHA-256 (the server refuses other
bytes); the finalise call accepts only the key of its own org, visit, caller and photo id, and
reads the object through again (a store that does not enforce the checksum gains nothing). The
object is removed by every finalise call, whatever its answer: nothing of a rejected upload is
kept, and a stored photo no longer needs it.
"""
import contextlib
import re
from types import SimpleNamespace

from flask import current_app

from fieldsales.errors import Conflict, PayloadTooLarge, Unprocessable
from fieldsales.photos import service
from fieldsales.photos.storage import Unavailable, store
from fieldsales.scope import Principal
from fieldsales.visits import service as visits

MIB = service.MIB
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
KEY = re.compile(rf"direct/(?P<owner>{_UUID}/{_UUID}/{_UUID}/{_UUID})\.(?P<sha256>[0-9a-f]{{64}})"
                 r"\.(?P<bytes>[0-9]{1,15})")


def _owner(principal, visit_id, photo_id) -> str:
    return f"{principal.org_id}/{visit_id}/{principal.id}/{photo_id}"


def incoming_key(principal, visit_id, photo_id, sha256: str, size: int) -> str:
    """The only key a direct upload of these bytes, by this caller, to this visit may use."""
    return f"direct/{_owner(principal, visit_id, photo_id)}.{sha256}.{size}"


def _direct_store():
    photos = store()
    if not getattr(photos, "direct_upload", False):
        raise Conflict("Direct upload needs the S3 photo store; send the photo as multipart.",
                       error="direct_upload_unavailable")
    return photos


def upload_url(*, principal: Principal, visit_id, body: dict, limit_bytes: int) -> dict:
    """A presigned PUT for the caller's own open visit, bound to the declared SHA-256 and size."""
    # who may is answered before what the store can do: HR gets 403 on either store
    visit = visits.get_visit(principal=principal, visit_id=visit_id)
    principal.scope.require_visit_rep(visit)
    photos = _direct_store()
    service.check_window(visit, visits.now())
    if body["bytes"] > limit_bytes:
        raise PayloadTooLarge(f"The photo is larger than {limit_bytes // MIB} MB.")
    key = incoming_key(principal, visit_id, body["id"], body["sha256"], body["bytes"])
    try:
        url, headers, expires_at = photos.presigned_put(
            key, sha256_hex=body["sha256"], size=body["bytes"],
            content_type=body["content_type"], ttl_s=current_app.config["S3_UPLOAD_URL_TTL_S"])
    except Unavailable as exc:
        raise service.storage_unavailable(exc) from None
    return {"url": url, "method": "PUT", "headers": headers, "expires_at": expires_at,
            "key": key}


def finalise(*, principal: Principal, visit_id, body: dict, limit_bytes: int):
    """Attach the object a direct upload left under `key` (checked as a multipart upload).
    Returns (photo, created)."""
    photos = _direct_store()
    key = body["key"]
    match = KEY.fullmatch(key)
    bound = match is not None and match["owner"] == _owner(principal, visit_id, body["id"])
    declared = (match["sha256"], int(match["bytes"])) if bound else (None, None)
    spool = photos.spool()
    try:
        if not bound:
            problem = Unprocessable("The key is not one this visit's upload-url gave for this "
                                    "photo id.", error="upload_mismatch")
        else:
            problem = _receive(photos, key, spool, declared, limit_bytes)
        return service.upload_photo(
            principal=principal, visit_id=visit_id, file=SimpleNamespace(stream=spool),
            form={"id": body["id"], "source": body["source"]}, limit_bytes=limit_bytes,
            sha256=declared[0], problem=problem)
    finally:
        spool.close()
        # Whatever the answer, the uploaded object has served: the photo is stored (a
        # concurrent retry that finds it gone answers from that photo), or it was refused.
        if bound:
            with contextlib.suppress(OSError):
                photos.delete(key)


def _receive(photos, key, spool, declared, limit_bytes):
    """The object copied into `spool`; the error to answer if it is missing or not the bytes
    the URL was signed for (None when it is)."""
    sha256, size = declared
    missing = Unprocessable("Nothing was uploaded under this key: PUT the photo to the "
                            "upload-url first.", error="upload_missing")
    try:
        try:
            stored = photos.receive(key, spool, limit=limit_bytes)
        except Unavailable:
            # removed while it was read (a concurrent retry finished): missing, not an outage
            if photos.exists(key):
                raise
            return missing
    except FileNotFoundError:
        return missing
    except Unavailable as exc:
        raise service.storage_unavailable(exc) from None
    if stored > limit_bytes:
        return PayloadTooLarge(f"The photo is larger than {limit_bytes // MIB} MB.")
    if spool.size != size or spool.sha256 != sha256:
        return Unprocessable(f"The uploaded object ({spool.size} bytes, SHA-256 {spool.sha256}) "
                             f"is not the photo declared ({size} bytes, SHA-256 {sha256}).",
                             error="upload_mismatch")
    return None
