"""Direct upload (API.md "Direct upload"): a presigned PUT straight into the bucket, then a JSON
finalise that checks the object exactly as a multipart upload and keeps nothing on failure.
Against a real SeaweedFS; with the folder store the upload-url call is 409."""
import hashlib
import os
import uuid

import pytest
import requests
from sqlalchemy import func, select, update

from fieldsales.orgs.models import Org
from fieldsales.photos.models import Photo
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.factories.photos import make_image
from tests.photos.conftest import stored_files
from tests.photos.test_photos import good_photo, upload
from tests.visits.helpers import SHANGHAI, check_in_body, check_out_body

VARIANTS = ("original", "preview", "thumbnail")


@pytest.fixture
def s3(photo_store):
    if photo_store[0] != "s3":
        pytest.skip("direct upload needs the S3 store")
    return photo_store


def ask(client, visit_id, data, pid=None, content_type="image/jpeg", size=None, sha256=None):
    return client.post(f"/api/v1/visits/{visit_id}/photos/upload-url", json={
        "id": pid or str(uuid.uuid4()), "sha256": sha256 or hashlib.sha256(data).hexdigest(),
        "bytes": len(data) if size is None else size, "content_type": content_type})


def put(grant, data, headers=None):
    return requests.put(grant["url"], data=data, timeout=30,
                        headers=grant["headers"] if headers is None else headers)


def finalise(client, visit_id, pid, key, **extra):
    return client.post(f"/api/v1/visits/{visit_id}/photos", json={"id": pid, "key": key, **extra})


def direct_upload(client, visit_id, data, **extra):
    pid = str(uuid.uuid4())
    r = ask(client, visit_id, data, pid=pid)
    assert r.status_code == 200, r.json
    assert put(r.json, data).status_code == 200
    return pid, r.json, finalise(client, visit_id, pid, r.json["key"], **extra)


def _no_photo(db, visit):
    return db.scalar(select(func.count()).where(Photo.visit_id == uuid.UUID(visit["id"]))) == 0


def test_with_the_folder_store_upload_url_is_409(api, world, visit, photo_store):
    if photo_store[0] != "folder":
        pytest.skip("the folder store's answer")
    rep = api.as_(world.rep_east)
    r = ask(rep, visit["id"], good_photo())
    assert r.status_code == 409 and r.json["error"] == "direct_upload_unavailable"
    r = finalise(rep, visit["id"], str(uuid.uuid4()), "direct/whatever")
    assert r.status_code == 409 and r.json["error"] == "direct_upload_unavailable"


def test_a_direct_upload_gives_the_photo_a_multipart_upload_gives(api, world, visit, db, s3,
                                                                  photo_dir):
    rep = api.as_(world.rep_east)
    data = good_photo(seed=71)
    pid, grant, r = direct_upload(rep, visit["id"], data, source="gallery")
    assert grant["method"] == "PUT" and grant["key"].startswith("direct/")
    assert r.status_code == 201, r.json
    assert r.json["id"] == pid and r.json["sha256"] == hashlib.sha256(data).hexdigest()
    assert r.json["bytes"] == len(data) and r.json["source"] == "gallery"
    assert "photo_from_gallery" in r.json["flags"]
    assert rep.get(r.json["urls"]["original"]).data == data
    for variant in ("preview", "thumbnail"):
        assert rep.get(r.json["urls"][variant]).status_code == 200
    key = db.scalar(select(Photo.storage_key).where(Photo.id == uuid.UUID(pid)))
    # only the photo's own three objects: the uploaded one is gone
    assert stored_files(photo_dir) == sorted(photo_dir / key / v for v in VARIANTS)
    # the same finalise again is the same photo (idempotent, as a multipart retry)
    again = finalise(rep, visit["id"], pid, grant["key"], source="gallery")
    assert again.status_code == 200 and again.json == r.json


def test_the_presigned_put_takes_only_the_declared_bytes(api, world, visit, s3, photo_dir):
    data = good_photo(seed=72)
    grant = ask(api.as_(world.rep_east), visit["id"], data).json
    other = bytearray(data)
    other[-10] ^= 0xFF  # same size, other bytes
    assert put(grant, bytes(other)).status_code in (400, 403)
    assert put(grant, data[:-100]).status_code in (400, 403)
    assert put(grant, data, headers={}).status_code in (400, 403)  # unsigned size/checksum
    assert stored_files(photo_dir) == []


def _planted(world, visit, photo_dir, api, declared, stored):
    """upload-url for `declared`, then `stored` written under its key by someone who can write
    the bucket directly (a store that enforced nothing would accept it)."""
    pid = str(uuid.uuid4())
    grant = ask(api.as_(world.rep_east), visit["id"], declared, pid=pid).json
    if stored is not None:
        (photo_dir / grant["key"]).write_bytes(stored)
    return pid, grant["key"]


@pytest.mark.parametrize("case, status, error", [
    ("truncated", 422, "upload_mismatch"), ("wrong_sha", 422, "upload_mismatch"),
    ("missing", 422, "upload_missing"), ("not_an_image", 422, "invalid_image"),
    ("pdf", 415, "unsupported_media_type"),
])
def test_a_bad_object_is_a_clear_4xx_and_nothing_is_kept(api, world, visit, db, s3, photo_dir,
                                                         case, status, error):
    data = good_photo(seed=73)
    changed = bytearray(data)
    changed[len(data) // 2] ^= 0xFF
    garbage = b"\xff\xd8\xff\xe0" + os.urandom(5000)
    pdf = b"%PDF-1.4\n" + os.urandom(2000)
    declared, stored = {"truncated": (data, data[:-500]), "wrong_sha": (data, bytes(changed)),
                        "missing": (data, None), "not_an_image": (garbage, garbage),
                        "pdf": (pdf, pdf)}[case]
    pid, key = _planted(world, visit, photo_dir, api, declared, stored)
    r = finalise(api.as_(world.rep_east), visit["id"], pid, key)
    assert r.status_code == status and r.json["error"] == error, r.json
    assert _no_photo(db, visit)
    assert stored_files(photo_dir) == []


def test_over_the_org_limit_is_413_at_both_steps(api, world, visit, db, s3, photo_dir):
    db.execute(update(Org).where(Org.id == world.org.id).values(photo_max_mb=1))
    db.commit()
    big = b"\xff\xd8\xff" + os.urandom(1024 * 1024)
    r = ask(api.as_(world.rep_east), visit["id"], big)
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
    # an object over the limit under a key granted for a small photo
    pid, key = _planted(world, visit, photo_dir, api, good_photo(seed=74), big)
    r = finalise(api.as_(world.rep_east), visit["id"], pid, key)
    assert r.status_code == 413 and r.json["error"] == "payload_too_large"
    assert _no_photo(db, visit)
    assert stored_files(photo_dir) == []


def test_a_key_of_another_visit_or_caller_is_refused(api, world, visit, db, s3, photo_dir):
    data = good_photo(seed=75)
    pid, key = _planted(world, visit, photo_dir, api, data, data)
    # another visit of the same rep
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    assert api.as_(world.rep_east).post(f"/api/v1/visits/{visit['id']}/check-out",
                                        json=check_out_body()).status_code == 200
    second = api.as_(world.rep_east).post("/api/v1/visits", json=check_in_body(shop)).json
    r = finalise(api.as_(world.rep_east), second["id"], pid, key)
    assert r.status_code == 422 and r.json["error"] == "upload_mismatch"
    # another photo id, a hand-made key; the visit's manager (403), another rep, another org
    r = finalise(api.as_(world.rep_east), visit["id"], str(uuid.uuid4()), key)
    assert r.status_code == 422 and r.json["error"] == "upload_mismatch"
    r = finalise(api.as_(world.rep_east), visit["id"], pid, "../" + key)
    assert r.status_code == 422 and r.json["error"] == "upload_mismatch"
    assert finalise(api.as_(world.mgr_east), visit["id"], pid, key).status_code == 403
    assert finalise(api.as_(world.rep_east2), visit["id"], pid, key).status_code == 404
    assert finalise(api.as_(world.rep_b), visit["id"], pid, key).status_code == 404
    assert ask(api.as_(world.rep_b), visit["id"], data).status_code == 404
    assert ask(api.as_(world.mgr_east), visit["id"], data).status_code == 403
    assert _no_photo(db, visit) and _no_photo(db, second)


def test_the_same_finalise_eight_times_at_once_is_one_photo(app, committed, s3, photo_dir):
    org = factories.org()
    rep = factories.user(org, "rep", factories.team(org))
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app, rep)
    visit = client.post("/api/v1/visits", json=check_in_body(shop)).json
    data = make_image(seed=76)
    pid = str(uuid.uuid4())
    grant = ask(client, visit["id"], data, pid=pid).json
    assert put(grant, data).status_code == 200

    responses = run_threads(8, lambda i: finalise(client, visit["id"], pid, grant["key"]))
    assert sorted(r.status_code for r in responses) == [200] * 7 + [201], \
        [r.get_json() for r in responses]
    assert {r.json["id"] for r in responses} == {pid}
    assert committed.scalar(select(func.count()).where(Photo.org_id == org.id)) == 1
    key = committed.scalar(select(Photo.storage_key).where(Photo.id == uuid.UUID(pid)))
    # one original, the uploaded object gone; preview and thumbnail follow by job or on demand
    assert stored_files(photo_dir) == [photo_dir / key / "original"]
    assert client.get(f"/api/v1/photos/{pid}/original").data == data


def test_multipart_and_direct_answer_the_same_bytes_alike(api, world, visit, s3):
    """A direct upload of bytes already uploaded as multipart is the stored photo (200)."""
    rep = api.as_(world.rep_east)
    data = good_photo(seed=77)
    first = upload(api, world.rep_east, visit["id"], data)
    assert first.status_code == 201
    _, _, r = direct_upload(rep, visit["id"], data)
    assert r.status_code == 200 and r.json["id"] == first.json["id"]


def test_the_finalise_body_is_documented_beside_the_multipart_one(api):
    body = api.get("/openapi.json").json["paths"]["/api/v1/visits/{visit_id}/photos"]["post"][
        "requestBody"]["content"]
    assert set(body) == {"multipart/form-data", "application/json"}
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/PhotoFinalise"}

