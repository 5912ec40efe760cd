"""The OpenAPI rules of API.md Conventions that generated clients rely on, checked on the
served /openapi.json: operationIds, `required` response fields, `null` in nullable enums, typed
/sync, domain error codes per operation, realistic examples, binary content types."""
import re
from pathlib import Path

import jsonschema
import pytest

from bench.harness import ROOT

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
def spec(app):
    return app.test_client().get("/openapi.json").get_json()


def _operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield path, method, op


def _walk(node, where=""):
    """Every (location, dict) in the document."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from _walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{where}/{i}")


def test_every_operation_has_a_unique_snake_case_operation_id(spec):
    ids = {(path, method): op.get("operationId") for path, method, op in _operations(spec)}
    assert all(ids.values()), [k for k, v in ids.items() if not v]
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) for i in ids.values()), ids
    # the rep's day reads like the app's own words
    assert ids[("/api/v1/auth/login", "post")] == "login"
    assert ids[("/api/v1/customers", "get")] == "list_customers"
    assert ids[("/api/v1/visits", "post")] == "check_in"
    assert ids[("/api/v1/visits/{visit_id}/check-out", "post")] == "check_out"
    assert ids[("/api/v1/visits/{visit_id}/photos", "post")] == "upload_photo"
    assert ids[("/api/v1/sync", "post")] == "sync"
    assert ids[("/api/v1/visits/{visit_id}", "get")] == "get_visit"
    assert ids[("/api/v1/leads/{lead_id}/claim", "post")] == "claim_lead"
    assert ids[("/api/v1/lead-pools/{pool_id}/claim-next", "post")] == "claim_next_lead"


def test_nullable_enums_list_null_among_their_values(spec):
    nullable_enums = [(where, node) for where, node in _walk(spec)
                      if "enum" in node and node.get("nullable")]
    assert [w for w, node in nullable_enums if None not in node["enum"]] == []
    found = {w for w, _ in nullable_enums}
    for name, field in [("EventLocation", "provider"), ("Visit", "closed_by"),
                        ("EvidenceVisit", "closed_by"), ("GpsLocationIn", "provider")]:
        assert f"/components/schemas/{name}/properties/{field}" in found


@pytest.mark.parametrize("name, optional", [
    ("Visit", set()), ("VisitEvent", set()), ("EventLocation", set()), ("Customer", {"distance_m"}),
    ("User", set()), ("TokenPair", set()), ("Photo", set()), ("Lead", {"distance_m"}),
    ("FollowUp", set()), ("Project", set()), ("CheckInResult", set()),
])
def test_response_schemas_require_every_field_that_is_always_there(spec, name, optional):
    schema = spec["components"]["schemas"][name]
    assert set(schema["required"]) == set(schema["properties"]) - optional


def test_nullable_response_fields_are_required_and_nullable(spec):
    visit = spec["components"]["schemas"]["Visit"]
    for field in ("check_out", "closed_by", "duration_s", "project_id"):
        assert field in visit["required"]
        prop = visit["properties"][field]
        assert prop.get("nullable") or {"type": "object", "nullable": True} in prop.get("anyOf", [])


def test_error_bodies_require_only_what_every_error_has(spec):
    assert set(spec["components"]["schemas"]["Error"]["required"]) == {"code", "status", "message"}


def test_input_schemas_are_left_as_they_are(spec):
    """`required` on a request schema means "must be sent": nothing is added there."""
    schemas = spec["components"]["schemas"]
    assert set(schemas["CheckIn"]["required"]) == {"customer_id", "location", "device_time"}
    assert "required" not in schemas["CustomerPatch"]


def _one_of(node):
    return {m["$ref"].rsplit("/", 1)[-1] for m in node["oneOf"]}, node["discriminator"]


def test_sync_events_and_results_are_a_one_of_on_type(spec):
    schemas = spec["components"]["schemas"]
    events, disc = _one_of(schemas["Sync"]["properties"]["events"]["items"])
    assert events == {"CheckInEvent", "CheckOutEvent", "FollowUpEvent", "PlanEvent"}
    assert disc["propertyName"] == "type"
    assert disc["mapping"]["check_out"] == "#/components/schemas/CheckOutEvent"
    assert schemas["CheckOutEvent"]["properties"]["type"]["enum"] == ["check_out"]
    assert "visit_id" in schemas["CheckOutEvent"]["required"]
    assert "lead_id" in schemas["FollowUpEvent"]["required"]
    results, disc = _one_of(schemas["SyncResponse"]["properties"]["results"]["items"])
    assert results == {"CheckInResult", "CheckOutResult", "FollowUpResult", "PlanResult",
                       "InvalidEventResult"}
    assert disc["propertyName"] == "type"
    body = schemas["FollowUpResult"]["properties"]["body"]["anyOf"]
    assert [b["$ref"].rsplit("/", 1)[-1] for b in body] == ["FollowUp", "Error"]


def _raised_codes():
    """Every `error="..."` written in fieldsales/, as an argument or an error class's own
    `error = "..."` (plus the report date problems)."""
    codes = set()
    for path in Path(ROOT, "fieldsales").rglob("*.py"):
        codes |= set(re.findall(r'error ?= ?"([a-z_]+)"', path.read_text()))
    from fieldsales.reports.service import _MESSAGES

    return codes | set(_MESSAGES)


def test_every_error_code_raised_is_listed_in_the_spec(spec):
    listed = {c for _, node in _walk(spec) for c in node.get("x-error-codes", [])}
    raised = _raised_codes()
    assert {"already_claimed", "idempotency_conflict", "invalid_credentials"} <= raised
    assert raised - listed == set()


def test_error_codes_are_listed_per_operation_and_response(spec):
    for path, method, op in _operations(spec):
        for status, response in op["responses"].items():
            for code in response.get("x-error-codes", []):
                assert f"`{code}`" in response["description"], (path, method, status)
    paths = spec["paths"]
    claim = paths["/api/v1/leads/{lead_id}/claim"]["post"]["responses"]
    assert {"already_claimed", "lead_closed"} <= set(claim["409"]["x-error-codes"])
    assert "cooldown_active" in claim["422"]["x-error-codes"]
    assert "not_found" in claim["404"]["x-error-codes"]
    assert "token_expired" in claim["401"]["x-error-codes"]
    login = paths["/api/v1/auth/login"]["post"]["responses"]
    assert login["401"]["x-error-codes"] == ["invalid_credentials", "user_inactive"]
    assert login["429"]["x-error-codes"] == ["too_many_attempts"]
    check_in = paths["/api/v1/visits"]["post"]["responses"]
    assert "idempotency_conflict" in check_in["409"]["x-error-codes"]
    assert "invalid_text" in check_in["422"]["x-error-codes"]
    assert "already_checked_out" in paths["/api/v1/visits/{visit_id}/check-out"]["post"][
        "responses"]["409"]["x-error-codes"]
    assert "x-error-codes" in spec["info"]["description"]


def _request_schema(spec, op):
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": spec["components"]}


@pytest.mark.parametrize("path, method", [
    ("/api/v1/auth/login", "post"), ("/api/v1/customers", "post"), ("/api/v1/visits", "post"),
    ("/api/v1/visits/{visit_id}/check-out", "post"),
    ("/api/v1/lead-pools/{pool_id}/claim-next", "post"), ("/api/v1/sync", "post"),
])
def test_realistic_examples_that_match_their_schema(spec, path, method):
    op = spec["paths"][path][method]
    example = op["requestBody"]["content"]["application/json"]["example"]
    jsonschema.validate(example, _request_schema(spec, op))
    points = [node for _, node in _walk(example) if "lat" in node]
    for point in points:  # Shanghai, not lat 90 lng 180
        assert 30.6 < point["lat"] < 31.9 and 120.8 < point["lng"] < 122.2, point
    assert points or path == "/api/v1/auth/login"


def test_bytes_are_documented_with_their_content_types(spec):
    paths = spec["paths"]

    def ok(path):
        return paths[path]["get"]["responses"]["200"]["content"]

    assert "image/jpeg" in ok("/api/v1/photos/{photo_id}/thumbnail")
    assert "application/vnd.mapbox-vector-tile" in ok("/api/v1/maps/tiles/{z}/{x}/{y}.mvt")
    assert ok("/api/v1/attendance.csv")["text/csv"]["schema"] == {"type": "string",
                                                                  "format": "binary"}
    body = paths["/api/v1/lead-pools/{pool_id}/import"]["post"]["requestBody"]["content"]
    assert body["text/csv"]["schema"] == {"type": "string", "format": "binary"}
