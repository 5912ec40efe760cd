from functools import wraps

from flask import request, send_file
from fieldsales.extensions import Blueprint
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy
from werkzeug.datastructures import CombinedMultiDict

from fieldsales.openapi import replayed, responds
from fieldsales.photos import direct, service
from fieldsales.photos.storage import Unavailable, spooling, store
from fieldsales.photos.schemas import (PhotoFinaliseSchema, PhotoSchema, PhotoUploadSchema,
                                       PhotoUploadUrlResultSchema, PhotoUploadUrlSchema)
from fieldsales.auth.guard import current


class _MultipartParser(FlaskParser):
    """Adds the location `multipart`: form fields and files of one multipart body, read by
    one schema. (flask-smorest documents a single request body per operation, so a `form`
    schema beside a `files` schema would leave `id` and `source` out of the spec.)"""

    __location_map__ = {**FlaskParser.__location_map__, "multipart": "load_multipart"}

    def load_multipart(self, req, schema):
        return MultiDictProxy(CombinedMultiDict([req.files, req.form]), schema)


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _MultipartParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {**Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
                                             "multipart": "multipart/form-data"}


blp = _Blueprint("photos", __name__, url_prefix="/api/v1",
                 description="Photo evidence on visits")

# Room for the multipart framing and the small form fields around the file itself.
MULTIPART_OVERHEAD = 64 * 1024
# The bytes behind a photo id never change: cache for a year, but only in the caller's client.
CACHE_SECONDS = 365 * 86400


def photo_body_limit(view):
    """Raise this request's body limit from the JSON limit to the org's photo limit BEFORE the
    multipart body is parsed: werkzeug then refuses a larger Content-Length at once and stops
    a chunked body as soon as it passes the limit (413). The file part is received straight
    into the photo store (storage.spooling), not into Werkzeug's own temporary file."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        limit = service.upload_limit_bytes(principal=current())
        request.max_content_length = limit + MULTIPART_OVERHEAD
        with spooling(store()) as factory:
            # Werkzeug's per-request hook for file parts (normally a subclass's method).
            request._get_file_stream = factory  # noqa: SLF001
            try:
                return view(*args, limit_bytes=limit, **kwargs)
            except Unavailable as exc:  # the store refused the body while it was received
                raise service.storage_unavailable(exc) from None
    return wrapper


def or_finalise(view):
    """A JSON body finalises a direct upload (PhotoFinaliseSchema, direct.finalise); any other
    body is the multipart upload of `view`."""
    @wraps(view)
    def wrapper(visit_id):
        if request.mimetype != "application/json":
            return view(visit_id=visit_id)
        body = blp.ARGUMENTS_PARSER.parse(PhotoFinaliseSchema(), request, location="json")
        principal = current()
        photo, created = direct.finalise(
            principal=principal, visit_id=visit_id, body=body,
            limit_bytes=service.upload_limit_bytes(principal=principal))
        return photo, 201 if created else 200
    return wrapper


@blp.post("/visits/<uuid:visit_id>/photos")
@blp.response(201, PhotoSchema)
@replayed(blp, PhotoSchema)
@responds(blp, 403, 413, 415, "upload_window_closed", "image_too_large", "invalid_image",
          "storage_unavailable", "direct_upload_unavailable", "upload_missing",
          "upload_mismatch")
@blp.doc(requestBody={"required": True,
                      "content": {"application/json": {"schema": PhotoFinaliseSchema}}})
@or_finalise
@photo_body_limit
@blp.arguments(PhotoUploadSchema, location="multipart")
def upload_photo(upload, visit_id, limit_bytes):
    """Add a photo to the caller's visit (open, or up to 2 h after check-out). The same bytes
    again → 200 with the stored photo. A JSON body `{id, key, source}` instead finalises a
    direct upload (upload-url), with every check of the multipart upload."""
    photo, created = service.upload_photo(principal=current(), visit_id=visit_id,
                                          file=upload.pop("file"), form=upload,
                                          limit_bytes=limit_bytes)
    return photo, 201 if created else 200


@blp.post("/visits/<uuid:visit_id>/photos/upload-url")
@blp.arguments(PhotoUploadUrlSchema)
@blp.response(200, PhotoUploadUrlResultSchema)
@responds(blp, 403, 413, "upload_window_closed", "direct_upload_unavailable",
          "storage_unavailable")
def create_photo_upload_url(body, visit_id):
    """A presigned PUT (S3 photo store) for the caller's visit, bound to the declared SHA-256
    and size: PUT the bytes with the given headers, then finalise with POST
    /visits/{id}/photos `{id, key, source}`. With the folder store: 409."""
    principal = current()
    return direct.upload_url(principal=principal, visit_id=visit_id, body=body,
                             limit_bytes=service.upload_limit_bytes(principal=principal))


@blp.get("/photos/<uuid:photo_id>")
@blp.response(200, PhotoSchema)
def get_photo(photo_id):
    """A photo's metadata (same visibility as its visit)."""
    return service.get_photo(principal=current(), photo_id=photo_id)


def _bytes_response(photo_id, variant):
    photo, stream, size, mimetype = service.open_photo(principal=current(), photo_id=photo_id,
                                                       variant=variant)
    response = send_file(stream, mimetype=mimetype, etag=f"{photo.sha256}-{variant}",
                         conditional=True, max_age=CACHE_SECONDS)
    response.cache_control.public = False
    response.cache_control.private = True
    response.cache_control.immutable = True
    if response.status_code == 200:
        response.content_length = size
    return response


_BINARY = {"200": {"description": "The image bytes (ETag; If-None-Match → 304)",
                   "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}},
           "304": {"description": "Not modified"}}



@blp.get("/photos/<uuid:photo_id>/original")
@blp.doc(responses=_BINARY)
@responds(blp, "photo_damaged", "storage_unavailable")
def photo_original(photo_id):
    """The uploaded bytes, unchanged (their SHA-256 is the photo's sha256, checked before they
    are sent: a stored file that no longer matches is 500 photo_damaged)."""
    return _bytes_response(photo_id, "original")


@blp.get("/photos/<uuid:photo_id>/preview")
@responds(blp, "photo_damaged", "storage_unavailable")
@blp.doc(responses={**_BINARY, "200": {**_BINARY["200"], "content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
def photo_preview(photo_id):
    """JPEG at most 1280 px, upright, without EXIF (made from the original by a job after the
    upload; a request that comes first makes it)."""
    return _bytes_response(photo_id, "preview")


@blp.get("/photos/<uuid:photo_id>/thumbnail")
@responds(blp, "photo_damaged", "storage_unavailable")
@blp.doc(responses={**_BINARY, "200": {**_BINARY["200"], "content": {
    "image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}})
def photo_thumbnail(photo_id):
    """JPEG at most 320 px, upright, without EXIF (made from the original by a job after the
    upload; a request that comes first makes it)."""
    return _bytes_response(photo_id, "thumbnail")
