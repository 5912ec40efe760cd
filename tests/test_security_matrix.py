"""Security review, as tests over the whole API:
- every write endpoint refuses the read-only role (hr) with 403 — an endpoint missing from
  WRITES below fails the test, so a new one cannot slip through without it;
- no request body accepts the fields a client must never set itself (mass assignment).
Cross-team and cross-org 404s for every id endpoint are in each domain's scope matrix
(tests/test_scope_matrix.py, tests/visits, tests/photos, tests/leads, ...)."""
import io
import uuid

import pytest

from tests import factories
from tests.factories import leads as lead_factories
from tests.factories import webhooks as webhook_factories
from tests.factories.approvals import ask, outing
from tests.visits.helpers import SHANGHAI, check_in_body, check_out_body

PROTECTED = {"org_id", "role", "user_id", "owner_id", "flags", "risk_score"}
# Bodies that legitimately carry one of them, with the rule that guards it (tested elsewhere).
ALLOWED = {
    ("/api/v1/users", "post"): {"role"},  # admin only
    ("/api/v1/users/{user_id}", "patch"): {"role"},  # admin only
    ("/api/v1/customers", "post"): {"owner_id"},  # reps: only themselves (403)
    ("/api/v1/customers/{customer_id}", "patch"): {"owner_id"},  # reps cannot reassign (403)
    ("/api/v1/projects", "post"): {"owner_id"},
    ("/api/v1/projects/{project_id}", "patch"): {"owner_id"},
    ("/api/v1/leads/{lead_id}/assign", "post"): {"user_id"},  # managers/admin, holding limit
    ("/api/v1/plans", "post"): {"user_id"},  # reps: only themselves (403); managers: scope
    ("/api/v1/contracts", "post"): {"owner_id"},  # reps: only themselves (403)
    ("/api/v1/contracts/{contract_id}", "patch"): {"owner_id"},
}
# Endpoints any authenticated role may call.
NOT_WRITES = {("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/refresh"),
              ("POST", "/api/v1/auth/logout")}


@pytest.fixture
def res(world):
    """One resource of each kind in org A, owned on the East team."""
    customer = factories.customer(world.org, world.rep_east, lat=SHANGHAI[0], lng=SHANGHAI[1])
    pool = lead_factories.pool(world.org)
    return {
        "customer": customer, "project": factories.project(world.org, customer, world.rep_east),
        "pool": pool, "lead": lead_factories.lead(world.org, pool, owner=world.rep_east),
        "user": world.rep_east, "team": world.east,
    }


def _today():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def _submitted_report(api, world):
    r = api.as_(world.rep_east).put(f"/api/v1/daily-reports/{_today()}", json={
        "summary": "x", "plan": "y", "problems": "", "submit": True})
    return r.json["id"]


def _visit(api, world, res):
    return api.as_(world.rep_east).post("/api/v1/visits",
                                        json=check_in_body(res["customer"])).json["id"]


def _plan(api, world, res):
    return api.as_(world.rep_east).post("/api/v1/plans", json={
        "kind": "visit", "customer_id": str(res["customer"].id),
        "planned_date": _today()}).json["id"]


def _contract(api, world, res):
    from tests.factories import deals

    return deals.contract(world.org, res["customer"], world.rep_east).id


_SIGN = {"number": "HT-SEC-1", "amount": "100.00", "signed_on": "2026-11-01",
         "start_date": "2026-11-01"}

def _target(world):
    from tests.factories.targets import target

    return target(world.org, world.east, created_by=world.admin).id


def _approval(api, world, res):
    return ask(api.as_(world.rep_east), outing(res["customer"]))["id"]


# (method, rule) → (path args, request kwargs) for a request that would succeed for a writer.
WRITES = {
    ("POST", "/api/v1/customers"): lambda a, w, r: ({}, {"json": {"name": "x"}}),
    ("PATCH", "/api/v1/customers/<uuid:customer_id>"): lambda a, w, r: (
        {"customer_id": r["customer"].id}, {"json": {"name": "x"}}),
    ("POST", "/api/v1/customers/<uuid:customer_id>/contacts"): lambda a, w, r: (
        {"customer_id": r["customer"].id}, {"json": {"name": "x"}}),
    ("POST", "/api/v1/customers/<uuid:customer_id>/contact-records"): lambda a, w, r: (
        {"customer_id": r["customer"].id}, {"json": {"method": "call", "summary": "x"}}),
    ("POST", "/api/v1/projects"): lambda a, w, r: (
        {}, {"json": {"customer_id": str(r["customer"].id), "name": "x"}}),
    ("PATCH", "/api/v1/projects/<uuid:project_id>"): lambda a, w, r: (
        {"project_id": r["project"].id}, {"json": {"stage": "won"}}),
    ("POST", "/api/v1/users"): lambda a, w, r: ({}, {"json": {
        "email": "new@example.test", "name": "x", "password": "long-enough-pw", "role": "rep"}}),
    ("PATCH", "/api/v1/users/<uuid:user_id>"): lambda a, w, r: (
        {"user_id": r["user"].id}, {"json": {"name": "x"}}),
    ("POST", "/api/v1/teams"): lambda a, w, r: ({}, {"json": {"name": "x"}}),
    ("PATCH", "/api/v1/teams/<uuid:team_id>"): lambda a, w, r: (
        {"team_id": r["team"].id}, {"json": {"name": "x"}}),
    ("PATCH", "/api/v1/org/settings"): lambda a, w, r: ({}, {"json": {"geofence_radius_m": 300}}),
    ("POST", "/api/v1/visits"): lambda a, w, r: ({}, {"json": check_in_body(r["customer"])}),
    ("POST", "/api/v1/visits/<uuid:visit_id>/check-out"): lambda a, w, r: (
        {"visit_id": _visit(a, w, r)}, {"json": check_out_body()}),
    ("POST", "/api/v1/visits/<uuid:visit_id>/photos"): lambda a, w, r: (
        {"visit_id": _visit(a, w, r)},
        {"data": {"file": (io.BytesIO(b"\xff\xd8\xff\xe0 not really"), "p.jpg")},
         "content_type": "multipart/form-data"}),
    ("POST", "/api/v1/visits/<uuid:visit_id>/photos/upload-url"): lambda a, w, r: (
        {"visit_id": _visit(a, w, r)},
        {"json": {"id": str(uuid.uuid4()), "sha256": "0" * 64, "bytes": 1000,
                  "content_type": "image/jpeg"}}),
    ("POST", "/api/v1/lead-pools"): lambda a, w, r: ({}, {"json": {"name": "x"}}),
    ("PATCH", "/api/v1/lead-pools/<uuid:pool_id>"): lambda a, w, r: (
        {"pool_id": r["pool"].id}, {"json": {"name": "x"}}),
    ("POST", "/api/v1/lead-pools/<uuid:pool_id>/claim-next"): lambda a, w, r: (
        {"pool_id": r["pool"].id}, {"json": {}}),
    ("POST", "/api/v1/lead-pools/<uuid:pool_id>/import"): lambda a, w, r: (
        {"pool_id": r["pool"].id},
        {"data": "name,company,phone,email,address,lat,lng,source,tags\nA,B,13800001111,,,,,,\n",
         "content_type": "text/csv"}),
    ("POST", "/api/v1/leads"): lambda a, w, r: (
        {}, {"json": {"pool_id": str(r["pool"].id), "name": "x"}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/assign"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"user_id": str(w.rep_east2.id)}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/claim"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/convert"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"customer_id": str(r["customer"].id)}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/follow-ups"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"method": "call", "note": "x"}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/mark-dead"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"reason": "x"}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/release"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {}}),
    ("POST", "/api/v1/leads/<uuid:lead_id>/revive"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"reason": "x"}}),
    ("PATCH", "/api/v1/leads/<uuid:lead_id>"): lambda a, w, r: (
        {"lead_id": r["lead"].id}, {"json": {"intent": "hot"}}),
    ("PUT", "/api/v1/daily-reports/<date>"): lambda a, w, r: (
        {"date": _today()}, {"json": {"summary": "x", "plan": "y", "problems": "",
                                      "submit": True}}),
    ("POST", "/api/v1/daily-reports/<uuid:report_id>/review"): lambda a, w, r: (
        {"report_id": _submitted_report(a, w)},
        {"json": {"decision": "approved", "comment": "ok"}}),
    ("POST", "/api/v1/plans"): lambda a, w, r: ({}, {"json": {
        "kind": "visit", "customer_id": str(r["customer"].id), "planned_date": _today()}}),
    ("PATCH", "/api/v1/plans/<uuid:plan_id>"): lambda a, w, r: (
        {"plan_id": _plan(a, w, r)}, {"json": {"purpose": "x"}}),
    ("POST", "/api/v1/plans/<uuid:plan_id>/cancel"): lambda a, w, r: (
        {"plan_id": _plan(a, w, r)}, {"json": {"reason": "x"}}),
    ("POST", "/api/v1/lead-pools/<uuid:pool_id>/distribute"): lambda a, w, r: (
        {"pool_id": r["pool"].id}, {"json": {}}),
    ("POST", "/api/v1/users/<uuid:user_id>/handover"): lambda a, w, r: (
        {"user_id": w.rep_east.id}, {"json": {"to_user_id": str(w.rep_east2.id)}}),
    ("POST", "/api/v1/contracts"): lambda a, w, r: (
        {}, {"json": {"customer_id": str(r["customer"].id), **_SIGN}}),
    ("PATCH", "/api/v1/contracts/<uuid:contract_id>"): lambda a, w, r: (
        {"contract_id": _contract(a, w, r)}, {"json": {"title": "x"}}),
    ("POST", "/api/v1/contracts/<uuid:contract_id>/terminate"): lambda a, w, r: (
        {"contract_id": _contract(a, w, r)}, {"json": {"reason": "x"}}),
    ("POST", "/api/v1/contracts/<uuid:contract_id>/payment-plans"): lambda a, w, r: (
        {"contract_id": _contract(a, w, r)}, {"json": {"due_date": "2026-12-01",
                                                       "amount": "10.00"}}),
    ("POST", "/api/v1/contracts/<uuid:contract_id>/payments"): lambda a, w, r: (
        {"contract_id": _contract(a, w, r)}, {"json": {"amount": "10.00",
                                                       "received_on": "2026-11-20",
                                                       "method": "cash"}}),
    ("POST", "/api/v1/contracts/<uuid:contract_id>/renew"): lambda a, w, r: (
        {"contract_id": _contract(a, w, r)}, {"json": {"start_date": "2027-01-01",
                                                       "end_date": "2027-12-31"}}),
    ("POST", "/api/v1/targets"): lambda a, w, r: ({}, {"json": {
        "metric": "visits", "period": "2027", "amount": "10",
        "subject": {"type": "user", "id": str(w.rep_east.id)}}}),
    ("PATCH", "/api/v1/targets/<uuid:target_id>"): lambda a, w, r: (
        {"target_id": _target(w)}, {"json": {"amount": "5", "reason": "x"}}),
    ("POST", "/api/v1/targets/<uuid:target_id>/allocate"): lambda a, w, r: (
        {"target_id": _target(w)}, {"json": {"children": [
            {"subject": {"type": "user", "id": str(w.rep_east.id)}, "amount": "5"}]}}),
    ("POST", "/api/v1/targets/<uuid:target_id>/publish"): lambda a, w, r: (
        {"target_id": _target(w)}, {}),
    ("POST", "/api/v1/webhooks"): lambda a, w, r: ({}, {"json": {
        "url": "https://example.com/h", "events": ["visit.flagged"],
        "secret": "0123456789abcdef"}}),
    ("DELETE", "/api/v1/webhooks/<uuid:webhook_id>"): lambda a, w, r: (
        {"webhook_id": webhook_factories.webhook(w.org, "https://example.com/h").id}, {}),
    ("POST", "/api/v1/approvals"): lambda a, w, r: ({}, {"json": outing(r["customer"])}),
    ("POST", "/api/v1/approvals/<uuid:approval_id>/decide"): lambda a, w, r: (
        {"approval_id": _approval(a, w, r)}, {"json": {"decision": "approved"}}),
    ("POST", "/api/v1/approvals/<uuid:approval_id>/withdraw"): lambda a, w, r: (
        {"approval_id": _approval(a, w, r)}, {}),
}


def _write_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        for method in sorted(rule.methods - {"GET", "HEAD", "OPTIONS"}):
            if (method, rule.rule) not in NOT_WRITES and rule.rule != "/api/v1/sync":
                yield method, rule.rule


def test_every_write_endpoint_has_a_read_only_test(app):
    missing = [w for w in _write_rules(app) if w not in WRITES]
    assert missing == [], f"write endpoints without a read-only-role test: {missing}"


@pytest.mark.parametrize("method, rule", sorted(WRITES), ids=[f"{m} {r}" for m, r in
                                                               sorted(WRITES)])
def test_hr_is_read_only(api, world, res, method, rule):
    path_args, kwargs = WRITES[(method, rule)](api, world, res)
    path = rule
    for name, value in path_args.items():
        path = path.replace(f"<uuid:{name}>", str(value)).replace(f"<{name}>", str(value))
    r = api.as_(world.hr).request(method, path, **kwargs)
    assert r.status_code == 403, (r.status_code, r.get_json())


def test_hr_sync_events_are_refused_one_by_one(api, world, res):
    r = api.as_(world.hr).post("/api/v1/sync", json={"events": [
        {"type": "check_in", **check_in_body(res["customer"])},
        {"type": "follow_up", "lead_id": str(res["lead"].id), "method": "call", "note": "x"}]})
    assert r.status_code == 200
    assert [x["status"] for x in r.json["results"]] == [403, 403]


def test_no_body_accepts_protected_fields(api):
    spec = api.get("/openapi.json").json
    schemas = spec["components"]["schemas"]

    def properties(schema):
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        return set(schema.get("properties", {}))

    checked = 0
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            content = op.get("requestBody", {}).get("content", {}) if isinstance(op, dict) \
                else {}
            for media in content.values():
                accepted = properties(media.get("schema", {})) & PROTECTED
                assert accepted <= ALLOWED.get((path, method), set()), (path, method, accepted)
                checked += 1
    assert checked >= 25


@pytest.mark.parametrize("field", sorted(PROTECTED))
def test_protected_fields_in_a_body_are_rejected(api, world, field):
    """Sent anyway, they are an error (422), never silently applied."""
    r = api.as_(world.rep_east).post("/api/v1/customers", json={"name": "x", field: str(
        uuid.uuid4()) if field.endswith("_id") else "admin"})
    if field == "owner_id":
        assert r.status_code == 403  # documented field: reps may only name themselves
    else:
        assert r.status_code == 422 and field in r.json["errors"]["json"]
