"""The lead endpoints as the OpenAPI document describes them, and the demo lead pool."""
import json
import uuid

from sqlalchemy import func, select

from tests.test_cli import run

EXPECTED = {
    ("/api/v1/lead-pools", "get"): {"200"},
    ("/api/v1/lead-pools", "post"): {"201", "200", "403", "409", "422"},
    ("/api/v1/lead-pools/{pool_id}", "get"): {"200", "404"},
    ("/api/v1/lead-pools/{pool_id}", "patch"): {"200", "403", "404", "422"},
    ("/api/v1/lead-pools/{pool_id}/import", "post"): {"200", "403", "404", "413", "415", "422"},
    ("/api/v1/lead-pools/{pool_id}/claim-next", "post"): {"200", "403", "404", "422"},
    ("/api/v1/leads", "get"): {"200", "422"},
    ("/api/v1/leads", "post"): {"201", "200", "403", "409", "422"},
    ("/api/v1/leads/{lead_id}", "get"): {"200", "404"},
    ("/api/v1/leads/{lead_id}/claim", "post"): {"200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/release", "post"): {"200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/assign", "post"): {"200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/follow-ups", "get"): {"200", "404"},
    ("/api/v1/leads/{lead_id}/follow-ups", "post"): {"201", "200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/convert", "post"): {"201", "200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/mark-dead", "post"): {"200", "403", "404", "409", "422"},
    ("/api/v1/leads/{lead_id}/events", "get"): {"200", "404"},
}


def test_openapi_documents_every_lead_status(api):
    spec = api.get("/openapi.json").json
    for (path, method), codes in EXPECTED.items():
        op = spec["paths"][path][method]
        assert codes <= set(op["responses"]), (path, method, sorted(op["responses"]))
    lead = spec["components"]["schemas"]["Lead"]["properties"]
    assert {"recycle_at", "recycle_warning", "phone", "converted_customer_id"} <= set(lead)
    body = spec["paths"]["/api/v1/lead-pools/{pool_id}/import"]["post"]["requestBody"]
    assert "text/csv" in body["content"]
    assert "holding_limit_reached" in spec["info"]["description"]


def test_seed_demo_has_a_lead_pool_with_leads_and_is_idempotent(app, committed):
    from fieldsales.leads.models import Lead, LeadHolding, LeadPool

    org_id = uuid.UUID(json.loads(run("seed", "demo").stdout)["org_id"])

    def counts():
        committed.expire_all()
        return (committed.scalar(select(func.count()).where(LeadPool.org_id == org_id)),
                committed.scalar(select(func.count()).where(Lead.org_id == org_id)),
                committed.scalar(select(func.count()).where(Lead.org_id == org_id,
                                                            Lead.status == "claimed")))

    first = counts()
    pools, leads, claimed = first
    assert pools >= 1 and leads >= 50 and claimed >= 1
    run("seed", "demo")
    assert counts() == first
    # The demo's holdings agree with its claimed leads (the trigger kept them).
    held = committed.scalar(select(func.sum(LeadHolding.holding)).where(
        LeadHolding.org_id == org_id))
    assert held == claimed
