"""A page number past any sensible bound is a 422 on every paginated list, not a 500 from an
OFFSET that does not fit in a bigint."""
import re

import pytest

from tests import factories
from tests.factories import deals
from tests.factories import leads as lf
from tests.factories import webhooks as wf
from tests.factories.approvals import ask, outing
from tests.test_errors import assert_error_shape

HUGE = "28793082958215648938635034624"


def paginated_paths(app):
    spec = app.test_client().get("/openapi.json").json
    return [path for path, ops in spec["paths"].items()
            if "get" in ops and any(p["name"] == "page" for p in ops["get"].get("parameters", []))]


def test_every_paginated_list_rejects_a_huge_page(app, api, world):
    customer = factories.customer(world.org, world.rep_east)
    project = factories.project(world.org, customer, world.rep_east)
    pool = lf.pool(world.org, world.east)
    ids = {"customer_id": customer.id, "project_id": project.id, "pool_id": pool.id,
           "lead_id": lf.lead(world.org, pool).id,
           "contract_id": deals.contract(world.org, customer, world.rep_east).id,
           "webhook_id": wf.webhook(world.org, "https://example.com/h").id,
           "approval_id": ask(api.as_(world.rep_east), outing(customer))["id"]}
    paths = paginated_paths(app)
    assert len(paths) >= 16
    extra = {"/api/v1/attendance": "&from=2026-11-01&to=2026-11-02"}
    answers = {}
    for path in paths:
        url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m.group(1)]), path)
        for page in (HUGE, str(2**63), str(2**31)):
            r = api.as_(world.admin).get(f"{url}?page={page}{extra.get(path, '')}")
            answers[(path, page)] = r.status_code
            assert_error_shape(r, 422)
            assert "page" in r.json["errors"]["query"], (path, r.json)
    # The largest allowed page still answers: an empty page past the end.
    r = api.as_(world.admin).get(f"/api/v1/customers?page={2**31 - 1}&page_size=100")
    assert r.status_code == 200 and r.json == []


@pytest.mark.parametrize("page", ["-1", "0", "1.5", "9" * 5000])
def test_other_bad_pages_are_422(api, world, page):
    assert_error_shape(api.as_(world.admin).get(f"/api/v1/teams?page={page}"), 422)


def test_the_bound_is_documented(app):
    spec = app.test_client().get("/openapi.json").json
    params = {p["name"]: p for p in spec["paths"]["/api/v1/customers"]["get"]["parameters"]}
    assert params["page"]["schema"]["maximum"] == 2**31 - 1


def test_every_blueprint_uses_the_bounded_pagination(app):
    from fieldsales.extensions import Blueprint

    blueprints = [bp for bp in app.blueprints.values() if bp.name not in {
        "api-docs", "docs_assets", "map_page"}]
    assert blueprints and all(isinstance(bp, Blueprint) for bp in blueprints), \
        [bp.name for bp in blueprints if not isinstance(bp, Blueprint)]
