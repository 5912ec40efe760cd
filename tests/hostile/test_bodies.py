"""Hostile JSON bodies (API.md Conventions "Hostile input"): deep nesting, huge numbers, NUL
bytes and lone surrogates, whatever the framing (Content-Length or chunked), answer 4xx JSON."""
import io
import json

import pytest

from tests import factories
from tests.test_errors import assert_error_shape

DEEP_ARRAY = "[" * 100_000
DEEP_OBJECT = '{"a":' * 50_000
HUGE_INT = "9" * 5000


def _raw(api, user, method, path, body, *, chunked=False):
    headers = {"Content-Type": "application/json"}
    client = api.as_(user) if user else api
    if not chunked:
        return client.request(method, path, data=body, headers=headers)
    # What a WSGI server hands over for `Transfer-Encoding: chunked`: no Content-Length, an
    # input stream that ends where the body ends.
    data = body.encode() if isinstance(body, str) else body
    return client.request(method, path, input_stream=io.BytesIO(data),
                          headers={**headers, "Transfer-Encoding": "chunked"},
                          environ_overrides={"wsgi.input_terminated": True})


def _nested_custom(depth):
    return '{"name": "deep", "custom": ' + '{"a":' * depth + "1" + "}" * depth + "}"


@pytest.fixture
def targets(world):
    c = factories.customer(world.org, world.rep_east)
    return [(None, "POST", "/api/v1/auth/login"), (None, "POST", "/api/v1/auth/refresh"),
            (world.rep_east, "POST", "/api/v1/customers"),
            (world.rep_east, "PATCH", f"/api/v1/customers/{c.id}"),
            (world.rep_east, "POST", "/api/v1/projects")]


@pytest.mark.parametrize("body", [DEEP_ARRAY, DEEP_OBJECT, '{"name": ' + HUGE_INT + "}",
                                  '{"email": "a@b.c", "password": ' + HUGE_INT + "}",
                                  _nested_custom(5000), _nested_custom(900),
                                  '{"name": "x", "custom": {"n": 1e999}}',
                                  '{"name": "x", "custom": {"n": -' + "1" * 30 + "}}"],
                         ids=["deep-array", "deep-object", "huge-int", "huge-password",
                              "custom-5000-deep", "custom-900-deep", "float-overflow",
                              "int-past-64-bits"])
def test_hostile_json_is_400_everywhere(api, targets, body):
    for user, method, path in targets:
        r = _raw(api, user, method, path, body)
        assert_error_shape(r, 400)
        assert "json" in r.json["errors"], (path, r.json)


def test_reasonable_nesting_and_numbers_still_work(api, world):
    custom = json.loads('{"a":' * 30 + "123456789012345678" + "}" * 30)
    r = api.as_(world.rep_east).post("/api/v1/customers",
                                     json={"name": "ok", "custom": {"n": 1.5e300, "deep": custom}})
    assert r.status_code == 201, r.json
    assert r.json["custom"]["deep"] == custom


@pytest.mark.parametrize("text", ["nul\u0000byte", "lone \ud800 surrogate"])
def test_chunked_bodies_get_the_text_check(api, world, text):
    body = json.dumps({"name": "x", "custom": {"note": text}})
    r = _raw(api, world.rep_east, "POST", "/api/v1/customers", body, chunked=True)
    assert_error_shape(r, 422)
    assert r.json["error"] == "invalid_text"


def test_chunked_login_gets_the_text_check(api, world):
    body = json.dumps({"email": "a\u0000@example.com", "password": "x"})
    r = _raw(api, None, "POST", "/api/v1/auth/login", body, chunked=True)
    assert_error_shape(r, 422)
    assert r.json["error"] == "invalid_text"


@pytest.mark.parametrize("path", ["/api/v1/auth/login", "/api/v1/customers"])
def test_chunked_bodies_over_1_mib_are_413(api, world, path):
    body = json.dumps({"name": "x", "custom": {"blob": "a" * (1024 * 1024 + 10)}})
    r = _raw(api, world.rep_east, "POST", path, body, chunked=True)
    assert_error_shape(r, 413)


def test_chunked_body_within_the_limit_works(api, world):
    body = json.dumps({"name": "chunked", "custom": {"blob": "a" * 1000}})
    r = _raw(api, world.rep_east, "POST", "/api/v1/customers", body, chunked=True)
    assert r.status_code == 201, r.json
    assert r.json["name"] == "chunked"


@pytest.mark.parametrize("query", ["/api/v1/customers?q=%00", "/api/v1/customers?tag=%00",
                                   "/api/v1/audit?entity_type=%00", "/api/v1/users?q=a%00b",
                                   "/api/v1/leads?q=%00", "/api/v1/customers?%00=1"])
def test_nul_in_query_strings_is_422(api, world, query):
    r = api.as_(world.admin).get(query)
    assert_error_shape(r, 422)
    assert r.json["error"] == "invalid_text"


def test_nul_in_a_csv_import_cell_is_a_line_error(api, world, db):
    from tests.factories import leads as lf
    from tests.leads.test_import import HEADER, post_csv

    pool = lf.pool(world.org, world.east)
    body = HEADER + "Good Name,,,,,,,,\n" + "Bad\x00Name,,,,,,,,\n" + "Ok,Co\x00,,,,,,,\n"
    r = post_csv(api, world.mgr_east, pool, body)
    assert r.status_code == 200, r.json
    assert r.json["created"] == 1
    assert [e["line"] for e in r.json["errors"]] == [3, 4]
    assert all("NUL" in e["message"] for e in r.json["errors"])
