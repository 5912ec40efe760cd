"""The S3 store's own failure: an endpoint that does not answer is the folder store's failed
disk (503 storage_unavailable with Retry-After, on upload and on read; nothing kept)."""
import uuid

import pytest
from sqlalchemy import func, select

from bench.seaweedfs import _free_ports
from fieldsales.photos.models import Photo
from tests.photos.conftest import stored_files
from tests.photos.test_photos import good_photo, upload


def test_an_s3_endpoint_that_is_down_is_503_and_keeps_nothing(api, world, visit, db, app,
                                                               photo_store, monkeypatch,
                                                               photo_dir):
    if photo_store[0] != "s3":
        pytest.skip("the folder store's failures: tests/faults/test_photo_storage.py")
    stored = upload(api, world.rep_east, visit["id"], good_photo(seed=79))
    assert stored.status_code == 201
    monkeypatch.setitem(app.config, "S3_ENDPOINT", f"http://127.0.0.1:{_free_ports(1)[0]}")
    monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    r = upload(api, world.rep_east, visit["id"], good_photo(seed=78))
    assert r.status_code == 503 and r.json["error"] == "storage_unavailable"
    assert r.headers["Retry-After"] == "30"
    r = api.as_(world.rep_east).get(stored.json["urls"]["original"])
    assert r.status_code == 503 and r.json["error"] == "storage_unavailable"
    assert db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 1
    # the first photo's original (its derivatives follow by job), nothing more
    assert len(stored_files(photo_dir)) == 1
