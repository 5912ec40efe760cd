"""Every endpoint that takes an id: a rep of another team, a manager of another team and an
admin of another org get 404, never 403 and never the data."""
import pytest

from tests import factories
from tests.factories import deals

OUTSIDERS = ["rep_west", "mgr_west", "admin_b"]


def _resources(world):
    """Resources belonging to the East team (owned by rep_east)."""
    customer = factories.customer(world.org, world.rep_east)
    project = factories.project(world.org, customer, world.rep_east)
    contract = deals.contract(world.org, customer, world.rep_east)
    return {"customer": customer, "project": project, "user": world.rep_east,
            "team": world.east, "contract": contract}


ENDPOINTS = [
    ("GET", "/api/v1/users/{user}", None),
    ("PATCH", "/api/v1/users/{user}", {"name": "x"}),
    ("GET", "/api/v1/teams/{team}", None),
    ("PATCH", "/api/v1/teams/{team}", {"name": "x"}),
    ("GET", "/api/v1/customers/{customer}", None),
    ("PATCH", "/api/v1/customers/{customer}", {"name": "x"}),
    ("GET", "/api/v1/customers/{customer}/timeline", None),
    ("GET", "/api/v1/customers/{customer}/contacts", None),
    ("POST", "/api/v1/customers/{customer}/contacts", {"name": "x"}),
    ("GET", "/api/v1/customers/{customer}/contact-records", None),
    ("POST", "/api/v1/customers/{customer}/contact-records", {"method": "call", "summary": "x"}),
    ("GET", "/api/v1/projects/{project}", None),
    ("PATCH", "/api/v1/projects/{project}", {"name": "x"}),
    ("GET", "/api/v1/projects/{project}/stages", None),
    ("GET", "/api/v1/contracts/{contract}", None),
    ("PATCH", "/api/v1/contracts/{contract}", {"title": "x"}),
    ("POST", "/api/v1/contracts/{contract}/terminate", {"reason": "x"}),
    ("GET", "/api/v1/contracts/{contract}/payment-plans", None),
    ("POST", "/api/v1/contracts/{contract}/payment-plans", {"due_date": "2026-12-01",
                                                           "amount": "10.00"}),
    ("GET", "/api/v1/contracts/{contract}/payments", None),
    ("POST", "/api/v1/contracts/{contract}/payments", {"amount": "10.00", "method": "cash",
                                                      "received_on": "2026-11-20"}),
    ("POST", "/api/v1/contracts/{contract}/renew", {"start_date": "2027-01-01",
                                                   "end_date": "2027-12-31"}),
]


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404(api, world, method, template, body, outsider):
    if outsider == "mgr_west" and "{team}" in template:
        pass  # a manager of another team: East is not in West's subtree either
    res = _resources(world)
    path = template.format(**{k: v.id for k, v in res.items()})
    r = api.as_(getattr(world, outsider)).request(method, path, json=body)
    assert r.status_code == 404, (outsider, r.status_code, r.json)
    assert r.json["error"] == "not_found"
    assert str(res["customer"].name) not in r.get_data(as_text=True)


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
def test_insiders_get_through(api, world, method, template, body):
    """The same calls by the East manager (or admin for admin-only writes) succeed, so the 404s
    above are about scope, not broken endpoints."""
    res = _resources(world)
    path = template.format(**{k: v.id for k, v in res.items()})
    who = world.admin if template.startswith(("/api/v1/users", "/api/v1/teams")) and \
        method == "PATCH" else world.mgr_east
    r = api.as_(who).request(method, path, json=body)
    assert r.status_code in (200, 201), (r.status_code, r.json)


def test_bad_uuid_in_path_is_json_404(api, world):
    r = api.as_(world.admin).get("/api/v1/customers/not-a-uuid")
    assert r.status_code == 404 and r.is_json and r.json["code"] == 404
