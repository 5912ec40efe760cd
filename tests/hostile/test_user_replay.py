"""POST /users replayed with the same id: the password is part of what "the same request"
means, yet it is never stored in a form that could be recovered or brute-forced offline."""
import uuid

from sqlalchemy import func, select

from fieldsales.users.models import User
from tests import factories
from tests.conftest import ApiClient, run_threads


def _body(world_team, password, uid):
    return {"id": uid, "email": f"r-{uid[:8]}@example.test", "name": "Replay", "role": "rep",
            "password": password, "team_id": str(world_team.id)}


def test_same_id_other_password_is_409_and_keeps_the_first(api, world):
    uid = str(uuid.uuid4())
    admin = api.as_(world.admin)
    first = admin.post("/api/v1/users", json=_body(world.east, "first-password-1", uid))
    assert first.status_code == 201
    again = admin.post("/api/v1/users", json=_body(world.east, "first-password-1", uid))
    assert again.status_code == 200 and again.json["id"] == uid
    other = admin.post("/api/v1/users", json=_body(world.east, "other-password-2", uid))
    assert other.status_code == 409 and other.json["error"] == "idempotency_conflict"
    email = first.json["email"]
    login = api.post("/api/v1/auth/login", json={"email": email, "password": "first-password-1"})
    assert login.status_code == 200
    login = api.post("/api/v1/auth/login", json={"email": email, "password": "other-password-2"})
    assert login.status_code == 401


def test_the_stored_digest_does_not_reveal_the_password(app, api, world, db):
    from fieldsales.idempotency import request_hash

    uid = str(uuid.uuid4())
    body = _body(world.east, "guessable-pass", uid)
    assert api.as_(world.admin).post("/api/v1/users", json=body).status_code == 201
    stored = db.scalar(select(User.request_hash).where(User.id == uid))
    # Someone with the database but not the server's secret cannot test guesses: the digest of
    # the same body without the secret (what an offline guesser could compute) differs.
    with app.app_context():
        keyed = request_hash({**body, "id": None})
        app.config["SECRET_KEY"], secret = "another-secret-" * 3, app.config["SECRET_KEY"]
        try:
            other_key = request_hash({**body, "id": None})
        finally:
            app.config["SECRET_KEY"] = secret
    assert stored == keyed != other_key
    assert "guessable-pass" not in stored


def test_concurrent_creates_with_one_id(app, committed):
    org = factories.org()
    team = factories.team(org)
    admin = factories.user(org, "admin")
    client = ApiClient(app, admin)
    uid = str(uuid.uuid4())
    same = run_threads(6, lambda i: client.post(
        "/api/v1/users", json=_body(team, "same-password-1", uid)).status_code)
    assert sorted(same) == [200] * 5 + [201]
    uid2 = str(uuid.uuid4())
    mixed = run_threads(6, lambda i: client.post(
        "/api/v1/users", json=_body(team, f"password-number-{i % 2}", uid2)).status_code)
    assert sorted(mixed).count(201) == 1 and set(mixed) <= {200, 201, 409} and 409 in mixed
    assert committed.scalar(select(func.count()).where(User.id.in_([uid, uid2]))) == 2
