"""Baseline for bench/check_in.py: the product's own Flask app under the same gunicorn setup,
plus one bare endpoint that stores the same visit row with a single psycopg2 INSERT — no auth,
validation, scope, geofence, flags, lock or audit. Never part of the product: this module only
exists for the benchmark."""
import json

from flask import request

from bench._bare_check_in import insert_visit
from fieldsales import create_app

app = create_app()


@app.post("/bench/bare-visits")
def bare_visit():
    visit_id = insert_visit(request.get_json())
    return app.response_class(json.dumps({"id": visit_id}), status=201,
                              mimetype="application/json")
