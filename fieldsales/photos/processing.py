"""The Pillow pipeline for photo evidence: bytes in, result out (no database, no files).

Order matters for memory and safety: the type is sniffed from the first bytes, the image is
opened lazily and its dimensions checked BEFORE any pixel is decoded, and JPEGs are decoded at
a reduced scale (draft). The upload (process) decodes only what its checks need: a JPEG at the
smallest scale still at least thumbnail-sized, enough for the perceptual hash; the preview and
thumbnail are made later from the stored original (derivatives: a job, or on demand).
Malformed EXIF never fails an otherwise good image: whatever cannot be read is treated as
absent.

Nothing incomplete is kept: a HEIF/HEIC must pass the container check (containers.py: libheif
would silently fill missing tiles), and every frame of a multi-frame PNG (APNG), WebP or JPEG
(MPO) is decoded, one at a time (each frame needs no more memory than the first; MPO frames at
the draft scale), not only the first. A full decode, not a completeness check, for these: the
frame data is compressed, so only decoding it proves it is all there.
"""
import contextlib
import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, UTC
from zoneinfo import ZoneInfo

import imagehash
import pillow_heif
import scipy.fftpack  # noqa: F401  (imagehash.phash imports it lazily: ~0.3 s on a cold worker)
from PIL import Image, ImageOps, UnidentifiedImageError

from fieldsales.photos.containers import heif_is_complete

pillow_heif.register_heif_opener()
Image.init()
# Pillow warns (and only warns) between MAX_IMAGE_PIXELS and twice that; for uploads from the
# internet a suspected decompression bomb is an error, never a warning to log and ignore.
warnings.filterwarnings("error", category=Image.DecompressionBombWarning)

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
MAX_PIXELS = 50_000_000
# All frames of an animation or multi-picture file together: bounds the time spent decoding them.
MAX_FRAME_PIXELS = 4 * MAX_PIXELS
# Pillow names a multi-picture JPEG "MPO"; it is a JPEG (its first picture is the photo), and
# clients and browsers know it as one.
CONTENT_TYPES = {"MPO": "image/jpeg"}
PREVIEW_PX = 1280
THUMBNAIL_PX = 320
JPEG_QUALITY = 85
# Two perceptual hashes at most this many bits apart are "the same picture" (re-encoded,
# resized or lightly edited). With the 64-bit hash split into four 16-bit bands, any two hashes
# within 3 bits agree on at least one whole band, which is what makes the lookup indexable.
REUSE_MAX_HAMMING = 3
PHASH_BANDS = 4
# A nearly flat image (a wall, a dark pocket) hashes to almost all zeros or ones and would
# "match" every other flat image; such hashes identify nothing.
PHASH_MIN_BITS, PHASH_MAX_BITS = 6, 58

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_DATETIME_ORIGINAL, _DATETIME_DIGITIZED = 0x9003, 0x9004
_OFFSET_TIME_ORIGINAL, _OFFSET_TIME_DIGITIZED = 0x9011, 0x9012


class PhotoError(Exception):
    """An upload that cannot be accepted."""


class UnsupportedType(PhotoError):
    pass


class InvalidImage(PhotoError):
    pass


class ImageTooLarge(PhotoError):
    pass


@dataclass(frozen=True)
class Processed:
    content_type: str
    width: int  # after EXIF orientation
    height: int
    byte_size: int
    sha256: str
    phash: int  # unsigned 64-bit perceptual hash
    taken_at: datetime | None
    gps: tuple[float, float] | None  # (lat, lng) WGS-84

    @property
    def phash_signed(self) -> int:
        """The hash as PostgreSQL's signed bigint."""
        return self.phash - (1 << 64) if self.phash >= (1 << 63) else self.phash

    @property
    def phash_bands(self) -> tuple[int, ...]:
        return phash_bands(self.phash)


def phash_bands(value: int) -> tuple[int, ...]:
    value &= (1 << 64) - 1
    return tuple((value >> (16 * (PHASH_BANDS - 1 - i))) & 0xFFFF for i in range(PHASH_BANDS))


def phash_is_distinctive(value: int) -> bool:
    return PHASH_MIN_BITS <= bin(value & ((1 << 64) - 1)).count("1") <= PHASH_MAX_BITS


def sniff(prefix: bytes) -> str | None:
    """The accepted format whose signature the leading bytes carry, using Pillow's own format
    checks (the ones Image.open applies), or None."""
    for fmt in ACCEPTED_FORMATS:
        accept = Image.OPEN[fmt][1]
        try:
            if accept is not None and accept(prefix):
                return fmt
        except Exception:  # noqa: S112 (a plugin's check choking on garbage is a "no")
            continue
    return None


def sha256_of(fp, chunk=1 << 20) -> tuple[str, int]:
    """SHA-256 and size of a file object, read in chunks (memory does not grow with size)."""
    digest, size = hashlib.sha256(), 0
    fp.seek(0)
    while block := fp.read(chunk):
        digest.update(block)
        size += len(block)
    fp.seek(0)
    return digest.hexdigest(), size


def process(fp, *, default_tz: str = "UTC", digest: tuple[str, int] | None = None) -> Processed:
    """Validate and read one uploaded image. `fp` is a seekable binary file object.

    Raises UnsupportedType (not JPEG/PNG/WebP/HEIC), ImageTooLarge (> 50 MP or a suspected
    decompression bomb) or InvalidImage (undecodable or truncated). `digest` is
    sha256_of(fp) when the caller already computed it."""
    sha256, size = digest or sha256_of(fp)
    fmt = sniff(fp.read(64))
    fp.seek(0)
    if fmt is None:
        raise UnsupportedType("Only JPEG, PNG, WebP and HEIC/HEIF images are accepted.")
    if fmt == "HEIF" and not heif_is_complete(fp, size):
        raise InvalidImage("The image is incomplete (truncated).")
    try:
        im = Image.open(fp, formats=[fmt])
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageTooLarge(f"The image has more than {MAX_PIXELS // 1_000_000} megapixels.") \
            from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InvalidImage("The image cannot be decoded.") from exc
    with im:
        width, height = im.size
        if width * height > MAX_PIXELS:
            raise ImageTooLarge(f"The image has more than {MAX_PIXELS // 1_000_000} megapixels.")
        frames = getattr(im, "n_frames", 1) if fmt != "HEIF" else 1
        if frames * width * height > MAX_FRAME_PIXELS:
            raise ImageTooLarge(f"The frames have more than {MAX_FRAME_PIXELS // 1_000_000} "
                                "megapixels together.")
        content_type = (CONTENT_TYPES.get(im.format) or im.get_format_mimetype()
                        or f"image/{fmt.lower()}")
        orientation, taken_at, gps = read_exif(im, default_tz=default_tz)
        if orientation in (5, 6, 7, 8):
            width, height = height, width
        try:
            phash = _phash(im, fmt)
            _decode_other_frames(fp, fmt, frames)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ImageTooLarge("The image is too large to decode.") from None
        except Exception as exc:  # truncated data, corrupt codec streams, …
            raise InvalidImage("The image cannot be decoded (truncated or corrupt).") from exc
    return Processed(
        content_type=content_type, width=width, height=height, byte_size=size, sha256=sha256,
        phash=phash, taken_at=taken_at, gps=gps,
    )


def _upright(im, fmt, box):
    """Decode (JPEG at the smallest DCT scale still >= `box`), shrink into `box`, orient
    upright, as RGB without any metadata (no full-size copy)."""
    if fmt == "JPEG":
        im.draft("RGB", (box, box))
    im.thumbnail((box, box))  # loads; raises on truncated data
    # Unreadable orientation: keep the pixels as stored.
    with contextlib.suppress(Exception):
        ImageOps.exif_transpose(im, in_place=True)
    upright = _rgb(im)
    upright.info = {}  # no EXIF, XMP, comments or thumbnails reach the derivatives
    return upright


def _phash(im, fmt) -> int:
    """The perceptual hash of the upright, thumbnail-sized picture: for a JPEG a draft decode
    at up to 1/8 scale (every byte is still decoded, so a cut file still fails)."""
    return int(str(imagehash.phash(_upright(im, fmt, THUMBNAIL_PX))), 16)


@dataclass(frozen=True)
class Derived:
    preview: bytes  # JPEG, <= PREVIEW_PX, upright, no metadata
    thumbnail: bytes  # JPEG, <= THUMBNAIL_PX, upright, no metadata


def derivatives(fp) -> Derived:
    """Preview and thumbnail of an original that passed `process` (the stored file): one
    decode at the preview's scale, the thumbnail shrunk on from the same pixels. The same
    bytes in give the same bytes out, so two makers of one photo's files write the same."""
    fmt = sniff(fp.read(64))
    fp.seek(0)
    with Image.open(fp, formats=[fmt]) as im:
        upright = _upright(im, fmt, PREVIEW_PX)
        preview = _jpeg(upright)
        upright.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
        return Derived(preview=preview, thumbnail=_jpeg(upright))


def _decode_other_frames(fp, fmt, frames):
    """Decode frames 1.. (frame 0 gave the hash); raises on a missing or cut one. APNG and
    WebP frames are decoded in order on one image (each builds on the last); each MPO picture
    on a fresh image, since Pillow applies the JPEG draft scale once per image."""
    if frames < 2:
        return
    if fmt == "JPEG":
        for index in range(1, frames):
            with Image.open(fp, formats=[fmt]) as im:
                im.seek(index)
                im.draft("RGB", (PREVIEW_PX, PREVIEW_PX))
                im.load()
        return
    with Image.open(fp, formats=[fmt]) as im:
        for index in range(1, frames):
            im.seek(index)
            im.load()


def _rgb(im):
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if im.mode.startswith("I") or im.mode == "F":  # 16/32-bit greyscale PNG
        return im.point(lambda v: v / 256).convert("L").convert("RGB")
    return im.convert("RGB")


def _jpeg(im) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=JPEG_QUALITY)
    return buf.getvalue()


# --- EXIF ------------------------------------------------------------------------------------

def read_exif(im, *, default_tz="UTC"):
    """(orientation, taken_at, (lat, lng) | None) from the image's EXIF; anything unreadable
    is treated as absent, never as an error."""
    try:
        exif = im.getexif()
    except Exception:
        return None, None, None
    orientation = _safe(lambda: exif.get(0x0112))
    sub = _safe(lambda: exif.get_ifd(_EXIF_IFD)) or {}
    taken_at = (_exif_time(sub.get(_DATETIME_ORIGINAL), sub.get(_OFFSET_TIME_ORIGINAL), default_tz)
                or _exif_time(sub.get(_DATETIME_DIGITIZED), sub.get(_OFFSET_TIME_DIGITIZED),
                              default_tz))
    gps = _safe(lambda: _gps(exif.get_ifd(_GPS_IFD)))
    return (orientation if isinstance(orientation, int) else None), taken_at, gps


def _safe(fn):
    try:
        return fn()
    except Exception:
        return None


def _text(value):
    if isinstance(value, bytes):
        value = value.decode("ascii", "ignore")
    return value.strip().strip("\x00").strip() if isinstance(value, str) else None


def _exif_time(value, offset, default_tz):
    """EXIF 'YYYY:MM:DD HH:MM:SS' (+ OffsetTime '+08:00'), else in the rep's time zone."""
    text = _text(value)
    if not text:
        return None
    try:
        local = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if local.year < 1990:
        return None
    tz = _offset(_text(offset))
    if tz is None:
        try:
            tz = ZoneInfo(default_tz)
        except Exception:
            tz = UTC
    return local.replace(tzinfo=tz)


def _offset(text):
    if not text or len(text) < 6 or text[0] not in "+-" or text[3] != ":":
        return None
    try:
        hours, minutes = int(text[1:3]), int(text[4:6])
    except ValueError:
        return None
    if hours > 14 or minutes > 59:
        return None
    delta = timedelta(hours=hours, minutes=minutes)
    return timezone(-delta if text[0] == "-" else delta)


def _gps(ifd):
    if not ifd:
        return None
    lat = _degrees(ifd.get(2), _text(ifd.get(1)), "S")
    lng = _degrees(ifd.get(4), _text(ifd.get(3)), "W")
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    if lat == 0 and lng == 0:  # an unset fix, not a photo taken off the coast of Ghana
        return None
    return round(lat, 7), round(lng, 7)


def _degrees(dms, ref, negative_ref):
    if ref is None or dms is None:
        return None
    try:
        parts = [float(x) for x in (dms if isinstance(dms, (tuple, list)) else (dms,))]
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    parts += [0.0] * (3 - len(parts))
    value = parts[0] + parts[1] / 60 + parts[2] / 3600
    if not math.isfinite(value):
        return None
    return -value if ref.upper().startswith(negative_ref) else value
