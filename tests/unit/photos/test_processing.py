"""The Pillow pipeline (photos/processing.py), on the real camera files and crafted images.

Expected GPS positions and capture times were read by hand from the files' EXIF (degrees,
minutes, seconds as stored), not from the code under test."""
import hashlib
import io
import random
import struct
import zlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image, ImageChops, ImageStat

from fieldsales.photos import processing as P  # noqa: N812
from tests.factories.photos import FIXTURES, fixture, make_image

SHANGHAI_TZ = "Asia/Shanghai"


def run(data: bytes, tz=SHANGHAI_TZ):
    return P.process(io.BytesIO(data), default_tz=tz)


def derive(data: bytes):
    """Preview and thumbnail of an accepted upload (made from its bytes after the upload)."""
    return P.derivatives(io.BytesIO(data))


def open_jpeg(data):
    im = Image.open(io.BytesIO(data))
    assert im.format == "JPEG"
    return im


# --- the real camera files ------------------------------------------------------------------

# name: (lat, lng) from GPSLatitude/GPSLongitude d/m/s and their refs, checked by hand
GPS = {
    "jpg_gps_DSCN0010.jpg": (43 + 28 / 60 + 2.814 / 3600, 11 + 53 / 60 + 6.456 / 3600),
    "jpg_gps_DSCN0012.jpg": (43 + 28 / 60 + 1.764 / 3600, 11 + 53 / 60 + 7.422 / 3600),
    "jpg_gps_DSCN0021.jpg": (43 + 28 / 60 + 1.494 / 3600, 11 + 53 / 60 + 4.338 / 3600),
    "heic_IMG_5195.HEIC": (39 + 3 / 60 + 4.84 / 3600, -(94 + 17 / 60 + 19.58 / 3600)),
}
TAKEN_LOCAL = {  # DateTimeOriginal without OffsetTimeOriginal: read in the rep's zone
    "jpg_gps_DSCN0010.jpg": datetime(2008, 10, 22, 16, 28, 39),
    "jpg_gps_DSCN0012.jpg": datetime(2008, 10, 22, 16, 29, 49),
    "jpg_gps_DSCN0021.jpg": datetime(2008, 10, 22, 16, 38, 20),
    "jpg_Canon_40D.jpg": datetime(2008, 5, 30, 15, 56, 1),
    "jpg_mobile_jolla.jpg": datetime(2014, 9, 21, 16, 0, 56),
}


@pytest.mark.parametrize("name", sorted(GPS))
def test_gps_is_read_from_exif(name):
    result = run(fixture(name))
    assert result.gps == pytest.approx(GPS[name], abs=1e-6)


@pytest.mark.parametrize("name", sorted(TAKEN_LOCAL))
def test_capture_time_without_offset_is_in_the_reps_zone(name):
    result = run(fixture(name))
    assert result.taken_at == TAKEN_LOCAL[name].replace(tzinfo=ZoneInfo(SHANGHAI_TZ))
    assert run(fixture(name), tz="Europe/Rome").taken_at == TAKEN_LOCAL[name].replace(
        tzinfo=ZoneInfo("Europe/Rome"))


def test_heic_capture_time_uses_offset_time_original():
    result = run(fixture("heic_IMG_5195.HEIC"))
    assert result.taken_at == datetime(2021, 4, 11, 15, 47, 53,
                                       tzinfo=timezone(timedelta(hours=-5)))
    assert result.content_type in ("image/heic", "image/heif")


def test_every_accepted_fixture_is_processed_with_pillows_own_dimensions():
    for path in sorted(FIXTURES.iterdir()):
        if path.suffix.lower() in (".md", ".tiff"):
            continue
        data = path.read_bytes()
        result = run(data)
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
            turned = im.getexif().get(0x0112) in (5, 6, 7, 8)
        assert (result.width, result.height) == ((h, w) if turned else (w, h)), path.name
        assert result.sha256 == hashlib.sha256(data).hexdigest()
        assert result.byte_size == len(data)
        derived = derive(data)
        preview, thumb = open_jpeg(derived.preview), open_jpeg(derived.thumbnail)
        assert max(preview.size) <= 1280 and max(thumb.size) <= 320, path.name
        # aspect ratio kept (within a pixel of rounding)
        assert abs(preview.size[0] / preview.size[1] - result.width / result.height) < 0.02


def test_the_8_megapixel_phone_photo():
    result = run(fixture("jpg_mobile_jolla.jpg"))
    assert (result.width, result.height) == (3264, 2448)
    derived = derive(fixture("jpg_mobile_jolla.jpg"))
    assert open_jpeg(derived.preview).size == (1280, 960)
    assert open_jpeg(derived.thumbnail).size == (320, 240)
    assert result.gps is None


def test_small_heif_without_exif():
    result = run(fixture("heic_samplefilehub.heif"))
    assert result.taken_at is None and result.gps is None
    assert (result.width, result.height) == (640, 426)


def test_malformed_exif_does_not_fail_a_good_image():
    result = run(fixture("jpg_invalid_image00971.jpg"))
    assert (result.width, result.height) == (636, 227)
    assert result.taken_at is None and result.gps is None


def test_garbage_exif_block_is_ignored():
    im = Image.new("RGB", (64, 48), (200, 30, 30))
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=b"Exif\x00\x00MM\x00*\x00\x00\x00\x08\xff\xff\x01\x02garbage")
    result = run(buf.getvalue())
    assert (result.width, result.height) == (64, 48) and result.taken_at is None


def test_tiff_is_unsupported():
    with pytest.raises(P.UnsupportedType):
        run(fixture("tiff_Arbitro.tiff"))


# --- orientation -----------------------------------------------------------------------------

def _diff(a, b):
    return sum(ImageStat.Stat(ImageChops.difference(a.convert("L"), b.convert("L"))).mean)


@pytest.mark.parametrize("name", ["jpg_orientation_landscape_3.jpg",
                                  "jpg_orientation_landscape_6.jpg",
                                  "jpg_orientation_landscape_8.jpg"])
def test_derivatives_are_upright(name):
    """Orientation 1 is upright by definition; the rotated files show the same scene."""
    upright = open_jpeg(derive(fixture("jpg_orientation_landscape_1.jpg")).preview)
    turned = run(fixture(name))
    preview = open_jpeg(derive(fixture(name)).preview)
    assert preview.size == upright.size == (600, 450)
    assert (turned.width, turned.height) == (600, 450)
    # The files differ only in a small label; any wrong orientation is far further away.
    right = _diff(preview, upright)
    for wrong in (Image.Transpose.ROTATE_180, Image.Transpose.FLIP_LEFT_RIGHT,
                  Image.Transpose.FLIP_TOP_BOTTOM):
        assert right * 2 < _diff(preview.transpose(wrong), upright)


def test_portrait_orientation_6():
    result = run(fixture("jpg_orientation_portrait_6.jpg"))
    assert (result.width, result.height) == (450, 600)
    derived = derive(fixture("jpg_orientation_portrait_6.jpg"))
    assert open_jpeg(derived.preview).size == (450, 600)
    assert open_jpeg(derived.thumbnail).size == (240, 320)


def test_derivatives_carry_no_exif_or_comments():
    data = make_image(taken="2026:11:20 10:00:00", gps=(31.2304, 121.4737), orientation=1)
    im = Image.open(io.BytesIO(data))
    buf = io.BytesIO()
    im.save(buf, "JPEG", exif=im.info["exif"], comment=b"secret comment")
    result = derive(buf.getvalue())
    for derived in (result.preview, result.thumbnail):
        out = open_jpeg(derived)
        assert not out.getexif() and "exif" not in out.info and "comment" not in out.info
        assert b"Exif\x00\x00" not in derived and b"secret" not in derived


# --- crafted inputs --------------------------------------------------------------------------

def test_offset_time_original_is_honoured():
    result = run(make_image(taken="2026:11:20 10:00:00", offset="+02:00"))
    assert result.taken_at == datetime(2026, 11, 20, 8, 0, tzinfo=timezone(timedelta(0)))


def test_png_with_alpha_and_webp():
    png = run(make_image((300, 200), fmt="PNG", mode="RGBA", taken=None))
    assert png.content_type == "image/png" and (png.width, png.height) == (300, 200)
    assert open_jpeg(derive(make_image((300, 200), fmt="PNG", mode="RGBA", taken=None))
                     .preview).mode == "RGB"
    webp = run(make_image((300, 200), fmt="WEBP", taken=None))
    assert webp.content_type == "image/webp"


def test_truncated_jpeg_is_invalid():
    data = fixture("jpg_gps_DSCN0010.jpg")
    with pytest.raises(P.InvalidImage):
        run(data[: len(data) // 2])


def test_jpeg_signature_followed_by_garbage_is_invalid():
    with pytest.raises(P.InvalidImage):
        run(b"\xff\xd8\xff\xe0" + b"\x00garbage" * 100)


def test_unknown_bytes_are_unsupported():
    with pytest.raises(P.UnsupportedType):
        run(b"%PDF-1.7 not an image at all")
    with pytest.raises(P.UnsupportedType):
        run(b"")


def _png_claiming(width, height):
    """A tiny valid PNG whose header claims width x height (the pixel data never decodes)."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 8  # signature, then length + type of the IHDR chunk
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[12:ihdr + 13]))
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


# The app turns DecompressionBombWarning into an error at import; pytest resets warning filters
# per test, so the marker restores that policy here (96 MP is between Pillow's warning and
# error thresholds, 1.6 GP beyond its error threshold).
@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("size", [(10_000, 5_001), (12_000, 8_000), (40_000, 40_000)])
def test_more_than_50_megapixels_is_rejected_before_decoding(size):
    with pytest.raises(P.ImageTooLarge):
        run(_png_claiming(*size))


def test_50_megapixels_exactly_passes_the_size_check():
    # 10000 x 5000 is allowed by the size rule; its (absent) pixel data then fails to decode.
    with pytest.raises(P.InvalidImage):
        run(_png_claiming(10_000, 5_000))


# --- truncated containers (issue 10, observation 2) -----------------------------------------

CUTS = (0.33, 0.66, 0.95)


@pytest.mark.parametrize("name", ["heic_IMG_5195.HEIC", "heic_samplefilehub.heif"])
@pytest.mark.parametrize("fraction", CUTS)
def test_a_cut_heic_or_heif_is_invalid(name, fraction):
    data = fixture(name)
    with pytest.raises(P.InvalidImage):
        run(data[: int(len(data) * fraction)])


def _top_level_boxes(data):
    """(type, end) of the ISOBMFF top-level boxes, read by hand."""
    out, offset = [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        if size == 1:  # 64-bit size after the type
            size = struct.unpack(">Q", data[offset + 8:offset + 16])[0]
        offset += size
        out.append((kind, offset))
    return out


def test_a_heic_cut_exactly_after_its_meta_box_is_invalid():
    data = fixture("heic_IMG_5195.HEIC")
    boxes = _top_level_boxes(data)
    assert [kind for kind, _ in boxes] == [b"ftyp", b"meta", b"mdat"]
    with pytest.raises(P.InvalidImage):
        run(data[: boxes[1][1]])


def _noise_frames(count, size=(160, 120)):
    """Frames of random pixels: each compresses to its own share of the file."""
    rng = random.Random(count)
    return [Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
            for _ in range(count)]


def _animation(fmt, count=5):
    frames = _noise_frames(count)
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100, loop=0,
                   **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_whole_animation_is_accepted(fmt):
    data = _animation(fmt)
    assert Image.open(io.BytesIO(data)).n_frames == 5
    assert run(data).sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
@pytest.mark.parametrize("fraction", CUTS)
def test_a_cut_animation_is_invalid(fmt, fraction):
    data = _animation(fmt)
    cut = data[: int(len(data) * fraction)]
    with pytest.raises(P.InvalidImage):
        run(cut)


def test_an_apng_whose_last_frame_is_cut_is_invalid_though_frame_one_decodes():
    data = _animation("PNG")
    cut = data[: len(data) - 2000]
    first = Image.open(io.BytesIO(cut))
    first.load()  # frame 1 is whole: only decoding the other frames finds the cut
    with pytest.raises(P.InvalidImage):
        run(cut)


def test_frames_are_bounded_together():
    """An APNG claiming 60 frames of 4 MP (240 MP to decode) is refused before decoding."""
    frames = [Image.new("RGB", (2000, 2000), (i * 80, 0, 0)) for i in range(2)]
    buf = io.BytesIO()
    frames[0].save(buf, "PNG", save_all=True, append_images=frames[1:])
    data = bytearray(buf.getvalue())
    at = data.index(b"acTL")  # length(4) "acTL" num_frames(4) num_plays(4) crc(4)
    data[at + 4:at + 8] = struct.pack(">I", 60)
    data[at + 12:at + 16] = struct.pack(">I", zlib.crc32(bytes(data[at:at + 12])))
    assert Image.open(io.BytesIO(bytes(data))).n_frames == 60
    with pytest.raises(P.ImageTooLarge):
        run(bytes(data))


def _mpo(size=(800, 600)):
    first, depth = _noise_frames(2, size)
    buf = io.BytesIO()
    first.save(buf, format="MPO", save_all=True, append_images=[depth])
    return buf.getvalue()


def test_a_multi_picture_jpeg_is_a_jpeg():
    data = _mpo()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    result = run(data)
    assert result.content_type == "image/jpeg"
    assert (result.width, result.height) == (800, 600)
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_a_multi_picture_jpeg_with_its_second_picture_cut_is_invalid():
    data = _mpo()
    cut = data[: int(len(data) * 0.8)]
    with Image.open(io.BytesIO(cut)) as first:
        first.load()  # the first picture is whole
    with pytest.raises(P.InvalidImage):
        run(cut)


# --- hashes ----------------------------------------------------------------------------------

def test_perceptual_hash_survives_reencoding_and_tells_pictures_apart():
    a = make_image((800, 600), seed=1, quality=95)
    a_again = Image.open(io.BytesIO(a)).resize((640, 480))
    buf = io.BytesIO()
    a_again.save(buf, "JPEG", quality=60)
    h1, h2 = run(a).phash, run(buf.getvalue()).phash
    assert hashlib.sha256(a).hexdigest() != hashlib.sha256(buf.getvalue()).hexdigest()
    assert bin(h1 ^ h2).count("1") <= P.REUSE_MAX_HAMMING
    others = [run(fixture(n)).phash for n in ("jpg_gps_DSCN0010.jpg", "jpg_gps_DSCN0012.jpg",
                                              "jpg_mobile_jolla.jpg")]
    for other in others:
        assert bin(h1 ^ other).count("1") > 10


def test_bands_split_the_hash_and_near_hashes_share_one():
    value = 0x0123_4567_89AB_CDEF
    assert P.phash_bands(value) == (0x0123, 0x4567, 0x89AB, 0xCDEF)
    near = value ^ (1 << 3) ^ (1 << 20) ^ (1 << 40)  # 3 bits flipped in 3 different bands
    shared = [a == b for a, b in zip(P.phash_bands(value), P.phash_bands(near), strict=True)]
    assert shared.count(True) == 1


def test_signed_storage_round_trips():
    result = run(make_image(seed=3))
    assert -(1 << 63) <= result.phash_signed < (1 << 63)
    assert result.phash_signed & ((1 << 64) - 1) == result.phash


def test_a_heif_padded_with_thousands_of_boxes_is_refused():
    """Real files have a handful of top-level boxes; walking millions of tiny ones would cost
    seconds of a worker. A few trailing `free` boxes are fine, thousands are not."""
    data = fixture("heic_samplefilehub.heif")
    free = struct.pack(">I4s", 8, b"free")
    assert run(data + free * 3).width == 640
    with pytest.raises(P.InvalidImage):
        run(data + free * 5000)
