"""Baseline for bench/check_in.py: the product's own Flask app under the same gunicorn setup,
plus one bare endpoint that stores the same visit row with a single psycopg2 INSERT — no auth,
validation, scope, geofence, flags, lock or audit. Never part of the product: this module only
exists for the benchmark."""
import json
import uuid

from flask import request

from bench._bare_check_in import INSERT, _connection
from fieldsales import create_app

app = create_app()


@app.post("/bench/bare-visits")
def bare_visit():
    body = request.get_json()
    loc = body["location"]
    row = {"id": str(uuid.uuid4()), "org_id": body["org_id"], "user_id": body["user_id"],
           "customer_id": body["customer_id"], "device_time": body["device_time"],
           "lat": loc["lat"], "lng": loc["lng"], "accuracy_m": loc.get("accuracy_m"),
           "provider": loc.get("provider")}
    conn = _connection()
    with conn.cursor() as cur:
        cur.execute(INSERT, row)
    conn.commit()
    return app.response_class(json.dumps({"id": row["id"]}), status=201,
                              mimetype="application/json")
