"""photos/integrity.damaged_originals (for `fieldsales audit verify --photos`): the stored
originals that are missing or no longer match their sha256, on real files and real PostGIS."""
import io
import uuid

import pytest
from sqlalchemy import select

from fieldsales.photos import integrity
from fieldsales.photos.models import Photo
from tests import factories
from tests.factories.photos import make_image
from tests.visits.helpers import SHANGHAI, check_in_body


def _upload(api, org, rep, seed):
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit = api.as_(rep).post("/api/v1/visits", json=check_in_body(shop)).json
    r = api.as_(rep).post(f"/api/v1/visits/{visit['id']}/photos",
                          data={"file": (io.BytesIO(make_image(seed=seed)), "p.jpg")},
                          content_type="multipart/form-data")
    assert r.status_code == 201
    return uuid.UUID(r.json["id"])


@pytest.fixture
def photos(api, world, db, photo_dir):
    """Photos of three reps of org A and one of org B; one original overwritten, one removed."""
    ids = {"fine": _upload(api, world.org, world.rep_east, 41),
           "damaged": _upload(api, world.org, world.rep_east2, 42),
           "missing": _upload(api, world.org, world.rep_west, 43),
           "other_org": _upload(api, world.org_b, world.rep_b, 44)}
    keys = dict(db.execute(select(Photo.id, Photo.storage_key)).all())
    (photo_dir / keys[ids["damaged"]] / "original").write_bytes(b"\xff\xd8 not the photo")
    (photo_dir / keys[ids["missing"]] / "original").unlink()
    return ids


def _check(app, **kw):
    with app.app_context():
        return integrity.damaged_originals(**kw)


def test_damaged_and_missing_originals_are_listed(app, world, photos):
    problems = _check(app, org_id=world.org.id)
    assert sorted((p["kind"], p["entity_id"]) for p in problems) == sorted([
        ("photo_file_damaged", str(photos["damaged"])),
        ("photo_file_missing", str(photos["missing"]))])
    for problem in problems:
        assert problem["entity_type"] == "photo"
        assert problem["entity_id"] in problem["detail"]


def test_filters_by_org_and_user(app, world, photos):
    assert _check(app, org_id=world.org_b.id) == []
    assert _check(app, org_id=world.org.id, user_id=world.rep_east.id) == []
    only = _check(app, user_id=world.rep_west.id)
    assert [(p["kind"], p["entity_id"]) for p in only] == [
        ("photo_file_missing", str(photos["missing"]))]


def test_without_a_filter_every_org_is_checked(app, photos):
    found = {p["entity_id"] for p in _check(app)}
    assert {str(photos["damaged"]), str(photos["missing"])} <= found
    assert str(photos["fine"]) not in found and str(photos["other_org"]) not in found


def test_reads_in_batches_and_reports_progress(app, world, photos, monkeypatch):
    monkeypatch.setattr(integrity, "BATCH", 2)
    lines = []
    problems = _check(app, org_id=world.org.id, progress=lines.append)
    assert len(problems) == 2
    assert len(lines) == 2  # 3 photos in pages of 2
    assert lines[-1].startswith("photos: 3 checked, 2 ")
