"""Baseline for bench/check_in.py: the smallest WSGI app that stores the same visit row.

Served by the same gunicorn.conf.py as the product (never part of the product): parse the
JSON body, one INSERT through psycopg2 on a per-worker connection, commit, answer JSON.
"""
import json
import os
import uuid

import psycopg2

from config.settings import load

_conn = None

INSERT = """
INSERT INTO visits (id, org_id, user_id, customer_id, status, in_at, in_device_time,
                    in_received_at, in_lat, in_lng, in_accuracy_m, in_provider, in_mock,
                    closed_at, closed_by, flags, risk_score)
VALUES (%(id)s, %(org_id)s, %(user_id)s, %(customer_id)s, 'closed', %(device_time)s,
        %(device_time)s, now(), %(lat)s, %(lng)s, %(accuracy_m)s, %(provider)s, false,
        %(device_time)s, 'auto', '{}', 0)
"""


def _connection():
    global _conn
    if _conn is None or _conn.closed:
        _conn = psycopg2.connect(os.environ["FIELDSALES_DATABASE_URL"],
                                 options=load().DB_SESSION_OPTIONS)
    return _conn


def insert_visit(body) -> str:
    """Store the visit row of a check-in body with one INSERT; its id."""
    loc = body["location"]
    row = {"id": str(uuid.uuid4()), "org_id": body["org_id"], "user_id": body["user_id"],
           "customer_id": body["customer_id"], "device_time": body["device_time"],
           "lat": loc["lat"], "lng": loc["lng"], "accuracy_m": loc.get("accuracy_m"),
           "provider": loc.get("provider")}
    conn = _connection()
    with conn.cursor() as cur:
        cur.execute(INSERT, row)
    conn.commit()
    return row["id"]


def app(environ, start_response):
    if environ["PATH_INFO"] == "/healthz":  # the harness waits for this
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']
    size = int(environ.get("CONTENT_LENGTH") or 0)
    out = json.dumps({"id": insert_visit(json.loads(environ["wsgi.input"].read(size)))}).encode()
    start_response("201 Created", [("Content-Type", "application/json"),
                                   ("Content-Length", str(len(out)))])
    return [out]
