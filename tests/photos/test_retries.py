"""Concurrent retries of one upload (issue 10, observation 1): a phone on a bad network sends the
same photo many times at once. One photo results, all three of its files are there, the
original's SHA-256 is the photo's, and no loser leaves (or removes) a file."""
import hashlib
import io
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from fieldsales.audit.service import verify_chain
from fieldsales.photos.models import Photo
from tests import factories
from tests.conftest import ApiClient, run_threads
from tests.photos.conftest import stored_files
from tests.factories.photos import make_image
from tests.visits.helpers import SHANGHAI, check_in_body

THREADS = 10
ROUNDS = 4
VARIANTS = ("original", "preview", "thumbnail")


def _photo(seed):
    taken = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y:%m:%d %H:%M:%S")
    return make_image(seed=seed, taken=taken, gps=SHANGHAI)


@pytest.mark.parametrize("with_client_id", [True, False], ids=["same-form-id", "no-form-id"])
def test_identical_uploads_at_once_keep_every_file(app, committed, photo_dir, with_client_id):
    org = factories.org()
    rep = factories.user(org, "rep", factories.team(org))
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    client = ApiClient(app, rep)
    winners = []
    for round_ in range(ROUNDS):
        visit = client.post("/api/v1/visits", json=check_in_body(shop)).json
        data = _photo(seed=500 + round_)
        form = {"id": str(uuid.uuid4())} if with_client_id else {}

        def send(i, visit=visit, data=data, form=form):
            return client.post(f"/api/v1/visits/{visit['id']}/photos",
                               data={"file": (io.BytesIO(data), "p.jpg"), **form},
                               content_type="multipart/form-data")

        responses = run_threads(THREADS, send)
        assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201], \
            [r.get_json() for r in responses if r.status_code not in (200, 201)][:2]
        photo = responses[0].json
        assert {r.json["id"] for r in responses} == {photo["id"]}
        if with_client_id:
            assert photo["id"] == form["id"]
        for variant in VARIANTS:
            r = client.get(photo["urls"][variant])
            assert r.status_code == 200, (variant, r.get_data()[:200])
            if variant == "original":
                assert r.data == data
                assert hashlib.sha256(r.data).hexdigest() == photo["sha256"]
        rows = committed.execute(select(Photo.storage_key).where(
            Photo.visit_id == uuid.UUID(visit["id"]))).scalars().all()
        assert len(rows) == 1
        winners.append(rows[0])
        committed.rollback()
    # Nothing but the winners' files: no loser's copy, no temporary file, nothing removed.
    expected = sorted(photo_dir / key / variant for key in winners for variant in VARIANTS)
    assert stored_files(photo_dir) == expected
    assert committed.scalar(select(func.count()).where(Photo.org_id == org.id)) == ROUNDS
    with app.app_context():
        assert verify_chain(org_id=org.id, user_id=rep.id)["ok"] is True


def test_each_upload_attempt_stores_under_its_own_key(api, world, db, photo_dir):
    """Two photos with client ids never share a storage folder with a retry of themselves: the
    committed row names the key its own attempt wrote."""
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    visit = api.as_(world.rep_east).post("/api/v1/visits", json=check_in_body(shop)).json
    pid = str(uuid.uuid4())
    r = api.as_(world.rep_east).post(f"/api/v1/visits/{visit['id']}/photos",
                                     data={"file": (io.BytesIO(_photo(7)), "p.jpg"), "id": pid},
                                     content_type="multipart/form-data")
    assert r.status_code == 201
    key = db.scalar(select(Photo.storage_key).where(Photo.id == uuid.UUID(pid)))
    assert key.startswith(f"{world.org.id}/") and key != f"{world.org.id}/{pid}"
    assert stored_files(photo_dir) == [photo_dir / key / "original"]  # derivatives follow


def test_identical_uploads_through_gunicorn_workers(app, committed, photo_dir, photo_env,
                                                    tmp_path):
    """The same race across real worker processes over real HTTP (as retries arrive)."""
    import requests

    from bench.harness import gunicorn
    from tests.conftest import DB_URL

    org = factories.org()
    rep = factories.user(org, "rep", factories.team(org))
    shop = factories.customer(org, rep, lat=SHANGHAI[0], lng=SHANGHAI[1])
    headers = {"Authorization": "Bearer " + factories.token_for(app, rep)}
    env = {"FIELDSALES_DATABASE_URL": DB_URL, **photo_env}
    winners = []
    with gunicorn(workers=4, extra_env=env, log_path=tmp_path / "gunicorn.log") as (base, _):
        for round_ in range(ROUNDS):
            visit = requests.post(base + "/api/v1/visits", json=check_in_body(shop),
                                  headers=headers, timeout=30).json()
            data, pid = _photo(seed=600 + round_), str(uuid.uuid4())

            def send(i, visit=visit, data=data, pid=pid):
                return requests.post(f"{base}/api/v1/visits/{visit['id']}/photos",
                                     headers=headers, files={"file": ("p.jpg", data)},
                                     data={"id": pid}, timeout=60)

            responses = run_threads(THREADS, send)
            assert sorted(r.status_code for r in responses) == [200] * (THREADS - 1) + [201]
            for variant in VARIANTS:
                r = requests.get(f"{base}/api/v1/photos/{pid}/{variant}", headers=headers,
                                 timeout=30)
                assert r.status_code == 200, (variant, r.text[:200])
                if variant == "original":
                    assert hashlib.sha256(r.content).hexdigest() == responses[0].json()["sha256"]
            winners.append(uuid.UUID(pid))
    keys = committed.scalars(select(Photo.storage_key).where(Photo.id.in_(winners))).all()
    assert stored_files(photo_dir) == sorted(photo_dir / key / v for key in keys for v in VARIANTS)
