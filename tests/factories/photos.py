"""Real camera files (../shared/fixtures/photos), small synthetic images made with Pillow, and
stored photo rows."""
import hashlib
import io
import itertools
import uuid
from pathlib import Path

from PIL import Image

from tests.factories.core import _save

_n = itertools.count(1)

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "photos"
if not FIXTURES.is_dir():  # the worktree layout: /work/<worktree>/tests → /work/shared
    FIXTURES = Path("/work/shared/fixtures/photos")


def fixture(name) -> bytes:
    return (FIXTURES / name).read_bytes()


def dms(value):
    """Decimal degrees → EXIF (degrees, minutes, seconds)."""
    value = abs(value)
    d = int(value)
    m = int((value - d) * 60)
    s = round((value - d - m / 60) * 3600, 4)
    return (float(d), float(m), s)


def make_image(size=(640, 480), *, fmt="JPEG", taken="2026:11:20 10:00:00", offset=None,
               gps=None, orientation=None, seed=0, mode="RGB", quality=90) -> bytes:
    """A picture with a distinctive pattern (`seed` varies it) and the EXIF asked for."""
    im = Image.new(mode, size)
    w, h = size
    # blocks of varying brightness, so perceptual hashes differ between seeds
    import random

    rng = random.Random(seed)
    block = max(8, w // 8)
    for x0 in range(0, w, block):
        for y0 in range(0, h, max(8, h // 8)):
            colour = tuple(rng.randrange(256) for _ in range(len(mode)))
            im.paste(colour if len(colour) > 1 else colour[0],
                     (x0, y0, min(w, x0 + block), min(h, y0 + max(8, h // 8))))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if taken or offset:
        sub = exif.get_ifd(0x8769)
        if taken:
            sub[0x9003] = taken
        if offset:
            sub[0x9011] = offset
    if gps:
        lat, lng = gps
        exif.get_ifd(0x8825).update({1: "N" if lat >= 0 else "S", 2: dms(lat),
                                      3: "E" if lng >= 0 else "W", 4: dms(lng)})
    buf = io.BytesIO()
    kwargs = {"quality": quality} if fmt in ("JPEG", "WEBP") else {}
    im.save(buf, fmt, exif=exif.tobytes(), **kwargs)
    return buf.getvalue()


def photo(visit):
    """A stored photo row of `visit` (no file behind it: for counts and evidence rules)."""
    from fieldsales.photos.models import Photo

    n = next(_n)
    return _save(Photo(
        id=uuid.uuid4(), org_id=visit.org_id, visit_id=visit.id, user_id=visit.user_id,
        sha256=hashlib.sha256(f"photo {n} {uuid.uuid4()}".encode()).hexdigest(),
        content_type="image/jpeg", width=640, height=480, byte_size=1000, source="camera",
        flags=[], phash=n, phash_b0=n, phash_b1=0, phash_b2=0, phash_b3=0,
        storage_key=f"test/{n}"))
