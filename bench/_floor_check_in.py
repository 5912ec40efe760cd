"""check_in's SQL floor: the two statements a check-in sends (fieldsales/visits/writes.py),
written out in plain SQL and run without HTTP or Python layers. The first locks the rep, its
open visit and its audit chain head (each lock after the one before) and reads the org's
thresholds, whether the client id is taken, the customer's geofence and the previous event;
the second closes the open visit, inserts the new one and writes the audit entries and the
head; then COMMIT. 4 round trips with psycopg2's BEGIN."""
import hashlib
import uuid
from datetime import UTC, datetime

from bench._sql_floor import GENESIS, Chain, digest

READ = """
WITH rep AS MATERIALIZED (
    SELECT u.id FROM users u WHERE u.id = %(user)s AND u.org_id = %(org)s FOR NO KEY UPDATE
), visit AS MATERIALIZED (
    SELECT v.id FROM visits v
    WHERE v.user_id = %(user)s AND v.status = 'open' AND (SELECT count(*) FROM rep) >= 0
    FOR UPDATE
), audit_head AS (
    INSERT INTO audit_heads AS h (user_id, org_id, seq, hash)
    SELECT %(user)s, %(org)s, 0, %(genesis)s WHERE (SELECT count(*) FROM visit) >= 0
    ON CONFLICT (user_id) DO UPDATE SET seq = h.seq
    RETURNING seq, hash
)
SELECT o.low_accuracy_m, o.max_speed_kmh, o.min_visit_minutes, h.seq, h.hash,
       coalesce((SELECT seq FROM audit_heads WHERE user_id = %(user)s), 0) AS seen_seq,
       statement_timestamp(), EXISTS (SELECT 1 FROM visits WHERE id = %(id)s) AS taken,
       c.id, c.lat, c.distance_m, c.within, p.at, p.distance_m, p.beyond_1km, lv.*
FROM audit_head h
JOIN orgs o ON o.id = %(org)s
CROSS JOIN (SELECT geography(ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)) AS g) pt
LEFT JOIN visit ON true
LEFT JOIN visits lv ON lv.id = visit.id
LEFT JOIN LATERAL (
    SELECT c.id, c.lat, ST_Distance(geography(c.geom), pt.g) AS distance_m,
           ST_DWithin(geography(c.geom), pt.g,
                      coalesce(c.geofence_radius_m, o.geofence_radius_m)) AS within
    FROM customers c WHERE c.id = %(customer)s AND c.org_id = %(org)s
) c ON true
LEFT JOIN LATERAL (
    WITH candidates AS (
        (SELECT in_at AS at, in_geom AS geom FROM visits
          WHERE user_id = %(user)s AND in_at < %(at)s ORDER BY in_at DESC LIMIT 1)
        UNION ALL
        (SELECT out_at, out_geom FROM visits
          WHERE user_id = %(user)s AND out_at IS NOT NULL AND out_at < %(at)s
          ORDER BY out_at DESC LIMIT 1)
    )
    SELECT at, ST_Distance(geography(geom), pt.g) AS distance_m,
           NOT ST_DWithin(geography(geom), pt.g, 1000) AS beyond_1km
    FROM candidates ORDER BY at DESC LIMIT 1
) p ON true
"""
_LEADING = 15  # READ's columns before the open visit's (lv.*)
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
              "accuracy": 12.0, "at": now, "genesis": GENESIS}
    cur.execute(READ, params)
    row = cur.fetchone()
    (_low, _speed, _minutes, seq, head_hash, seen, _now, taken, customer_id, _lat, distance,
     within, *_previous) = row[:_LEADING]
    assert customer_id is not None and not taken and seen == seq
    chain = Chain(org_id, rep["user_id"], seq, head_hash)
    flags = [] if within else ["outside_geofence"]
    params.update(distance=round(distance, 2), within=within, flags=flags,
                  risk=15 if flags else 0,
                  request_hash=hashlib.sha256(str(params).encode()).hexdigest(), open_id=None,
                  closed_flags=[], closed_risk=0)
    if row[_LEADING] is not None:  # the open visit's id
        still_open = dict(zip([d.name for d in cur.description[_LEADING:]], row[_LEADING:],
                              strict=True))
        params.update(open_id=still_open["id"],
                      closed_flags=sorted({*still_open["flags"], "missing_check_out"}),
                      closed_risk=min(100, still_open["risk_score"] + 20))
        chain.append("visit.auto_closed", "visit", still_open["id"],
                     {"reason": "new_check_in", "evidence_sha256": digest(still_open)})
    chain.append("visit.checked_in", "visit", params["id"],
                 {"customer_id": rep["customer_id"], "flags": flags,
                  "evidence_sha256": digest(params)})
    audit, audit_params = chain.ctes()
    cur.execute(WRITE.format(audit=audit), {**params, **audit_params})
    assert cur.fetchone() is not None
