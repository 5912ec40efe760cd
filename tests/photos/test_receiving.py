"""The upload's bytes are received straight into the photo store (issue 12 §3): no copy in the
system's temporary folder (Werkzeug's own spooling, which then had to be copied), and nothing
but the photo's three files once it is stored or refused."""
import io
import os
import tempfile

import pytest

from tests import factories
from tests.factories.photos import make_image
from tests.photos.conftest import stored_files
from tests.visits.helpers import SHANGHAI, ago, check_in_body

VARIANTS = ("original", "preview", "thumbnail")


@pytest.fixture
def visit(api, world):
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return api.as_(world.rep_east).post("/api/v1/visits",
                                        json=check_in_body(shop, at=ago(minutes=20))).json


@pytest.fixture
def no_temp_folder(monkeypatch, tmp_path):
    """Any file created in the system's temporary folder fails (the folder is not there)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no-temp-folder"))


def _send(api, world, visit, data):
    # The body is built here: the test client's own encoder spools large bodies to a temp file.
    body = (b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--b--\r\n")
    return api.as_(world.rep_east).post(
        f"/api/v1/visits/{visit['id']}/photos", input_stream=io.BytesIO(body),
        headers={"Content-Type": "multipart/form-data; boundary=b",
                 "Content-Length": str(len(body))})


def test_a_large_upload_never_touches_the_temp_folder(api, world, visit, photo_dir,
                                                      no_temp_folder):
    # 600 kB more than the JPEG (ignored after its end): past Werkzeug's 500 kB in memory
    data = make_image(seed=41) + os.urandom(600_000)
    r = _send(api, world, visit, data)
    assert r.status_code == 201, r.get_data(as_text=True)[:300]
    key = stored_files(photo_dir)[0].parent
    # the upload stores the original; its preview and thumbnail follow (a job, or on demand)
    assert stored_files(photo_dir) == [key / "original"]
    assert (key / "original").read_bytes() == data
    assert api.as_(world.rep_east).get(r.json["urls"]["original"]).data == data
    assert api.as_(world.rep_east).get(r.json["urls"]["thumbnail"]).status_code == 200
    assert stored_files(photo_dir) == [key / variant for variant in sorted(VARIANTS)]


def test_a_refused_upload_leaves_no_received_file(api, world, visit, photo_dir, no_temp_folder):
    r = _send(api, world, visit, b"\xff\xd8\xff\xe0" + os.urandom(700_000))
    assert r.status_code == 422 and r.json["error"] == "invalid_image"
    assert stored_files(photo_dir) == []  # not even a hidden temporary file
