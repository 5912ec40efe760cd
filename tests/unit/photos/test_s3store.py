"""The S3 store's names and settings (fieldsales/photos/s3store.py), without a server; its
behaviour against a real one is tests/photos (every test runs on SeaweedFS too)."""
import base64
import hashlib

import pytest

from fieldsales.photos.s3store import S3PhotoStore, checksum


def _store(url, tmp_path):
    return S3PhotoStore(url, endpoint="http://127.0.0.1:9", access_key="k", secret_key="s",
                        spool_dir=tmp_path)


def test_the_prefix_is_put_before_every_key(tmp_path):
    assert _store("s3://photos/eu/prod/", tmp_path).name("o/p.a/original") == \
        "eu/prod/o/p.a/original"
    store = _store("s3://photos", tmp_path)
    assert (store.bucket, store.name("o/p.a/original")) == ("photos", "o/p.a/original")


@pytest.mark.parametrize("key", ["", "/abs/original", "o/../p/original", "../x"])
def test_a_key_cannot_leave_the_prefix(tmp_path, key):
    with pytest.raises(ValueError, match="bad storage key"):
        _store("s3://photos/tenant", tmp_path).name(key)


@pytest.mark.parametrize("url", ["photos", "s3://", "http://photos", "s3:///prefix"])
def test_a_url_that_names_no_bucket_is_refused(tmp_path, url):
    with pytest.raises(RuntimeError, match="s3://bucket"):
        _store(url, tmp_path)


def test_the_checksum_header_is_the_base64_of_the_digest():
    digest = hashlib.sha256(b"photo")
    assert checksum(digest.hexdigest()) == base64.b64encode(digest.digest()).decode()
