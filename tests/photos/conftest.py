"""Every photo test runs twice: against the folder store and against a real S3 server
(SeaweedFS, started once per session on loopback by bench/seaweedfs.py, stopped at the end).

`photo_dir` is the test's store seen from outside: the folder itself, or a `BucketPath` (the few
pathlib operations the tests use — `/`, parent, read/write_bytes, unlink, rename — on the
objects under the test's own prefix of the bucket), so a test reads the same for both."""
import uuid
from pathlib import Path

import pytest

from tests import factories
from tests.visits.helpers import SHANGHAI, ago, check_in_body

STORES = ("folder", "s3")


@pytest.fixture(scope="session")
def seaweed():
    """A SeaweedFS S3 server for the session (started only when an s3 test runs)."""
    from bench.seaweedfs import seaweedfs

    with seaweedfs() as server:
        yield server


class BucketPath:
    """A key under the test's prefix of the bucket, used like a pathlib.Path."""

    def __init__(self, server, prefix, key="", spool=None):
        self.server, self.prefix, self.key, self.spool = server, prefix, key, spool

    def _at(self, key):
        return BucketPath(self.server, self.prefix, key, self.spool)

    def __truediv__(self, part):
        return self._at(f"{self.key}/{part}" if self.key else str(part))

    @property
    def parent(self):
        return self._at(self.key.rpartition("/")[0])

    @property
    def _name(self):
        return f"{self.prefix}/{self.key}"

    def read_bytes(self):
        s = self.server
        return s["client"].get_object(Bucket=s["bucket"], Key=self._name)["Body"].read()

    def write_bytes(self, data):
        s = self.server
        s["client"].put_object(Bucket=s["bucket"], Key=self._name, Body=data)

    def unlink(self):
        s = self.server
        s["client"].delete_object(Bucket=s["bucket"], Key=self._name)

    def rename(self, target):
        """Every object under this key moves under `target`'s key."""
        for path in self.files():
            if path.key.startswith(self.key + "/"):
                dest = target / path.key[len(self.key) + 1:]
                dest.write_bytes(path.read_bytes())
                path.unlink()

    def files(self):
        """Every object under the test's prefix, and any file left in the local spool folder."""
        s = self.server
        pages = s["client"].get_paginator("list_objects_v2").paginate(
            Bucket=s["bucket"], Prefix=self.prefix + "/")
        keys = [o["Key"][len(self.prefix) + 1:] for page in pages for o in page.get("Contents", [])]
        left = [f"spool:{p}" for p in stored_files(self.spool)] if self.spool else []
        return sorted(self._at(key) for key in keys + left)

    def __eq__(self, other):
        return isinstance(other, BucketPath) and self.key == other.key

    def __lt__(self, other):
        return self.key < other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self):
        return f"BucketPath({self.key!r})"


@pytest.fixture(params=STORES)
def photo_store(request, app, tmp_path, monkeypatch):
    """(kind, the settings an app needs for this test's store, photo_dir) for each store."""
    folder = tmp_path / "photos"
    monkeypatch.setitem(app.config, "PHOTO_DIR", str(folder))
    settings = {"PHOTO_DIR": str(folder)}
    view = folder
    if request.param == "s3":
        server = request.getfixturevalue("seaweed")
        prefix = f"t-{uuid.uuid4().hex}"
        settings.update(PHOTO_STORE=f"s3://{server['bucket']}/{prefix}",
                        S3_ENDPOINT=server["endpoint"], S3_REGION=server["region"],
                        S3_ACCESS_KEY=server["access_key"], S3_SECRET_KEY=server["secret_key"])
        view = BucketPath(server, prefix, spool=folder)
    else:
        settings["PHOTO_STORE"] = ""
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    monkeypatch.delitem(app.extensions, "fieldsales.photo_store", raising=False)
    yield request.param, settings, view
    app.extensions.pop("fieldsales.photo_store", None)


@pytest.fixture(autouse=True)
def photo_dir(photo_store):
    """Each test stores its photos in its own folder or bucket prefix (and can list what was
    left behind)."""
    return photo_store[2]


@pytest.fixture
def photo_env(photo_store):
    """The FIELDSALES_* variables that give a separate app process this test's store."""
    return {f"FIELDSALES_{name}": value for name, value in photo_store[1].items()}


@pytest.fixture
def visit(api, world):
    """rep_east's open visit (checked in 20 minutes ago at a shop in Shanghai)."""
    shop = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    return api.as_(world.rep_east).post("/api/v1/visits",
                                        json=check_in_body(shop, at=ago(minutes=20))).json


def stored_files(folder):
    if isinstance(folder, BucketPath):
        return folder.files()
    folder = Path(folder)
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []
