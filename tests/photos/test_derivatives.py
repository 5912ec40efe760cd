"""Preview and thumbnail after the upload: the upload stores the original and defers one job in
its own statement; a real `fieldsales worker` makes them, or the first GET does (and the job
then finds them there). Both make the same bytes from the stored original."""
import io
import os
import uuid

import pytest
from sqlalchemy import func, select, text

from fieldsales.photos import processing
from fieldsales.photos.models import Photo
from tests import factories
from tests.conftest import ApiClient
from tests.factories.photos import make_image
from tests.jobs.workers import wait_until, workers
from tests.photos.conftest import BucketPath, stored_files
from tests.visits.helpers import SHANGHAI, ago, check_in_body

pytestmark = pytest.mark.slow


def upload(client, visit_id, data):
    return client.post(f"/api/v1/visits/{visit_id}/photos",
                       data={"file": (io.BytesIO(data), "p.jpg")},
                       content_type="multipart/form-data")


def _jobs(session, photo_id):
    return session.execute(text(
        "SELECT task_name, args FROM procrastinate_jobs WHERE args->>'photo_id' = :id"),
        {"id": photo_id}).all()


@pytest.fixture
def rep(app, committed):
    org = factories.org()
    user = factories.user(org, "rep")
    shop = factories.customer(org, user, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app).as_(user)
    visit = client.post("/api/v1/visits", json=check_in_body(shop, at=ago(minutes=20))).json
    return client, visit


def _stored(committed, photo_id):
    committed.expire_all()
    return committed.scalar(select(Photo).where(Photo.id == uuid.UUID(photo_id)))


def test_the_job_makes_them_after_the_upload_answered(app, committed, photo_dir, photo_env,
                                                      rep):
    client, visit = rep
    data = make_image(seed=61)
    r = upload(client, visit["id"], data)
    assert r.status_code == 201, r.json
    photo = _stored(committed, r.json["id"])
    folder = photo_dir / photo.storage_key
    assert stored_files(photo_dir) == [folder / "original"]  # answered before they exist
    assert _jobs(committed, r.json["id"]) == [
        ("photos:make_derivatives", {"org_id": str(photo.org_id), "photo_id": r.json["id"]})]
    # the same bytes again (200) defers nothing more
    assert upload(client, visit["id"], data).status_code == 200
    assert len(_jobs(committed, r.json["id"])) == 1

    with workers(1, env=photo_env):
        assert wait_until(lambda: not _jobs(committed, r.json["id"])), "the job did not finish"
    expected = processing.derivatives(io.BytesIO(data))
    assert (folder / "preview").read_bytes() == expected.preview
    assert (folder / "thumbnail").read_bytes() == expected.thumbnail
    served = client.get(r.json["urls"]["thumbnail"])
    assert served.status_code == 200 and served.data == expected.thumbnail


def test_one_asked_for_first_is_made_on_demand_and_the_job_finds_it(app, committed, photo_dir,
                                                                     photo_env,
                                                                     rep):
    client, visit = rep
    data = make_image(seed=62)
    r = upload(client, visit["id"], data)
    assert r.status_code == 201, r.json
    folder = photo_dir / _stored(committed, r.json["id"]).storage_key
    preview = client.get(r.json["urls"]["preview"])  # before any worker ran
    assert preview.status_code == 200
    assert preview.data == processing.derivatives(io.BytesIO(data)).preview
    # On the folder store a rewrite would be a new file (a new inode); an S3 object has no such
    # identity (a rewrite of the same bytes keeps its ETag), so there only the bytes are checked.
    on_disk = not isinstance(folder, BucketPath)
    made = {name: os.stat(folder / name).st_ino for name in ("preview", "thumbnail")
            if on_disk}

    with workers(1, env=photo_env):
        assert wait_until(lambda: not _jobs(committed, r.json["id"])), "the job did not finish"
    # the job found both there and wrote nothing (a rewrite would be a new file: a new inode)
    assert {name: os.stat(folder / name).st_ino for name in made} == made
    assert (folder / "thumbnail").read_bytes() == processing.derivatives(
        io.BytesIO(data)).thumbnail
    assert client.get(r.json["urls"]["preview"]).data == preview.data


def test_a_refused_upload_defers_no_job(app, committed, photo_dir, rep):
    client, visit = rep
    before = committed.scalar(select(func.count()).select_from(text("procrastinate_jobs")))
    r = upload(client, visit["id"], b"\xff\xd8\xff\xe0 not a jpeg")
    assert r.status_code == 422
    assert committed.scalar(select(func.count()).select_from(text("procrastinate_jobs"))) \
        == before
