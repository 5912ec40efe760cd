"""`make backup` / `make restore` end to end: a database with demo data and real photos is
backed up, restored into a fresh database and an empty photo folder, and the restored copy
passes `fieldsales audit verify` with every photo's bytes matching its sha256."""
import hashlib
import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests

from bench.harness import gunicorn, login
from fieldsales.migrate import upgrade
from tests.factories.photos import fixture

ROOT = Path(__file__).resolve().parents[2]
FIELDSALES = str(Path(sys.executable).parent / "fieldsales")

pytestmark = pytest.mark.skipif(
    not os.environ.get("FIELDSALES_LOCAL_CLUSTER"),
    reason="makes databases of its own on the project's local cluster (not on an external one)")


@pytest.fixture
def fresh_db():
    made = []

    def make():
        name = f"fieldsales_backup_{os.getpid()}_{len(made)}"
        made.append(name)
        return subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "createdb", name],
                              check=True, capture_output=True, text=True).stdout.strip()
    yield make
    for name in made:
        subprocess.run([str(ROOT / "scripts" / "localdb.sh"), "dropdb", name],
                       capture_output=True)


def cli(*args, env, check=True):
    proc = subprocess.run([FIELDSALES, *args], env={**os.environ, **env}, capture_output=True,
                          text=True, timeout=300)
    if check and proc.returncode:
        raise AssertionError(f"{args}: {proc.stderr[-1500:]}")
    return proc


def test_backup_then_restore_into_a_fresh_database(fresh_db, tmp_path):
    src_url, photos_src = fresh_db(), tmp_path / "photos-src"
    src = {"FIELDSALES_DATABASE_URL": src_url, "FIELDSALES_TEST_DATABASE_URL": src_url,
           "FIELDSALES_PHOTO_DIR": str(photos_src)}
    upgrade(src_url)
    admin_email = f"backup-admin-{uuid.uuid4().hex[:6]}@example.test"
    cli("orgs", "create", "Backed up", "--admin-email", admin_email, "--admin-password",
        "backup-password", env=src)
    with gunicorn(workers=1, extra_env=src) as (base, _):
        admin = login(base, admin_email, "backup-password")
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": "rep-" + admin_email, "name": "Rep", "password": "backup-password",
            "role": "rep"}).raise_for_status()
        rep = login(base, "rep-" + admin_email, "backup-password")
        shop = requests.post(base + "/api/v1/customers", headers=rep, timeout=30, json={
            "name": "Shop", "location": {"lat": 31.2304, "lng": 121.4737}}).json()
        visit = requests.post(base + "/api/v1/visits", headers=rep, timeout=30, json={
            "id": str(uuid.uuid4()), "customer_id": shop["id"],
            "device_time": "2026-11-20T09:00:00+08:00",
            "location": {"lat": shop["location"]["lat"], "lng": shop["location"]["lng"],
                         "accuracy_m": 10}}).json()
        for name in ("jpg_gps_DSCN0010.jpg", "heic_IMG_5195.HEIC"):
            r = requests.post(f"{base}/api/v1/visits/{visit['id']}/photos", headers=rep,
                              timeout=60, files={"file": (name, io.BytesIO(fixture(name)))})
            assert r.status_code == 201, r.text
            # no worker runs here: the first GET makes the preview and thumbnail
            assert requests.get(base + r.json()["urls"]["preview"], headers=rep,
                                timeout=60).status_code == 200
    source_check = json.loads(cli("audit", "verify", env=src).stdout)
    assert source_check["ok"] is True

    folder = json.loads(cli("backup", "create", "--out", str(tmp_path / "backups"),
                            env=src).stdout)["backup"]
    manifest = json.loads((Path(folder) / "manifest.json").read_text())
    assert manifest["photos"]["files"] == 6  # two photos × (original, preview, thumbnail)

    dst_url, photos_dst = fresh_db(), tmp_path / "photos-dst"
    dst = {"FIELDSALES_DATABASE_URL": dst_url, "FIELDSALES_TEST_DATABASE_URL": dst_url,
           "FIELDSALES_PHOTO_DIR": str(photos_dst)}
    cli("backup", "restore", folder, env=dst)
    restored_check = json.loads(cli("audit", "verify", env=dst).stdout)
    assert restored_check["ok"] is True
    assert restored_check["entries"] == source_check["entries"] > 0

    with psycopg2.connect(dst_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT storage_key, sha256 FROM photos")
        photos = cur.fetchall()
    assert len(photos) == 2
    for key, sha256 in photos:
        original = (photos_dst / key / "original").read_bytes()
        assert hashlib.sha256(original).hexdigest() == sha256

    # A second restore would mix two copies: it is refused while the photo folder is not empty.
    again = cli("backup", "restore", folder, env=dst, check=False)
    assert again.returncode != 0 and "not empty" in again.stderr


def test_a_damaged_backup_is_refused(fresh_db, tmp_path):
    url = fresh_db()
    env = {"FIELDSALES_DATABASE_URL": url, "FIELDSALES_TEST_DATABASE_URL": url,
           "FIELDSALES_PHOTO_DIR": str(tmp_path / "photos")}
    upgrade(url)
    folder = Path(json.loads(cli("backup", "create", "--out", str(tmp_path / "b"),
                                 env=env).stdout)["backup"])
    with open(folder / "database.dump", "r+b") as fp:
        fp.seek(100)
        fp.write(b"\x00damage\x00")
    proc = cli("backup", "restore", str(folder), env={**env, "FIELDSALES_PHOTO_DIR":
                                                      str(tmp_path / "other")}, check=False)
    assert proc.returncode != 0 and "checksum" in proc.stderr
