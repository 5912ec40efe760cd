import marshmallow as ma
from werkzeug.datastructures import FileStorage

from fieldsales.geo import LatLng
from fieldsales.photos.models import PHOTO_SOURCES
from fieldsales.schemas import Timestamp
from fieldsales.visits.flags import PHOTO_FLAGS


class PhotoUrlsSchema(ma.Schema):
    original = ma.fields.String(metadata={"description": "The uploaded bytes, unchanged"})
    preview = ma.fields.String(metadata={"description": "JPEG <= 1280 px, upright, no EXIF"})
    thumbnail = ma.fields.String(metadata={"description": "JPEG <= 320 px, upright, no EXIF"})


class PhotoSchema(ma.Schema):
    id = ma.fields.UUID()
    visit_id = ma.fields.UUID()
    sha256 = ma.fields.String(metadata={"description": "SHA-256 of the original bytes (hex)"})
    content_type = ma.fields.String(metadata={"description": "Sniffed from the bytes"})
    width = ma.fields.Integer(metadata={"description": "After EXIF orientation"})
    height = ma.fields.Integer(metadata={"description": "After EXIF orientation"})
    bytes = ma.fields.Integer(attribute="byte_size")
    taken_at = Timestamp(allow_none=True, metadata={
        "description": "EXIF DateTimeOriginal (with OffsetTimeOriginal, else read in the rep's "
                       "time zone)"})
    exif_location = ma.fields.Nested(LatLng, allow_none=True, metadata={
        "description": "EXIF GPS position"})
    source = ma.fields.String(metadata={"enum": list(PHOTO_SOURCES)})
    flags = ma.fields.List(ma.fields.String(metadata={"enum": list(PHOTO_FLAGS)}))
    created_at = Timestamp()
    urls = ma.fields.Nested(PhotoUrlsSchema)


class FilePart(ma.fields.Raw):
    """A file part of a multipart body (a text field of the same name is not a file)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send the image as a file part.")
        return value


class PhotoUploadSchema(ma.Schema):
    """The multipart upload: the file and the small form fields beside it."""

    file = FilePart(required=True, metadata={"type": "string", "format": "binary",
                                             "description": "JPEG, PNG, WebP or HEIC/HEIF"})
    id = ma.fields.UUID(metadata={"description": "Optional client-generated id: a retry with the "
                                                 "same id and bytes returns 200"})
    source = ma.fields.String(load_default="camera", validate=ma.validate.OneOf(PHOTO_SOURCES),
                              metadata={"description": "camera (default) or gallery (flags "
                                                       "photo_from_gallery)"})


DIRECT_CONTENT_TYPES = ("image/jpeg", "image/png", "image/webp", "image/heic", "image/heif")


class PhotoUploadUrlSchema(ma.Schema):
    """What the phone declares before a direct upload: the URL is bound to it."""

    id = ma.fields.UUID(required=True, metadata={
        "description": "Client-generated photo id (the finalise call sends it again)"})
    sha256 = ma.fields.String(required=True, validate=ma.validate.Regexp(r"^[0-9a-f]{64}$"),
                              metadata={"description": "SHA-256 of the bytes (lowercase hex)"})
    bytes = ma.fields.Integer(required=True, validate=ma.validate.Range(min=1),
                              metadata={"description": "Size of the bytes"})
    content_type = ma.fields.String(required=True,
                                    validate=ma.validate.OneOf(DIRECT_CONTENT_TYPES))


class PhotoUploadUrlResultSchema(ma.Schema):
    url = ma.fields.String(metadata={"description": "Presigned URL: PUT the bytes here"})
    method = ma.fields.String(metadata={"enum": ["PUT"]})
    headers = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), metadata={
        "description": "Send exactly these headers with the PUT (size and checksum are signed)"})
    expires_at = Timestamp()
    key = ma.fields.String(metadata={"description": "Send it to POST /visits/{id}/photos"})


class PhotoFinaliseSchema(ma.Schema):
    """The JSON body of POST /visits/{id}/photos: finalise a direct upload."""

    id = ma.fields.UUID(required=True, metadata={"description": "The id given to upload-url"})
    key = ma.fields.String(required=True, validate=ma.validate.Length(max=512),
                           metadata={"description": "The key upload-url answered"})
    source = ma.fields.String(load_default="camera", validate=ma.validate.OneOf(PHOTO_SOURCES))
