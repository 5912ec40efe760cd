"""The photo store on an S3-compatible bucket (FIELDSALES_PHOTO_STORE=s3://bucket[/prefix]).

Same keys as the folder store ("<org>/<photo id>.<attempt>/<variant>", storage.attempt_key), so
two upload attempts never write one object. Every object is written with its SHA-256
(x-amz-checksum-sha256): the server refuses bytes that arrive changed, and S3 makes a PUT
visible whole or not at all (no reader sees half an object). Uploads are still received into a
local spool (PHOTO_DIR), hashed on the way in, and sent from there once the image is checked.

Any failure to reach the bucket (endpoint down, refused credentials, 5xx) is
storage.Unavailable: the same 503 storage_unavailable the folder store gives for a failed disk.
"""
import base64
import errno
import hashlib
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from fieldsales.photos.storage import Spool, Unavailable

MISSING = {"404", "NoSuchKey", "NotFound"}
# A read object is handed over seekable (the integrity check reads it through, then it is
# served): small ones stay in memory, larger ones go to a temporary file.
READ_IN_MEMORY = 8 * 1024 * 1024


def checksum(sha256_hex: str) -> str:
    """The x-amz-checksum-sha256 value (base64 of the digest) of a hex SHA-256."""
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def is_url(url) -> bool:
    return bool(url) and url.startswith("s3://")


class S3PhotoStore:
    """Objects in one bucket, under an optional prefix."""

    direct_upload = True

    def __init__(self, url, *, endpoint=None, region=None, access_key=None, secret_key=None,
                 spool_dir):
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise RuntimeError(f"FIELDSALES_PHOTO_STORE must be s3://bucket[/prefix], not {url!r}")
        self.bucket, self.prefix = parts.netloc, parts.path.strip("/")
        self.spool_dir = Path(spool_dir)
        self.s3 = boto3.client(
            "s3", endpoint_url=endpoint or None, region_name=region or None,
            aws_access_key_id=access_key or None, aws_secret_access_key=secret_key or None,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"},
                          retries={"max_attempts": 3, "mode": "standard"},
                          connect_timeout=3, read_timeout=30))

    def name(self, key: str) -> str:
        """The object name of a store key."""
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"bad storage key {key!r}")
        return f"{self.prefix}/{key}" if self.prefix else key

    def _call(self, method, **params):
        try:
            return getattr(self.s3, method)(Bucket=self.bucket, **params)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in MISSING:
                raise FileNotFoundError(errno.ENOENT, "no such object", params.get("Key")) \
                    from None
            raise Unavailable(errno.EIO, f"S3 {method}: {code}") from exc
        except BotoCoreError as exc:  # endpoint down, timeouts, refused connections
            raise Unavailable(errno.EIO, f"S3 {method}: {exc.__class__.__name__}") from exc

    def _put(self, key, body, sha256_hex, size):
        self._call("put_object", Key=self.name(key), Body=body, ContentLength=size,
                   ChecksumSHA256=checksum(sha256_hex))

    def spool(self) -> Spool:
        """A local file for an incoming upload (sent to the bucket once it is checked)."""
        return Spool(self.spool_dir)

    def put_upload(self, key, original, derived):
        """`original` (a spool) as key/original and each derived file as key/<name>; each PUT
        is complete when it returns, so the row naming them may commit next."""
        original.file.flush()
        original.file.seek(0)
        self._put(f"{key}/original", original.file, original.sha256, original.size)
        for name, data in derived.items():
            self._put(f"{key}/{name}", data, hashlib.sha256(data).hexdigest(), len(data))

    def put_bytes(self, key, data):
        self._put(key, data, hashlib.sha256(data).hexdigest(), len(data))

    def open(self, key):
        """(seekable binary file, size in bytes); FileNotFoundError for a missing object."""
        body = self._call("get_object", Key=self.name(key))["Body"]
        fp = tempfile.SpooledTemporaryFile(max_size=READ_IN_MEMORY)  # noqa: SIM115 (returned)
        try:
            with body:
                for chunk in body.iter_chunks(1 << 20):
                    fp.write(chunk)
        except (BotoCoreError, OSError) as exc:
            fp.close()
            raise Unavailable(errno.EIO, f"S3 read: {exc.__class__.__name__}") from exc
        size = fp.tell()
        fp.seek(0)
        return fp, size

    def receive(self, key, spool: Spool, *, limit: int) -> int:
        """Copy object `key` into `spool` (hashed on the way), reading at most limit + 1 bytes;
        returns the object's size. FileNotFoundError when it is not there."""
        head = self._call("head_object", Key=self.name(key))
        size = head["ContentLength"]
        if size > limit:
            return size
        body = self._call("get_object", Key=self.name(key))["Body"]
        try:
            with body:
                for chunk in body.iter_chunks(1 << 20):
                    spool.write(chunk)
                    if spool.size > limit:  # it grew since the HEAD: read no more
                        return spool.size
        except BotoCoreError as exc:
            raise Unavailable(errno.EIO, f"S3 read: {exc.__class__.__name__}") from exc
        spool.file.flush()
        spool.file.seek(0)
        return size

    def delete(self, key):
        self._call("delete_object", Key=self.name(key))

    def exists(self, key):
        try:
            self._call("head_object", Key=self.name(key))
        except FileNotFoundError:
            return False
        return True

    def presigned_put(self, key, *, sha256_hex, size, content_type, ttl_s):
        """A URL that accepts one PUT of exactly these bytes (size and SHA-256 signed in), and
        the headers the client must send with it."""
        headers = {"Content-Length": str(size), "Content-Type": content_type,
                   "x-amz-checksum-sha256": checksum(sha256_hex)}
        try:
            url = self.s3.generate_presigned_url("put_object", ExpiresIn=ttl_s, Params={
                "Bucket": self.bucket, "Key": self.name(key), "ContentLength": size,
                "ContentType": content_type, "ChecksumSHA256": headers["x-amz-checksum-sha256"]})
        except BotoCoreError as exc:  # no credentials to sign with
            raise Unavailable(errno.EIO, f"S3 presign: {exc.__class__.__name__}") from exc
        return url, headers, datetime.now(UTC) + timedelta(seconds=ttl_s)
