"""`fieldsales audit verify` (and `--photos`) on 100k visits with real chains.

    FIELDSALES_DATABASE_URL=<a throwaway database> python -m bench.audit_verify [VISITS]

creates an org with 50 reps whose visits are sealed through the app's own `audit.record`
(batches of 2,000 visits, one transaction each; one photo with a real original file per 10
visits), then times the command as cron runs it: `audit verify`, `audit verify --photos`,
`audit verify --user-id` (one rep), and, as the baseline, reading the same entries with a bare
psycopg cursor. Not part of `make test`; `make bench BENCH=audit_verify` runs it too.
"""
import os
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

VISITS = max(2_000, int(100_000 * float(os.environ.get("FIELDSALES_BENCH_SCALE", "1"))))
REPS = 50
BATCH = 2_000
PHOTO_EVERY = 10


def _say(msg):
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def _jpeg():
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 80, 40)).save(out, "JPEG", quality=80)
    return out.getvalue()


def generate(n_visits):
    """The org, reps, customers, visits and photos, sealed batch by batch."""
    import hashlib

    from fieldsales import audit, create_app
    from fieldsales.auth.passwords import hash_password
    from fieldsales.customers.models import Customer
    from fieldsales.extensions import db
    from fieldsales.orgs.models import Org
    from fieldsales.photos.models import Photo
    from fieldsales.photos.service import evidence as photo_evidence
    from fieldsales.photos.storage import store
    from fieldsales.teams.models import Team
    from fieldsales.users.models import User
    from fieldsales.visits.models import Visit
    from fieldsales.visits.service import seal

    app = create_app()
    jpeg = _jpeg()
    sha = hashlib.sha256(jpeg).hexdigest()
    with app.app_context():
        org = Org(id=uuid.uuid4(), name=f"Audit bench {uuid.uuid4().hex[:6]}",
                  timezone="Asia/Shanghai")
        team = Team(id=uuid.uuid4(), org_id=org.id, name="Bench team")
        password = hash_password("bench-password-0123")
        reps = [User(id=uuid.uuid4(), org_id=org.id, role="rep", team_id=team.id,
                     email=f"rep{i}-{org.id.hex[:6]}@bench.test", name=f"Rep {i}",
                     password_hash=password, active=True) for i in range(REPS)]
        shops = [Customer(id=uuid.uuid4(), org_id=org.id, name=f"Shop {i}", team_id=team.id,
                          lat=31.2 + i * 0.001, lng=121.4 + i * 0.001, tags=[], status="active",
                          custom={}, version=1) for i in range(200)]
        db.session.add(org)
        db.session.flush()
        db.session.add(team)
        db.session.flush()
        db.session.add_all(reps + shops)
        db.session.commit()
        day0 = datetime.now(UTC) - timedelta(days=400)
        made = 0
        while made < n_visits:
            count = min(BATCH, n_visits - made)
            photos = []
            for k in range(made, made + count):
                rep, shop = reps[k % REPS], shops[(k * 7) % len(shops)]
                at = day0 + timedelta(minutes=7 * k)
                out = at + timedelta(minutes=25)
                v = Visit(id=uuid.uuid4(), org_id=org.id, user_id=rep.id, customer_id=shop.id,
                          status="closed", in_at=at, in_device_time=at, in_received_at=at,
                          in_lat=shop.lat, in_lng=shop.lng, in_accuracy_m=8.0,
                          in_provider="gps", in_mock=False, in_distance_m=3.0,
                          in_within_geofence=True, out_at=out, out_device_time=out,
                          out_received_at=out, out_lat=shop.lat, out_lng=shop.lng,
                          out_accuracy_m=8.0, out_provider="gps", out_mock=False,
                          out_distance_m=3.0, out_within_geofence=True, closed_at=out,
                          closed_by="rep", flags=[], risk_score=0, created_at=at,
                          created_by=rep.id)
                db.session.add(v)
                seal(v, action="visit.checked_out", actor_id=rep.id)
                if k % PHOTO_EVERY == 0:
                    p = Photo(id=uuid.uuid4(), org_id=org.id, visit_id=v.id, user_id=rep.id,
                              sha256=sha, content_type="image/jpeg", width=64, height=48,
                              byte_size=len(jpeg), taken_at=at, source="camera", flags=[],
                              phash=0, phash_b0=0, phash_b1=0, phash_b2=0, phash_b3=0,
                              created_at=at, created_by=rep.id)
                    p.storage_key = f"{org.id}/{p.id}"
                    store().put_bytes(f"{p.storage_key}/original", jpeg)
                    photos.append(p)
                    audit.record(org_id=org.id, user_id=rep.id, actor_id=rep.id,
                                 action="photo.uploaded", entity_type="photo", entity_id=p.id,
                                 data={"visit_id": v.id, "sha256": sha, "flags": []},
                                 evidence=photo_evidence(p))
            db.session.flush()  # the visits first: photos point at them
            db.session.add_all(photos)
            db.session.commit()
            made += count
            if made % 20_000 == 0 or made == n_visits:
                _say(f"generated {made:,}/{n_visits:,} visits")
        return org.id, reps[0].id


def _cli(*args):
    exe = os.path.join(os.path.dirname(sys.executable), "fieldsales")
    started = time.perf_counter()
    proc = subprocess.run([exe, "audit", *args], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"audit {' '.join(args)}: exit {proc.returncode}\n"
                           f"{proc.stdout[-500:]}{proc.stderr[-1000:]}")
    return round(seconds, 2)


def _read_entries_s(org_id):
    import psycopg

    from config import settings

    started = time.perf_counter()
    with psycopg.connect(settings.load().DATABASE_URL) as conn, \
            conn.cursor(name="bench") as cur:
        cur.itersize = 5000
        cur.execute("SELECT * FROM audit_entries WHERE org_id = %s ORDER BY org_id, user_id, seq",
                    (org_id,))
        for _ in cur:
            pass
    return round(time.perf_counter() - started, 2)


def _in_process_s(org_id):
    """verify() of the org, without the command's start-up (importing and building the app)."""
    from fieldsales import create_app
    from fieldsales.audit.verify import verify

    with create_app().app_context():
        started = time.perf_counter()
        result = verify(org_id=org_id)
        seconds = time.perf_counter() - started
    if not result["ok"]:
        raise RuntimeError(f"verify found problems: {result['problems'][:3]}")
    return round(seconds, 2), result["entries"]


def measure(n_visits):
    started = time.perf_counter()
    org, rep = generate(n_visits)
    _say(f"generated in {time.perf_counter() - started:.0f}s")
    # Its own org only: the bench database also holds the other benchmarks' data sets, whose
    # visits are inserted without the app (unsealed) and whose floors' chains use a bench key.
    mine = ("--org-id", str(org))
    figures = {"visits": n_visits, "verify_s": _cli("verify", *mine),
               "verify_photos_s": _cli("verify", *mine, "--photos"),
               "verify_one_rep_s": _cli("verify", "--user-id", str(rep)),
               "checkpoint_s": _cli("checkpoint"), "read_entries_s": _read_entries_s(org)}
    figures["verify_after_checkpoint_s"] = _cli("verify", *mine)
    figures["verify_in_process_s"], figures["entries"] = _in_process_s(org)
    return figures


def _isolated_stores():
    for name in ("PHOTO_DIR", "CHECKPOINT_DIR"):
        os.environ.setdefault(f"FIELDSALES_{name}", tempfile.mkdtemp(prefix="audit-bench-"))


def run():
    from bench.harness import result

    _isolated_stores()
    f = measure(int(os.environ.get("AUDIT_BENCH_VISITS", VISITS)))
    note = (f"{f['visits']:,} visits; --photos {f['verify_photos_s']} s; one rep "
            f"{f['verify_one_rep_s']} s; baseline: reading the entries")
    return [result("audit_verify", f["verify_s"], f["read_entries_s"], "s", False, note)]


if __name__ == "__main__":
    _isolated_stores()
    print(measure(int(sys.argv[1]) if len(sys.argv) > 1 else VISITS))
