"""The stored evidence is whole and what the row says (issue 10, observations 2 and 6): cut
containers are refused, a multi-picture JPEG is a JPEG, and a damaged or missing stored file is
never served."""
import hashlib
import io
import logging
import random
import uuid

import pytest
from PIL import Image
from sqlalchemy import func, select, update

from fieldsales.photos.models import Photo
from tests import factories
from tests.photos.conftest import stored_files
from tests.factories.photos import fixture, make_image
from tests.visits.helpers import SHANGHAI, check_in_body


def upload(api, user, visit_id, data, name="photo.jpg"):
    return api.as_(user).post(f"/api/v1/visits/{visit_id}/photos",
                              data={"file": (io.BytesIO(data), name)},
                              content_type="multipart/form-data")


@pytest.fixture
def visit(api, world):
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return api.as_(world.rep_east).post("/api/v1/visits", json=check_in_body(shop)).json


@pytest.mark.parametrize("name", ["heic_IMG_5195.HEIC", "heic_samplefilehub.heif"])
@pytest.mark.parametrize("fraction", [0.33, 0.66, 0.95])
def test_a_cut_heic_is_422_and_leaves_nothing(api, world, visit, db, photo_dir, name, fraction):
    data = fixture(name)
    r = upload(api, world.rep_east, visit["id"], data[: int(len(data) * fraction)], name=name)
    assert r.status_code == 422 and r.json["error"] == "invalid_image"
    assert db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 0
    assert stored_files(photo_dir) == []


def _animation(fmt):
    rng = random.Random(fmt)
    frames = [Image.frombytes("RGB", (160, 120), rng.randbytes(160 * 120 * 3)) for _ in range(4)]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:], duration=100,
                   **({"lossless": True} if fmt == "WEBP" else {}))
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_a_cut_animation_is_422(api, world, visit, photo_dir, fmt):
    data = _animation(fmt)
    r = upload(api, world.rep_east, visit["id"], data[: int(len(data) * 0.9)], name="a.png")
    assert r.status_code == 422 and r.json["error"] == "invalid_image"
    assert stored_files(photo_dir) == []


def test_a_multi_picture_jpeg_is_stored_unchanged_and_served_as_jpeg(api, world, visit):
    first = Image.frombytes("RGB", (640, 480), random.Random(1).randbytes(640 * 480 * 3))
    depth = Image.new("L", (640, 480), 128).convert("RGB")
    buf = io.BytesIO()
    first.save(buf, format="MPO", save_all=True, append_images=[depth])
    data = buf.getvalue()
    assert Image.open(io.BytesIO(data)).format == "MPO"
    r = upload(api, world.rep_east, visit["id"], data)
    assert r.status_code == 201, r.json
    assert r.json["content_type"] == "image/jpeg"
    original = api.as_(world.rep_east).get(r.json["urls"]["original"])
    assert original.status_code == 200
    assert original.headers["Content-Type"] == "image/jpeg"
    assert original.data == data


# --- a stored file that no longer matches is never served ------------------------------------

def _two_photos(api, world, visit, db):
    photos = []
    for seed in (31, 32):
        r = upload(api, world.rep_east, visit["id"], make_image(seed=seed))
        assert r.status_code == 201
        key = db.scalar(select(Photo.storage_key).where(Photo.id == uuid.UUID(r.json["id"])))
        photos.append((r.json, key))
    return photos


def _assert_damaged(response):
    assert response.status_code == 500
    assert response.is_json and response.json["error"] == "photo_damaged"
    assert "Traceback" not in response.get_data(as_text=True)


def test_an_overwritten_original_is_500_photo_damaged(api, world, visit, db, photo_dir, caplog):
    (damaged, key), (fine, _) = _two_photos(api, world, visit, db)
    (photo_dir / key / "original").write_bytes(make_image(seed=99))
    caplog.set_level(logging.ERROR)
    _assert_damaged(api.as_(world.rep_east).get(damaged["urls"]["original"]))
    assert any(damaged["id"] in record.getMessage() for record in caplog.records)
    r = api.as_(world.rep_east).get(fine["urls"]["original"])
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == fine["sha256"]


def test_a_missing_file_is_500_photo_damaged(api, world, visit, db, photo_dir):
    (first, first_key), (second, second_key) = _two_photos(api, world, visit, db)
    rep = api.as_(world.rep_east)
    assert rep.get(second["urls"]["preview"]).status_code == 200  # made on demand
    (photo_dir / first_key / "original").unlink()
    (photo_dir / second_key / "preview").unlink()
    _assert_damaged(rep.get(first["urls"]["original"]))
    # no original to make them from: the derivatives are damaged too
    _assert_damaged(rep.get(first["urls"]["thumbnail"]))
    assert rep.get(second["urls"]["original"]).status_code == 200
    # a lost derivative is made again from the original (it is not evidence)
    again = rep.get(second["urls"]["preview"])
    assert again.status_code == 200
    assert photo_dir / second_key / "preview" in stored_files(photo_dir)


def test_photo_damaged_is_in_the_openapi_of_original(api):
    spec = api.get("/openapi.json").json
    responses = spec["paths"]["/api/v1/photos/{photo_id}/original"]["get"]["responses"]
    assert "photo_damaged" in responses["500"]["description"]
    assert responses["500"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"}


def test_a_photo_stored_under_the_old_key_scheme_is_still_served(api, world, visit, db, photo_dir):
    """Rows written before per-attempt keys name "<org>/<photo id>"; they are read by their key."""
    (photo, key), _ = _two_photos(api, world, visit, db)
    legacy = f"{world.org.id}/{photo['id']}"
    (photo_dir / key).rename(photo_dir / legacy)
    db.execute(update(Photo).where(Photo.id == uuid.UUID(photo["id"])).values(storage_key=legacy))
    db.commit()
    r = api.as_(world.rep_east).get(photo["urls"]["original"])
    assert r.status_code == 200 and hashlib.sha256(r.data).hexdigest() == photo["sha256"]
    assert api.as_(world.rep_east).get(photo["urls"]["thumbnail"]).status_code == 200
