import time
import uuid

import jwt
import pytest

from tests import factories
from tests.conftest import ApiClient, run_threads


def login(api, email, password=factories.PASSWORD, **kw):
    return api.post("/api/v1/auth/login", json={"email": email, "password": password}, **kw)


def test_login_returns_pair_and_user(api, world):
    r = login(api, world.rep_east.email.upper())  # emails are case-insensitive
    assert r.status_code == 200
    body = r.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["user"]["id"] == str(world.rep_east.id)
    assert "password_hash" not in body["user"]
    me = api.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["email"] == world.rep_east.email


@pytest.mark.parametrize("email, password", [
    ("known", "wrong-password"), ("nobody@example.test", factories.PASSWORD)])
def test_wrong_credentials_are_401_invalid_credentials(api, world, email, password):
    r = login(api, world.rep_east.email if email == "known" else email, password)
    assert r.status_code == 401
    assert r.json["error"] == "invalid_credentials"


def test_deactivated_user_gets_user_inactive(api, world):
    gone = factories.user(world.org, "rep", world.east, active=False)
    r = login(api, gone.email)
    assert r.status_code == 401 and r.json["error"] == "user_inactive"


def test_failed_logins_are_rate_limited_per_email_and_client(api, world):
    for _ in range(5):
        assert login(api, world.rep_east.email, "nope").status_code == 401
    r = login(api, world.rep_east.email, "nope")
    assert r.status_code == 429 and r.json["error"] == "too_many_attempts"
    assert 1 <= int(r.headers["Retry-After"]) <= 900
    # Even the right password waits now.
    assert login(api, world.rep_east.email).status_code == 429
    # Another client address is a different key.
    other = login(api, world.rep_east.email, environ_base={"REMOTE_ADDR": "10.9.8.7"})
    assert other.status_code == 200


def test_validation_of_login_body(api):
    r = api.post("/api/v1/auth/login", json={"email": "x"})
    assert r.status_code == 422 and "password" in r.json["errors"]["json"]


def test_refresh_rotates_and_old_token_dies(api, world):
    first = login(api, world.rep_east.email).json
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert r.status_code == 200
    second = r.json
    assert second["refresh_token"] != first["refresh_token"]
    again = api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert again.status_code == 401 and again.json["error"] == "refresh_token_reused"
    # Reuse of a spent token ends the whole login: the newest token dies too.
    newest = api.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert newest.status_code == 401


def test_refresh_with_garbage_is_401(api):
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": "not-a-token"})
    assert r.status_code == 401 and r.json["error"] == "invalid_refresh_token"


def test_logout_revokes_refresh_token(api, world):
    pair = login(api, world.rep_east.email).json
    auth = {"Authorization": f"Bearer {pair['access_token']}"}
    r = api.post("/api/v1/auth/logout", json={"refresh_token": pair["refresh_token"]},
                 headers=auth)
    assert r.status_code == 204
    r = api.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert r.status_code == 401


def test_logout_without_body_ends_every_login(api, world):
    one = login(api, world.rep_east.email).json
    two = login(api, world.rep_east.email).json
    r = api.post("/api/v1/auth/logout", headers={"Authorization": f"Bearer {one['access_token']}"})
    assert r.status_code == 204
    for pair in (one, two):
        assert api.post("/api/v1/auth/refresh",
                        json={"refresh_token": pair["refresh_token"]}).status_code == 401


@pytest.mark.parametrize("header, error", [
    (None, "missing_token"), ("Bearer garbage", "invalid_token"), ("Basic abc", "missing_token")])
def test_protected_paths_need_a_valid_token(api, header, error):
    r = api.get("/api/v1/me", headers={"Authorization": header} if header else {})
    assert r.status_code == 401 and r.json["error"] == error


def test_expired_token_is_401_token_expired(app, api, world):
    now = int(time.time())
    token = jwt.encode({"sub": str(world.rep_east.id), "org": str(world.org.id), "typ": "access",
                        "iat": now - 1000, "exp": now - 10}, app.config["SECRET_KEY"], "HS256")
    r = api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 401 and r.json["error"] == "token_expired"


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("alg, key", [("none", None), ("HS512", "secret-from-config")])
def test_algorithm_is_pinned(app, api, world, alg, key):
    now = int(time.time())
    claims = {"sub": str(world.rep_east.id), "org": str(world.org.id), "typ": "access",
              "iat": now, "exp": now + 60}
    key = app.config["SECRET_KEY"] if key else None
    token = jwt.encode(claims, key, algorithm=alg)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_token_signed_with_another_key_is_rejected(api, world):
    now = int(time.time())
    token = jwt.encode({"sub": str(world.rep_east.id), "org": str(world.org.id), "typ": "access",
                        "iat": now, "exp": now + 60}, "x" * 40, "HS256")
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_deactivation_locks_out_existing_tokens_at_once(api, world):
    rep = api.as_(world.rep_east)
    assert rep.get("/api/v1/me").status_code == 200
    r = api.as_(world.admin).patch(f"/api/v1/users/{world.rep_east.id}", json={"active": False})
    assert r.status_code == 200 and r.json["active"] is False
    r = rep.get("/api/v1/me")
    assert r.status_code == 401 and r.json["error"] == "user_inactive"


def test_token_of_deleted_or_foreign_user_is_401(app, api, world):
    from fieldsales.auth.tokens import issue_access_token

    with app.app_context():
        token, _ = issue_access_token(uuid.uuid4(), world.org.id)
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_passwords_are_hashed_with_argon2id(world, db):
    from fieldsales.users.models import User

    stored = db.get(User, (world.rep_east.org_id, world.rep_east.id)).password_hash
    assert stored.startswith("$argon2id$") and factories.PASSWORD not in stored


def test_rate_limit_holds_under_parallel_guessing(app, committed):
    """20 wrong guesses fired at once from one client: at most LOGIN_MAX_FAILURES of them are
    even checked; the rest are 429. State is in the database, shared by all workers."""
    org = factories.org()
    victim = factories.user(org, "rep", email=f"victim-{uuid.uuid4().hex[:8]}@example.test")
    client = ApiClient(app)

    def guess(i):
        return login(client, victim.email, f"guess-{i}").status_code

    codes = run_threads(20, guess)
    assert codes.count(401) == app.config["LOGIN_MAX_FAILURES"]
    assert codes.count(429) == 20 - app.config["LOGIN_MAX_FAILURES"]


def test_concurrent_refresh_with_one_token_yields_one_new_pair(app, committed):
    org = factories.org()
    rep = factories.user(org, "rep")
    client = ApiClient(app)
    refresh_token = login(client, rep.email).json["refresh_token"]

    codes = run_threads(8, lambda i: client.post(
        "/api/v1/auth/refresh", json={"refresh_token": refresh_token}).status_code)
    assert codes.count(200) == 1
    assert codes.count(401) == 7
