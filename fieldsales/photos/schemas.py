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
