"""`required` must be true: every JSON body the API answers on real data carries every field its
schema requires (null only where nullable). Every GET operation of /openapi.json is read, as
each role of the demo org (which has visits, photos, leads, reports …), and each 2xx body is
validated against the spec by schemathesis."""
from datetime import UTC, date, datetime, timedelta
from io import BytesIO

import pytest
import schemathesis
from sqlalchemy import select

from tests import factories
from tests.factories.photos import fixture
from tests.test_cli import run

ROLES = {"admin": "admin@demo.fieldsales.dev", "manager": "manager.east@demo.fieldsales.dev",
         "hr": "hr@demo.fieldsales.dev", "rep": "rep1@demo.fieldsales.dev"}
# path parameter → the list whose first item gives it
SOURCES = {"user_id": "/api/v1/users", "team_id": "/api/v1/teams",
           "customer_id": "/api/v1/customers", "project_id": "/api/v1/projects",
           "visit_id": "/api/v1/visits?page_size=100", "lead_id": "/api/v1/leads",
           "pool_id": "/api/v1/lead-pools", "report_id": "/api/v1/daily-reports",
           "plan_id": "/api/v1/plans", "contract_id": "/api/v1/contracts",
           "target_id": "/api/v1/targets", "webhook_id": "/api/v1/webhooks",
           "approval_id": "/api/v1/approvals"}

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(app, committed):
    from fieldsales.users.models import User

    run("seed", "demo")
    users = {role: committed.scalar(select(User).where(User.email == email))
             for role, email in ROLES.items()}
    committed.remove()
    return {role: factories.token_for(app, user) for role, user in users.items()}, users


def _first(client, url, headers, key="id"):
    r = client.get(url, headers=headers)
    items = r.get_json() if r.status_code == 200 else []
    return items[0][key] if items else None


def _params(client, headers, path, rep_id):
    today = date.today()
    week = {"from": (today - timedelta(days=6)).isoformat(), "to": today.isoformat()}
    query = {"/api/v1/attendance": week, "/api/v1/attendance.csv": week,
             "/api/v1/attendance.xlsx": week,
             "/api/v1/attendance/evidence": {"user_id": rep_id,
                                             "date": (today - timedelta(days=1)).isoformat()},
             "/api/v1/maps/clusters": {"zoom": 10},
             "/api/v1/maps/routes": {"user_id": rep_id,
                                     "date": (today - timedelta(days=1)).isoformat()},
             "/api/v1/customers": {"near": "31.2304,121.4737"},
             "/api/v1/leads": {"near": "31.2304,121.4737"},
             "/api/v1/duplicates": {"company": "Hengda Hardware Co. #1", "phone": "13800000000"}
             }.get(path, {})
    values = {"date": (today - timedelta(days=1)).isoformat(), "z": 10, "x": 857, "y": 418}
    for name in set(SOURCES) & {part.strip("{}") for part in path.split("/")}:
        values[name] = _first(client, SOURCES[name], headers)
    if "{photo_id}" in path:
        visits = client.get("/api/v1/visits?page_size=100", headers=headers).get_json() or []
        values["photo_id"] = next((p["id"] for v in visits for p in v["photos"]), None)
    if any(v is None for k, v in values.items() if "{" + k + "}" in path):
        return None, None
    return path.format(**values), query


def _visit_with_photo(client, token):
    headers = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/me", headers=headers).get_json()
    shop = client.get("/api/v1/customers", headers=headers, query_string={
        "owner_id": me["id"], "near": "31.2304,121.4737"}).get_json()[0]
    r = client.post("/api/v1/visits", headers=headers, json={
        "customer_id": shop["id"], "device_time": datetime.now(UTC).isoformat(),
        "location": {**shop["location"], "accuracy_m": 9}})
    assert r.status_code == 201, r.get_json()
    r = client.post(f"/api/v1/visits/{r.get_json()['id']}/photos", headers=headers,
                    data={"file": (BytesIO(fixture("jpg_gps_DSCN0010.jpg")), "shop.jpg")})
    assert r.status_code == 201, r.get_json()


def _webhook_with_a_delivery(app, client, token, org_id):
    """The demo org has no webhook: one, with one finished delivery (failed, so that no sender
    in a later test finds it due)."""
    from fieldsales.extensions import db
    from fieldsales.webhooks import emit
    from fieldsales.webhooks.models import EVENTS, WebhookDelivery

    r = client.post("/api/v1/webhooks", headers={"Authorization": f"Bearer {token}"}, json={
        "url": "https://example.com/hook", "events": list(EVENTS), "secret": "0123456789abcdef"})
    assert r.status_code == 201, r.get_json()
    with app.app_context():
        emit(org_id, "lead.recycled", {"lead_id": "x"})
        db.session.execute(WebhookDelivery.__table__.update()
                           .where(WebhookDelivery.webhook_id == r.get_json()["id"])
                           .values(status="failed", attempts=8, response_status=500,
                                   last_error="HTTP 500"))
        db.session.commit()


def test_every_json_answer_on_demo_data_matches_the_spec(app, demo):
    tokens, users = demo
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    client = app.test_client()
    _visit_with_photo(client, tokens["rep"])
    _webhook_with_a_delivery(app, client, tokens["admin"], users["admin"].org_id)
    checked, problems = set(), []
    for path, item in schema.raw_schema["paths"].items():
        if "get" not in item or not path.startswith("/api/v1"):
            continue
        operation = schema[path]["GET"]
        for role, token in tokens.items():
            headers = {"Authorization": f"Bearer {token}"}
            url, query = _params(client, headers, path, str(users["rep"].id))
            if url is None:
                continue
            response = client.get(url, headers=headers, query_string=query)
            if response.status_code >= 300:
                continue
            try:
                operation.validate_response(response)
            except Exception as exc:  # noqa: BLE001 (collect them all)
                problems.append(f"{role} GET {url}: {exc}")
            checked.add(path)
    assert problems == []
    # the demo org (and the photo above) gives every GET operation something to answer with
    gets = {p for p, item in schema.raw_schema["paths"].items()
            if "get" in item and p.startswith("/api/v1")}
    assert gets - checked == set()
