"""The two statements of a photo upload (issue 12 §3): one locks the caller's visit and the
rep's audit chain head and reads everything the flags and the retry rules need; the other
inserts the photo with its audit entries (and the visit's new flags). The rules themselves
stay in Python (visits/flags.py, idempotency, audit), fed from these rows."""
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace

from geoalchemy2 import Geometry
from sqlalchemy import BigInteger, Boolean, DateTime, Float, Integer, String, Uuid, bindparam, \
    column, inspect, text

from fieldsales.audit.service import HEAD_PARAMS, adopt, head_cte, pending_sql
from fieldsales.db import on_citus
from fieldsales.extensions import db
from fieldsales.jobs.defer import beside
from fieldsales.photos import processing
from fieldsales.photos.models import Photo
from fieldsales.visits import flags as rules
from fieldsales.visits.models import Visit

_VISIT = [c for c in Visit.__table__.c if not isinstance(c.type, Geometry)]
_PHOTO = list(Photo.__table__.c)
_names = lambda prefix, cols: ", ".join(f"{prefix}.{c.name}" for c in cols)  # noqa: E731

# Only the caller's own visit is locked here (a visit the caller may see but not upload to
# takes the scope's slower path, for its 404 or 403). Its rep's chain head is locked after the
# visit, in the order check-out takes them. `photo` is the same bytes on this visit (a retry)
# or else the row already holding the client's id in the org (idempotency decides).
# Only fixed column names and CTE text are formatted in; every value is bound.
_LOCK = text(f"""
    WITH visit AS (
        SELECT {_names("visits", _VISIT)}, visits.in_geom FROM visits
        WHERE visits.org_id = :org_id AND visits.id = :visit_id AND visits.user_id = :user_id
        FOR UPDATE),
    {head_cte("head", "SELECT CAST(:user_id AS uuid), CAST(:org_id AS uuid) "
                      "WHERE (SELECT count(*) FROM visit) > 0")}
    SELECT {_names("visit", _VISIT)},
           {", ".join(f"photo.{c.name} AS photo_{c.name}" for c in _PHOTO)},
           head.seq AS audit_seq, head.hash AS audit_hash, statement_timestamp() AS now,
           NOT ST_DWithin(CAST(ST_SetSRID(ST_MakePoint(:lng, :lat), 4326) AS geography),
                          geography(visit.in_geom), :max_distance_m) AS far,
           EXISTS (SELECT 1 FROM photos
                   WHERE org_id = :org_id AND sha256 = :sha256 AND visit_id <> :visit_id)
           OR (:distinctive AND EXISTS (
                   SELECT 1 FROM photos
                   WHERE org_id = :org_id AND visit_id <> :visit_id
                     AND (phash_b0 = :b0 OR phash_b1 = :b1 OR phash_b2 = :b2 OR phash_b3 = :b3)
                     AND bit_count((phash # :phash)::bit(64)) <= :max_hamming)) AS reused
    FROM visit CROSS JOIN head
    LEFT JOIN LATERAL (
        SELECT * FROM photos
        WHERE photos.org_id = :org_id
          AND ((photos.visit_id = visit.id AND photos.sha256 = :sha256) OR photos.id = :client_id)
        ORDER BY photos.visit_id = visit.id AND photos.sha256 = :sha256 DESC LIMIT 1
    ) AS photo ON true
""").bindparams(  # noqa: S608 (see above)
    *(bindparam(name, type_=Uuid) for name in ("org_id", "visit_id", "user_id", "client_id")),
    bindparam("sha256", type_=String), bindparam("distinctive", type_=Boolean),
    *(bindparam(name, type_=Float) for name in ("lat", "lng", "max_distance_m")),
    *(bindparam(name, type_=Integer) for name in ("b0", "b1", "b2", "b3", "max_hamming")),
    bindparam("phash", type_=BigInteger),
).columns(
    *(column(c.name, c.type) for c in _VISIT),
    *(column(f"photo_{c.name}", c.type) for c in _PHOTO),
    column("audit_seq", Integer), column("audit_hash", String),
    column("now", DateTime(timezone=True)), column("far", Boolean), column("reused", Boolean),
)


@dataclass
class Locked:
    visit: SimpleNamespace  # the visit's columns (flags may be changed, then written back)
    photo: Photo | None  # same bytes on this visit, else the holder of the client id
    same_bytes: bool  # `photo` is the same bytes on this visit (a retry, whatever its id)
    now: datetime  # the statement's timestamp: the new photo's created_at
    far: bool | None  # EXIF position beyond PHOTO_MAX_DISTANCE_M of the check-in
    reused: bool


def lock_own_visit(*, principal, visit_id, sha256: str, client_id,
                   result: processing.Processed | None) -> Locked | None:
    """One statement: the caller's own visit locked, the chain head locked and adopted (so the
    entries sealed next need no statement of their own), and the lookups; None when the visit
    is not the caller's own (or not there)."""
    gps = result.gps if result else None
    bands = result.phash_bands if result else (None,) * processing.PHASH_BANDS
    row = db.session.execute(_LOCK, {
        "org_id": principal.org_id, "visit_id": visit_id, "user_id": principal.id,
        "client_id": client_id, "sha256": sha256,
        "lat": gps[0] if gps else None, "lng": gps[1] if gps else None,
        "max_distance_m": rules.PHOTO_MAX_DISTANCE_M,
        "distinctive": bool(result) and processing.phash_is_distinctive(result.phash),
        "b0": bands[0], "b1": bands[1], "b2": bands[2], "b3": bands[3],
        "phash": result.phash_signed if result else None,
        "max_hamming": processing.REUSE_MAX_HAMMING, **HEAD_PARAMS,
    }).one_or_none()
    if row is None:
        return None
    m = row._mapping
    visit = SimpleNamespace(**{c.name: m[c.name] for c in _VISIT})
    adopt(user_id=visit.user_id, org_id=visit.org_id, seq=m["audit_seq"],
                hash_=m["audit_hash"])
    photo = None
    if m["photo_id"] is not None:
        photo = Photo(**{a.key: m[f"photo_{a.columns[0].name}"]
                         for a in inspect(Photo).column_attrs})
    same_bytes = photo is not None and photo.visit_id == visit.id and photo.sha256 == sha256
    return Locked(visit=visit, photo=photo, same_bytes=same_bytes, now=m["now"], far=m["far"],
                  reused=m["reused"])


_INSERT = (f"photo AS (INSERT INTO photos ({', '.join(c.name for c in _PHOTO)}) "  # noqa: S608
           f"VALUES ({', '.join(f':photo_{c.name}' for c in _PHOTO)}))")
_VISIT_FLAGS = ("visit AS (UPDATE visits SET flags = :visit_flags, risk_score = :visit_risk_score "
                "WHERE org_id = :visit_org_id AND id = :visit_id)")
_TYPES = [*(bindparam(f"photo_{c.name}", type_=c.type) for c in _PHOTO),
          bindparam("visit_flags", type_=Visit.__table__.c.flags.type),
          *(bindparam(name, type_=Uuid) for name in ("visit_org_id", "visit_id"))]


def insert(photo: Photo, *, visit=None, job=None):
    """One statement: the photo row, `visit`'s flags and risk score when given (they changed),
    every audit entry sealed since lock_own_visit, and `job` when given (jobs.defer.job_cte,
    named "job"). A duplicate raises IntegrityError before anything is written."""
    ctes, params = [_INSERT], {f"photo_{a.columns[0].name}": getattr(photo, a.key)
                               for a in inspect(Photo).column_attrs}
    if visit is not None:
        ctes.append(_VISIT_FLAGS)
        params.update(visit_flags=list(visit.flags), visit_risk_score=visit.risk_score,
                      visit_org_id=visit.org_id, visit_id=visit.id)
    types = [b for b in _TYPES if b.key in params]
    final, job_beside = "SELECT 1", job is not None and on_citus()
    if job is not None and not job_beside:
        job_sql, job_params, job_types = job
        ctes.append(job_sql)
        params.update(job_params)
        types += job_types
        final = "SELECT 1 FROM job"  # a SELECT in WITH runs only when read
    audit_ctes, audit_params = pending_sql()
    sql, params = f"WITH {', '.join(ctes + audit_ctes)} {final}", {**params, **audit_params}
    if job_beside:
        sql, params, types = beside(sql, params, types, job)
    db.session.execute(text(sql).bindparams(*types), params)  # noqa: S608 (see _INSERT)
