"""The photo store's upload spool (fieldsales/photos/storage.py), on a real folder."""
import hashlib
import os

import pytest

from fieldsales.photos.storage import LocalPhotoStore, Unavailable, spooling


def _receive(store, data, piece=7_001):
    spool = store.spool()
    for start in range(0, len(data), piece):  # as Werkzeug hands a part over: in pieces
        spool.write(data[start:start + piece])
    spool.seek(0)
    return spool


def test_a_spool_is_hashed_and_measured_as_it_is_written(tmp_path):
    data = os.urandom(3_000_000)
    spool = _receive(LocalPhotoStore(tmp_path), data)
    assert (spool.sha256, spool.size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert spool.read() == data
    spool.close()


def test_put_upload_moves_the_spool_into_place_and_leaves_nothing_else(tmp_path):
    store, data = LocalPhotoStore(tmp_path), os.urandom(100_000)
    spool = _receive(store, data)
    store.put_upload("org/p.1", spool, {"preview": b"pv", "thumbnail": b"th"})
    spool.close()  # stored: closing it removes nothing
    files = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                   if p.is_file())
    assert files == ["org/p.1/original", "org/p.1/preview", "org/p.1/thumbnail"]
    assert (tmp_path / "org/p.1/original").read_bytes() == data
    assert (tmp_path / "org/p.1/thumbnail").read_bytes() == b"th"


def test_spools_not_stored_are_removed_when_the_request_ends(tmp_path):
    store = LocalPhotoStore(tmp_path)
    with spooling(store) as factory:
        for _ in range(2):  # two file parts
            factory(None, "image/jpeg", "p.jpg").write(b"x" * 10)
        assert len(list(tmp_path.iterdir())) == 2
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_take_the_body_is_unavailable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the photo folder should be")
    with pytest.raises(Unavailable):
        LocalPhotoStore(blocker / "photos").spool()
