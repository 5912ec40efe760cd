"""photo_upload: time to accept a 12 MP JPEG end to end (HTTP multipart through gunicorn, auth,
size/type checks, SHA-256, EXIF, perceptual hash from a draft decode, reuse lookup, the
original written, row + audit entry + the deferred derivatives job; the preview and thumbnail
are made by that job after the answer) vs raw Pillow in one process doing the same image work
(SHA-256, EXIF, a draft decode at thumbnail size and its pHash). Also
the peak RSS of a worker during 8 concurrent 12 MP uploads, and photo_upload_s3: the same
sequential uploads with the photo store on SeaweedFS (S3) vs the folder store, in the same run."""
import hashlib
import io
import json
import random
import statistics
import subprocess
import tempfile
import threading
import time
from datetime import UTC, datetime

import imagehash
import psutil
import requests
from PIL import Image

from bench import harness
from bench.harness import gunicorn, login, percentile, result
from bench.seaweedfs import seaweedfs

ADMIN = "bench-photos-admin@bench.fieldsales.dev"
PASSWORD = "bench-password-1"
SIZE = (4000, 3000)  # 12 MP
N = 15
CONCURRENT = 8


def make_jpeg() -> bytes:
    """A 12 MP photo-like JPEG: smooth gradients with texture (compresses like a real photo)."""
    rng = random.Random(12)
    small = Image.new("RGB", (40, 30))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256))
                   for _ in range(40 * 30)])
    im = small.resize(SIZE, Image.Resampling.BICUBIC)
    noise = Image.effect_noise(SIZE, 24).convert("RGB")
    im = Image.blend(im, noise, 0.18)
    exif = Image.Exif()
    exif.get_ifd(0x8769)[0x9003] = datetime.now().strftime("%Y:%m:%d %H:%M:%S")
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def variant(data: bytes, n: int) -> bytes:
    """The same picture with different bytes (a JPEG comment), so every upload is new work."""
    comment = f"bench {n} {time.time_ns()}".encode()
    return data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment + data[2:]


def raw_pillow(data: bytes):
    """What the upload does to the bytes before it answers, in plain Pillow: SHA-256, EXIF, and
    the perceptual hash of a draft decode at thumbnail size (the derivatives are a job now)."""
    hashlib.sha256(data).hexdigest()
    with Image.open(io.BytesIO(data)) as im:
        im.getexif()
        im.draft("RGB", (320, 320))
        im.thumbnail((320, 320))
        imagehash.phash(im.convert("RGB"))


def ensure_org():
    harness.ensure_org("Bench photos", ADMIN, PASSWORD)


def open_visits(base, n, first=0):
    admin = login(base, ADMIN, PASSWORD)
    visits = []
    for i in range(first, first + n):
        email = f"bench-photo-rep{i}@bench.fieldsales.dev"
        requests.post(base + "/api/v1/users", headers=admin, timeout=30, json={
            "email": email, "name": f"Photo rep {i}", "password": PASSWORD, "role": "rep"})
        headers = login(base, email, PASSWORD)
        shop = requests.post(base + "/api/v1/customers", headers=headers, timeout=30, json={
            # a name of its own per run: the duplicate guard refuses a second "Photo shop 0"
            "name": f"Photo shop {i} {time.time_ns()}",
            "location": {"lat": 31.23, "lng": 121.47}}).json()
        visit = requests.post(base + "/api/v1/visits", headers=headers, timeout=30, json={
            "customer_id": shop["id"], "location": {"lat": 31.23, "lng": 121.47,
                                                    "accuracy_m": 8},
            "device_time": datetime.now(UTC).isoformat()}).json()
        visits.append((headers, visit["id"]))
    return visits


def upload(base, session, headers, visit_id, data):
    t = time.perf_counter()
    r = session.post(f"{base}/api/v1/visits/{visit_id}/photos", headers=headers, timeout=120,
                     files={"file": ("photo.jpg", data, "image/jpeg")})
    elapsed = (time.perf_counter() - t) * 1000
    if r.status_code != 201:
        raise RuntimeError(f"upload failed: {r.status_code} {r.text[:200]}")
    return elapsed


def peak_worker_rss(master_pid, stop, peaks):
    master = psutil.Process(master_pid)
    while not stop.is_set():
        for worker in master.children():
            try:
                rss = worker.memory_info().rss
            except psutil.Error:
                continue
            peaks[worker.pid] = max(peaks.get(worker.pid, 0), rss)
        time.sleep(0.01)


def run():
    ensure_org()
    data = make_jpeg()
    samples = [variant(data, i) for i in range(N + 2)]
    baseline = []
    for i, sample in enumerate(samples):
        t = time.perf_counter()
        raw_pillow(sample)
        if i >= 2:
            baseline.append((time.perf_counter() - t) * 1000)

    photo_dir = tempfile.mkdtemp(prefix="fieldsales-bench-photos-")
    with gunicorn(extra_env={"FIELDSALES_PHOTO_DIR": photo_dir}) as (base, proc):
        visits = open_visits(base, CONCURRENT)
        headers, visit_id = visits[0]
        session = requests.Session()
        ours = [upload(base, session, headers, visit_id, s) for s in samples]
        ours = ours[2:]
        stop, peaks = threading.Event(), {}
        sampler = threading.Thread(target=peak_worker_rss, args=(proc.pid, stop, peaks))
        sampler.start()
        concurrent = [variant(data, 1000 + i) for i in range(CONCURRENT * 2)]

        def client(i):
            s = requests.Session()
            for n in range(2):
                h, v = visits[i]
                upload(base, s, h, v, concurrent[i * 2 + n])

        threads = [threading.Thread(target=client, args=(i,)) for i in range(CONCURRENT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        sampler.join()
    subprocess.run(["rm", "-rf", photo_dir], check=False)
    peak_mb = max(peaks.values()) / 1024 / 1024 if peaks else float("nan")
    med_ours, med_raw = statistics.median(ours), statistics.median(baseline)
    s3 = s3_uploads(data)
    return [result(
        "photo_upload", med_ours, med_raw, "ms p50", higher_is_better=False,
        notes=f"{SIZE[0]}x{SIZE[1]} JPEG, {len(data) / 1e6:.1f} MB; p90 ours "
              f"{percentile(ours, 90):.0f} ms; peak worker RSS {peak_mb:.0f} MB during "
              f"{CONCURRENT} concurrent uploads (target < 200 MB)", min_ratio=0.7),
        result("photo_upload_s3", statistics.median(s3), med_ours, "ms p50",
               higher_is_better=False,
               notes=f"the same uploads into SeaweedFS on loopback (FIELDSALES_PHOTO_STORE=s3://) "
                     f"vs the folder store in this run; p90 {percentile(s3, 90):.0f} ms")]


def s3_uploads(data) -> list[float]:
    """The sequential uploads of run() again, with the photo store on a real SeaweedFS."""
    with seaweedfs() as server:
        spool = tempfile.mkdtemp(prefix="fieldsales-bench-spool-")
        try:
            with gunicorn(extra_env={**server["env"], "FIELDSALES_PHOTO_DIR": spool}) as (base, _):
                headers, visit_id = open_visits(base, 1, first=CONCURRENT)[0]
                session = requests.Session()
                times = [upload(base, session, headers, visit_id, variant(data, 2000 + i))
                         for i in range(N + 2)]
        finally:
            subprocess.run(["rm", "-rf", spool], check=False)
    return times[2:]

if __name__ == "__main__":
    print(json.dumps(run()))
