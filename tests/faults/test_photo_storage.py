"""Photo storage that fails for real (a read-only or a full filesystem): the upload answers a
clear 503 JSON error and leaves no photo row and no file behind."""
import contextlib
import io
import os
import subprocess

import pytest
from sqlalchemy import func, select

from PIL import Image

from fieldsales.photos.models import Photo
from tests import factories
from tests.visits.helpers import SHANGHAI, ago, check_in_body


@contextlib.contextmanager
def tmpfs(path, options):
    """A real tmpfs at `path`; None where this machine does not allow mounting."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)],
                             capture_output=True).returncode == 0
    try:
        yield path if mounted else None
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def store_at(app, monkeypatch):
    def point(folder):
        monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
        monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    yield point
    app.extensions.pop("fieldsales.photo_store", None)


def _upload(api, world, db):
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit = api.as_(world.rep_east).post("/api/v1/visits",
                                         json=check_in_body(shop, at=ago(minutes=5))).json
    before = db.scalar(select(func.count()).select_from(Photo))
    # Random pixels (~1.8 MB as PNG): far more than the 64 KiB "full" disk holds.
    noise = io.BytesIO()
    Image.frombytes("RGB", (1000, 600), os.urandom(1000 * 600 * 3)).save(noise, "PNG")
    r = api.as_(world.rep_east).post(
        f"/api/v1/visits/{visit['id']}/photos", content_type="multipart/form-data",
        data={"file": (io.BytesIO(noise.getvalue()), "p.png")})
    after = db.scalar(select(func.count()).select_from(Photo))
    return r, before, after


def _assert_clean_503(r, before, after, folder):
    assert r.status_code == 503, r.get_data(as_text=True)[:300]
    assert r.is_json and r.json["error"] == "storage_unavailable"
    assert r.headers["Retry-After"]
    assert after == before
    assert [p for p in folder.rglob("*") if p.is_file()] == []


def test_read_only_store(api, world, db, store_at, tmp_path):
    with tmpfs(tmp_path / "ro", "size=1m,ro") as folder:
        if folder is None:  # no mount here: a folder that cannot be created fails the same way
            blocker = tmp_path / "blocker"
            blocker.write_text("a file where the photo folder should be")
            folder = blocker / "photos"
        store_at(folder)
        _assert_clean_503(*_upload(api, world, db), folder if folder.exists() else folder.parent)


def test_full_store(api, world, db, store_at, tmp_path):
    with tmpfs(tmp_path / "full", "size=64k") as folder:
        if folder is None:
            pytest.skip("mounting a small tmpfs is not permitted on this machine")
        store_at(folder)
        r, before, after = _upload(api, world, db)
        _assert_clean_503(r, before, after, folder)


def test_a_derivative_asked_for_on_a_store_gone_read_only_is_503(api, world, db, store_at,
                                                                  tmp_path):
    """The preview is made on demand (its job has not run); the store refuses it: 503 to retry,
    and the original is still served."""
    with tmpfs(tmp_path / "later-ro", "size=8m") as folder:
        if folder is None:
            pytest.skip("mounting a tmpfs is not permitted on this machine")
        store_at(folder)
        r, _, _ = _upload(api, world, db)
        assert r.status_code == 201, r.json
        remounted = subprocess.run(["mount", "-o", "remount,ro", str(folder)],
                                   capture_output=True).returncode == 0
        if not remounted:
            pytest.skip("remounting read-only is not permitted on this machine")
        rep = api.as_(world.rep_east)
        preview = rep.get(r.json["urls"]["preview"])
        assert preview.status_code == 503, preview.get_data(as_text=True)[:300]
        assert preview.is_json and preview.json["error"] == "storage_unavailable"
        assert preview.headers["Retry-After"]
        assert rep.get(r.json["urls"]["original"]).status_code == 200
