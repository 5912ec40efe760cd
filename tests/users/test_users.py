import uuid

import pytest

from tests import factories
from tests.conftest import ApiClient, run_threads


def ids(response):
    return {item["id"] for item in response.json}


def test_admin_lists_whole_org_only(api, world):
    r = api.as_(world.admin).get("/api/v1/users?page_size=100")
    assert r.status_code == 200
    assert str(world.rep_west.id) in ids(r) and str(world.admin_b.id) not in ids(r)
    assert "X-Pagination" in r.headers


def test_manager_lists_own_subtree(api, world):
    got = ids(api.as_(world.mgr_east).get("/api/v1/users?page_size=100"))
    assert got == {str(u.id) for u in (world.mgr_east, world.rep_east, world.rep_east2,
                                       world.rep_north)}


def test_hr_lists_everyone_in_org(api, world):
    got = ids(api.as_(world.hr).get("/api/v1/users?page_size=100"))
    assert len(got) == 8


def test_rep_may_not_list_users(api, world):
    assert api.as_(world.rep_east).get("/api/v1/users").status_code == 403


def test_filters(api, world):
    r = api.as_(world.admin).get(f"/api/v1/users?role=rep&team_id={world.east.id}")
    assert ids(r) == {str(world.rep_east.id), str(world.rep_east2.id)}


def test_create_user(api, world):
    body = {"email": "new.rep@example.test", "name": "New Rep", "password": "long-enough-pw",
            "role": "rep", "team_id": str(world.west.id), "timezone": "Asia/Shanghai"}
    r = api.as_(world.admin).post("/api/v1/users", json=body)
    assert r.status_code == 201
    assert r.json["team_id"] == str(world.west.id) and "password" not in r.json
    login = api.post("/api/v1/auth/login", json={"email": body["email"], "password": body["password"]})
    assert login.status_code == 200


def test_duplicate_email_is_409_email_taken(api, world):
    body = {"email": world.rep_b.email.upper(), "name": "Dup", "password": "long-enough-pw",
            "role": "rep"}
    r = api.as_(world.admin).post("/api/v1/users", json=body)
    assert r.status_code == 409 and r.json["error"] == "email_taken"


@pytest.mark.parametrize("who", ["mgr_east", "hr", "rep_east"])
def test_only_admin_creates_users(api, world, who):
    body = {"email": "x@example.test", "name": "X", "password": "long-enough-pw", "role": "rep"}
    assert api.as_(getattr(world, who)).post("/api/v1/users", json=body).status_code == 403


@pytest.mark.parametrize("field, value", [
    ("role", "king"), ("email", "not-an-email"), ("password", "short"),
    ("timezone", "Mars/Olympus"), ("team_id", "not-a-uuid")])
def test_create_user_validation(api, world, field, value):
    body = {"email": "v@example.test", "name": "V", "password": "long-enough-pw", "role": "rep"}
    body[field] = value
    r = api.as_(world.admin).post("/api/v1/users", json=body)
    assert r.status_code == 422 and field in r.json["errors"]["json"]


def test_team_of_another_org_is_rejected(api, world):
    body = {"email": "v@example.test", "name": "V", "password": "long-enough-pw", "role": "rep",
            "team_id": str(world.b_team.id)}
    r = api.as_(world.admin).post("/api/v1/users", json=body)
    assert r.status_code == 422 and "team_id" in r.json["errors"]["json"]


def test_create_is_idempotent_by_client_id(api, world):
    admin = api.as_(world.admin)
    body = {"id": str(uuid.uuid4()), "email": "idem@example.test", "name": "Idem",
            "password": "long-enough-pw", "role": "rep"}
    assert admin.post("/api/v1/users", json=body).status_code == 201
    again = admin.post("/api/v1/users", json=body)
    assert again.status_code == 200 and again.json["id"] == body["id"]
    changed = admin.post("/api/v1/users", json={**body, "name": "Other"})
    assert changed.status_code == 409 and changed.json["error"] == "idempotency_conflict"


def test_get_user_visibility(api, world):
    assert api.as_(world.rep_east).get(f"/api/v1/users/{world.rep_east.id}").status_code == 200
    assert api.as_(world.mgr_east).get(f"/api/v1/users/{world.rep_north.id}").status_code == 200
    assert api.as_(world.hr).get(f"/api/v1/users/{world.rep_west.id}").status_code == 200


def test_patch_user(api, world):
    r = api.as_(world.admin).patch(f"/api/v1/users/{world.rep_east.id}",
                                   json={"name": "Renamed", "team_id": str(world.west.id)})
    assert r.status_code == 200 and r.json["name"] == "Renamed"
    assert r.json["team_id"] == str(world.west.id)


def test_patch_cannot_set_org_or_email(api, world):
    r = api.as_(world.admin).patch(f"/api/v1/users/{world.rep_east.id}",
                                   json={"org_id": str(world.org_b.id)})
    assert r.status_code == 422 and "org_id" in r.json["errors"]["json"]


@pytest.mark.parametrize("who", ["mgr_east", "hr", "rep_east"])
def test_only_admin_patches_users(api, world, who):
    r = api.as_(getattr(world, who)).patch(f"/api/v1/users/{world.rep_east.id}",
                                           json={"role": "admin"})
    assert r.status_code == 403


def test_admin_cannot_lock_themselves_out(api, world):
    r = api.as_(world.admin).patch(f"/api/v1/users/{world.admin.id}", json={"active": False})
    assert r.status_code == 409 and r.json["error"] == "self_lockout"


def test_new_password_ends_sessions(api, world):
    pair = api.post("/api/v1/auth/login", json={"email": world.rep_east.email,
                                                "password": factories.PASSWORD}).json
    api.as_(world.admin).patch(f"/api/v1/users/{world.rep_east.id}",
                               json={"password": "a-brand-new-password"})
    assert api.post("/api/v1/auth/refresh",
                    json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_concurrent_creates_with_one_client_id_make_one_user(app, committed):
    org = factories.org()
    admin = factories.user(org, "admin")
    client = ApiClient(app, admin)
    body = {"id": str(uuid.uuid4()), "email": f"race-{uuid.uuid4().hex[:8]}@example.test",
            "name": "Race", "password": "long-enough-pw", "role": "rep"}
    responses = run_threads(10, lambda i: client.post("/api/v1/users", json=body))
    codes = [r.status_code for r in responses]
    print([r.json for r in responses if r.status_code not in (200, 201)])
    assert sorted(codes) == [200] * 9 + [201]
    from sqlalchemy import func, select

    from fieldsales.users.models import User
    assert committed.scalar(select(func.count()).where(User.email == body["email"])) == 1
