"""POST/GET/PATCH /targets and publish: who may set whose target, periods, published changes."""
import uuid

import pytest

from tests.factories import targets as tf

TARGETS = "/api/v1/targets"


def body(subject, metric="visits", period="2027", amount="120", **extra):
    return {"metric": metric, "period": period, "subject": tf.subject(subject),
            "amount": amount, **extra}


def test_admin_sets_an_org_target(api, world):
    r = api.as_(world.admin).post(TARGETS, json=body(world.org, amount="1200"))
    assert r.status_code == 201, r.json
    t = r.json
    assert (t["metric"], t["period"], t["amount"], t["status"]) == ("visits", "2027", "1200.00",
                                                                    "draft")
    assert t["subject"] == {"type": "org", "id": str(world.org.id)}
    assert t["parent_id"] is None and t["created_by"] == str(world.admin.id)
    assert api.as_(world.admin).get(f"{TARGETS}/{t['id']}").json == t


@pytest.mark.parametrize("caller,subject,status", [
    ("admin", "org", 201), ("admin", "east", 201), ("admin", "rep_west", 201),
    ("admin", "mgr_east", 201),
    ("mgr_east", "north", 201),        # a team below it
    ("mgr_east", "rep_east", 201),     # its people
    ("mgr_east", "rep_north", 201),
    ("mgr_east", "east", 403),         # never its own team
    ("mgr_east", "mgr_east", 403),     # never itself
    ("mgr_east", "org", 403),
    ("mgr_east", "west", 403),         # not below it
    ("mgr_east", "rep_west", 403),
    ("rep_east", "rep_east", 403),     # reps set no targets
    ("hr", "rep_east", 403),           # hr is read-only
])
def test_who_may_set_whose_target(api, world, caller, subject, status):
    row = world.org if subject == "org" else getattr(world, subject)
    r = api.as_(getattr(world, caller)).post(TARGETS, json=body(row))
    assert r.status_code == status, r.json


def test_unknown_or_foreign_subjects_are_422(api, world):
    admin = api.as_(world.admin)
    for subject in ({"type": "team", "id": str(world.b_team.id)},
                    {"type": "user", "id": str(world.rep_b.id)},
                    {"type": "org", "id": str(world.org_b.id)},
                    {"type": "user", "id": str(uuid.uuid4())},
                    {"type": "team", "id": str(world.rep_east.id)}):
        r = admin.post(TARGETS, json={**body(world.org), "subject": subject})
        assert r.status_code == 422, (subject, r.json)
        assert "subject" in r.json["errors"]["json"]


@pytest.mark.parametrize("field,value", [
    ("period", "2027-13"), ("period", "2027-Q5"), ("period", "1899"), ("period", "2200"),
    ("period", "0000"), ("period", "9999-12"), ("period", "2027-03-01"), ("period", 2027),
    ("metric", "revenue"), ("metric", "WON_AMOUNT"), ("amount", "-1"), ("amount", "1e20"),
    ("amount", "NaN"), ("amount", "12.5"),  # a visit count is whole
    ("subject", {"type": "planet", "id": str(uuid.uuid4())}),
])
def test_bad_input_is_422(api, world, field, value):
    r = api.as_(world.admin).post(TARGETS, json={**body(world.east), field: value})
    assert r.status_code == 422, r.json
    assert field in r.json["errors"]["json"]


def test_one_target_per_metric_period_and_subject(api, world):
    admin = api.as_(world.admin)
    assert admin.post(TARGETS, json=body(world.east)).status_code == 201
    again = admin.post(TARGETS, json=body(world.east, amount="99"))
    assert again.status_code == 409 and again.json["error"] == "target_exists"
    # another period, metric or subject is another target
    assert admin.post(TARGETS, json=body(world.east, period="2027-Q1")).status_code == 201
    assert admin.post(TARGETS, json=body(world.east, metric="new_customers")).status_code == 201
    assert admin.post(TARGETS, json=body(world.west)).status_code == 201


def test_create_is_idempotent_by_id(api, world):
    admin = api.as_(world.admin)
    b = body(world.east, id=str(uuid.uuid4()))
    first, again = admin.post(TARGETS, json=b), admin.post(TARGETS, json=b)
    assert (first.status_code, again.status_code) == (201, 200) and again.json == first.json
    other = admin.post(TARGETS, json={**b, "amount": "5"})
    assert other.status_code == 409 and other.json["error"] == "idempotency_conflict"


def test_who_sees_which_targets(api, world):
    admin = api.as_(world.admin)
    ids = {}
    for name in ("org", "east", "north", "west", "rep_east", "rep_north", "rep_west",
                 "mgr_east"):
        row = world.org if name == "org" else getattr(world, name)
        ids[name] = admin.post(TARGETS, json=body(row)).json["id"]

    def seen(user):
        return {k for k, v in ids.items()
                if v in {t["id"] for t in api.as_(user).get(TARGETS).json}}

    assert seen(world.admin) == seen(world.hr) == set(ids)
    assert seen(world.mgr_east) == {"east", "north", "rep_east", "rep_north", "mgr_east"}
    assert seen(world.rep_east) == {"rep_east"}
    assert seen(world.admin_b) == set()
    for user in (world.rep_east, world.mgr_west, world.admin_b, world.rep_b):
        assert api.as_(user).get(f"{TARGETS}/{ids['east']}").status_code == 404
    assert [t["id"] for t in admin.get(f"{TARGETS}?team_id={world.north.id}").json] == \
        [ids["north"]]


def test_publish_and_change_a_published_target_only_with_a_reason(api, world, db):
    from sqlalchemy import select

    from fieldsales.audit.models import AuditEntry

    admin = api.as_(world.admin)
    t = admin.post(TARGETS, json=body(world.east, amount="100")).json
    # a draft changes freely
    r = admin.patch(f"{TARGETS}/{t['id']}", json={"amount": "110"})
    assert r.status_code == 200 and r.json["amount"] == "110.00"
    assert admin.post(f"{TARGETS}/{t['id']}/publish").json["status"] == "published"
    r = admin.patch(f"{TARGETS}/{t['id']}", json={"amount": "90"})
    assert r.status_code == 422 and "reason" in r.json["errors"]["json"]
    # the manager of the team is below the admin who set it: 403
    r = api.as_(world.mgr_east).patch(f"{TARGETS}/{t['id']}",
                                      json={"amount": "90", "reason": "too high"})
    assert r.status_code == 403
    r = admin.patch(f"{TARGETS}/{t['id']}", json={"amount": "90", "reason": "Lost a rep"})
    assert r.status_code == 200 and r.json["amount"] == "90.00"
    entry = db.scalars(select(AuditEntry).where(AuditEntry.entity_id == uuid.UUID(t["id"]),
                                                AuditEntry.action == "target.changed")
                       .order_by(AuditEntry.seq)).all()[-1]
    assert entry.data["reason"] == "Lost a rep"
    assert (entry.data["amount_before"], entry.data["amount"]) == ("110.00", "90.00")


def test_a_managers_target_is_changed_by_it_and_those_above(api, world):
    t = api.as_(world.mgr_east).post(TARGETS, json=body(world.rep_north)).json
    ok = {"amount": "7", "reason": "x"}
    assert api.as_(world.mgr_east).patch(f"{TARGETS}/{t['id']}", json=ok).status_code == 200
    assert api.as_(world.admin).patch(f"{TARGETS}/{t['id']}", json=ok).status_code == 200
    assert api.as_(world.rep_north).patch(f"{TARGETS}/{t['id']}", json=ok).status_code == 403
    assert api.as_(world.hr).patch(f"{TARGETS}/{t['id']}", json=ok).status_code == 403
    assert api.as_(world.mgr_west).patch(f"{TARGETS}/{t['id']}", json=ok).status_code == 404
