"""check_in's SQL floor: what a check-in sends to PostgreSQL, without HTTP or Python layers —
lock the rep (with the org's thresholds and the duplicate-id check), the geofence, the previous
event, the open visit (FOR UPDATE), the audit head; then one statement that closes the open
visit, inserts the new one and writes both audit entries and the head; commit. 8 round trips
with psycopg2's BEGIN and the COMMIT."""
import hashlib
import uuid
from datetime import UTC, datetime

from bench._sql_floor import Chain, digest

LOCK_REP = """
SELECT o.geofence_radius_m, o.low_accuracy_m, o.max_speed_kmh, o.min_visit_minutes,
       EXISTS (SELECT 1 FROM visits WHERE id = %(id)s)
FROM orgs o JOIN users u ON u.org_id = o.id
WHERE u.id = %(user)s AND u.org_id = %(org)s
FOR NO KEY UPDATE OF u
"""
GEOFENCE = """
SELECT c.id, c.lat, ST_Distance(geography(c.geom), p.g),
       ST_DWithin(geography(c.geom), p.g, coalesce(c.geofence_radius_m, %(radius)s))
FROM customers c, (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g) p
WHERE c.id = %(customer)s AND c.org_id = %(org)s
"""
PREVIOUS_EVENT = """
WITH candidates AS (
    (SELECT in_at AS at, in_geom AS geom FROM visits
      WHERE user_id = %(user)s AND in_at < %(at)s ORDER BY in_at DESC LIMIT 1)
    UNION ALL
    (SELECT out_at, out_geom FROM visits
      WHERE user_id = %(user)s AND out_at IS NOT NULL AND out_at < %(at)s
      ORDER BY out_at DESC LIMIT 1)
)
SELECT at,
       ST_Distance(geography(geom), geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326))),
       NOT ST_DWithin(geography(geom),
                      geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)), 1000)
FROM candidates ORDER BY at DESC LIMIT 1
"""
OPEN_VISIT = "SELECT * FROM visits WHERE user_id = %(user)s AND status = 'open' FOR UPDATE"
# The insert reads the close's count first, so the one-open-visit slot is free when it runs.
WRITE = """
WITH closed AS (
    UPDATE visits SET status = 'closed', closed_at = greatest(%(at)s, in_at), closed_by = 'auto',
           flags = %(closed_flags)s::varchar[], risk_score = %(closed_risk)s
    WHERE id = %(open_id)s RETURNING id
), inserted AS (
    INSERT INTO visits (id, org_id, user_id, customer_id, status, in_at, in_device_time,
                        in_received_at, in_lat, in_lng, in_accuracy_m, in_provider, in_mock,
                        in_distance_m, in_within_geofence, flags, risk_score, created_at,
                        created_by, request_hash)
    SELECT %(id)s, %(org)s, %(user)s, %(customer)s, 'open', %(at)s, %(at)s, %(at)s, %(lat)s,
           %(lng)s, %(accuracy)s, 'gps', false, %(distance)s, %(within)s,
           %(flags)s::varchar[], %(risk)s, %(at)s, %(user)s, %(request_hash)s
    FROM (SELECT count(*) FROM closed) AS c
    RETURNING id
), {audit}
SELECT id FROM inserted
"""


def check_in(cur, rep, org_id):
    """One check-in of `rep` ({user_id, customer_id, lat, lng}) at its customer."""
    now = datetime.now(UTC)
    params = {"id": str(uuid.uuid4()), "user": rep["user_id"], "org": org_id,
              "customer": rep["customer_id"], "lat": rep["lat"] + 0.0001, "lng": rep["lng"],
              "accuracy": 12.0, "at": now}
    cur.execute(LOCK_REP, params)
    radius, low_accuracy, _speed, _minutes, taken = cur.fetchone()
    assert not taken
    cur.execute(GEOFENCE, {**params, "radius": radius})
    _customer, _lat, distance, within = cur.fetchone()
    cur.execute(PREVIOUS_EVENT, params)
    cur.fetchone()
    cur.execute(OPEN_VISIT, params)
    columns = [d.name for d in cur.description]
    still_open = cur.fetchone()
    chain = Chain(cur, org_id, rep["user_id"])
    flags = [] if within else ["outside_geofence"]
    params.update(distance=round(distance, 2), within=within, flags=flags,
                  risk=15 if flags else 0,
                  request_hash=hashlib.sha256(str(params).encode()).hexdigest(), open_id=None,
                  closed_flags=[], closed_risk=0)
    if still_open is not None:
        row = dict(zip(columns, still_open, strict=True))
        params.update(open_id=row["id"], closed_flags=sorted({*row["flags"], "missing_check_out"}),
                      closed_risk=min(100, row["risk_score"] + 20))
        chain.append("visit.auto_closed", "visit", row["id"],
                     {"reason": "new_check_in", "evidence_sha256": digest(row)})
    chain.append("visit.checked_in", "visit", params["id"],
                 {"customer_id": rep["customer_id"], "flags": flags,
                  "evidence_sha256": digest(params)})
    audit, audit_params = chain.ctes()
    cur.execute(WRITE.format(audit=audit), {**params, **audit_params})
    assert cur.fetchone() is not None
