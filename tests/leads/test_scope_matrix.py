"""Every lead and pool endpoint that takes an id: a rep of another team, a manager of another
team and an admin of another org get 404 (never 403, never the data); hr may read but every
write is 403; the East manager gets through, so the 404s are about scope."""
import pytest

from tests.factories import leads as lf

OUTSIDERS = ["rep_west", "mgr_west", "admin_b"]
HEADER = "name,company,phone,email,address,lat,lng,source,tags\n"


def _resources(world):
    """An East pool with a lead held by rep_east (the lead's details must never leak)."""
    pool = lf.pool(world.org, world.east)
    lead = lf.lead(world.org, pool, world.rep_east, name="Secret Lead",
                   phone_number="13812345678")
    lf.lead(world.org, pool)  # something to claim-next
    return {"pool": pool, "lead": lead}


READS = [
    ("GET", "/api/v1/lead-pools/{pool}", None),
    ("GET", "/api/v1/leads/{lead}", None),
    ("GET", "/api/v1/leads/{lead}/follow-ups", None),
    ("GET", "/api/v1/leads/{lead}/events", None),
]
WRITES = [
    ("PATCH", "/api/v1/lead-pools/{pool}", {"name": "x"}),
    ("POST", "/api/v1/lead-pools/{pool}/claim-next", {}),
    ("POST", "/api/v1/lead-pools/{pool}/import", "csv"),
    ("POST", "/api/v1/leads/{lead}/claim", None),
    ("POST", "/api/v1/leads/{lead}/release", {}),
    ("POST", "/api/v1/leads/{lead}/assign", {"user_id": "{rep_east2}"}),
    ("POST", "/api/v1/leads/{lead}/follow-ups", {"method": "call", "note": "x"}),
    ("POST", "/api/v1/leads/{lead}/convert", {"customer": {}}),
    ("POST", "/api/v1/leads/{lead}/mark-dead", {"reason": "x"}),
]
ENDPOINTS = READS + WRITES


def _call(api, user, world, method, template, body):
    res = _resources(world)
    path = template.format(**{k: v.id for k, v in res.items()})
    if body == "csv":
        return api.as_(user).request(method, path, data=HEADER + "x,,,,,,,,\n",
                                     headers={"Content-Type": "text/csv"}), res
    if isinstance(body, dict) and body.get("user_id") == "{rep_east2}":
        body = {"user_id": str(world.rep_east2.id)}
    return api.as_(user).request(method, path, json=body), res


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404(api, world, method, template, body, outsider):
    r, _ = _call(api, getattr(world, outsider), world, method, template, body)
    assert r.status_code == 404, (outsider, r.status_code, r.json)
    assert r.json["error"] == "not_found"
    text = r.get_data(as_text=True)
    assert "Secret Lead" not in text and "5678" not in text


@pytest.mark.parametrize("method, template, body", WRITES,
                         ids=[f"{m} {t}" for m, t, _ in WRITES])
def test_hr_writes_are_403(api, world, method, template, body):
    r, _ = _call(api, world.hr, world, method, template, body)
    assert r.status_code == 403, (r.status_code, r.json)


@pytest.mark.parametrize("method, template, body", READS,
                         ids=[f"{m} {t}" for m, t, _ in READS])
def test_hr_reads(api, world, method, template, body):
    r, _ = _call(api, world.hr, world, method, template, body)
    assert r.status_code == 200


# The East manager: the same calls succeed (follow-ups are the owner's: 403 for anyone else,
# claim of a lead its rep holds: 409).
INSIDER_CODES = {"/api/v1/leads/{lead}/follow-ups": {"GET": 200, "POST": 403},
                 "/api/v1/leads/{lead}/claim": {"POST": 409}}


@pytest.mark.parametrize("method, template, body", ENDPOINTS,
                         ids=[f"{m} {t}" for m, t, _ in ENDPOINTS])
def test_insiders_get_through(api, world, method, template, body):
    r, _ = _call(api, world.mgr_east, world, method, template, body)
    expected = INSIDER_CODES.get(template, {}).get(method)
    if expected:
        assert r.status_code == expected, (r.status_code, r.json)
    else:
        assert r.status_code in (200, 201), (r.status_code, r.json)


def test_rep_of_same_team_sees_pool_but_not_a_teammates_lead(api, world):
    res = _resources(world)
    rep2 = api.as_(world.rep_east2)
    assert rep2.get(f"/api/v1/lead-pools/{res['pool'].id}").status_code == 200
    for path in ("", "/follow-ups", "/events"):
        assert rep2.get(f"/api/v1/leads/{res['lead'].id}{path}").status_code == 404
    r = rep2.post(f"/api/v1/leads/{res['lead'].id}/claim")
    assert r.status_code == 409 and r.json["error"] == "already_claimed"
    assert "5678" not in r.get_data(as_text=True)
