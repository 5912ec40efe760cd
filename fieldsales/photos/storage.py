"""Where photo files live, behind a small interface (a local folder now; object storage later).

Keys are opaque strings such as "<org>/<photo id>.<attempt>/original". A reader never sees half
a file: put_bytes renames a temporary file into place, and put_upload writes into a folder no
row names until the write is complete.

Every upload attempt writes under a key of its own (`attempt_key`: the photo id plus a random
128-bit attempt token), and the row that commits names the key its attempt wrote. Concurrent
retries of one upload (same client id, same bytes) therefore never write to, or remove, each
other's files: the winner's row points at the winner's folder, and each loser removes only the
folder it created itself. Rows written before this scheme keep their "<org>/<photo id>" key and
are read the same way (the key is per row). `open` raises FileNotFoundError for a missing key.

An upload is received straight into a temporary file of the store (`spool`), hashed as it
arrives, and renamed into place by `put_upload`: the body is written to disk once and read once
more (by the image pipeline), instead of spooled to /tmp by Werkzeug, read again for the
SHA-256 and copied into the store.
"""
import contextlib
import hashlib
import os
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class Unavailable(OSError):
    """The store could not take an upload's bytes (read-only, full or missing folder)."""


class Spool:
    """An upload as it is received: a temporary file inside the store, hashed on the way in.
    `put_upload` moves it into place; closing it before that removes it."""

    def __init__(self, folder: Path):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd, self.path = tempfile.mkstemp(dir=folder, prefix=".tmp-")
        except OSError as exc:
            raise Unavailable(exc.errno, exc.strerror) from exc
        # Werkzeug hands over a part in pieces of a few kB: gathered into 1 MiB writes.
        self.file = os.fdopen(fd, "w+b", buffering=1 << 20)
        self._digest, self.size = hashlib.sha256(), 0

    def write(self, data) -> int:
        # Werkzeug's multipart parser appends the part's bytes in order, then rewinds.
        self._digest.update(data)
        self.size += len(data)
        try:
            return self.file.write(data)
        except OSError as exc:
            raise Unavailable(exc.errno, exc.strerror) from exc

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def __getattr__(self, name):  # read, seek, tell, fileno …: the image pipeline reads it
        return getattr(self.file, name)

    def close(self):
        # A full disk fails the flush of the last buffered bytes: the file goes all the same.
        with contextlib.suppress(OSError):
            self.file.close()
        if self.path is not None:
            Path(self.path).unlink(missing_ok=True)
            self.path = None


class PhotoStore(Protocol):
    def spool(self) -> Spool: ...
    def put_upload(self, key: str, original: Spool, derived: dict[str, bytes]) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> tuple[BinaryIO, int]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...

    direct_upload: bool  # presigned PUTs straight from the phone (the S3 store)


class LocalPhotoStore:
    """Files under one folder (FIELDSALES_PHOTO_DIR, default var/photos)."""

    direct_upload = False  # phones cannot PUT into a folder: no upload-url

    def __init__(self, root):
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"bad storage key {key!r}")
        return path

    def _write(self, key, write):
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as out:
                write(out)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def spool(self) -> Spool:
        """A file for an incoming upload, on the store's filesystem (so it can be renamed)."""
        return Spool(self.root)

    def put_upload(self, key, original, derived):
        """`original` (a spool of this store) as key/original and each derived file as
        key/<name>; durable when this returns, so the row naming them may commit next.

        The folder is new (attempt_key) and no reader knows the key before that row commits,
        so the files are written under their final names (no temporary file and rename each);
        the caller removes them if the row does not commit."""
        folder = self._path(f"{key}/original").parent
        # Each file's fsync: its bytes (the evidence original, and the derivatives served in
        # its place) must be on disk before the row that promises them commits.
        original.file.flush()
        os.fsync(original.file.fileno())
        folder.mkdir(parents=True)
        os.replace(original.path, folder / "original")
        original.path = None
        for name, data in derived.items():
            with open(self._path(f"{key}/{name}"), "xb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
        # One directory fsync: the folder's three new names. On a journalling filesystem
        # (ext4, xfs) it commits the journal up to the folder's own creation in its parent too.
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def put_bytes(self, key, data):
        self._write(key, lambda out: out.write(data))

    def open(self, key):
        """(binary file, size in bytes)."""
        fp = open(self._path(key), "rb")  # noqa: SIM115 (the caller streams and closes it)
        return fp, os.fstat(fp.fileno()).st_size

    def delete(self, key):
        path = self._path(key)
        path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # drop the photo's folder once it is empty
            path.parent.rmdir()

    def exists(self, key):
        return self._path(key).is_file()


def attempt_key(org_id, photo_id) -> str:
    """A storage key no other upload attempt can have, even one for the same photo id."""
    return f"{org_id}/{photo_id}.{uuid.uuid4().hex}"


@contextlib.contextmanager
def spooling(photos: PhotoStore):
    """A Werkzeug stream factory (Request._get_file_stream) that receives every file part of
    the request into a spool of `photos`; on exit each spool is closed, so one that was not
    stored leaves no file."""
    spools = []

    def factory(*_args, **_kwargs):
        spools.append(photos.spool())
        return spools[-1]

    try:
        yield factory
    finally:
        for spool in spools:
            spool.close()


def store() -> PhotoStore:
    """The app's photo store: the folder PHOTO_DIR, or the bucket PHOTO_STORE=s3://… names."""
    ext = current_app.extensions
    if "fieldsales.photo_store" not in ext:
        config = current_app.config
        if config.get("PHOTO_STORE"):
            from fieldsales.photos.s3store import S3PhotoStore  # boto3 only when configured

            ext["fieldsales.photo_store"] = S3PhotoStore(
                config["PHOTO_STORE"], endpoint=config["S3_ENDPOINT"],
                region=config["S3_REGION"], access_key=config["S3_ACCESS_KEY"],
                secret_key=config["S3_SECRET_KEY"], spool_dir=config["PHOTO_DIR"])
        else:
            ext["fieldsales.photo_store"] = LocalPhotoStore(config["PHOTO_DIR"])
    return ext["fieldsales.photo_store"]
