"""Where photo files live, behind a small interface (a local folder now; object storage later).

Keys are opaque strings such as "<org>/<photo id>.<attempt>/original". Writes are atomic (a
temporary file renamed into place), so a reader never sees half a file and a failed write
leaves none.

Every upload attempt writes under a key of its own (`attempt_key`: the photo id plus a random
128-bit attempt token), and the row that commits names the key its attempt wrote. Concurrent
retries of one upload (same client id, same bytes) therefore never write to, or remove, each
other's files: the winner's row points at the winner's folder, and each loser removes only the
folder it created itself. Rows written before this scheme keep their "<org>/<photo id>" key and
are read the same way (the key is per row). `open` raises FileNotFoundError for a missing key.
"""
import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class PhotoStore(Protocol):
    def put_file(self, key: str, src: BinaryIO) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def open(self, key: str) -> tuple[BinaryIO, int]: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...


class LocalPhotoStore:
    """Files under one folder (FIELDSALES_PHOTO_DIR, default var/photos)."""

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

    def put_file(self, key, src):
        src.seek(0)
        self._write(key, lambda out: shutil.copyfileobj(src, out, 1 << 20))

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


def store() -> PhotoStore:
    """The app's photo store."""
    ext = current_app.extensions
    if "fieldsales.photo_store" not in ext:
        ext["fieldsales.photo_store"] = LocalPhotoStore(current_app.config["PHOTO_DIR"])
    return ext["fieldsales.photo_store"]
