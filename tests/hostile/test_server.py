"""Through the real gunicorn (gunicorn.conf.py): chunked JSON gets the same limits and text
checks as Content-Length bodies, and the answers gunicorn writes itself (URL too long, too many
or too large headers, malformed request line or chunk) are JSON in the API's error shape."""
import http.client
import json
import socket
from urllib.parse import urlsplit

import pytest

from tests import factories
from tests.browser.server import live_server
from tests.conftest import DB_URL


@pytest.fixture(scope="module")
def server(app, tmp_path_factory):
    from fieldsales.extensions import db

    org = factories.org("Server org")
    rep = factories.user(org, "rep", factories.team(org))
    token = factories.token_for(app, rep)
    db.session.remove()
    with live_server(DB_URL, tmp_path_factory.mktemp("gunicorn"), workers=1) as base:
        yield urlsplit(base), token


def raw(server, data: bytes):
    """Send bytes as they are and read the whole answer (gunicorn closes after an error)."""
    url, _ = server
    with socket.create_connection((url.hostname, url.port), timeout=30) as s:
        s.sendall(data)
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def assert_json_error(status, headers, body, expected):
    assert status == expected, body[:300]
    assert headers["Content-Type"].startswith("application/json"), (headers, body[:200])
    data = json.loads(body)
    assert data["code"] == expected and data["status"] and data["message"] and data["error"]
    assert b"<html" not in body and b"Traceback" not in body
    return data


def chunked_post(server, path, payload: bytes, *, auth=True):
    url, token = server
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}
    if auth:
        headers["Authorization"] = f"Bearer {token}"
    step = 64 * 1024
    conn.request("POST", path, body=(payload[i:i + step] for i in range(0, len(payload), step)),
                 headers=headers, encode_chunked=True)
    r = conn.getresponse()
    out = r.status, dict(r.getheaders()), r.read()
    conn.close()
    return out


@pytest.mark.parametrize("auth,path", [(False, "/api/v1/auth/login"),
                                       (True, "/api/v1/customers")])
def test_chunked_json_is_checked_like_any_body(server, auth, path):
    nul = json.dumps({"email": "a\u0000@x.y", "password": "p", "name": "n\u0000"}).encode()
    data = assert_json_error(*chunked_post(server, path, nul, auth=auth), 422)
    assert data["error"] == "invalid_text"
    big = json.dumps({"name": "x", "custom": {"blob": "a" * (1024 * 1024 + 10)}}).encode()
    assert_json_error(*chunked_post(server, path, big, auth=auth), 413)
    assert_json_error(*chunked_post(server, path, b"[" * 100_000, auth=auth), 400)


def test_chunked_json_within_limits_works(server):
    status, _, body = chunked_post(server, "/api/v1/customers",
                                   json.dumps({"name": "Chunked shop"}).encode())
    assert status == 201 and json.loads(body)["name"] == "Chunked shop"


def test_url_too_long_is_json_414(server):
    assert_json_error(*raw(server, b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"), 414)


def test_too_many_headers_is_json_431(server):
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    assert_json_error(*raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + many + b"\r\n"), 431)


def test_too_large_header_is_json_431(server):
    big = b"X-Big: " + b"v" * 9000 + b"\r\n"
    assert_json_error(*raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + big + b"\r\n"), 431)


@pytest.mark.parametrize("line", [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\nHost: x\r\n\r\n",
                                  b"G\x00T / HTTP/1.1\r\nHost: x\r\n\r\n"])
def test_malformed_request_is_json_400(server, line):
    assert_json_error(*raw(server, line), 400)


def test_malformed_chunk_size_is_json_400(server):
    request = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
               b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
    assert_json_error(*raw(server, request), 400)


def test_the_server_still_answers_after_all_that(server):
    status, _, body = raw(server, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 200
