"""Backups: the database (pg_dump, custom format) and the photo store (a tar), with a manifest
of checksums, and their restore into a fresh database and an empty photo folder.

The PostgreSQL client tools do the database part (they are the well-kept way to copy a
database); extensions are left to the target (PostGIS must be installed there already), so a
restore needs no superuser.
"""
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

FORMAT = 1


def _tool(name):
    path = shutil.which(name)
    if path is None:
        raise RuntimeError(f"{name} not found: install the PostgreSQL client tools.")
    return path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fp:
        for block in iter(lambda: fp.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create(*, database_url: str, photo_dir: str, out_root: Path, progress=print) -> Path:
    """Write a backup folder under out_root; returns it."""
    out = out_root / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=False)
    dump = out / "database.dump"
    progress(f"backup: dumping the database to {dump}")
    # PostGIS's own table is the extension's business; the target has it already.
    subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                    "--exclude-table-data=public.spatial_ref_sys", f"--file={dump}",
                    database_url], check=True)
    photos = out / "photos.tar"
    root = Path(photo_dir)
    count = 0
    with tarfile.open(photos, "w") as tar:
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                if path.name.startswith(".tmp-"):
                    continue  # a write in progress, not a stored photo
                tar.add(path, arcname=str(path.relative_to(root)))
                count += 1
                if count % 1000 == 0:
                    progress(f"backup: {count} photo files")
    progress(f"backup: {count} photo files archived")
    manifest = {
        "format": FORMAT, "created_at": datetime.now(UTC).isoformat(),
        "database": {"file": dump.name, "bytes": dump.stat().st_size, "sha256": _sha256(dump)},
        "photos": {"file": photos.name, "files": count, "bytes": photos.stat().st_size,
                   "sha256": _sha256(photos)},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return out


def _check(folder: Path) -> dict:
    manifest = json.loads((folder / "manifest.json").read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError("Unknown backup format.")
    for part in ("database", "photos"):
        if Path(manifest[part]["file"]).name != manifest[part]["file"]:
            raise ValueError("manifest.json names a file outside the backup folder.")
        path = folder / manifest[part]["file"]
        if _sha256(path) != manifest[part]["sha256"]:
            raise ValueError(f"{path.name} does not match its checksum in manifest.json.")
    return manifest


def _create_extensions(database_url, names):
    # Tooling, not the app's engine: psycopg 3 directly, whichever driver the app is set to use
    # (both are installed dependencies).
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url) as conn, conn.cursor() as cur:
        for name in names:
            try:
                cur.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(
                    sql.Identifier(name)))
                conn.commit()
            except psycopg.Error:
                conn.rollback()
                raise ValueError(f"The target database lacks the extension {name!r} and this "
                                 "role may not create it; ask an administrator to run "
                                 f"CREATE EXTENSION {name} there first.") from None


def restore(*, folder: Path, database_url: str, photo_dir: str, progress=print) -> dict:
    """Restore a backup into an empty database (PostGIS installed) and an empty photo folder."""
    manifest = _check(folder)
    target = Path(photo_dir)
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"The photo folder {target} is not empty; restore into an empty one.")
    dump = folder / manifest["database"]["file"]
    listing = subprocess.run([_tool("pg_restore"), "--list", str(dump)], check=True,
                             capture_output=True, text=True).stdout
    # Extensions (and PostGIS's own spatial_ref_sys) are created here rather than by the dump:
    # trusted ones (pg_trgm, btree_gist) the database owner may create; PostGIS must have been
    # installed by an administrator (it needs a superuser).
    _create_extensions(database_url, [
        line.split(" EXTENSION - ", 1)[1].split()[0] for line in listing.splitlines()
        if " EXTENSION - " in line and not line.lstrip().startswith(";")
        and " COMMENT " not in line])
    keep = "\n".join(line for line in listing.splitlines()
                     if " EXTENSION " not in line and "spatial_ref_sys" not in line)
    with tempfile.NamedTemporaryFile("w", suffix=".list", delete=False) as fp:
        fp.write(keep + "\n")
        list_file = fp.name
    try:
        progress(f"restore: loading {dump.name}")
        subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                        "--single-transaction", f"--use-list={list_file}",
                        f"--dbname={database_url}", str(dump)], check=True)
    finally:
        os.unlink(list_file)
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / manifest["photos"]["file"]) as tar:
        tar.extractall(target, filter="data")  # no absolute paths, links out or devices
    progress(f"restore: {manifest['photos']['files']} photo files into {target}")
    return manifest
