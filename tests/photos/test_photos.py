"""Photo evidence through the API, with the real camera files (../shared/fixtures/photos).

Expected values come from Pillow in the test itself or from the README/EXIF read by hand."""
import hashlib
import io
import json
import os
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from sqlalchemy import func, select, text, update

from fieldsales.audit.service import verify_chain
from fieldsales.orgs.models import Org
from fieldsales.photos.models import Photo
from fieldsales.visits.models import Visit
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.photos.conftest import stored_files
from tests.factories.photos import FIXTURES, fixture, make_image
from tests.visits.helpers import SHANGHAI, ago, check_in_body, check_out_body, offset

ACCEPTED = sorted(p.name for p in FIXTURES.iterdir() if p.suffix.lower() in
                  (".jpg", ".heic", ".heif"))
PHOTO_KEYS = {"id", "visit_id", "sha256", "content_type", "width", "height", "bytes",
              "taken_at", "exif_location", "source", "flags", "created_at", "urls"}


def upload(api, user, visit_id, data, name="photo.jpg", **form):
    body = {"file": (io.BytesIO(data), name), **form}
    return api.as_(user).post(f"/api/v1/visits/{visit_id}/photos", data=body,
                              content_type="multipart/form-data")


@pytest.fixture
def shop(world):
    return factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])


@pytest.fixture
def visit(api, world, shop):
    r = api.as_(world.rep_east).post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=20)))
    return r.json


def local_now_exif():
    return datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y:%m:%d %H:%M:%S")


def good_photo(seed=1, point=SHANGHAI, **kw):
    return make_image(seed=seed, taken=local_now_exif(), gps=point, **kw)


# --- the real files --------------------------------------------------------------------------

def test_the_fixture_folder_is_there():
    assert len(ACCEPTED) == 13 and (FIXTURES / "tiff_Arbitro.tiff").is_file()


@pytest.mark.parametrize("name", ACCEPTED)
def test_every_camera_file_is_accepted_as_the_readme_says(api, world, visit, name):
    data = fixture(name)
    r = upload(api, world.rep_east, visit["id"], data, name=name)
    assert r.status_code == 201, r.json
    p = r.json
    assert set(p) == PHOTO_KEYS
    with Image.open(io.BytesIO(data)) as im:
        w, h = im.size
        turned = im.getexif().get(0x0112) in (5, 6, 7, 8)
        pillow_type = im.get_format_mimetype()
    assert (p["width"], p["height"]) == ((h, w) if turned else (w, h))
    assert p["sha256"] == hashlib.sha256(data).hexdigest() and p["bytes"] == len(data)
    assert p["content_type"] == pillow_type
    assert p["visit_id"] == visit["id"] and p["source"] == "camera"
    assert p["urls"] == {k: f"/api/v1/photos/{p['id']}/{k}"
                         for k in ("original", "preview", "thumbnail")}
    rep = api.as_(world.rep_east)
    original = rep.get(p["urls"]["original"])
    assert original.status_code == 200 and original.data == data
    assert hashlib.sha256(original.data).hexdigest() == p["sha256"]
    for variant, limit in (("preview", 1280), ("thumbnail", 320)):
        got = rep.get(p["urls"][variant])
        assert got.status_code == 200 and got.mimetype == "image/jpeg"
        im = Image.open(io.BytesIO(got.data))
        assert im.format == "JPEG" and max(im.size) <= limit and not im.getexif()
        # upright: same orientation (landscape/portrait) as the reported dimensions
        assert (im.size[0] >= im.size[1]) == (p["width"] >= p["height"])


def test_tiff_is_415_and_leaves_nothing(api, world, visit, db, photo_dir):
    r = upload(api, world.rep_east, visit["id"], fixture("tiff_Arbitro.tiff"), name="a.jpg")
    assert r.status_code == 415 and r.json["error"] == "unsupported_media_type"
    assert db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 0
    assert stored_files(photo_dir) == []


def test_gps_fixture_reads_position_and_time(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], fixture("jpg_gps_DSCN0010.jpg")).json
    # N 43° 28' 2.814", E 11° 53' 6.456" (read by hand); 2008-10-22 16:28:39, no offset → the
    # rep's zone (org A: Asia/Shanghai, UTC+8)
    assert p["exif_location"]["lat"] == pytest.approx(43.4674483, abs=1e-6)
    assert p["exif_location"]["lng"] == pytest.approx(11.8851267, abs=1e-6)
    assert p["taken_at"] == "2008-10-22T08:28:39Z"
    # Arezzo is far from Shanghai and 2008 is long before this visit
    assert p["flags"] == ["photo_location_mismatch", "photo_time_mismatch"]


def test_heic_with_offset_time(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], fixture("heic_IMG_5195.HEIC"),
               name="IMG_5195.HEIC").json
    assert p["taken_at"] == "2021-04-11T20:47:53Z"  # 15:47:53 at -05:00
    assert p["exif_location"]["lng"] < 0


def test_no_metadata_flag_and_visit_flags_follow(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], fixture("heic_samplefilehub.heif"),
               name="s.heif").json
    assert p["flags"] == ["photo_no_metadata"] and p["taken_at"] is None
    v = api.as_(world.rep_east).get(f"/api/v1/visits/{visit['id']}").json
    assert "photo_no_metadata" in v["flags"] and v["risk_score"] > visit["risk_score"]
    assert [x["id"] for x in v["photos"]] == [p["id"]]


def test_malformed_exif_is_accepted_with_what_could_be_read(api, world, visit):
    r = upload(api, world.rep_east, visit["id"], fixture("jpg_invalid_image00971.jpg"))
    assert r.status_code == 201 and (r.json["width"], r.json["height"]) == (636, 227)


# --- flags -----------------------------------------------------------------------------------

def test_a_good_photo_has_no_flags(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], good_photo(point=offset(SHANGHAI, east_m=100)))
    assert p.status_code == 201 and p.json["flags"] == []
    v = api.as_(world.rep_east).get(f"/api/v1/visits/{visit['id']}").json
    assert v["flags"] == visit["flags"] and v["risk_score"] == visit["risk_score"]


def test_photo_location_mismatch_beyond_500m(api, world, visit):
    near = upload(api, world.rep_east, visit["id"], good_photo(1, offset(SHANGHAI, north_m=450)))
    far = upload(api, world.rep_east, visit["id"], good_photo(2, offset(SHANGHAI, north_m=600)))
    assert near.json["flags"] == [] and far.json["flags"] == ["photo_location_mismatch"]


def test_photo_time_mismatch(api, world, visit):
    hours_ago = (datetime.now(ZoneInfo("Asia/Shanghai")) - timedelta(hours=3)).strftime(
        "%Y:%m:%d %H:%M:%S")
    p = upload(api, world.rep_east, visit["id"], make_image(seed=4, taken=hours_ago,
                                                            gps=SHANGHAI))
    assert p.json["flags"] == ["photo_time_mismatch"]
    with_offset = make_image(seed=5, taken=datetime.now(ZoneInfo("Europe/Berlin")).strftime(
        "%Y:%m:%d %H:%M:%S"), offset=datetime.now(ZoneInfo("Europe/Berlin")).strftime("%z")[:3]
        + ":" + datetime.now(ZoneInfo("Europe/Berlin")).strftime("%z")[3:], gps=SHANGHAI)
    assert upload(api, world.rep_east, visit["id"], with_offset).json["flags"] == []


def test_gallery_source(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], good_photo(), source="gallery").json
    assert p["source"] == "gallery" and p["flags"] == ["photo_from_gallery"]
    v = api.as_(world.rep_east).get(f"/api/v1/visits/{visit['id']}").json
    assert "photo_from_gallery" in v["flags"]


def test_reused_photo_exact_and_near_identical(api, world, shop, visit):
    rep = api.as_(world.rep_east)
    original = good_photo(seed=7, size=(800, 600))
    assert upload(api, world.rep_east, visit["id"], original).json["flags"] == []
    second = rep.post("/api/v1/visits", json=check_in_body(shop)).json
    same = upload(api, world.rep_east, second["id"], original).json
    assert same["flags"] == ["photo_reused"]
    # a resized, re-compressed copy (EXIF kept) is the same picture
    im = Image.open(io.BytesIO(original))
    buf = io.BytesIO()
    im.resize((640, 480)).save(buf, "JPEG", quality=70, exif=im.info["exif"])
    assert hashlib.sha256(buf.getvalue()).hexdigest() != same["sha256"]
    copy = upload(api, world.rep_east, second["id"], buf.getvalue()).json
    assert copy["flags"] == ["photo_reused"]
    v = rep.get(f"/api/v1/visits/{second['id']}").json
    assert "photo_reused" in v["flags"] and v["risk_score"] >= 40
    # a different picture is not "reused"
    assert upload(api, world.rep_east, second["id"], good_photo(seed=8)).json["flags"] == []


def test_reuse_is_across_the_org_but_not_across_orgs(api, world, visit):
    data = good_photo(seed=9)
    upload(api, world.rep_east, visit["id"], data)
    west_shop = factories.customer(world.org, world.rep_west, lat=SHANGHAI[0], lng=SHANGHAI[1])
    west_visit = api.as_(world.rep_west).post("/api/v1/visits", json=check_in_body(west_shop)).json
    assert upload(api, world.rep_west, west_visit["id"], data).json["flags"] == ["photo_reused"]
    b_shop = factories.customer(world.org_b, world.rep_b, lat=SHANGHAI[0], lng=SHANGHAI[1])
    b_visit = api.as_(world.rep_b).post("/api/v1/visits", json=check_in_body(b_shop)).json
    assert upload(api, world.rep_b, b_visit["id"], data).json["flags"] == []


# --- idempotency -----------------------------------------------------------------------------

def test_same_bytes_on_the_same_visit_is_200_with_the_stored_photo(api, world, visit, photo_dir):
    data = good_photo()
    first = upload(api, world.rep_east, visit["id"], data)
    files = stored_files(photo_dir)
    again = upload(api, world.rep_east, visit["id"], data, name="renamed.jpg")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json == first.json
    assert stored_files(photo_dir) == files and len(files) == 1  # the original (derivatives follow)


def test_client_id(api, world, visit):
    pid = str(uuid.uuid4())
    data = good_photo(seed=11)
    first = upload(api, world.rep_east, visit["id"], data, id=pid)
    assert first.status_code == 201 and first.json["id"] == pid
    assert upload(api, world.rep_east, visit["id"], data, id=pid).status_code == 200
    other = upload(api, world.rep_east, visit["id"], good_photo(seed=12), id=pid)
    assert other.status_code == 409 and other.json["error"] == "idempotency_conflict"


def test_concurrent_identical_uploads_store_one_photo(app, committed, photo_dir):
    org = factories.org()
    team = factories.team(org)
    rep = factories.user(org, "rep", team)
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app, rep)
    v = client.post("/api/v1/visits", json=check_in_body(shop)).json
    data = good_photo(seed=21)

    def send(i):
        return client.post(f"/api/v1/visits/{v['id']}/photos",
                           data={"file": (io.BytesIO(data), "p.jpg")},
                           content_type="multipart/form-data")

    responses = run_threads(8, send)
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201]
    assert len({r.json["id"] for r in responses}) == 1
    assert committed.scalar(select(func.count()).where(Photo.org_id == org.id)) == 1
    # the losers' originals were removed (the winner's derivatives follow, by its job)
    assert len(stored_files(photo_dir)) == 1
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True


# --- rejections leave nothing ----------------------------------------------------------------

def _png_claiming(width, height):
    import struct
    import zlib

    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize("case, status, error", [
    ("truncated", 422, "invalid_image"), ("garbage_jpeg", 422, "invalid_image"),
    ("pdf", 415, "unsupported_media_type"), ("too_many_pixels", 422, "image_too_large"),
])
def test_rejected_uploads_leave_no_row_and_no_file(api, world, visit, db, photo_dir, case,
                                                   status, error):
    data = {"truncated": fixture("jpg_gps_DSCN0012.jpg")[:40_000],
            "garbage_jpeg": b"\xff\xd8\xff\xe0" + os.urandom(5000),
            "pdf": b"%PDF-1.4\n" + os.urandom(2000),
            "too_many_pixels": _png_claiming(9000, 6000)}[case]
    r = upload(api, world.rep_east, visit["id"], data)
    assert r.status_code == status and r.json["error"] == error
    assert db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 0
    assert stored_files(photo_dir) == []


def test_over_the_org_limit_is_413(api, world, visit, db, photo_dir):
    db.execute(update(Org).where(Org.id == world.org.id).values(photo_max_mb=1))
    db.commit()
    big = os.urandom(1024 * 1024 + 10)  # the body is refused before it is parsed
    r = upload(api, world.rep_east, visit["id"], big)
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
    # just over the limit inside the multipart allowance: caught on the file's own size
    r = upload(api, world.rep_east, visit["id"], b"\xff\xd8\xff" + os.urandom(1024 * 1024))
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
    assert stored_files(photo_dir) == []
    assert upload(api, world.rep_east, visit["id"], good_photo()).status_code == 201


def test_a_failure_after_the_files_were_written_removes_them(api, world, visit, db, photo_dir,
                                                             monkeypatch):
    from fieldsales.audit import service as audit_service

    def broken(**kwargs):
        raise RuntimeError("database went away")

    # The photo's audit entry is appended by audit.Evidence.seal, through audit.service.record.
    monkeypatch.setattr(audit_service, "record", broken)
    r = upload(api, world.rep_east, visit["id"], good_photo())
    assert r.status_code == 500 and r.is_json
    monkeypatch.undo()
    assert db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 0
    assert stored_files(photo_dir) == []


@pytest.mark.parametrize("form", [{}, {"file": "not a file part"}, {"source": "scanner"},
                                  {"id": "not-a-uuid"}, {"rotate": "90"}])
def test_upload_validation(api, world, visit, form):
    if "file" in form or not form:
        r = api.as_(world.rep_east).post(f"/api/v1/visits/{visit['id']}/photos",
                                         data={"source": "camera", **form},
                                         content_type="multipart/form-data")
    else:
        r = upload(api, world.rep_east, visit["id"], good_photo(), **form)
    assert r.status_code == 422


# --- who and when ----------------------------------------------------------------------------

def test_only_the_visits_rep_uploads(api, world, visit):
    for who in (world.mgr_east, world.admin, world.hr):
        assert upload(api, who, visit["id"], good_photo()).status_code == 403
    assert upload(api, world.rep_east2, visit["id"], good_photo()).status_code == 404


def test_upload_window_after_check_out(api, world, visit, db):
    rep = api.as_(world.rep_east)
    rep.post(f"/api/v1/visits/{visit['id']}/check-out", json=check_out_body())
    assert upload(api, world.rep_east, visit["id"], good_photo(seed=1)).status_code == 201
    # move the check-out 2 h 1 min into the past (test-only edit of the row)
    past = datetime.now(ZoneInfo("UTC")) - timedelta(hours=2, minutes=1)
    db.execute(update(Visit).where(Visit.id == uuid.UUID(visit["id"])).values(
        out_received_at=past, out_at=past, closed_at=past,
        in_at=past - timedelta(minutes=30)))
    db.commit()
    r = upload(api, world.rep_east, visit["id"], good_photo(seed=2))
    assert r.status_code == 409 and r.json["error"] == "upload_window_closed"


# --- serving ---------------------------------------------------------------------------------

def test_etag_and_cache_headers(api, world, visit):
    p = upload(api, world.rep_east, visit["id"], good_photo()).json
    rep = api.as_(world.rep_east)
    for variant in ("original", "preview", "thumbnail"):
        r = rep.get(p["urls"][variant])
        assert r.headers["ETag"] and "private" in r.headers["Cache-Control"]
        assert "public" not in r.headers["Cache-Control"]
        assert int(r.headers["Content-Length"]) == len(r.data)
        again = rep.get(p["urls"][variant], headers={"If-None-Match": r.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    assert rep.get(f"/api/v1/photos/{p['id']}").json == p


# --- audit -----------------------------------------------------------------------------------

def _verify(world):
    with factories.APP.app_context():
        return verify_chain(org_id=world.org.id, user_id=world.rep_east.id)


@pytest.mark.parametrize("tamper", [
    "UPDATE photos SET sha256 = repeat('0', 64) WHERE id = :id",
    "UPDATE photos SET flags = '{}' WHERE id = :id",
    # The shifted time comes from a subquery: Citus refuses `col + interval` (a STABLE
    # function of the row) in an UPDATE's SET.
    "UPDATE photos SET taken_at = (SELECT taken_at + interval '1 day' FROM photos "
    "WHERE org_id = :org AND id = :id) WHERE org_id = :org AND id = :id",
    "UPDATE visits SET flags = '{}', risk_score = 0 WHERE id = (SELECT visit_id FROM photos "
    "WHERE id = :id)",
])
def test_editing_a_photo_record_in_sql_breaks_verification(api, world, visit, db, tamper):
    p = upload(api, world.rep_east, visit["id"], fixture("jpg_gps_DSCN0021.jpg")).json
    assert p["flags"] and _verify(world)["ok"] is True
    db.execute(text(tamper), {"id": p["id"], "org": world.org.id})
    result = _verify(world)
    assert result["ok"] is False


def test_upload_is_sealed_with_its_sha256(api, world, visit, db):
    from fieldsales.audit.models import AuditEntry

    p = upload(api, world.rep_east, visit["id"], fixture("jpg_Canon_40D.jpg")).json
    entry = db.scalar(select(AuditEntry).where(AuditEntry.entity_id == uuid.UUID(p["id"])))
    assert entry.action == "photo.uploaded" and entry.user_id == world.rep_east.id
    assert entry.data["sha256"] == p["sha256"] and "evidence_sha256" in entry.data
    assert json.dumps(entry.data)  # stored as plain JSON


def test_a_chunked_upload_is_stopped_once_it_passes_the_limit(api, world, visit, db, photo_dir):
    """No Content-Length (chunked transfer): the limit is enforced while the stream is read."""
    db.execute(update(Org).where(Org.id == world.org.id).values(photo_max_mb=1))
    db.commit()

    class Counting(io.BytesIO):
        """A 20 MB body that counts how much of it the server pulled."""

        served = 0

        def read(self, size=-1):
            data = super().read(size)
            self.served += len(data)
            return data

        def readinto(self, buffer):
            n = super().readinto(buffer)
            self.served += n
            return n

        def readline(self, size=-1):
            data = super().readline(size)
            self.served += len(data)
            return data

    body = Counting(b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"x.jpg\"\r\n"
                    b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff" + b"\x00" * (20 << 20))
    r = api.as_(world.rep_east).post(
        f"/api/v1/visits/{visit['id']}/photos", input_stream=body,
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets for chunked
        headers={"Content-Type": "multipart/form-data; boundary=b",
                 "Transfer-Encoding": "chunked"})
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
    assert body.served < 3 * 1024 * 1024  # it stopped reading soon after the 1 MB limit
    assert stored_files(photo_dir) == []
    # and the org's limit (not the 1 MiB JSON limit) is what applies: 1.5 MB under a 2 MB limit
    db.execute(update(Org).where(Org.id == world.org.id).values(photo_max_mb=2))
    db.commit()
    image = good_photo() + b"\x00" * (1536 * 1024)  # bytes after the JPEG's end are ignored
    ok = api.as_(world.rep_east).post(
        f"/api/v1/visits/{visit['id']}/photos",
        input_stream=io.BytesIO(b"--b\r\nContent-Disposition: form-data; name=\"file\"; "
                                b"filename=\"x.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
                                + image + b"\r\n--b--\r\n"),
        environ_overrides={"wsgi.input_terminated": True},
        headers={"Content-Type": "multipart/form-data; boundary=b",
                 "Transfer-Encoding": "chunked"})
    assert ok.status_code == 201, ok.json
    assert ok.json["bytes"] == len(image)
