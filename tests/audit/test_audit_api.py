import pytest
from sqlalchemy import text


def _make_history(api, world):
    rep = api.as_(world.rep_east)
    c = rep.post("/api/v1/customers", json={"name": "Audited"}).json
    rep.patch(f"/api/v1/customers/{c['id']}", json={"name": "Audited 2"})
    api.as_(world.rep_west).post("/api/v1/customers", json={"name": "West one"})
    return c


@pytest.mark.parametrize("who", ["admin", "hr"])
def test_admin_and_hr_read_the_log(api, world, who):
    c = _make_history(api, world)
    r = api.as_(getattr(world, who)).get(f"/api/v1/audit?user_id={world.rep_east.id}")
    assert r.status_code == 200
    assert [e["action"] for e in r.json] == ["customer.updated", "customer.created"]
    assert all(e["entity_id"] == c["id"] for e in r.json)
    assert r.json[0]["prev_hash"] == r.json[1]["hash"]


def test_filters(api, world):
    c = _make_history(api, world)
    admin = api.as_(world.admin)
    by_entity = admin.get(f"/api/v1/audit?entity_type=customer&entity_id={c['id']}").json
    assert len(by_entity) == 2
    assert admin.get("/api/v1/audit?from=2099-01-01").json == []
    assert len(admin.get("/api/v1/audit?to=2099-01-01&entity_type=customer").json) == 3
    assert admin.get("/api/v1/audit?from=yesterday").status_code == 422
    assert admin.get("/api/v1/audit?from=2026-01-01T00:00:00").status_code == 422


def test_other_org_sees_nothing(api, world):
    _make_history(api, world)
    assert api.as_(world.admin_b).get("/api/v1/audit?entity_type=customer").json == []


@pytest.mark.parametrize("who", ["mgr_east", "rep_east"])
def test_managers_and_reps_may_not_read_the_log(api, world, who):
    assert api.as_(getattr(world, who)).get("/api/v1/audit").status_code == 403
    assert api.as_(getattr(world, who)).get("/api/v1/audit/verify").status_code == 403


def test_verify_reports_ok_then_names_the_tampered_entry(api, world, db):
    c = _make_history(api, world)
    hr = api.as_(world.hr)
    ok = hr.get("/api/v1/audit/verify").json
    assert ok["ok"] is True and ok["entries"] >= 3 and ok["first_bad_seq"] is None
    db.execute(text("UPDATE audit_entries SET data = jsonb_set(data, '{name}', '\"forged\"') "
                    "WHERE user_id = :u AND seq = 1"), {"u": world.rep_east.id})
    db.commit()  # keep the tampering past the next request's session teardown
    bad = hr.get(f"/api/v1/audit/verify?user_id={world.rep_east.id}").json
    assert bad == {"ok": False, "entries": 2, "first_bad_seq": 1,
                   "first_bad_user_id": str(world.rep_east.id), "chains": 1, "checkpoint": None,
                   "problems": [{"kind": "entry_tampered", "user_id": str(world.rep_east.id),
                                 "seq": 1, "entity_type": "customer", "entity_id": c["id"],
                                 "detail": "the entry's hash does not recompute"}],
                   "problems_total": 1}
    assert hr.get("/api/v1/audit/verify").json["ok"] is False


def test_verify_of_invisible_user_is_404(api, world):
    assert api.as_(world.hr).get(f"/api/v1/audit/verify?user_id={world.rep_b.id}").status_code \
        == 404
